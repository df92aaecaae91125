/* backoff: reconnect delays; see backoff.h. */
#include "backoff.h"

#include "ob_rand.h"

int64_t backoff_base_delay(unsigned n)
{
    double d = BACKOFF_BASE_MS;
    for (unsigned i = 1; i < n && d < BACKOFF_CAP_MS; i++)
        d *= 1.5;
    return d > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : (int64_t)d;
}

int64_t backoff_next(struct backoff *b, int64_t connected_ms, int64_t now_ms)
{
    if (connected_ms > 0 && now_ms - connected_ms >= BACKOFF_SURVIVE_MS)
        b->failures = 0;
    if (b->failures < 1000)
        b->failures++;
    int64_t base = backoff_base_delay(b->failures);
    /* +-20 % so that accounts dropped together do not come back together. */
    double j = 0.8 + 0.4 * ob_rand_unit();
    return (int64_t)((double)base * j);
}

void backoff_reset(struct backoff *b)
{
    b->failures = 0;
}
