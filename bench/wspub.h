/* wspub: the publishing side of the fan-out benchmark, one per server, each
 * through the server's own publish path and carrying the same marker
 * "@@T<CLOCK_REALTIME ns>" that the loader turns into a latency:
 *
 *   onebox   a line on events.sock (the DESIGN.md wire format): the
 *            ephemeral sync_progress to one user, or a room event
 *   nchan    HTTP/1.1 POST /pub/<channel> on one keep-alive connection,
 *            pipelined (nchan's publisher location)
 *   sio      a line {"to":..,"data":..} on the Unix socket of
 *            bench/peers/socketio-server.js, which does io.to(to).emit()
 *
 * Writes block when the server pushes back; that is how a publisher is
 * paced by a saturated server. */
#ifndef WSPUB_H
#define WSPUB_H

#include <stddef.h>
#include <stdint.h>

enum wspub_kind { WSPUB_ONEBOX, WSPUB_NCHAN, WSPUB_SIO };

struct wspub;

/* kind from its name ("onebox", "nchan", "sio"); -1 if unknown. */
int wspub_kind_parse(const char *name);

/* target: a Unix socket path (onebox, sio) or "127.0.0.1:PORT" (nchan).
 * Returns NULL with a reason in err. */
struct wspub *wspub_new(enum wspub_kind kind, const char *target, char *err, size_t errlen);
void wspub_free(struct wspub *p);

/* Publishes one message to user `to` (or to room `to` when is_room),
 * stamped with t_ns.  Returns 0, or -1 with a reason in err. */
int wspub_send(struct wspub *p, const char *to, int is_room, uint64_t t_ns, uint64_t seq,
               char *err, size_t errlen);

/* Checks that a message to `to` would be well formed (onebox: that
 * ob_event_parse, the sidecar's own parser, accepts it).  0 or -1 + err. */
int wspub_check(const struct wspub *p, const char *to, int is_room, char *err, size_t errlen);

/* Waits until every request sent has been answered (nchan) or written
 * (others), at most timeout_ms.  Returns 0 or -1 with err. */
int wspub_drain(struct wspub *p, int timeout_ms, char *err, size_t errlen);

/* Publish requests the server refused (nchan non-2xx). */
unsigned long wspub_refused(const struct wspub *p);

#endif
