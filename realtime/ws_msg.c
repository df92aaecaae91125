/* ws_msg: shared refcounted WebSocket messages and envelopes; see ws_msg.h. */
#include "ws_msg.h"

#include "ob_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long live_bytes;
static unsigned long live_count;

/* A growing message while it is being serialized. */
struct builder {
    struct ws_msg *m;
    size_t cap;               /* payload capacity */
    int failed;
};

static int b_put(struct builder *b, const char *p, size_t n)
{
    if (b->failed)
        return -1;
    if (b->m->len + n + 1 > b->cap) {
        size_t cap = b->cap;
        while (b->m->len + n + 1 > cap)
            cap *= 2;
        if (cap > UINT32_MAX - LWS_PRE - sizeof(struct ws_msg)) {
            b->failed = 1;
            return -1;
        }
        struct ws_msg *m = realloc(b->m, sizeof *m + LWS_PRE + cap);
        if (!m) {
            b->failed = 1;
            return -1;
        }
        b->m = m;
        b->cap = cap;
    }
    memcpy(ws_msg_payload(b->m) + b->m->len, p, n);
    b->m->len += (uint32_t)n;
    return 0;
}

static int b_dump_cb(const char *buffer, size_t size, void *data)
{
    return b_put(data, buffer, size);
}

static int b_start(struct builder *b, size_t hint)
{
    b->cap = hint < 64 ? 64 : hint;
    b->failed = 0;
    b->m = malloc(sizeof *b->m + LWS_PRE + b->cap);
    if (!b->m)
        return -1;
    b->m->refs = 1;
    b->m->len = 0;
    b->m->t_ms = ob_time_mono_ms();
    return 0;
}

static struct ws_msg *b_finish(struct builder *b)
{
    if (b->failed) {
        free(b->m);
        return NULL;
    }
    ws_msg_payload(b->m)[b->m->len] = '\0';
    live_bytes += b->m->len;
    live_count++;
    return b->m;
}

struct ws_msg *ws_msg_new(const char *text, size_t len)
{
    struct builder b;
    if (b_start(&b, len + 1) < 0)
        return NULL;
    b_put(&b, text, len);
    return b_finish(&b);
}

/* Publisher timestamps are copied into JSON text unescaped, so only the
 * characters of the ISO format pass. */
static int ts_ok(const char *ts)
{
    if (!ts || !*ts || strlen(ts) >= OB_TIME_ISO_LEN)
        return 0;
    for (const char *p = ts; *p; p++)
        if (!strchr("0123456789-:.TZ+", *p))
            return 0;
    return 1;
}

static int put_head(struct builder *b, const char *type)
{
    /* type names come from our own tables: [a-z_-] only */
    b_put(b, "{\"type\":\"", 9);
    b_put(b, type, strlen(type));
    return b_put(b, "\",\"data\":", 9);
}

static int put_tail(struct builder *b, long long id, const char *ts)
{
    char now[OB_TIME_ISO_LEN], tail[96];
    if (!ts_ok(ts)) {
        ob_time_iso_now(now);
        ts = now;
    }
    int n = id > 0 ? snprintf(tail, sizeof tail, ",\"timestamp\":\"%s\",\"id\":%lld}", ts, id)
                   : snprintf(tail, sizeof tail, ",\"timestamp\":\"%s\"}", ts);
    return b_put(b, tail, (size_t)n);
}

struct ws_msg *ws_msg_envelope(const char *type, const json_t *data, long long id,
                               const char *ts)
{
    struct builder b;
    if (b_start(&b, 256) < 0)
        return NULL;
    put_head(&b, type);
    if (data) {
        if (json_dump_callback(data, b_dump_cb, &b, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
            b.failed = 1;
    } else {
        b_put(&b, "{}", 2);
    }
    put_tail(&b, id, ts);
    return b_finish(&b);
}

struct ws_msg *ws_msg_envelope_raw(const char *type, const char *data_json, size_t data_len,
                                   long long id, const char *ts)
{
    struct builder b;
    if (b_start(&b, data_len + 96) < 0)
        return NULL;
    put_head(&b, type);
    b_put(&b, data_json, data_len);
    put_tail(&b, id, ts);
    return b_finish(&b);
}

struct ws_msg *ws_msg_error(const char *code, const char *message)
{
    char ts[OB_TIME_ISO_LEN];
    ob_time_iso_now(ts);
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s},s:s}", "type", "error", "error", message,
                          "data", "code", code, "message", message, "timestamp", ts);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return NULL;
    struct ws_msg *m = ws_msg_new(s, strlen(s));
    free(s);
    return m;
}

struct ws_msg *ws_msg_ref(struct ws_msg *m)
{
    m->refs++;
    return m;
}

void ws_msg_unref(struct ws_msg *m)
{
    if (!m || --m->refs > 0)
        return;
    live_bytes -= m->len;
    live_count--;
    free(m);
}

unsigned long long ws_msg_live_bytes(void)
{
    return live_bytes;
}

unsigned long ws_msg_live_count(void)
{
    return live_count;
}

json_t *ws_msg_field(const json_t *msg, const char *key)
{
    json_t *v = json_object_get(msg, key);
    if (v)
        return v;
    json_t *data = json_object_get(msg, "data");
    return json_is_object(data) ? json_object_get(data, key) : NULL;
}
