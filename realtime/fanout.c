/* fanout: send queues and event delivery; see fanout.h.
 *
 * Ordering and duplicates: order.c hands durable events over in id order, at
 * most once each; here a connection takes a durable event only when its id
 * is above the connection's cursor (what it already has, from a replay or
 * live) and it is not in the middle of a replay (the replay pages will read
 * that event from the outbox, where it was committed before it was pushed). */
#include "fanout.h"
#include "ingest.h"
#include "ws_imaplogs.h"
#include "ws_protocol.h"
#include "ws_rooms.h"
#include "ws_topics.h"
#include "ws_users.h"

#include "ob_log.h"
#include "ob_time.h"

#include <stdlib.h>
#include <string.h>

#define Q_MIN 4
#define Q_MAX 65535

static int grow(struct ws_conn *c)
{
    uint32_t cap = c->q_cap ? (uint32_t)c->q_cap * 2 : Q_MIN;
    if (cap > Q_MAX)
        cap = Q_MAX;
    if (cap <= c->q_len)
        return -1;
    struct ws_msg **q = malloc(cap * sizeof *q);
    if (!q)
        return -1;
    for (uint32_t i = 0; i < c->q_len; i++)
        q[i] = c->q[(c->q_head + i) % c->q_cap];
    free(c->q);
    c->q = q;
    c->q_cap = (uint16_t)cap;
    c->q_head = 0;
    return 0;
}

/* A live connection with nothing queued and nothing held back by lws gets
 * the frame at once.  Going through WRITEABLE would cost two epoll_ctl
 * calls and a loop turn per message, which at one message per connection
 * (per-user fan-out) was most of the sidecar's own CPU.  If the kernel
 * takes only part of the frame, lws keeps the rest and holds every later
 * write until it is out (lws_partial_buffered), so later frames queue. */
static int write_now(struct rt *rt, struct ws_conn *c, struct ws_msg *m)
{
    int n = lws_write(c->wsi, ws_msg_payload(m), m->len, LWS_WRITE_TEXT);
    if (n < (int)m->len) {
        /* the socket failed under us: lws tears it down on the close path */
        ws_protocol_close(rt, c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "write failed", 0);
        return -1;
    }
    rt->st.msgs_out++;
    rt->st.bytes_out += m->len;
    return 0;
}

int fanout_enqueue(struct rt *rt, struct ws_conn *c, struct ws_msg *m)
{
    if (c->state == WS_ST_CLOSING || !c->wsi)
        return -1;
    /* One message larger than the whole ceiling still goes to an idle
     * reader; a reader with a backlog that would pass it is slow. */
    if (c->q_len && (unsigned long long)c->q_bytes + m->len > (unsigned long long)rt->cfg->ws_send_queue_max) {
        ob_info("conn %u (%s): send queue over %ld bytes: closing slow reader",
                c->id, c->user ? c->user->id : "-", rt->cfg->ws_send_queue_max);
        rt->st.slow_closed++;
        ws_protocol_close(rt, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow consumer", 0);
        return -1;
    }
    if (!c->q_len && c->state == WS_ST_LIVE && !lws_partial_buffered(c->wsi))
        return write_now(rt, c, m);
    if (c->q_len == c->q_cap && grow(c) < 0) {
        rt->st.slow_closed++;
        ws_protocol_close(rt, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow consumer", 0);
        return -1;
    }
    c->q[(c->q_head + c->q_len) % c->q_cap] = ws_msg_ref(m);
    c->q_len++;
    c->q_bytes += m->len;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static void pop(struct ws_conn *c)
{
    struct ws_msg *m = c->q[c->q_head];
    c->q_head = (uint16_t)((c->q_head + 1) % c->q_cap);
    c->q_len--;
    c->q_bytes -= m->len;
    ws_msg_unref(m);
}

int fanout_write(struct rt *rt, struct ws_conn *c)
{
    /* Several frames per callback while the kernel takes them whole: a
     * reader that keeps up must drain faster than one ingest read can fill
     * its queue.  When lws had to keep part of a frame it holds further
     * WRITEABLE callbacks until that part is out, so stop there. */
    size_t bytes = 0;
    for (int i = 0; c->q_len && i < FANOUT_WRITE_BATCH && bytes < FANOUT_WRITE_BYTES; i++) {
        struct ws_msg *m = c->q[c->q_head];
        int n = lws_write(c->wsi, ws_msg_payload(m), m->len, LWS_WRITE_TEXT);
        if (n < (int)m->len)
            return -1;
        rt->st.msgs_out++;
        rt->st.bytes_out += m->len;
        bytes += m->len;
        pop(c);
        if (lws_partial_buffered(c->wsi))
            break;
    }
    if (c->q_len) {
        lws_callback_on_writable(c->wsi);
    } else {
        /* idle connections hold no queue memory */
        free(c->q);
        c->q = NULL;
        c->q_cap = c->q_head = 0;
    }
    fanout_flow(rt);
    return 0;
}

void fanout_clear(struct rt *rt, struct ws_conn *c)
{
    while (c->q_len)
        pop(c);
    free(c->q);
    c->q = NULL;
    c->q_cap = c->q_head = 0;
    c->q_bytes = 0;
    fanout_flow(rt);
}

struct delivery {
    struct rt *rt;
    const struct ob_event *ev;
    unsigned topic;
    struct ws_msg *m;
};

static void deliver(struct delivery *d, struct ws_conn *c)
{
    const struct ob_event *ev = d->ev;
    if (c->state != WS_ST_LIVE || c->kind != WS_KIND_NOTIFY || !(c->topics & d->topic))
        return;
    if (ev->id > 0) {
        if ((c->flags & WS_F_REPLAYING) || ev->id <= c->cursor)
            return;
        c->cursor = ev->id;
        c->flags |= WS_F_ANCHORED;
    }
    if (!d->m) {
        d->m = ws_msg_envelope(ob_ev_name(ev->type), ev->data, ev->id, ev->ts);
        if (!d->m) {
            ob_warn("out of memory building a %s message", ob_ev_name(ev->type));
            return;
        }
    }
    if (fanout_enqueue(d->rt, c, d->m) == 0)
        d->rt->st.by_type[ev->type]++;
}

void fanout_event(struct rt *rt, const struct ob_event *ev)
{
    struct delivery d = { rt, ev, ws_topics_of_event(ev), NULL };
    if (ev->room[0]) {
        ws_rooms_deliver(rt, ev);
    } else if (strcmp(ev->user, OB_PROTO_USER_ADMINS) == 0) {
        for (struct ws_conn *c = rt->admins; c; c = c->adm_next)
            deliver(&d, c);
    } else {
        if (ev->type == OB_EV_IMAP_LOG)
            ws_imaplogs_add(rt, ev);
        struct ws_user *u = ws_users_get(rt, ev->user, 0);
        for (struct ws_conn *c = u ? u->conns : NULL; c; c = c->u_next)
            deliver(&d, c);
    }
    ws_msg_unref(d.m);
    fanout_flow(rt);
}

void fanout_check_stale(struct rt *rt, int64_t now_ms)
{
    for (struct ws_conn *c = rt->conns; c; c = c->a_next) {
        if (!c->q_len || c->state == WS_ST_CLOSING)
            continue;
        if (now_ms - c->q[c->q_head]->t_ms > FANOUT_STALE_MS) {
            ob_info("conn %u (%s): oldest queued message older than %d ms: closing slow reader",
                    c->id, c->user ? c->user->id : "-", FANOUT_STALE_MS);
            rt->st.slow_closed++;
            ws_protocol_close(rt, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow consumer", 0);
        }
    }
}

void fanout_flow(struct rt *rt)
{
    unsigned long long live = ws_msg_live_bytes();
    if (!rt->ingest_paused && live > FANOUT_HIGH_WATER) {
        ob_warn("%llu bytes queued to clients: pausing publishers", live);
        ingest_flow(rt, 0);
    } else if (rt->ingest_paused && live < FANOUT_LOW_WATER) {
        ob_info("queues drained: resuming publishers");
        ingest_flow(rt, 1);
    }
}
