/* backoff: capped exponential reconnect delays with jitter (notes/imap-sync.md
 * rule 6).  The delay grows 2 s x1.5 per failure up to a cap, each one drawn
 * within +-20 %; it starts over only after a connection has survived a while,
 * so a server that accepts logins and then drops them does not cause a
 * login storm. */
#ifndef SYNC_BACKOFF_H
#define SYNC_BACKOFF_H

#include <stdint.h>

#define BACKOFF_BASE_MS 2000
#define BACKOFF_CAP_MS (5 * 60 * 1000)
#define BACKOFF_SURVIVE_MS (2 * 60 * 1000)

struct backoff {
    unsigned failures;    /* in a row, since the last connection that survived */
};

/* Called when a connection ends (or fails to be made).  connected_ms is the
 * monotonic time it logged in (0: it never did), now_ms the time now.
 * Returns the delay in ms before the next attempt. */
int64_t backoff_next(struct backoff *b, int64_t connected_ms, int64_t now_ms);

/* Forgets past failures (an explicit start by the user). */
void backoff_reset(struct backoff *b);

/* The delay for the n-th failure in a row (n >= 1) before jitter; exposed for
 * tests. */
int64_t backoff_base_delay(unsigned n);

#endif
