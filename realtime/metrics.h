/* metrics: the `metrics` message (seed 003) sent every METRICS_PERIOD_S to
 * admin connections subscribed to the `metrics` topic:
 *   {timestamp (ms), cpu {usage %, cores}, memory {used, free, total, rss},
 *    disk {used, free, total} (of the data directory), network
 *    {bytesReceived, bytesSent, connections}, activeConnections,
 *    messageRate (messages sent to clients per second), errorRate (errors per
 *    second: `error` replies, bad publisher lines, failed sync calls)}
 * usage and the rates are over the last period. */
#ifndef METRICS_H
#define METRICS_H

#include "rt.h"

#include <jansson.h>

#define METRICS_PERIOD_S 5

struct rt_metrics *metrics_new(void);
void metrics_free(struct rt_metrics *m);

/* Samples and sends to subscribed admins (from the 5 s timer). */
void metrics_tick(struct rt *rt);

/* The latest sample as a new JSON object (taken now if none yet). */
json_t *metrics_json(struct rt *rt);

#endif
