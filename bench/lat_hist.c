/* lat_hist: log-linear latency histogram; see lat_hist.h. */
#include "lat_hist.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < 128)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v >= 2^e, e >= 7 */
    unsigned idx = 128u + (e - 7u) * 64u + (unsigned)((v >> (e - 6u)) & 63u);
    return idx < LAT_HIST_BUCKETS ? idx : LAT_HIST_BUCKETS - 1;
}

static uint64_t upper_of(unsigned idx)
{
    if (idx < 128)
        return idx;
    unsigned e = (idx - 128u) / 64u + 7u, sub = (idx - 128u) % 64u;
    /* Bucket holds [(64+sub) << (e-6), (65+sub) << (e-6)). */
    return (((uint64_t)64 + sub + 1) << (e - 6u)) - 1;
}

void lat_hist_add(struct lat_hist *h, uint64_t us)
{
    h->b[bucket_of(us)]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

void lat_hist_merge(struct lat_hist *dst, const struct lat_hist *src)
{
    for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->n += src->n;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
}

uint64_t lat_hist_quantile(const struct lat_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->n + 0.5);
    if (want < 1)
        want = 1;
    if (want > h->n)
        want = h->n;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want) {
            uint64_t u = upper_of(i);
            return u < h->max_us ? u : h->max_us;
        }
    }
    return h->max_us;
}
