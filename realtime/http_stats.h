/* http_stats: plain HTTP on the WebSocket port (loopback only):
 *   GET /health   {"status":"ok","uptime":s,"connections":n}
 *   GET /stats    connections, users, rooms, deliveries by event type,
 *                 publisher and replay counters (JSON)
 *   GET /metrics  the same as Prometheus text (version 0.0.4)
 * No user ids or tokens appear in any of them. */
#ifndef HTTP_STATS_H
#define HTTP_STATS_H

#include "rt.h"

/* Serves uri when it is one of the above: returns 1 with *rc set to the
 * lws callback's return value; 0 when the path is not ours. */
int http_stats_serve(struct rt *rt, struct lws *wsi, const char *uri, int *rc);

#endif
