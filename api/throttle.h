/* throttle: login brute-force limits — failed logins counted per account and
 * per client address over a fixed window (cfg.login_max_failures within
 * cfg.login_window seconds); past the limit the key is refused until its
 * window ends, and the caller answers 429 with Retry-After (RFC 6585 §4).
 *
 * Memory is bounded: a fixed table of keyed hashes (HMAC-SHA256 under a
 * random per-process key, so nobody can aim collisions at a victim's slot);
 * when a probe run is full the entry with the oldest window is evicted.
 * Thread-safe. */
#ifndef THROTTLE_H
#define THROTTLE_H

#include <stddef.h>
#include <time.h>

struct throttle;

/* capacity: table slots (rounded up to a power of two).  NULL on failure. */
struct throttle *throttle_new(long max_failures, long window, size_t capacity);
void throttle_free(struct throttle *t);

/* 0 if key may try now, else the seconds until it may (> 0). */
long throttle_wait(struct throttle *t, const char *key, time_t now);
/* Counts one failure for key. */
void throttle_fail(struct throttle *t, const char *key, time_t now);
/* Forgets key (after a successful login to that account). */
void throttle_reset(struct throttle *t, const char *key);

#endif
