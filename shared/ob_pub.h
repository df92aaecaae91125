/* ob_pub: the events.sock publisher used by onebox-api and onebox-syncd.
 *
 * Publishing never blocks the caller's work on the sidecar: ob_pub_send
 * copies the line into a bounded in-memory queue and returns at once; a
 * background thread owns the socket, writes with non-blocking I/O, and
 * reconnects with capped exponential backoff and jitter when the sidecar is
 * away.  When the queue is full the new line is dropped and counted — durable
 * events are already in the outbox, from which the sidecar and its clients
 * catch up. */
#ifndef OB_PUB_H
#define OB_PUB_H

#include "ob_event.h"

#include <stddef.h>

struct ob_pub;

struct ob_pub_stats {
    unsigned long long sent, dropped, reconnects;
    size_t queued_bytes;
    int connected;
};

/* Starts the publisher thread for path with a queue ceiling of max_queue
 * bytes.  Returns NULL on allocation/thread failure. */
struct ob_pub *ob_pub_new(const char *path, size_t max_queue);
/* Stops the thread after trying to flush for at most flush_ms; frees pub.
 * NULL is fine. */
void ob_pub_free(struct ob_pub *pub, int flush_ms);

/* Queues one complete line (ending in '\n'), copied.  Thread-safe.
 * Returns 0 if queued, -1 if dropped (queue full, or line too long). */
int ob_pub_send(struct ob_pub *pub, const char *line, size_t len);
/* Serializes ev and queues it; same return. */
int ob_pub_event(struct ob_pub *pub, const struct ob_event *ev);

void ob_pub_get_stats(struct ob_pub *pub, struct ob_pub_stats *st);

#endif
