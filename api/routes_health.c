/* routes_health: the operational endpoints — GET /api/health (public:
 * liveness, a database round trip, and whether onebox-syncd accepts
 * connections on sync.sock) and GET /metrics (admins: Prometheus text
 * format 0.0.4). */
#include "metrics.h"
#include "ob_sock.h"
#include "ob_time.h"
#include "req.h"
#include "routes.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SYNCD_PROBE_MS 250

void routes_health_get(struct api_req *r)
{
    if (sqlite3_exec(r->db, "SELECT 1", NULL, NULL, NULL) != SQLITE_OK) {
        req_reply_err(r, 503, "the database does not answer");
        return;
    }
    /* A connect is enough to know syncd is there; no request is sent. */
    int fd = ob_sock_connect_unix(r->srv->cfg->sync_sock, SYNCD_PROBE_MS);
    if (fd >= 0)
        close(fd);
    char now[OB_TIME_ISO_LEN];
    ob_time_iso_now(now);
    req_reply_ok(r, 200, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}",
                                   "status", fd >= 0 ? "ok" : "degraded",
                                   "db", "ok",
                                   "syncd", fd >= 0 ? "up" : "down",
                                   "version", API_VERSION,
                                   "time", now,
                                   "uptimeSeconds", (json_int_t)(time(NULL) - r->srv->started)));
}

void routes_health_metrics(struct api_req *r)
{
    size_t len;
    char *text = metrics_render(r->srv->pub, &len);
    if (!text) {
        req_reply_err(r, 500, "could not render metrics");
        return;
    }
    req_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}
