/* ws_imaplogs: per-user IMAP log rings and /ws/imap-logs; see ws_imaplogs.h. */
#include "ws_imaplogs.h"
#include "fanout.h"
#include "ws_msg.h"
#include "ws_protocol.h"
#include "ws_users.h"

#include "ob_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ws_imaplog {
    char *text[WS_IMAPLOGS_KEEP];      /* serialized entries, oldest at head */
    uint32_t len[WS_IMAPLOGS_KEEP];
    unsigned head, n;
};

struct ws_imaplog_budget {
    size_t bytes;
    struct ws_user *lru_head, *lru_tail;   /* least recently logging first */
};

struct ws_imaplog_budget *ws_imaplogs_budget_new(void)
{
    return calloc(1, sizeof(struct ws_imaplog_budget));
}

void ws_imaplogs_budget_free(struct ws_imaplog_budget *b)
{
    free(b);
}

static void lru_unlink(struct ws_imaplog_budget *b, struct ws_user *u)
{
    if (u->lru_prev)
        u->lru_prev->lru_next = u->lru_next;
    else if (b->lru_head == u)
        b->lru_head = u->lru_next;
    if (u->lru_next)
        u->lru_next->lru_prev = u->lru_prev;
    else if (b->lru_tail == u)
        b->lru_tail = u->lru_prev;
    u->lru_prev = u->lru_next = NULL;
}

static void lru_touch(struct ws_imaplog_budget *b, struct ws_user *u)
{
    lru_unlink(b, u);
    u->lru_prev = b->lru_tail;
    if (b->lru_tail)
        b->lru_tail->lru_next = u;
    else
        b->lru_head = u;
    b->lru_tail = u;
}

static void drop_oldest(struct ws_imaplog_budget *b, struct ws_imaplog *l)
{
    b->bytes -= l->len[l->head];
    free(l->text[l->head]);
    l->text[l->head] = NULL;
    l->head = (l->head + 1) % WS_IMAPLOGS_KEEP;
    l->n--;
}

int ws_imaplogs_has(const struct ws_user *u)
{
    return u->logs && u->logs->n > 0;
}

void ws_imaplogs_drop(struct rt *rt, struct ws_user *u)
{
    if (!u->logs)
        return;
    while (u->logs->n)
        drop_oldest(rt->logbudget, u->logs);
    free(u->logs);
    u->logs = NULL;
    lru_unlink(rt->logbudget, u);
}

static void enforce_budget(struct rt *rt, struct ws_user *keep)
{
    struct ws_imaplog_budget *b = rt->logbudget;
    while (b->bytes > WS_IMAPLOGS_BUDGET && b->lru_head) {
        struct ws_user *u = b->lru_head;
        drop_oldest(b, u->logs);
        if (u->logs->n == 0) {
            ws_imaplogs_drop(rt, u);
            if (u != keep)
                ws_users_release(rt, u);
        }
    }
}

void ws_imaplogs_add(struct rt *rt, const struct ob_event *ev)
{
    struct ws_user *u = ws_users_get(rt, ev->user, 1);
    if (!u)
        return;
    char *text = json_dumps(ev->data, JSON_COMPACT);
    if (!text)
        return;
    size_t len = strlen(text);
    if (len > WS_IMAPLOGS_ENTRY_MAX) {
        ob_warn("imap_log for %s: entry of %zu bytes dropped (max %d)", u->id, len,
                WS_IMAPLOGS_ENTRY_MAX);
        free(text);
        ws_users_release(rt, u);
        return;
    }
    if (!u->logs && !(u->logs = calloc(1, sizeof *u->logs))) {
        free(text);
        ws_users_release(rt, u);
        return;
    }
    struct ws_imaplog *l = u->logs;
    if (l->n == WS_IMAPLOGS_KEEP)
        drop_oldest(rt->logbudget, l);
    unsigned slot = (l->head + l->n) % WS_IMAPLOGS_KEEP;
    l->text[slot] = text;
    l->len[slot] = (uint32_t)len;
    l->n++;
    rt->logbudget->bytes += len;
    lru_touch(rt->logbudget, u);

    struct ws_msg *m = NULL;
    for (struct ws_conn *c = u->conns; c; c = c->u_next) {
        if (c->kind != WS_KIND_IMAPLOGS || c->state != WS_ST_LIVE)
            continue;
        if (!m && !(m = ws_msg_envelope_raw("log", text, len, 0, ev->ts)))
            break;
        if (fanout_enqueue(rt, c, m) == 0)
            rt->st.by_type[OB_EV_IMAP_LOG]++;
    }
    ws_msg_unref(m);
    enforce_budget(rt, u);
    if (!ws_imaplogs_has(u))
        ws_users_release(rt, u);
}

/* type with the newest `limit` entries as a JSON array, oldest first. */
static void send_entries(struct rt *rt, struct ws_conn *c, const char *type, unsigned limit)
{
    struct ws_imaplog *l = c->user->logs;
    unsigned n = l ? l->n : 0, first;
    if (limit < n) {
        first = n - limit;
        n = limit;
    } else {
        first = 0;
    }
    size_t total = 2;
    for (unsigned i = 0; i < n; i++)
        total += l->len[(l->head + first + i) % WS_IMAPLOGS_KEEP] + 1;
    char *arr = malloc(total + 1);
    if (!arr) {
        ws_protocol_error(rt, c, "internal", "out of memory");
        return;
    }
    size_t off = 0;
    arr[off++] = '[';
    for (unsigned i = 0; i < n; i++) {
        unsigned k = (l->head + first + i) % WS_IMAPLOGS_KEEP;
        if (i)
            arr[off++] = ',';
        memcpy(arr + off, l->text[k], l->len[k]);
        off += l->len[k];
    }
    arr[off++] = ']';
    struct ws_msg *m = ws_msg_envelope_raw(type, arr, off, 0, NULL);
    free(arr);
    if (m)
        fanout_enqueue(rt, c, m);
    ws_msg_unref(m);
}

void ws_imaplogs_send_initial(struct rt *rt, struct ws_conn *c)
{
    send_entries(rt, c, "initial-logs", WS_IMAPLOGS_KEEP);
}

int ws_imaplogs_get(struct rt *rt, struct ws_conn *c, json_t *limit)
{
    json_int_t n = WS_IMAPLOGS_KEEP;
    if (limit) {
        if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
            json_integer_value(limit) > WS_IMAPLOGS_KEEP) {
            ws_protocol_error(rt, c, "bad_message", "field 'limit' must be an integer from 1 to 100");
            return 0;
        }
        n = json_integer_value(limit);
    }
    send_entries(rt, c, "logs", (unsigned)n);
    return 0;
}

int ws_imaplogs_clear(struct rt *rt, struct ws_conn *c)
{
    struct ws_user *u = c->user;
    ws_imaplogs_drop(rt, u);
    for (struct ws_conn *o = u->conns; o; o = o->u_next)
        if (o->kind == WS_KIND_IMAPLOGS && o->state == WS_ST_LIVE)
            ws_protocol_send_json(rt, o, "logs-cleared", NULL);
    return 0;
}
