/* limits: the admission and rate limits of the sidecar.
 *
 *   - connection attempts per client address per minute
 *     (cfg.ws_conn_per_ip_per_min; fixed one-minute windows);
 *   - client messages per connection per minute (cfg.ws_rate_per_min):
 *     past it each message is refused with `error` (rate_limited); past
 *     twice it the connection is closed with 4429;
 *   - the fd reserve kept free below lws's table for publishers and the
 *     database when WebSockets reach the ceiling.
 * Frame size, connections per user, rooms per connection and the send queue
 * are checked where they happen (ws_protocol.c, ws_rooms.c, fanout.c). */
#ifndef LIMITS_H
#define LIMITS_H

#include "rt.h"

#include <stdint.h>

#define LIMITS_FD_RESERVE 48
#define LIMITS_MAX_ADDRS 65536     /* addresses tracked at once */

struct rt_limits;

struct rt_limits *limits_new(const struct ob_config *cfg);
void limits_free(struct rt_limits *l);

/* The client's address for the per-address limit: the peer, or, when the
 * peer is a reverse proxy on this host (127.0.0.1, ::1), the last entry of
 * its X-Forwarded-For (the address that proxy saw; nginx's
 * $proxy_add_x_forwarded_for appends it).  Writes "" if unknown. */
void limits_client_addr(struct lws *wsi, char *out, size_t outlen);

/* Counts a connection attempt from addr; 1 if allowed, 0 if over. */
int limits_addr_allow(struct rt_limits *l, const char *addr, int64_t now_s);

/* Counts a client message on c: 0 allowed, 1 refuse it, 2 close the
 * connection. */
int limits_msg_allow(const struct ob_config *cfg, struct ws_conn *c, int64_t now_s);

/* Forgets windows that have ended (from the 1 s timer). */
void limits_tick(struct rt_limits *l, int64_t now_s);

#endif
