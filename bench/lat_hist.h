/* lat_hist: a fixed-size latency histogram in microseconds, log-linear
 * (exact below 128 us, then 64 sub-buckets per power of two: at most 1.6 %
 * relative error), so several loader processes can fill their own in shared
 * memory and the parent can merge them without locks or allocation. */
#ifndef LAT_HIST_H
#define LAT_HIST_H

#include <stdint.h>

#define LAT_HIST_BUCKETS (128 + 34 * 64) /* up to 2^40 us: far past any run */

struct lat_hist {
    uint64_t n;
    uint64_t max_us;
    uint64_t b[LAT_HIST_BUCKETS];
};

void lat_hist_add(struct lat_hist *h, uint64_t us);
/* dst += src. */
void lat_hist_merge(struct lat_hist *dst, const struct lat_hist *src);
/* The value below which a fraction q (0..1) of the samples lie (the upper
 * edge of that bucket); 0 when empty. */
uint64_t lat_hist_quantile(const struct lat_hist *h, double q);

#endif
