/* fanout: per-connection send queues and delivery of events to the right
 * connections (a user's, a room's, every admin's).
 *
 * Queues hold references to shared ws_msg buffers.  Each has a ceiling in
 * bytes (cfg.ws_send_queue_max) and in age (FANOUT_STALE_MS for its oldest
 * message): past either the connection is a slow reader and is closed with
 * 1008, its queue dropped, while the others keep receiving (clibs §2.4).
 * When live messages hold more than FANOUT_HIGH_WATER bytes in all, reading
 * from publishers pauses until they fall below FANOUT_LOW_WATER. */
#ifndef FANOUT_H
#define FANOUT_H

#include "rt.h"
#include "ws_msg.h"

#include "ob_event.h"

#define FANOUT_STALE_MS 20000
#define FANOUT_WRITE_BATCH 256            /* frames per WRITEABLE at most */
#define FANOUT_WRITE_BYTES (256 * 1024)   /* bytes per WRITEABLE at most */
#define FANOUT_HIGH_WATER (256ull * 1024 * 1024)
#define FANOUT_LOW_WATER (128ull * 1024 * 1024)

/* Queues m (takes a new reference) to c and asks lws for a writable
 * callback.  Returns 0, or -1 when c is closing or was just closed as a slow
 * reader (m not queued). */
int fanout_enqueue(struct rt *rt, struct ws_conn *c, struct ws_msg *m);

/* Writes queued messages from SERVER_WRITEABLE while the socket takes them
 * whole (a batch at most).  Returns 0, or -1 when the connection must
 * close. */
int fanout_write(struct rt *rt, struct ws_conn *c);

/* Drops everything queued to c and frees its queue. */
void fanout_clear(struct rt *rt, struct ws_conn *c);

/* Delivers one event (already ordered by order.c) to its recipients. */
void fanout_event(struct rt *rt, const struct ob_event *ev);

/* From the 1 s timer: closes connections whose oldest message is stale. */
void fanout_check_stale(struct rt *rt, int64_t now_ms);

/* Pauses or resumes publishers by the live-message watermarks. */
void fanout_flow(struct rt *rt);

#endif
