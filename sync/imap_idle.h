/* imap_idle: the one thread that watches every idling IMAP connection
 * (RFC 2177).  An account is parked here between steps, with the fd from
 * mailimap_idle_get_fd() (or -1 when it only waits for a timer: NOOP
 * polling, reconnect backoff) and a deadline (re-IDLE before the server's
 * 30-minute cut, silence watchdog, next poll, next reconnect).  When the fd
 * becomes readable, the deadline passes or the account is kicked (stop), the
 * loop hands it back to the worker pool; it never reads or writes IMAP
 * itself.  One epoll set and a linear deadline scan: a thousand parked
 * accounts cost a few microseconds per wake-up and no thread each. */
#ifndef SYNC_IMAP_IDLE_H
#define SYNC_IMAP_IDLE_H

#include <stddef.h>

struct sync_ctx;
struct account;
struct imap_idle;

/* Starts the loop thread.  NULL with a reason in err. */
struct imap_idle *imap_idle_new(struct sync_ctx *ctx, char *err, size_t errlen);

/* Parks a: watch a->idle_fd (if >= 0) until readable or a->wake_at_ms.
 * Called with a->mu held, after setting a->holder = ACCOUNT_HELD_LOOP (so a
 * concurrent kick is queued after the park). */
void imap_idle_park(struct imap_idle *l, struct account *a);

/* Asks the loop to hand a parked account back to the workers now (used by
 * stop).  Ignored if a is not parked by then. */
void imap_idle_kick(struct imap_idle *l, struct account *a);

/* Stops and joins the thread, then hands every account still parked to the
 * workers (which are still running).  NULL is fine. */
void imap_idle_stop(struct imap_idle *l);
void imap_idle_free(struct imap_idle *l);

#endif
