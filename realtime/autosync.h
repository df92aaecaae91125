/* autosync: a user's accounts sync while they are connected — the user's
 * first WebSocket sends sync.sock `start {user}` (all their accounts); when
 * their last one closes, `stop {user}` follows cfg.sync_grace seconds later
 * unless they come back first.  A start that cannot reach onebox-syncd is
 * retried every AUTOSYNC_RETRY_MS while the user stays connected.  On
 * shutdown nothing is stopped: clients reconnect to the next sidecar.
 *
 * ob_ctl_call blocks, so one worker thread makes the calls; the loop queues
 * jobs under a mutex (at most one waiting job per user: a newer op replaces
 * a waiting one) and the worker hands results back through lws_cancel_service
 * (clibs §2.8), read in LWS_CALLBACK_EVENT_WAIT_CANCELLED.  A down or hung
 * syncd delays only the worker, never the WebSocket service.
 *
 * Per-user states (ws_user.sync_state), changed by set_state():
 *   IDLE --first connection--> STARTED --last closes--> STOP_PENDING
 *   STOP_PENDING --grace over: stop--> IDLE;  --a connection--> STARTED
 *   STARTED --start unreachable--> RETRY --timer: start--> STARTED */
#ifndef AUTOSYNC_H
#define AUTOSYNC_H

#include "rt.h"

#define AUTOSYNC_CALL_MS 3000
#define AUTOSYNC_RETRY_MS 30000

struct autosync *autosync_new(struct rt *rt);
/* Stops the worker (waiting for a call in progress) and frees the queues. */
void autosync_free(struct autosync *as);

void autosync_user_active(struct rt *rt, struct ws_user *u);
void autosync_user_idle(struct rt *rt, struct ws_user *u);
/* 1 while u must stay in the index for autosync (a pending stop or retry). */
int autosync_user_busy(const struct ws_user *u);

/* From the 1 s timer: due stops and retries. */
void autosync_tick(struct rt *rt, int64_t now_ms);
/* From EVENT_WAIT_CANCELLED: the worker's results. */
void autosync_drain(struct rt *rt);

/* Calls queued or in flight, for /stats. */
unsigned autosync_pending(struct rt *rt);

#endif
