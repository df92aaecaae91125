/* ws_rooms: rooms and their role rule; see ws_rooms.h. */
#include "ws_rooms.h"
#include "fanout.h"
#include "ws_msg.h"
#include "ws_protocol.h"

#include "ob_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ws_room {
    struct ws_hash_node hn;           /* first: the node is the room */
    char name[OB_PROTO_ID_MAX];
    struct ws_member *members;
    unsigned n;
};

struct ws_member {
    struct ws_member *r_prev, *r_next; /* in the room */
    struct ws_member *c_next;          /* in the connection */
    struct ws_conn *conn;
    struct ws_room *room;
};

int ws_rooms_may_join(const struct ws_conn *c, const char *room)
{
    if (c->flags & WS_F_ADMIN)
        return 1;
    if (strncmp(room, "admin:", 6) == 0 || strncmp(room, "system:", 7) == 0)
        return 0;
    if (strncmp(room, "user:", 5) == 0)
        return c->user && strcmp(room + 5, c->user->id) == 0;
    return 1;
}

static struct ws_room *find(struct rt *rt, const char *name)
{
    return (struct ws_room *)ws_hash_find(rt->rooms, name);
}

static struct ws_member *membership(const struct ws_conn *c, const char *name)
{
    for (struct ws_member *m = c->rooms; m; m = m->c_next)
        if (strcmp(m->room->name, name) == 0)
            return m;
    return NULL;
}

/* Reads and checks the "room" field; sends `error` and returns NULL if bad. */
static const char *room_name(struct rt *rt, struct ws_conn *c, json_t *v)
{
    const char *name = json_string_value(v);
    if (!v) {
        ws_protocol_error(rt, c, "bad_message", "field 'room' is required");
        return NULL;
    }
    if (!name || !ob_proto_valid_id(name, 0)) {
        ws_protocol_error(rt, c, "bad_message",
                          "field 'room' must be 1..63 characters of A-Z a-z 0-9 _ . : -");
        return NULL;
    }
    return name;
}

static void unlink_member(struct rt *rt, struct ws_member *m)
{
    struct ws_room *r = m->room;
    if (m->r_prev)
        m->r_prev->r_next = m->r_next;
    else
        r->members = m->r_next;
    if (m->r_next)
        m->r_next->r_prev = m->r_prev;
    if (--r->n == 0) {
        ws_hash_del(rt->rooms, &r->hn);
        free(r);
    }
    free(m);
}

int ws_rooms_join(struct rt *rt, struct ws_conn *c, json_t *v)
{
    const char *name = room_name(rt, c, v);
    char msg[160];
    if (!name)
        return 0;
    if (!ws_rooms_may_join(c, name)) {
        snprintf(msg, sizeof msg, "room '%s' is not open to you", name);
        ws_protocol_error(rt, c, "forbidden", msg);
        return 0;
    }
    struct ws_room *r = find(rt, name);
    if (!membership(c, name)) {
        if (c->nrooms >= rt->cfg->ws_max_rooms) {
            snprintf(msg, sizeof msg, "at most %ld rooms per connection", rt->cfg->ws_max_rooms);
            ws_protocol_error(rt, c, "too_many_rooms", msg);
            return 0;
        }
        struct ws_member *m = calloc(1, sizeof *m);
        if (!r && m) {
            r = calloc(1, sizeof *r);
            if (r) {
                snprintf(r->name, sizeof r->name, "%s", name);
                r->hn.key = r->name;
                ws_hash_add(rt->rooms, &r->hn);
            }
        }
        if (!m || !r) {
            free(m);
            ws_protocol_error(rt, c, "internal", "out of memory");
            return 0;
        }
        m->conn = c;
        m->room = r;
        m->r_next = r->members;
        if (r->members)
            r->members->r_prev = m;
        r->members = m;
        r->n++;
        m->c_next = c->rooms;
        c->rooms = m;
        c->nrooms++;
    }
    json_t *data = json_pack("{s:s,s:i}", "room", name, "members", (json_int_t)r->n);
    ws_protocol_send_json(rt, c, "subscribed", data);
    json_decref(data);
    return 0;
}

int ws_rooms_leave(struct rt *rt, struct ws_conn *c, json_t *v)
{
    const char *name = room_name(rt, c, v);
    if (!name)
        return 0;
    json_t *data = json_pack("{s:s}", "room", name);   /* name may die with the room */
    for (struct ws_member **p = &c->rooms; *p; p = &(*p)->c_next) {
        if (strcmp((*p)->room->name, name) == 0) {
            struct ws_member *m = *p;
            *p = m->c_next;
            c->nrooms--;
            unlink_member(rt, m);
            break;
        }
    }
    ws_protocol_send_json(rt, c, "unsubscribed", data);
    json_decref(data);
    return 0;
}

static void broadcast(struct rt *rt, struct ws_room *r, struct ws_msg *msg)
{
    for (struct ws_member *m = r->members; m; m = m->r_next)
        if (m->conn->state == WS_ST_LIVE)
            fanout_enqueue(rt, m->conn, msg);
}

int ws_rooms_message(struct rt *rt, struct ws_conn *c, json_t *v, json_t *content)
{
    const char *name = room_name(rt, c, v);
    char msg[160];
    if (!name)
        return 0;
    if (!content) {
        ws_protocol_error(rt, c, "bad_message", "field 'content' is required");
        return 0;
    }
    struct ws_member *m = membership(c, name);
    if (!m) {
        snprintf(msg, sizeof msg, "subscribe to room '%s' before sending to it", name);
        ws_protocol_error(rt, c, "not_member", msg);
        return 0;
    }
    char cid[16];
    snprintf(cid, sizeof cid, "c%u", c->id);
    json_t *data = json_pack("{s:s,s:O,s:{s:s,s:s}}", "room", name, "content", content,
                             "from", "userId", c->user->id, "connectionId", cid);
    struct ws_msg *out = data ? ws_msg_envelope("message", data, 0, NULL) : NULL;
    json_decref(data);
    if (!out) {
        ws_protocol_error(rt, c, "internal", "out of memory");
        return 0;
    }
    broadcast(rt, m->room, out);
    rt->st.by_type[OB_EV_ROOM_MESSAGE]++;
    ws_msg_unref(out);
    return 0;
}

void ws_rooms_leave_all(struct rt *rt, struct ws_conn *c)
{
    while (c->rooms) {
        struct ws_member *m = c->rooms;
        c->rooms = m->c_next;
        unlink_member(rt, m);
    }
    c->nrooms = 0;
}

void ws_rooms_deliver(struct rt *rt, const struct ob_event *ev)
{
    struct ws_room *r = find(rt, ev->room);
    if (!r)
        return;
    json_t *data = ev->data;
    json_t *copy = NULL;
    if (!json_object_get(data, "room")) {
        copy = json_copy(data);
        if (copy)
            json_object_set_new(copy, "room", json_string(ev->room));
        data = copy ? copy : data;
    }
    struct ws_msg *out = ws_msg_envelope(ob_ev_name(ev->type), data, 0, ev->ts);
    json_decref(copy);
    if (!out) {
        ob_warn("out of memory building a room message");
        return;
    }
    broadcast(rt, r, out);
    rt->st.by_type[ev->type]++;
    ws_msg_unref(out);
}

void ws_rooms_free_all(struct rt *rt)
{
    if (!rt->rooms)
        return;
    struct ws_hash_iter it = { 0 };
    struct ws_hash_node *n;
    while ((n = ws_hash_next(rt->rooms, &it))) {
        struct ws_room *r = (struct ws_room *)n;
        while (r->members) {
            struct ws_member *m = r->members;
            r->members = m->r_next;
            free(m);
        }
        ws_hash_del(rt->rooms, n);
        free(r);
    }
}
