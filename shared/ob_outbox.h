/* ob_outbox: the `events` table, the truth behind events.sock.
 *
 * The outbox rule (DESIGN.md): a durable event is inserted in the same
 * transaction that stores what it reports, and only after COMMIT is it pushed
 * on events.sock.  Its row id is its event id.  The sidecar replays from here
 * when a client resumes after a given id. */
#ifndef OB_OUTBOX_H
#define OB_OUTBOX_H

#include "ob_event.h"
#include "ob_pub.h"

#include <sqlite3.h>

/* Inserts ev (durable types only) inside the caller's transaction and sets
 * ev->id.  Returns 0 or -1. */
int ob_outbox_add(sqlite3 *db, struct ob_event *ev);

/* For events that report nothing else stored (sync_status...): one
 * transaction holding only the event, then the push.  Ephemeral types are
 * only pushed.  pub may be NULL.  Returns 0 or -1 (nothing stored). */
int ob_outbox_emit(sqlite3 *db, struct ob_pub *pub, struct ob_event *ev);

/* Calls cb for each event for user (and, when include_admin, those sent to
 * "*") with id > after, in id order, at most limit.  The ob_event passed to
 * cb is only valid during the call.  cb returns 0 to go on, non-zero to stop.
 * Returns the number delivered, or -1. */
typedef int (*ob_outbox_cb)(void *ctx, const struct ob_event *ev);
int ob_outbox_after(sqlite3 *db, const char *user, int include_admin,
                    long long after, int limit, ob_outbox_cb cb, void *ctx);

/* Highest event id, 0 when empty, -1 on error. */
long long ob_outbox_last_id(sqlite3 *db);

#endif
