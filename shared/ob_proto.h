/* ob_proto: the message catalogue of onebox's two internal sockets.
 *
 * Every event type (events.sock, publishers -> onebox-realtime) and every
 * control op (sync.sock, clients -> onebox-syncd) is named once here, beside
 * the protocol version.  Both sockets carry newline-delimited JSON, one
 * message per line, at most OB_PROTO_MAX_LINE bytes; readers check every
 * field's type and drop (and log) anything else.  Bump OB_PROTO_VERSION on
 * any change to a message's shape.
 *
 *   events.sock  {"v":1,"id":N?,"type":T,"user":U|"room":R,"topic":..,"ts":..,"data":{..}}
 *   sync.sock    {"v":1?,"op":O,"user":U?,"email":E?}
 *                -> {"ok":true,"data":{..}} | {"ok":false,"error":{"code":..,"message":..}}
 */
#ifndef OB_PROTO_H
#define OB_PROTO_H

#include <stddef.h>

#define OB_PROTO_VERSION 1
#define OB_PROTO_MAX_LINE (1024 * 1024)
#define OB_PROTO_ID_MAX 64        /* user ids and room names, with the NUL */
#define OB_PROTO_EMAIL_MAX 256
#define OB_PROTO_USER_ADMINS "*"  /* recipient meaning "every admin" */

enum ob_ev_type {
    OB_EV_INVALID = 0,
    OB_EV_NEW_EMAIL,        /* durable, topic "emails" */
    OB_EV_SYNC_STATUS,      /* durable, topic "sync" */
    OB_EV_ACCOUNT_ADDED,    /* durable, topic "accounts" */
    OB_EV_ACCOUNT_REMOVED,  /* durable, topic "accounts" */
    OB_EV_SYNC_PROGRESS,    /* ephemeral, topic "sync": initial sync counts */
    OB_EV_IMAP_LOG,         /* ephemeral, topic "imap-logs": /ws/imap-logs */
    OB_EV_ROOM_MESSAGE,     /* ephemeral, "message" to a room */
    OB_EV_COUNT
};

enum ob_ctl_op {
    OB_CTL_INVALID = 0,
    OB_CTL_START,           /* user, email? (absent: all the user's accounts) */
    OB_CTL_STOP,            /* user, email? */
    OB_CTL_STATUS,          /* user?, email? */
    OB_CTL_CLIENTS,         /* (admin view) */
    OB_CTL_COUNT
};

/* Wire name of a type/op ("new_email", "start"), "invalid" when out of range. */
const char *ob_ev_name(enum ob_ev_type t);
const char *ob_ctl_op_name(enum ob_ctl_op op);
/* Inverse lookups; OB_EV_INVALID / OB_CTL_INVALID for unknown names. */
enum ob_ev_type ob_ev_from_name(const char *name);
enum ob_ctl_op ob_ctl_op_from_name(const char *name);
/* Default topic of an event type, and whether it goes through the outbox. */
const char *ob_ev_topic(enum ob_ev_type t);
int ob_ev_durable(enum ob_ev_type t);

/* Checks the message's "v" field: 0 if it is OB_PROTO_VERSION (or absent
 * and not required), -1 with the reason in err otherwise. */
struct json_t;
int ob_proto_check_version(const struct json_t *msg, int required, char *err, size_t errlen);

/* 1 if s is a valid user id, room or topic name: 1..63 bytes of
 * [A-Za-z0-9_.:-] (or exactly "*" when allow_star). */
int ob_proto_valid_id(const char *s, int allow_star);

#endif
