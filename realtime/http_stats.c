/* http_stats: /health, /stats and /metrics; see http_stats.h. */
#include "http_stats.h"
#include "autosync.h"
#include "metrics.h"
#include "order.h"
#include "ws_msg.h"

#include "ob_log.h"
#include "ob_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + LWS_PRE + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *b = realloc(t->buf, LWS_PRE + cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

static json_t *stats_json(struct rt *rt)
{
    const struct rt_stats *s = &rt->st;
    json_t *by = json_object();
    for (int t = 1; t < OB_EV_COUNT; t++)
        json_object_set_new(by, ob_ev_name((enum ob_ev_type)t), json_integer((json_int_t)s->by_type[t]));
    return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:o,"
                     "s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I},"
                     "s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I},s:{s:I,s:I,s:i}}",
                     "connections", (int)rt->nconns, "authenticated", (int)rt->nauthed,
                     "users", (int)rt->nonline, "imapLogConnections", (int)rt->nimaplogs,
                     "rooms", (int)ws_hash_count(rt->rooms), "maxConnections", rt->max_conns,
                     "uptime", (json_int_t)((ob_time_mono_ms() - rt->started_ms) / 1000),
                     "byType", by,
                     "messages", "in", (json_int_t)s->msgs_in, "out", (json_int_t)s->msgs_out,
                     "bytesIn", (json_int_t)s->bytes_in, "bytesOut", (json_int_t)s->bytes_out,
                     "events", "received", (json_int_t)s->ev_in, "bad", (json_int_t)s->ev_bad,
                     "duplicates", (json_int_t)s->ev_dup, "gapFilled", (json_int_t)s->ev_gapfilled,
                     "refusedPublishers", (json_int_t)s->ev_dropped_peer,
                     "watermark", (json_int_t)order_watermark(rt),
                     "closed", "slowReaders", (json_int_t)s->slow_closed,
                     "limits", (json_int_t)s->limit_closed, "authFailures", (json_int_t)s->auth_failures,
                     "rejected", (json_int_t)s->conns_rejected,
                     "replays", "started", (json_int_t)s->replays, "events", (json_int_t)s->replayed,
                     "incomplete", (json_int_t)s->replays_incomplete,
                     "sync", "calls", (json_int_t)s->sync_calls, "failures", (json_int_t)s->sync_failures,
                     "pending", (int)autosync_pending(rt));
}

static void prometheus(struct rt *rt, struct text *t)
{
    const struct rt_stats *s = &rt->st;
#define GAUGE(name, help, v) put(t, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %llu\n", (unsigned long long)(v))
#define COUNTER(name, help, v) put(t, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %llu\n", (unsigned long long)(v))
    GAUGE("onebox_realtime_connections", "Open WebSocket connections.", rt->nconns);
    GAUGE("onebox_realtime_authenticated_connections", "Authenticated WebSocket connections.", rt->nauthed);
    GAUGE("onebox_realtime_users", "Users with at least one connection.", rt->nonline);
    GAUGE("onebox_realtime_rooms", "Rooms with at least one member.", ws_hash_count(rt->rooms));
    GAUGE("onebox_realtime_queued_bytes", "Bytes held by messages waiting to be sent.", ws_msg_live_bytes());
    GAUGE("onebox_realtime_publishers", "Connected events.sock publishers.", rt->ningest);
    GAUGE("onebox_realtime_outbox_watermark", "Highest outbox id dispatched in order.", order_watermark(rt));
    put(t, "# HELP onebox_realtime_deliveries_total Events delivered to clients, by type.\n"
           "# TYPE onebox_realtime_deliveries_total counter\n");
    for (int i = 1; i < OB_EV_COUNT; i++)
        put(t, "onebox_realtime_deliveries_total{type=\"%s\"} %llu\n", ob_ev_name((enum ob_ev_type)i),
            s->by_type[i]);
    COUNTER("onebox_realtime_connections_total", "WebSocket connections opened.", s->conns_total);
    COUNTER("onebox_realtime_messages_in_total", "Client messages received.", s->msgs_in);
    COUNTER("onebox_realtime_messages_out_total", "Messages written to clients.", s->msgs_out);
    COUNTER("onebox_realtime_bytes_out_total", "Payload bytes written to clients.", s->bytes_out);
    COUNTER("onebox_realtime_errors_sent_total", "error messages sent to clients.", s->errors_sent);
    COUNTER("onebox_realtime_auth_failures_total", "Connections refused for their token.", s->auth_failures);
    COUNTER("onebox_realtime_slow_readers_closed_total", "Connections closed with 1008 as slow readers.", s->slow_closed);
    COUNTER("onebox_realtime_limit_closed_total", "Connections closed for a limit (4429, 1009).", s->limit_closed);
    COUNTER("onebox_realtime_events_received_total", "Lines received on events.sock.", s->ev_in);
    COUNTER("onebox_realtime_events_bad_total", "events.sock lines dropped as invalid.", s->ev_bad);
    COUNTER("onebox_realtime_events_duplicate_total", "Durable events dropped as already dispatched.", s->ev_dup);
    COUNTER("onebox_realtime_events_gapfilled_total", "Durable events read from the outbox for the live stream.", s->ev_gapfilled);
    COUNTER("onebox_realtime_replayed_total", "Events replayed on resume.", s->replayed);
    COUNTER("onebox_realtime_replays_incomplete_total", "Resumes that could not replay everything.", s->replays_incomplete);
    COUNTER("onebox_realtime_sync_calls_total", "sync.sock calls made.", s->sync_calls);
    COUNTER("onebox_realtime_sync_failures_total", "sync.sock calls that failed.", s->sync_failures);
#undef GAUGE
#undef COUNTER
}

static int respond(struct lws *wsi, const char *type, struct text *t)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, type, (lws_filepos_t)t->len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (lws_write(wsi, (unsigned char *)t->buf + LWS_PRE, t->len, LWS_WRITE_HTTP_FINAL) < (int)t->len)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http_stats_serve(struct rt *rt, struct lws *wsi, const char *uri, int *rc)
{
    int which = !strcmp(uri, "/health") ? 1 : !strcmp(uri, "/stats") ? 2 : !strcmp(uri, "/metrics") ? 3 : 0;
    if (!which)
        return 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL);
        *rc = -1;
        return 1;
    }
    struct text t = { malloc(LWS_PRE + 4096), 0, 4096, 0 };
    if (!t.buf) {
        *rc = -1;
        return 1;
    }
    const char *type = "application/json";
    if (which == 3) {
        type = "text/plain; version=0.0.4";
        prometheus(rt, &t);
    } else {
        json_t *o = which == 1
            ? json_pack("{s:s,s:I,s:i}", "status", "ok", "uptime",
                        (json_int_t)((ob_time_mono_ms() - rt->started_ms) / 1000),
                        "connections", (int)rt->nconns)
            : stats_json(rt);
        if (which == 2 && o)
            json_object_set_new(o, "metrics", metrics_json(rt));
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (s)
            put(&t, "%s\n", s);
        else
            t.failed = 1;
        free(s);
    }
    *rc = t.failed ? -1 : respond(wsi, type, &t);
    free(t.buf);
    return 1;
}
