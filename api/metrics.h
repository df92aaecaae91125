/* metrics: onebox-api's Prometheus counters — requests by route, method and
 * status, and a latency histogram by route — kept in lock-free atomics so
 * recording costs a request nothing measurable, and rendered in the
 * Prometheus text exposition format (version 0.0.4) for GET /metrics. */
#ifndef METRICS_H
#define METRICS_H

#include "ob_pub.h"

#include <stddef.h>
#include <stdint.h>

/* Microseconds on a monotonic clock, for request latency. */
int64_t metrics_now_us(void);

/* Records one finished request; route_index -1 = no route matched. */
void metrics_observe(int route_index, int status, int64_t usec);

/* Renders every metric (plus the events.sock publisher's counters when pub
 * is not NULL).  Returns a malloc'd text (caller frees), *len set, or NULL. */
char *metrics_render(struct ob_pub *pub, size_t *len);

#endif
