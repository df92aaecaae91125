/* ob_event: one events.sock message (publishers -> onebox-realtime), parsed
 * and checked, or built and serialized.  See ob_proto.h for the catalogue. */
#ifndef OB_EVENT_H
#define OB_EVENT_H

#include "ob_proto.h"
#include "ob_time.h"

#include <jansson.h>
#include <stddef.h>

struct ob_event {
    long long id;                    /* outbox row id; 0 for ephemeral events */
    enum ob_ev_type type;
    char user[OB_PROTO_ID_MAX];      /* recipient, "*" = every admin; or "" */
    char room[OB_PROTO_ID_MAX];      /* room broadcast instead of user; or "" */
    char topic[OB_PROTO_ID_MAX];
    char ts[OB_TIME_ISO_LEN];
    json_t *data;                    /* owned reference (an object) */
};

/* Parses and validates one line (without its '\n').  Checks: valid JSON
 * object, "v" == OB_PROTO_VERSION, known "type", exactly one of user/room as
 * a valid id, "data" an object, "id" a positive integer present exactly for
 * durable types.  Returns 0, or -1 with the reason in err; ev is cleared
 * either way (call ob_event_clear after success). */
int ob_event_parse(const char *line, size_t len, struct ob_event *ev,
                   char *err, size_t errlen);
void ob_event_clear(struct ob_event *ev);

/* Fills ev for publishing: type's default topic, ts now, data stolen.
 * Returns 0, or -1 if user is not a valid id (data is released then). */
int ob_event_init(struct ob_event *ev, enum ob_ev_type type, const char *user,
                  json_t *data);

/* Serializes to one line ending in '\n'; malloc'd (caller frees), *len set.
 * NULL if the line would exceed OB_PROTO_MAX_LINE. */
char *ob_event_line(const struct ob_event *ev, size_t *len);

#endif
