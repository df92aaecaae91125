/* ob_proto: the message catalogue; see ob_proto.h. */
#include "ob_proto.h"
#include "ob_json.h"

#include <stdio.h>

#include <string.h>

static const struct {
    const char *name, *topic;
    int durable;
} ev_table[OB_EV_COUNT] = {
    [OB_EV_INVALID] = { "invalid", "", 0 },
    [OB_EV_NEW_EMAIL] = { "new_email", "emails", 1 },
    [OB_EV_SYNC_STATUS] = { "sync_status", "sync", 1 },
    [OB_EV_ACCOUNT_ADDED] = { "account_added", "accounts", 1 },
    [OB_EV_ACCOUNT_REMOVED] = { "account_removed", "accounts", 1 },
    [OB_EV_SYNC_PROGRESS] = { "sync_progress", "sync", 0 },
    [OB_EV_IMAP_LOG] = { "imap_log", "imap-logs", 0 },
    [OB_EV_ROOM_MESSAGE] = { "message", "rooms", 0 },
};

static const char *const op_table[OB_CTL_COUNT] = {
    [OB_CTL_INVALID] = "invalid",
    [OB_CTL_START] = "start",
    [OB_CTL_STOP] = "stop",
    [OB_CTL_STATUS] = "status",
    [OB_CTL_CLIENTS] = "clients",
};

const char *ob_ev_name(enum ob_ev_type t)
{
    return t > OB_EV_INVALID && t < OB_EV_COUNT ? ev_table[t].name : "invalid";
}

const char *ob_ctl_op_name(enum ob_ctl_op op)
{
    return op > OB_CTL_INVALID && op < OB_CTL_COUNT ? op_table[op] : "invalid";
}

enum ob_ev_type ob_ev_from_name(const char *name)
{
    for (int i = 1; name && i < OB_EV_COUNT; i++)
        if (strcmp(ev_table[i].name, name) == 0)
            return (enum ob_ev_type)i;
    return OB_EV_INVALID;
}

enum ob_ctl_op ob_ctl_op_from_name(const char *name)
{
    for (int i = 1; name && i < OB_CTL_COUNT; i++)
        if (strcmp(op_table[i], name) == 0)
            return (enum ob_ctl_op)i;
    return OB_CTL_INVALID;
}

const char *ob_ev_topic(enum ob_ev_type t)
{
    return t > OB_EV_INVALID && t < OB_EV_COUNT ? ev_table[t].topic : "";
}

int ob_ev_durable(enum ob_ev_type t)
{
    return t > OB_EV_INVALID && t < OB_EV_COUNT && ev_table[t].durable;
}

int ob_proto_valid_id(const char *s, int allow_star)
{
    if (!s)
        return 0;
    if (allow_star && strcmp(s, "*") == 0)
        return 1;
    size_t n = strlen(s);
    if (n == 0 || n >= OB_PROTO_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

int ob_proto_check_version(const json_t *msg, int required, char *err, size_t errlen)
{
    long long v = OB_PROTO_VERSION;
    if (ob_json_get_int(msg, "v", required, 0, 1000000, &v, err, errlen) < 0)
        return -1;
    if (v != OB_PROTO_VERSION) {
        snprintf(err, errlen, "unsupported protocol version %lld (want %d)", v, OB_PROTO_VERSION);
        return -1;
    }
    return 0;
}
