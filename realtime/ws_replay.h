/* ws_replay: resume — `?lastEventId=N` on connect or `resume {lastEventId}`
 * replays the user's durable events after N from the outbox (and, for
 * admins, those sent to "*"), in id order, before any live durable event,
 * then answers
 *     {"type":"resumed","data":{"complete":bool,"count":n,"lastEventId":id}}.
 *
 * The replay is paged (WS_REPLAY_PAGE rows per query) and flow-controlled:
 * the next page is read only when the connection's send queue is below a
 * quarter of cfg.ws_send_queue_max, so a long replay never makes its own
 * reader look slow.  At most cfg.ws_replay_max events are replayed; if more
 * remain, the connection jumps to live and `complete` is false (the client
 * should reload through the REST API, as with Centrifugo's recovered:false).
 *
 * A connection never gets a durable id twice: live events at or below its
 * cursor are skipped, and while a replay is running live durable events are
 * left to the replay (they were committed before they were pushed, so a
 * later page reads them).  A resume on a connection that already received
 * durable events starts after what it has; if it asks for older ids than
 * the connection started with, those cannot be delivered in order and
 * `complete` is false. */
#ifndef WS_REPLAY_H
#define WS_REPLAY_H

#include "rt.h"

#define WS_REPLAY_PAGE 64

/* Starts a replay after id `after` (>= 0). */
void ws_replay_start(struct rt *rt, struct ws_conn *c, long long after);

/* Reads further pages while the connection's queue has room (called after
 * each write and when the replay starts). */
void ws_replay_pump(struct rt *rt, struct ws_conn *c);

#endif
