/* order: outbox-ordered, exactly-once dispatch of durable events; see
 * order.h for the rules. */
#include "order.h"
#include "fanout.h"

#include "ob_json.h"
#include "ob_log.h"
#include "ob_outbox.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct order {
    struct rt *rt;
    long long w;
    struct ob_event *held;        /* sorted by id, ORDER_HOLD_MAX slots, lazily */
    size_t nheld;
    lws_sorted_usec_list_t gap_sul;
    int gap_armed;
    long long stalled_w;          /* W when the poll last saw the outbox ahead */
    sqlite3_stmt *range;
};

struct order *order_new(struct rt *rt)
{
    struct order *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->rt = rt;
    o->stalled_w = -1;
    o->w = ob_outbox_last_id(rt->db);
    if (o->w < 0) {
        ob_error("cannot read the outbox");
        free(o);
        return NULL;
    }
    ob_info("outbox at event %lld: live events start after it", o->w);
    return o;
}

void order_stop_timers(struct order *o)
{
    if (!o)
        return;
    lws_sul_cancel(&o->gap_sul);
    o->gap_armed = 0;
}

void order_free(struct order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nheld; i++)
        ob_event_clear(&o->held[i]);
    free(o->held);
    sqlite3_finalize(o->range);
    free(o);
}

long long order_watermark(struct rt *rt)
{
    return rt->order->w;
}

static void gap_cb(lws_sorted_usec_list_t *sul);

static void arm(struct order *o)
{
    if (o->nheld && !o->gap_armed) {
        o->gap_armed = 1;
        lws_sul_schedule(o->rt->ctx, 0, &o->gap_sul, gap_cb, ORDER_GAP_MS * LWS_US_PER_MS);
    }
}

static void dispatch(struct order *o, const struct ob_event *ev)
{
    if (ev->id > o->w)
        o->w = ev->id;
    fanout_event(o->rt, ev);
}

/* Dispatches held events while they continue W. */
static void drain(struct order *o)
{
    size_t k = 0;
    while (k < o->nheld && o->held[k].id <= o->w + 1) {
        if (o->held[k].id == o->w + 1)
            dispatch(o, &o->held[k]);
        ob_event_clear(&o->held[k]);
        k++;
    }
    if (k) {
        memmove(o->held, o->held + k, (o->nheld - k) * sizeof *o->held);
        o->nheld -= k;
    }
}

/* Dispatches and forgets every held event with id < below. */
static void flush_held_below(struct order *o, long long below)
{
    size_t k = 0;
    while (k < o->nheld && o->held[k].id < below) {
        if (o->held[k].id > o->w)
            dispatch(o, &o->held[k]);
        ob_event_clear(&o->held[k]);
        k++;
    }
    if (k) {
        memmove(o->held, o->held + k, (o->nheld - k) * sizeof *o->held);
        o->nheld -= k;
    }
}

/* The outbox rows after W up to `upto`, in id order, dispatched together
 * with the held events (the outbox row wins over a held copy of it).
 * Room events come back as user events: the outbox keeps one recipient
 * column (durable room events are not part of the catalogue). */
static void fill(struct order *o, long long upto)
{
    struct rt *rt = o->rt;
    if (!o->range &&
        sqlite3_prepare_v2(rt->db, "SELECT id, user_id, type, topic, payload, ts FROM events"
                           " WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3", -1,
                           &o->range, NULL) != SQLITE_OK) {
        ob_warn("outbox: cannot prepare the gap query: %s", sqlite3_errmsg(rt->db));
        o->range = NULL;
    }
    for (;;) {
        if (!o->range)
            break;
        long long before = o->w;
        int rows = 0, rc;
        sqlite3_bind_int64(o->range, 1, o->w);
        sqlite3_bind_int64(o->range, 2, upto);
        sqlite3_bind_int(o->range, 3, ORDER_FILL_BATCH);
        while ((rc = sqlite3_step(o->range)) == SQLITE_ROW) {
            rows++;
            struct ob_event ev;
            memset(&ev, 0, sizeof ev);
            ev.id = sqlite3_column_int64(o->range, 0);
            const char *u = (const char *)sqlite3_column_text(o->range, 1);
            const char *type = (const char *)sqlite3_column_text(o->range, 2);
            const char *topic = (const char *)sqlite3_column_text(o->range, 3);
            const char *payload = (const char *)sqlite3_column_text(o->range, 4);
            const char *ts = (const char *)sqlite3_column_text(o->range, 5);
            char err[128];
            ev.type = ob_ev_from_name(type);
            ev.data = payload ? ob_json_parse_object(payload, strlen(payload), OB_PROTO_MAX_LINE,
                                                     err, sizeof err) : NULL;
            flush_held_below(o, ev.id);
            while (o->nheld && o->held[0].id == ev.id) {
                ob_event_clear(&o->held[0]);
                memmove(o->held, o->held + 1, (o->nheld - 1) * sizeof *o->held);
                o->nheld--;
            }
            if (ev.type == OB_EV_INVALID || !ev.data || !u || !ob_proto_valid_id(u, 1) ||
                !topic || !ts) {
                ob_warn("outbox: skipping unreadable event %lld", ev.id);
                if (ev.id > o->w)
                    o->w = ev.id;
            } else {
                snprintf(ev.user, sizeof ev.user, "%s", u);
                snprintf(ev.topic, sizeof ev.topic, "%s", topic);
                snprintf(ev.ts, sizeof ev.ts, "%s", ts);
                rt->st.ev_gapfilled++;
                dispatch(o, &ev);
            }
            json_decref(ev.data);
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            ob_warn("outbox: gap read failed: %s", sqlite3_errmsg(rt->db));
        sqlite3_reset(o->range);
        if (rows < ORDER_FILL_BATCH || o->w == before || (rc != SQLITE_ROW && rc != SQLITE_DONE))
            break;
    }
    /* What is still held past the outbox rows is dispatched too: a push is
     * never held forever for a row that cannot be read. */
    long long top = upto == LLONG_MAX ? LLONG_MAX : upto + 1;
    flush_held_below(o, top);
    if (upto != LLONG_MAX && upto > o->w)
        o->w = upto;
    drain(o);
    arm(o);
}

static void gap_cb(lws_sorted_usec_list_t *sul)
{
    struct order *o = (struct order *)((char *)sul - offsetof(struct order, gap_sul));
    o->gap_armed = 0;
    if (!o->nheld)
        return;
    long long upto = o->held[o->nheld - 1].id;
    ob_debug("events %lld..%lld missing from the live stream: reading the outbox",
             o->w + 1, o->held[0].id - 1);
    fill(o, upto);
}

static int hold(struct order *o, const struct ob_event *ev)
{
    if (!o->held && !(o->held = calloc(ORDER_HOLD_MAX, sizeof *o->held)))
        return -1;
    size_t lo = 0, hi = o->nheld;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->held[mid].id < ev->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < o->nheld && o->held[lo].id == ev->id)
        return 1;     /* already held: a duplicate */
    memmove(o->held + lo + 1, o->held + lo, (o->nheld - lo) * sizeof *o->held);
    o->held[lo] = *ev;
    json_incref(ev->data);
    o->nheld++;
    return 0;
}

void order_push(struct rt *rt, const struct ob_event *ev)
{
    struct order *o = rt->order;
    if (ev->id <= 0) {
        fanout_event(rt, ev);
        return;
    }
    if (ev->id <= o->w) {
        rt->st.ev_dup++;
        return;
    }
    if (ev->id == o->w + 1 && !o->nheld) {
        dispatch(o, ev);
        return;
    }
    int h = hold(o, ev);
    if (h == 1) {
        rt->st.ev_dup++;
        return;
    }
    if (h < 0) {
        fill(o, ev->id - 1);      /* cannot hold: read the gap now */
        if (ev->id > o->w)
            dispatch(o, ev);
        return;
    }
    drain(o);
    if (o->nheld >= ORDER_HOLD_MAX)
        fill(o, o->held[o->nheld - 1].id);
    else
        arm(o);
}

void order_catch_up(struct rt *rt)
{
    struct order *o = rt->order;
    long long last = ob_outbox_last_id(rt->db);
    if (last > o->w)
        fill(o, last);
}

void order_poll(struct rt *rt)
{
    struct order *o = rt->order;
    long long last = ob_outbox_last_id(rt->db);
    if (last <= o->w || o->nheld) {
        o->stalled_w = -1;
        return;
    }
    if (o->stalled_w == o->w) {
        ob_debug("outbox at %lld, live stream at %lld: reading the outbox", last, o->w);
        fill(o, last);
        o->stalled_w = -1;
    } else {
        o->stalled_w = o->w;
    }
}
