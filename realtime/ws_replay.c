/* ws_replay: paged resume from the outbox; see ws_replay.h. */
#include "ws_replay.h"
#include "fanout.h"
#include "order.h"
#include "ws_msg.h"
#include "ws_protocol.h"
#include "ws_topics.h"

#include "ob_log.h"
#include "ob_outbox.h"

#include <jansson.h>

struct page {
    struct rt *rt;
    struct ws_conn *c;
    int room;          /* rows this page may still deliver */
    int more;          /* a row past the page was seen */
    int stop;          /* the connection cannot take more */
};

static int on_row(void *ctx, const struct ob_event *ev)
{
    struct page *p = ctx;
    struct ws_conn *c = p->c;
    if (p->room == 0) {
        p->more = 1;
        return 1;
    }
    p->room--;
    c->replay_after = ev->id;
    c->replay_left--;
    if (ev->id <= c->cursor)
        return 0;
    if (!(c->topics & ws_topics_of_event(ev))) {
        c->cursor = ev->id;       /* not wanted now, and never owed later */
        return 0;
    }
    struct ws_msg *m = ws_msg_envelope(ob_ev_name(ev->type), ev->data, ev->id, ev->ts);
    if (!m || fanout_enqueue(p->rt, c, m) < 0) {
        ws_msg_unref(m);
        p->stop = 1;
        return 1;
    }
    ws_msg_unref(m);
    c->cursor = ev->id;
    c->replay_count++;
    p->rt->st.replayed++;
    p->rt->st.by_type[ev->type]++;
    return 0;
}

static void finish(struct rt *rt, struct ws_conn *c, int complete)
{
    c->flags &= (uint16_t)~WS_F_REPLAYING;
    if (!complete) {
        /* Skipping ahead: what was fanned out while this replay ran is lost
         * to this connection, and it is told so. */
        long long w = order_watermark(rt);
        if (c->cursor < w)
            c->cursor = w;
        rt->st.replays_incomplete++;
    }
    if (c->flags & WS_F_GAP) {
        complete = 0;
        c->flags &= (uint16_t)~WS_F_GAP;
    }
    json_t *data = json_pack("{s:b,s:I,s:I}", "complete", complete, "count",
                             (json_int_t)c->replay_count, "lastEventId", (json_int_t)c->cursor);
    ws_protocol_send_json(rt, c, "resumed", data);
    json_decref(data);
    ob_debug("conn %u (%s): replayed %u event(s), %s", c->id, c->user->id, c->replay_count,
             complete ? "complete" : "incomplete");
}

void ws_replay_start(struct rt *rt, struct ws_conn *c, long long after)
{
    if (c->flags & WS_F_REPLAYING) {
        ws_protocol_error(rt, c, "bad_message", "a resume is already running");
        return;
    }
    if (after < 0)
        after = 0;
    if (c->flags & WS_F_ANCHORED) {
        if (after < c->base)
            c->flags |= WS_F_GAP;
        if (after < c->cursor)
            after = c->cursor;
        else
            c->cursor = after;
    } else {
        c->base = c->cursor = after;
    }
    c->replay_after = after;
    c->replay_left = (int32_t)rt->cfg->ws_replay_max;
    c->replay_count = 0;
    c->flags |= WS_F_REPLAYING | WS_F_ANCHORED;
    rt->st.replays++;
    ws_replay_pump(rt, c);
}

void ws_replay_pump(struct rt *rt, struct ws_conn *c)
{
    while ((c->flags & WS_F_REPLAYING) && c->state == WS_ST_LIVE &&
           c->q_bytes < (uint32_t)(rt->cfg->ws_send_queue_max / 4)) {
        int k = c->replay_left < WS_REPLAY_PAGE ? c->replay_left : WS_REPLAY_PAGE;
        struct page p = { rt, c, k, 0, 0 };
        int n = ob_outbox_after(rt->db, c->user->id, (c->flags & WS_F_ADMIN) != 0,
                                c->replay_after, k + 1, on_row, &p);
        if (p.stop)
            return;
        if (n < 0) {
            ob_warn("conn %u (%s): replay read failed", c->id, c->user->id);
            finish(rt, c, 0);
        } else if (!p.more) {
            finish(rt, c, 1);
        } else if (c->replay_left <= 0) {
            finish(rt, c, 0);
        }
    }
}
