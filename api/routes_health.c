/* routes_health: the operational endpoints — GET /api/health (liveness plus
 * a database round trip) and GET /metrics (Prometheus text format 0.0.4;
 * public at the application, restricted to loopback by the contrib web
 * server configs). */
#include "metrics.h"
#include "ob_time.h"
#include "req.h"
#include "routes.h"

#include <stdlib.h>
#include <time.h>

void routes_health_get(struct api_req *r)
{
    char now[OB_TIME_ISO_LEN];
    ob_time_iso_now(now);
    int db_ok = sqlite3_exec(r->db, "SELECT 1", NULL, NULL, NULL) == SQLITE_OK;
    json_t *d = json_pack("{s:s,s:s,s:I,s:s}", "status", db_ok ? "ok" : "degraded",
                          "time", now, "uptimeSeconds", (json_int_t)(time(NULL) - r->srv->started),
                          "database", db_ok ? "ok" : "error");
    if (db_ok)
        req_reply_ok(r, 200, d);
    else {
        json_decref(d);
        req_reply_err(r, 503, "unavailable", "the database does not answer");
    }
}

void routes_health_metrics(struct api_req *r)
{
    size_t len;
    char *text = metrics_render(r->srv->pub, &len);
    if (!text) {
        req_reply_err(r, 500, "internal", "could not render metrics");
        return;
    }
    req_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}
