/* ingest: events.sock inside the lws loop — the publishers' side.
 *
 * The listening Unix socket (mode 0660, made by ob_sock_listen_unix, which
 * refuses to steal a live sidecar's socket) is adopted into the raw vhost
 * (clibs §2.7 option B); each accepted publisher is checked with SO_PEERCRED
 * (ob_sock_peer_allowed: root, our uid or our gid) before it is adopted as a
 * raw socket.  Its bytes are framed into lines with ob_linebuf (at most
 * OB_PROTO_MAX_LINE), each line parsed with ob_event_parse; a bad line is
 * dropped with its reason logged (rate-limited) and the publisher stays
 * connected.  Good events go to order.c.  A publisher connecting makes the
 * sidecar catch up from the outbox (DESIGN.md: events.sock). */
#ifndef INGEST_H
#define INGEST_H

#include "rt.h"

#include <libwebsockets.h>

/* The raw vhost's protocols (acceptor, publisher). */
const struct lws_protocols *ingest_protocol_table(void);

/* Listens on cfg.events_sock and adopts the listener.  0 or -1 (logged). */
int ingest_listen(struct rt *rt);
/* Removes the socket file (the lws context closes the fds). */
void ingest_close(struct rt *rt);

/* Pauses (0) or resumes (1) reading from every publisher. */
void ingest_flow(struct rt *rt, int enable);

#endif
