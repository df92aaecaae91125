/* ws_topics: the topics of /ws (emails, sync, accounts, metrics,
 * imap-logs, rooms), and the subscribe/unsubscribe {topics:[...]} messages.
 *
 * A connection that never subscribed receives WS_TOPICS_DEFAULT (emails,
 * sync, accounts).  Its first subscribe replaces that default with exactly
 * the topics named; later ones add.  An unsubscribe removes.  `metrics` is
 * for admins only.  An event whose topic is not one of these counts as its
 * type's default topic. */
#ifndef WS_TOPICS_H
#define WS_TOPICS_H

#include "rt.h"

#include "ob_event.h"

#include <jansson.h>

/* The bit of a topic name, 0 when unknown. */
unsigned ws_topics_bit(const char *name);
/* The bit an event is filtered by. */
unsigned ws_topics_of_event(const struct ob_event *ev);
/* The names of the bits set in mask, as a new JSON array. */
json_t *ws_topics_names(unsigned mask);

/* Handle a subscribe/unsubscribe carrying "topics" (array of strings, or one
 * string).  Answers subscribed/unsubscribed {topics: [the current set]} or
 * an error.  Returns 0 (the connection stays open either way). */
int ws_topics_subscribe(struct rt *rt, struct ws_conn *c, json_t *topics);
int ws_topics_unsubscribe(struct rt *rt, struct ws_conn *c, json_t *topics);

#endif
