/* ob_event: events.sock messages; see ob_event.h. */
#include "ob_event.h"
#include "ob_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ob_event_clear(struct ob_event *ev)
{
    if (!ev)
        return;
    json_decref(ev->data);
    memset(ev, 0, sizeof *ev);
}

static int copy_id(const json_t *root, const char *key, char *dst, int allow_star,
                   char *err, size_t errlen)
{
    const char *s = NULL;
    if (ob_json_get_str(root, key, 0, OB_PROTO_ID_MAX - 1, &s, err, errlen) < 0)
        return -1;
    if (!s)
        return 0;
    if (!ob_proto_valid_id(s, allow_star)) {
        snprintf(err, errlen, "field '%s' is not a valid id", key);
        return -1;
    }
    snprintf(dst, OB_PROTO_ID_MAX, "%s", s);
    return 1;
}

int ob_event_parse(const char *line, size_t len, struct ob_event *ev,
                   char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    json_t *root = ob_json_parse_object(line, len, OB_PROTO_MAX_LINE, err, errlen);
    if (!root)
        return -1;
    long long id = 0;
    const char *type = NULL, *topic = NULL, *ts = NULL;
    if (ob_proto_check_version(root, 1, err, errlen) < 0)
        goto bad;
    if (ob_json_get_str(root, "type", 1, 64, &type, err, errlen) < 0)
        goto bad;
    ev->type = ob_ev_from_name(type);
    if (ev->type == OB_EV_INVALID) {
        snprintf(err, errlen, "unknown event type '%.64s'", type);
        goto bad;
    }
    int has_user = copy_id(root, "user", ev->user, 1, err, errlen);
    int has_room = copy_id(root, "room", ev->room, 0, err, errlen);
    if (has_user < 0 || has_room < 0)
        goto bad;
    if (has_user + has_room != 1) {
        snprintf(err, errlen, "exactly one of 'user' and 'room' is required");
        goto bad;
    }
    if (ob_json_get_int(root, "id", 0, 1, INT64_MAX, &id, err, errlen) < 0)
        goto bad;
    if (ob_ev_durable(ev->type) != (id > 0)) {
        snprintf(err, errlen, id > 0 ? "ephemeral event '%s' must not carry an id"
                 : "durable event '%s' needs its outbox id", type);
        goto bad;
    }
    ev->id = id;
    if (ob_json_get_str(root, "topic", 0, OB_PROTO_ID_MAX - 1, &topic, err, errlen) < 0)
        goto bad;
    if (topic && !ob_proto_valid_id(topic, 0)) {
        snprintf(err, errlen, "field 'topic' is not a valid name");
        goto bad;
    }
    snprintf(ev->topic, sizeof ev->topic, "%s", topic ? topic : ob_ev_topic(ev->type));
    if (ob_json_get_str(root, "ts", 0, OB_TIME_ISO_LEN - 1, &ts, err, errlen) < 0)
        goto bad;
    if (ts)
        snprintf(ev->ts, sizeof ev->ts, "%s", ts);
    else
        ob_time_iso_now(ev->ts);
    json_t *data = json_object_get(root, "data");
    if (!json_is_object(data)) {
        snprintf(err, errlen, "field 'data' must be an object");
        goto bad;
    }
    ev->data = json_incref(data);
    json_decref(root);
    return 0;
bad:
    json_decref(root);
    memset(ev, 0, sizeof *ev);
    return -1;
}

int ob_event_init(struct ob_event *ev, enum ob_ev_type type, const char *user,
                  json_t *data)
{
    memset(ev, 0, sizeof *ev);
    if (!ob_proto_valid_id(user, 1) || type <= OB_EV_INVALID || type >= OB_EV_COUNT) {
        json_decref(data);
        return -1;
    }
    ev->type = type;
    snprintf(ev->user, sizeof ev->user, "%s", user);
    snprintf(ev->topic, sizeof ev->topic, "%s", ob_ev_topic(type));
    ob_time_iso_now(ev->ts);
    ev->data = data ? data : json_object();
    return 0;
}

char *ob_event_line(const struct ob_event *ev, size_t *len)
{
    json_t *data = ev->data ? json_incref(ev->data) : json_object();
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:o}", "v", OB_PROTO_VERSION,
                          "type", ob_ev_name(ev->type), "topic", ev->topic,
                          "ts", ev->ts, "data", data);
    if (!o)
        return NULL;
    if (ev->id > 0)
        json_object_set_new(o, "id", json_integer(ev->id));
    if (ev->room[0])
        json_object_set_new(o, "room", json_string(ev->room));
    else
        json_object_set_new(o, "user", json_string(ev->user));
    return ob_json_line(o, OB_PROTO_MAX_LINE, len);
}
