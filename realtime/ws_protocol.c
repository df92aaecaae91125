/* ws_protocol: the /ws and /ws/imap-logs callback, connection states,
 * client-message dispatch and timers; see ws_protocol.h. */
#include "ws_protocol.h"
#include "autosync.h"
#include "fanout.h"
#include "http_stats.h"
#include "limits.h"
#include "metrics.h"
#include "order.h"
#include "ws_auth.h"
#include "ws_imaplogs.h"
#include "ws_msg.h"
#include "ws_replay.h"
#include "ws_rooms.h"
#include "ws_topics.h"
#include "ws_users.h"

#include "ob_json.h"
#include "ob_log.h"
#include "ob_time.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *state_name(int s)
{
    static const char *const names[] = { "new", "auth-wait", "live", "closing" };
    return s >= 0 && s <= WS_ST_CLOSING ? names[s] : "?";
}

/* The one setter of a connection's state. */
static void set_state(struct ws_conn *c, enum ws_state to)
{
    if (ob_log_enabled(OB_LOG_DEBUG))
        ob_debug("conn %u (%s): %s -> %s", c->id, c->user ? c->user->id : "-",
                 state_name(c->state), state_name(to));
    c->state = (uint8_t)to;
}

int ws_protocol_send_json(struct rt *rt, struct ws_conn *c, const char *type, json_t *data)
{
    struct ws_msg *m = ws_msg_envelope(type, data, 0, NULL);
    int rc = m ? fanout_enqueue(rt, c, m) : -1;
    ws_msg_unref(m);
    return rc;
}

void ws_protocol_error(struct rt *rt, struct ws_conn *c, const char *code, const char *message)
{
    struct ws_msg *m = ws_msg_error(code, message);
    if (m && fanout_enqueue(rt, c, m) == 0)
        rt->st.errors_sent++;
    ws_msg_unref(m);
}

void ws_protocol_close(struct rt *rt, struct ws_conn *c, int code, const char *why, int flush)
{
    if (c->state == WS_ST_CLOSING || !c->wsi)
        return;
    set_state(c, WS_ST_CLOSING);
    c->close_code = (uint16_t)code;
    c->close_why = why;
    if (!flush) {
        c->flags |= WS_F_DROP_QUEUE;
        fanout_clear(rt, c);
    }
    lws_callback_on_writable(c->wsi);
    /* A peer that stopped reading never lets the close frame out: cut it. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, flush ? 5 : 2);
}

static void auth_error(struct rt *rt, struct ws_conn *c, const char *message)
{
    json_t *data = json_pack("{s:s}", "message", message);
    ws_protocol_send_json(rt, c, "auth_error", data);
    json_decref(data);
    rt->st.auth_failures++;
    ws_protocol_close(rt, c, 4401, "unauthorized", 1);
}

static void limit_close(struct rt *rt, struct ws_conn *c, const char *code, const char *message,
                        int close_code, const char *why)
{
    ws_protocol_error(rt, c, code, message);
    rt->st.limit_closed++;
    ws_protocol_close(rt, c, close_code, why, 1);
}

static void link_conn(struct rt *rt, struct ws_conn *c)
{
    c->a_prev = NULL;
    c->a_next = rt->conns;
    if (rt->conns)
        rt->conns->a_prev = c;
    rt->conns = c;
    c->flags |= WS_F_LISTED;
    rt->nconns++;
}

static void unlink_admin(struct rt *rt, struct ws_conn *c)
{
    if (!(c->flags & WS_F_ADMIN))
        return;
    if (c->adm_prev)
        c->adm_prev->adm_next = c->adm_next;
    else if (rt->admins == c)
        rt->admins = c->adm_next;
    if (c->adm_next)
        c->adm_next->adm_prev = c->adm_prev;
    c->adm_prev = c->adm_next = NULL;
}

/* LWS_CALLBACK_CLOSED; also called for connections that never got that far
 * (clibs §2.12 pitfall 9), so every step checks what was done. */
static void cleanup(struct rt *rt, struct ws_conn *c)
{
    if (!(c->flags & WS_F_LISTED))
        return;
    if (c->a_prev)
        c->a_prev->a_next = c->a_next;
    else
        rt->conns = c->a_next;
    if (c->a_next)
        c->a_next->a_prev = c->a_prev;
    rt->nconns--;
    unlink_admin(rt, c);
    ws_rooms_leave_all(rt, c);
    fanout_clear(rt, c);
    free(c->rx);
    c->rx = NULL;
    if (c->user) {
        rt->nauthed--;
        if (c->kind == WS_KIND_IMAPLOGS)
            rt->nimaplogs--;
        ob_debug("conn %u (%s): closed", c->id, c->user->id);
        ws_users_detach(rt, c);
    }
    c->flags = 0;
    c->wsi = NULL;
}

/* A verified token: attach c to its user, or refuse past the per-user
 * limit.  via_message: answer the auth message with auth_success. */
static void authenticate(struct rt *rt, struct ws_conn *c, const struct ob_jwt_claims *cl,
                         int via_message)
{
    char msg[128];
    struct ws_user *u = ws_users_get(rt, cl->sub, 1);
    if (!u) {
        ws_protocol_error(rt, c, "internal", "out of memory");
        ws_protocol_close(rt, c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "internal error", 1);
        return;
    }
    if (u->nconns >= rt->cfg->ws_max_conns_per_user) {
        snprintf(msg, sizeof msg, "at most %ld connections per user", rt->cfg->ws_max_conns_per_user);
        limit_close(rt, c, "too_many_connections", msg, 4429, "too many connections");
        ws_users_release(rt, u);
        return;
    }
    if (strcmp(cl->role, "admin") == 0) {
        c->flags |= WS_F_ADMIN;
        c->adm_prev = NULL;
        c->adm_next = rt->admins;
        if (rt->admins)
            rt->admins->adm_prev = c;
        rt->admins = c;
    }
    c->deadline = (int64_t)cl->exp;
    c->topics = WS_TOPICS_DEFAULT;
    c->cursor = c->base = order_watermark(rt);
    ws_users_attach(rt, u, c);
    rt->nauthed++;
    if (c->kind == WS_KIND_IMAPLOGS)
        rt->nimaplogs++;
    set_state(c, WS_ST_LIVE);

    char cid[16];
    snprintf(cid, sizeof cid, "c%u", c->id);
    json_t *data = json_pack("{s:s,s:s,s:s}", "userId", u->id, "connectionId", cid, "role", cl->role);
    if (via_message)
        ws_protocol_send_json(rt, c, "auth_success", data);
    if (c->kind == WS_KIND_IMAPLOGS) {
        ws_imaplogs_send_initial(rt, c);
    } else {
        ws_protocol_send_json(rt, c, "connected", data);
        if (c->flags & WS_F_RESUME_WANTED) {
            c->flags &= (uint16_t)~WS_F_RESUME_WANTED;
            ws_replay_start(rt, c, c->replay_after);
        }
    }
    json_decref(data);
}

/* Reads lastEventId: a non-negative integer (or its decimal string, as a
 * query argument arrives).  -1 when malformed. */
static long long event_id_of(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 19)
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    return *end || errno || n < 0 ? -1 : n;
}

static void on_auth(struct rt *rt, struct ws_conn *c, json_t *msg)
{
    json_t *tok = ws_msg_field(msg, "token");
    const char *token = json_string_value(tok);
    if (!token || !*token || strlen(token) > OB_JWT_MAX_LEN) {
        ws_protocol_error(rt, c, "bad_message", "field 'token' must be a JWT string");
        return;
    }
    json_t *last = ws_msg_field(msg, "lastEventId");
    long long after = last && !json_is_null(last) ? event_id_of(last) : 0;
    if (after < 0) {
        ws_protocol_error(rt, c, "bad_message", "field 'lastEventId' must be a non-negative integer");
        return;
    }
    struct ob_jwt_claims cl;
    char err[128];
    if (ws_auth_verify(rt, token, &cl, err, sizeof err) < 0) {
        ob_info("conn %u: auth message refused: %s", c->id, err);
        auth_error(rt, c, err);
        return;
    }
    if (c->state == WS_ST_LIVE) {
        if (strcmp(cl.sub, c->user->id) != 0 ||
            ((c->flags & WS_F_ADMIN) != 0) != (strcmp(cl.role, "admin") == 0)) {
            ws_protocol_error(rt, c, "bad_message", "already authenticated as another user or role");
            return;
        }
        c->deadline = (int64_t)cl.exp;
        char cid[16];
        snprintf(cid, sizeof cid, "c%u", c->id);
        json_t *data = json_pack("{s:s,s:s,s:s}", "userId", c->user->id, "connectionId", cid,
                                 "role", cl.role);
        ws_protocol_send_json(rt, c, "auth_success", data);
        json_decref(data);
        if (last && !json_is_null(last) && c->kind == WS_KIND_NOTIFY)
            ws_replay_start(rt, c, after);
        return;
    }
    if (last && !json_is_null(last)) {
        c->flags |= WS_F_RESUME_WANTED;
        c->replay_after = after;
    }
    authenticate(rt, c, &cl, 1);
}

static void on_ping(struct rt *rt, struct ws_conn *c)
{
    char ts[OB_TIME_ISO_LEN];
    ob_time_iso_now(ts);
    json_t *data = json_pack("{s:s}", "timestamp", ts);
    ws_protocol_send_json(rt, c, "pong", data);
    json_decref(data);
}

static void on_subscribe(struct rt *rt, struct ws_conn *c, json_t *msg, int sub)
{
    json_t *room = ws_msg_field(msg, "room");
    json_t *topics = ws_msg_field(msg, "topics");
    if (room && topics)
        ws_protocol_error(rt, c, "bad_message", "give either 'topics' or 'room', not both");
    else if (room)
        sub ? ws_rooms_join(rt, c, room) : ws_rooms_leave(rt, c, room);
    else if (topics)
        sub ? ws_topics_subscribe(rt, c, topics) : ws_topics_unsubscribe(rt, c, topics);
    else
        ws_protocol_error(rt, c, "bad_message", sub ? "subscribe needs 'topics' or 'room'"
                                                    : "unsubscribe needs 'topics' or 'room'");
}

static void on_resume(struct rt *rt, struct ws_conn *c, json_t *msg)
{
    long long after = event_id_of(ws_msg_field(msg, "lastEventId"));
    if (after < 0) {
        ws_protocol_error(rt, c, "bad_message", "field 'lastEventId' must be a non-negative integer");
        return;
    }
    ws_replay_start(rt, c, after);
}

/* The dispatch of one client message (one dispatcher per peer: STYLE 2). */
static void on_message(struct rt *rt, struct ws_conn *c, const char *buf, size_t len)
{
    char err[160];
    rt->st.msgs_in++;
    rt->st.bytes_in += len;
    int over = limits_msg_allow(rt->cfg, c, (int64_t)time(NULL));
    if (over == 2) {
        snprintf(err, sizeof err, "over %ld messages per minute: closing", rt->cfg->ws_rate_per_min);
        limit_close(rt, c, "rate_limited", err, 4429, "rate limit");
        return;
    }
    if (over == 1) {
        snprintf(err, sizeof err, "over %ld messages per minute: message ignored", rt->cfg->ws_rate_per_min);
        ws_protocol_error(rt, c, "rate_limited", err);
        return;
    }
    json_t *msg = ob_json_parse_object(buf, len, (size_t)rt->cfg->ws_max_frame, err, sizeof err);
    if (!msg) {
        ws_protocol_error(rt, c, "bad_json", err);
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type) {
        ws_protocol_error(rt, c, "bad_message", "field 'type' must be a string");
    } else if (!strcmp(type, "ping")) {
        on_ping(rt, c);
    } else if (!strcmp(type, "auth")) {
        on_auth(rt, c, msg);
    } else if (c->state != WS_ST_LIVE) {
        ws_protocol_error(rt, c, "not_authenticated", "send {\"type\":\"auth\",\"token\":...} first");
    } else if (c->kind == WS_KIND_IMAPLOGS && !strcmp(type, "get-logs")) {
        ws_imaplogs_get(rt, c, ws_msg_field(msg, "limit"));
    } else if (c->kind == WS_KIND_IMAPLOGS && !strcmp(type, "clear-logs")) {
        ws_imaplogs_clear(rt, c);
    } else if (c->kind == WS_KIND_NOTIFY && !strcmp(type, "subscribe")) {
        on_subscribe(rt, c, msg, 1);
    } else if (c->kind == WS_KIND_NOTIFY && !strcmp(type, "unsubscribe")) {
        on_subscribe(rt, c, msg, 0);
    } else if (c->kind == WS_KIND_NOTIFY && !strcmp(type, "message")) {
        ws_rooms_message(rt, c, ws_msg_field(msg, "room"), ws_msg_field(msg, "content"));
    } else if (c->kind == WS_KIND_NOTIFY && !strcmp(type, "resume")) {
        on_resume(rt, c, msg);
    } else {
        snprintf(err, sizeof err, "unknown message type '%.48s'", type);
        ws_protocol_error(rt, c, "unknown_type", err);
    }
    json_decref(msg);
}

/* LWS_CALLBACK_RECEIVE: reassembles fragments and chunks (at most
 * WS_RX_BUFFER bytes each) up to cfg.ws_max_frame. */
static void on_receive(struct rt *rt, struct ws_conn *c, struct lws *wsi, const char *in, size_t len)
{
    if (c->state == WS_ST_CLOSING)
        return;
    int final = lws_is_final_fragment(wsi);
    if (c->flags & WS_F_RX_DISCARD) {
        if (final)
            c->flags &= (uint16_t)~WS_F_RX_DISCARD;
        return;
    }
    if (lws_frame_is_binary(wsi)) {
        ws_protocol_error(rt, c, "bad_message", "binary frames are not accepted: send JSON text");
        free(c->rx);
        c->rx = NULL;
        c->rx_len = 0;
        if (!final)
            c->flags |= WS_F_RX_DISCARD;
        return;
    }
    size_t remaining = lws_remaining_packet_payload(wsi);
    unsigned long long total = (unsigned long long)c->rx_len + len + remaining;
    if (total > (unsigned long long)rt->cfg->ws_max_frame) {
        char msg[96];
        snprintf(msg, sizeof msg, "message over %ld bytes", rt->cfg->ws_max_frame);
        free(c->rx);
        c->rx = NULL;
        c->rx_len = 0;
        limit_close(rt, c, "frame_too_large", msg, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
        return;
    }
    if (!c->rx_len && final) {
        on_message(rt, c, in, len);
        return;
    }
    char *rx = realloc(c->rx, (size_t)total + 1);
    if (!rx) {
        ws_protocol_error(rt, c, "internal", "out of memory");
        ws_protocol_close(rt, c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "internal error", 1);
        return;
    }
    c->rx = rx;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += (uint32_t)len;
    if (final) {
        on_message(rt, c, c->rx, c->rx_len);
        free(c->rx);
        c->rx = NULL;
        c->rx_len = 0;
    }
}

/* Which endpoint the upgrade asks for; -1 for any other path. */
static int endpoint(struct lws *wsi)
{
    char uri[128];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 ||
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0)
        return -1;
    if (!strcmp(uri, "/ws") || !strcmp(uri, "/ws/"))
        return WS_KIND_NOTIFY;
    if (!strcmp(uri, "/ws/imap-logs"))
        return WS_KIND_IMAPLOGS;
    return -1;
}

static int on_filter(struct rt *rt, struct ws_conn *c, struct lws *wsi)
{
    int kind = endpoint(wsi);
    if (kind < 0) {
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "no such WebSocket endpoint");
        return -1;
    }
    if (!ws_auth_origin_ok(rt, wsi)) {
        rt->st.conns_rejected++;
        ob_info("refusing a WebSocket from a disallowed origin");
        lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
        return -1;
    }
    if (rt->stopping || (int)rt->nconns >= rt->max_conns) {
        rt->st.conns_rejected++;
        lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                               rt->stopping ? "shutting down" : "server full");
        return -1;
    }
    c->kind = (uint8_t)kind;
    return 0;
}

static void on_established(struct rt *rt, struct ws_conn *c, struct lws *wsi)
{
    uint8_t kind = c->kind;
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->wsi = wsi;
    c->id = ++rt->next_conn_id;
    link_conn(rt, c);
    rt->st.conns_total++;
    set_state(c, WS_ST_AUTH_WAIT);
    c->deadline = (int64_t)time(NULL) + rt->cfg->ws_auth_timeout;

    char addr[64];
    limits_client_addr(wsi, addr, sizeof addr);
    if (!limits_addr_allow(rt->limits, addr, (int64_t)time(NULL))) {
        char msg[96];
        snprintf(msg, sizeof msg, "over %ld connection attempts per minute from your address",
                 rt->cfg->ws_conn_per_ip_per_min);
        rt->st.conns_rejected++;
        limit_close(rt, c, "rate_limited", msg, 4429, "too many connections");
        return;
    }
    /* lws stops at the first argument that does not fit the buffer, and a
     * token comes before it: room for both */
    char arg[OB_JWT_MAX_LEN + 64];
    const char *v = lws_get_urlarg_by_name(wsi, "lastEventId=", arg, sizeof arg);
    if (v) {
        json_t *s = json_string(v);
        long long after = event_id_of(s);
        json_decref(s);
        if (after < 0) {
            ws_protocol_error(rt, c, "bad_message", "lastEventId must be a non-negative integer");
        } else if (kind == WS_KIND_NOTIFY) {
            c->flags |= WS_F_RESUME_WANTED;
            c->replay_after = after;
        }
    }
    char token[OB_JWT_MAX_LEN + 1];
    int found = ws_auth_token_from_request(wsi, token, sizeof token);
    if (found < 0) {
        auth_error(rt, c, "token too long");
        return;
    }
    if (!found)
        return;                       /* waits for an auth message */
    struct ob_jwt_claims cl;
    char err[128];
    int ok = ws_auth_verify(rt, token, &cl, err, sizeof err);
    OPENSSL_cleanse(token, sizeof token);
    if (ok < 0) {
        ob_info("conn %u from %s: token refused: %s", c->id, addr, err);
        auth_error(rt, c, err);
        return;
    }
    authenticate(rt, c, &cl, 0);
}

static int on_writeable(struct rt *rt, struct ws_conn *c)
{
    if (c->state == WS_ST_CLOSING) {
        if (c->q_len && !(c->flags & WS_F_DROP_QUEUE)) {
            /* the queued error goes first, then come back for the close */
            if (fanout_write(rt, c) < 0)
                return -1;
            lws_callback_on_writable(c->wsi);
            return 0;
        }
        const char *why = c->close_why ? c->close_why : "";
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)why, strlen(why));
        return -1;
    }
    if (fanout_write(rt, c) < 0)
        return -1;
    if (c->flags & WS_F_REPLAYING)
        ws_replay_pump(rt, c);
    return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    struct rt *rt = rt_from_wsi(wsi);
    struct ws_conn *c = user;
    int rc;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (http_stats_serve(rt, wsi, in ? (const char *)in : "", &rc))
            return rc;
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return on_filter(rt, c, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        on_established(rt, c, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        on_receive(rt, c, wsi, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->wsi ? on_writeable(rt, c) : -1;
    case LWS_CALLBACK_CLOSED:
        cleanup(rt, c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        autosync_drain(rt);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols ws_protocols[] = {
    { "onebox", ws_callback, sizeof(struct ws_conn), WS_RX_BUFFER, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

const struct lws_protocols *ws_protocol_table(void)
{
    return ws_protocols;
}

static struct rt *rt_of_sul(lws_sorted_usec_list_t *sul, size_t off)
{
    return (struct rt *)((char *)sul - off);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    struct rt *rt = rt_of_sul(sul, offsetof(struct rt, tick_sul));
    int64_t now_ms = ob_time_mono_ms();
    int64_t now_s = (int64_t)time(NULL);
    for (struct ws_conn *c = rt->conns; c; c = c->a_next) {
        if (c->state == WS_ST_AUTH_WAIT && now_s >= c->deadline)
            auth_error(rt, c, "authentication timeout");
        else if (c->state == WS_ST_LIVE && c->deadline && now_s > c->deadline + OB_JWT_LEEWAY)
            auth_error(rt, c, "token expired");
    }
    fanout_check_stale(rt, now_ms);
    limits_tick(rt->limits, now_s);
    autosync_tick(rt, now_ms);
    order_poll(rt);
    lws_sul_schedule(rt->ctx, 0, &rt->tick_sul, tick_cb, WS_TICK_MS * LWS_US_PER_MS);
}

static void metrics_cb(lws_sorted_usec_list_t *sul)
{
    struct rt *rt = rt_of_sul(sul, offsetof(struct rt, metrics_sul));
    metrics_tick(rt);
    lws_sul_schedule(rt->ctx, 0, &rt->metrics_sul, metrics_cb, METRICS_PERIOD_S * LWS_US_PER_SEC);
}

void ws_protocol_start_timers(struct rt *rt)
{
    lws_sul_schedule(rt->ctx, 0, &rt->tick_sul, tick_cb, WS_TICK_MS * LWS_US_PER_MS);
    lws_sul_schedule(rt->ctx, 0, &rt->metrics_sul, metrics_cb, METRICS_PERIOD_S * LWS_US_PER_SEC);
}

void ws_protocol_stop_timers(struct rt *rt)
{
    lws_sul_cancel(&rt->tick_sul);
    lws_sul_cancel(&rt->metrics_sul);
}
