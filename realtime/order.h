/* order: puts durable events in outbox order before they are fanned out,
 * at most once each, and fills what the live stream missed from the outbox.
 *
 * The outbox hands out ids in commit order (writers serialize with BEGIN
 * IMMEDIATE and AUTOINCREMENT never reuses an id), so once id N is on the
 * socket every id below N is already committed.  The live stream, though,
 * comes from several publishers, each of which may drop lines when its
 * queue is full, re-send after a reconnect, or lose the race to another.
 * So the sidecar keeps a watermark W (every id <= W has been dispatched):
 *   - id <= W: a duplicate, dropped;
 *   - id == W + 1: dispatched at once, with any held successors;
 *   - id > W + 1: held (ORDER_HOLD_MAX at most) while the gap lasts; after
 *     ORDER_GAP_MS, or when the hold is full, the gap is read from the
 *     outbox and everything up to the highest held id goes out in order;
 *   - a publisher connecting, and a 1 s poll that sees the outbox ahead of
 *     W twice in a row, read the outbox too (a push that never came).
 * W starts at the outbox's last id: events from before the sidecar started
 * are history, served by resume.  Ephemeral events (no id) pass straight. */
#ifndef ORDER_H
#define ORDER_H

#include "rt.h"

#include "ob_event.h"

#define ORDER_HOLD_MAX 4096
#define ORDER_GAP_MS 100
#define ORDER_FILL_BATCH 512

struct order *order_new(struct rt *rt);
/* Cancels the gap timer.  It lives in the lws context's timer list, so this
 * must come before lws_context_destroy(); order_free() comes after it. */
void order_stop_timers(struct order *o);
void order_free(struct order *o);

/* One event from events.sock (borrowed: held events are copied). */
void order_push(struct rt *rt, const struct ob_event *ev);

/* Reads the outbox past W now (a publisher connected). */
void order_catch_up(struct rt *rt);

/* From the 1 s timer: catches up when the outbox stays ahead of W. */
void order_poll(struct rt *rt);

/* W: every durable id up to it has been dispatched. */
long long order_watermark(struct rt *rt);

#endif
