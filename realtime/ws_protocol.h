/* ws_protocol: the lws protocol of /ws and /ws/imap-logs (RFC 6455) — the
 * one callback, the connection state machine, client-message dispatch and
 * the sidecar's timers.  The message catalogue is DESIGN.md's "WebSocket
 * protocol"; this file adds:
 *   - client messages may carry their fields at the top level or inside
 *     "data" (onebox.js sends both);
 *   - `auth {token, lastEventId?}` answers auth_success {userId, role,
 *     connectionId}; a connection that is already authenticated may send
 *     a fresh token for the same user (its expiry moves);
 *   - before authentication only auth and ping are accepted;
 *   - a token that expires while connected gets auth_error and close 4401;
 *   - subscribe/unsubscribe take {topics} (ws_topics.h) or {room}
 *     (ws_rooms.h); resume: ws_replay.h;
 *   - errors: {"type":"error","error":msg,"data":{"code","message"}} with
 *     codes bad_json, bad_message, unknown_type, unknown_topic,
 *     not_authenticated, forbidden, not_member, too_many_rooms,
 *     rate_limited, too_many_connections, frame_too_large, internal.
 * Close codes: 4401 auth, 4429 too many connections / attempts / messages,
 * 1009 frame too large, 1008 slow reader, 1001 shutdown. */
#ifndef WS_PROTOCOL_H
#define WS_PROTOCOL_H

#include "rt.h"

#include <jansson.h>

/* Client frames arrive in chunks of at most this many bytes and are
 * reassembled up to cfg.ws_max_frame: kept small for idle memory. */
#define WS_RX_BUFFER 1024
#define WS_TICK_MS 1000

/* The WS vhost's protocols: ours is [0] (clibs §2.12 pitfall 12). */
const struct lws_protocols *ws_protocol_table(void);

/* Sends {type, data (borrowed; NULL = {})}.  0 or -1. */
int ws_protocol_send_json(struct rt *rt, struct ws_conn *c, const char *type, json_t *data);
/* Sends `error`; the connection stays open. */
void ws_protocol_error(struct rt *rt, struct ws_conn *c, const char *code, const char *message);

/* Starts closing c with code/why (why: static text).  flush: send what is
 * queued first (an error explaining the close); else drop the queue.  A
 * peer that does not read is cut after a few seconds anyway. */
void ws_protocol_close(struct rt *rt, struct ws_conn *c, int code, const char *why, int flush);

/* The 1 s housekeeping timer and the metrics timer. */
void ws_protocol_start_timers(struct rt *rt);
void ws_protocol_stop_timers(struct rt *rt);

#endif
