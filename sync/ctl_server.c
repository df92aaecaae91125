/* ctl_server: the sync.sock control server; see ctl_server.h.
 *
 * One epoll loop in the main thread: the listening socket, up to
 * CTL_MAX_CLIENTS connections (each framed by ob_linebuf, requests at most
 * CTL_LINE_MAX bytes, dropped after CTL_IDLE_MS of silence), and the stop fd.
 * Every request is answered from the database and the registry; the replies
 * follow process-common.md:
 *   start/stop/status -> {"ok":true,"data":{"status":[{userId,email,status,lastSync,error?}]}}
 *   clients           -> {"ok":true,"data":{"activeClients":[..],"activeEmailAccounts":[..],
 *                                           "clientCount":N,"emailAccountCount":N}}
 *   errors            -> {"ok":false,"error":{"code":"bad_request|not_found|internal",..}}
 * A peer that sends a line that is not a valid request gets the error reply
 * and is disconnected (a peer out of step is not trusted with more). */
#include "ctl_server.h"

#include "account.h"
#include "account_db.h"
#include "ob_ctl.h"
#include "ob_jsonw.h"
#include "ob_linebuf.h"
#include "ob_log.h"
#include "ob_sock.h"
#include "ob_time.h"
#include "registry.h"
#include "sync_ctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CTL_MAX_CLIENTS 64
#define CTL_LINE_MAX (64 * 1024)
#define CTL_IDLE_MS 60000
#define CTL_WRITE_MS 2000
#define CTL_MAX_ACCOUNTS 100000

struct ctl_client {
    int fd;
    char who[64];
    struct ob_linebuf lb;
    int64_t last_ms;
    int close_after;
};

struct ctl_server {
    struct sync_ctx *ctx;
    struct account_db *adb;
    int lfd, ep;
    struct ctl_client *clients[CTL_MAX_CLIENTS];
};

/* --- request handling ---------------------------------------------------- */

/* The status reply is written straight into an ob_jsonw: it is asked for
 * on every GET /api/sync/status, and building a jansson tree per row only
 * to serialize it again cost more than the lookup.  The columns hold UTF-8;
 * a byte that is not becomes U+FFFD, so the line always parses.  Accounts
 * in the registry still go through account_status_json (one rule for their
 * state). */
static void row_status(struct ob_jsonw *o, struct sync_ctx *ctx, const struct account_row *r)
{
    struct account *a = registry_find(ctx->reg, r->user, r->email);
    if (a) {
        json_t *j = account_status_json(a);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!s)
            o->failed = 1;
        else
            ob_jsonw_lit(o, s);
        free(s);
        return;
    }
    ob_jsonw_lit(o, "{\"userId\":");
    ob_jsonw_str(o, r->user);
    ob_jsonw_lit(o, ",\"email\":");
    ob_jsonw_str(o, r->email);
    ob_jsonw_lit(o, ",\"status\":\"stopped\",\"lastSync\":");
    if (r->last_sync[0])
        ob_jsonw_str(o, r->last_sync);
    else
        ob_jsonw_lit(o, "null");
    ob_jsonw_lit(o, "}");
}

static char *reply_status(json_t *arr, size_t *len)
{
    return ob_ctl_reply_ok(json_pack("{s:o}", "status", arr), len);
}

static char *do_start_stop(struct sync_ctx *ctx, struct account_db *adb,
                           const struct ob_ctl_req *req, size_t *len, const char *who)
{
    sqlite3 *db = adb->db;
    struct account_row *rows = NULL;
    long n = account_db_list(adb, req->user, req->email, 0, CTL_MAX_ACCOUNTS, &rows);
    if (n < 0)
        return ob_ctl_reply_err("internal", "database error", len);
    if (n == 0 && req->email[0]) {
        free(rows);
        return ob_ctl_reply_err("not_found", "no such account", len);
    }
    int start = req->op == OB_CTL_START;
    json_t *arr = json_array();
    for (long i = 0; i < n; i++) {
        struct account *a = registry_get(ctx->reg, ctx, rows[i].id, rows[i].user, rows[i].email);
        if (!a) {
            json_decref(arr);
            free(rows);
            return ob_ctl_reply_err("internal", "out of memory", len);
        }
        if (!a->last_sync[0] && rows[i].last_sync[0]) {
            pthread_mutex_lock(&a->mu);
            snprintf(a->last_sync, sizeof a->last_sync, "%s", rows[i].last_sync);
            pthread_mutex_unlock(&a->mu);
        }
        account_db_set_wanted(adb, rows[i].id, start);
        if (start)
            account_start(a, db);
        else
            account_stop(a, db);
        ob_info("ctl: %s %s %s (from %s)", start ? "start" : "stop", a->user, a->email, who);
        json_array_append_new(arr, account_status_json(a));
    }
    free(rows);
    return reply_status(arr, len);
}

static char *do_status(struct sync_ctx *ctx, struct account_db *adb,
                       const struct ob_ctl_req *req, size_t *len)
{
    struct account_row *rows = NULL;
    long n = account_db_list(adb, req->user[0] ? req->user : NULL, req->email, 0,
                             CTL_MAX_ACCOUNTS, &rows);
    if (n < 0)
        return ob_ctl_reply_err("internal", "database error", len);
    if (n == 0 && req->email[0]) {
        free(rows);
        return ob_ctl_reply_err("not_found", "no such account", len);
    }
    struct ob_jsonw o;
    ob_jsonw_init(&o, 512, OB_PROTO_MAX_LINE);
    ob_jsonw_lit(&o, "{\"ok\":true,\"data\":{\"status\":[");
    for (long i = 0; i < n; i++) {
        if (i)
            ob_jsonw_lit(&o, ",");
        row_status(&o, ctx, &rows[i]);
    }
    ob_jsonw_lit(&o, "]}}\n");
    free(rows);
    char *line = ob_jsonw_finish(&o, len);
    if (!line)
        return ob_ctl_reply_err("internal", "status reply too large or out of memory", len);
    return line;
}

static char *do_clients(struct sync_ctx *ctx, size_t *len)
{
    size_t total = registry_count(ctx->reg);
    struct account **v = calloc(total ? total : 1, sizeof *v);
    if (!v)
        return ob_ctl_reply_err("internal", "out of memory", len);
    total = registry_list(ctx->reg, v, total);
    json_t *users = json_array(), *accts = json_array();
    for (size_t i = 0; i < total; i++) {
        struct account *a = v[i];
        pthread_mutex_lock(&a->mu);
        int active = a->wanted;
        pthread_mutex_unlock(&a->mu);
        if (!active)
            continue;
        json_array_append_new(accts, json_pack("{s:s,s:s}", "userId", a->user, "email", a->email));
        int seen = 0;
        for (size_t j = 0; j < json_array_size(users) && !seen; j++)
            seen = strcmp(json_string_value(json_array_get(users, j)), a->user) == 0;
        if (!seen)
            json_array_append_new(users, json_string(a->user));
    }
    free(v);
    size_t nu = json_array_size(users), na = json_array_size(accts);
    return ob_ctl_reply_ok(json_pack("{s:o,s:o,s:I,s:I}", "activeClients", users,
                                     "activeEmailAccounts", accts, "clientCount", (json_int_t)nu,
                                     "emailAccountCount", (json_int_t)na), len);
}

#define CTL_STR_(x) #x
#define CTL_STR(x) CTL_STR_(x)

/* The status request onebox-api sends on every GET /api/sync/status —
 * {"v":1,"op":"status","user":"ID"} exactly as ob_ctl writes it — is read
 * without a parse tree.  An id has no quote or backslash, so a line of
 * this shape is that object and nothing else; any other line (other ops,
 * an email, spacing, escapes) goes through ob_ctl_req_parse. */
static int parse_plain_status(const char *line, size_t len, struct ob_ctl_req *req)
{
    static const char head[] = "{\"v\":" CTL_STR(OB_PROTO_VERSION) ",\"op\":\"status\",\"user\":\"";
    size_t hn = sizeof head - 1;
    if (len < hn + 3 || memcmp(line, head, hn) != 0 || memcmp(line + len - 2, "\"}", 2) != 0)
        return -1;
    size_t n = len - hn - 2;
    if (n >= sizeof req->user)
        return -1;
    memset(req, 0, sizeof *req);
    memcpy(req->user, line + hn, n);
    req->user[n] = '\0';
    if (!ob_proto_valid_id(req->user, 0)) {
        memset(req, 0, sizeof *req);
        return -1;
    }
    req->op = OB_CTL_STATUS;
    return 0;
}

char *ctl_server_handle(struct sync_ctx *ctx, struct account_db *adb, const char *line, size_t len,
                        size_t *replylen, const char *who, int *garbage)
{
    struct ob_ctl_req req;
    char err[160];
    if (garbage)
        *garbage = 0;
    if (parse_plain_status(line, len, &req) < 0 &&
        ob_ctl_req_parse(line, len, &req, err, sizeof err) < 0) {
        ob_warn("ctl: bad request from %s: %s; dropping the connection", who, err);
        if (garbage)
            *garbage = 1;
        return ob_ctl_reply_err("bad_request", err, replylen);
    }
    if (atomic_load(&ctx->stopping))
        return ob_ctl_reply_err("internal", "shutting down", replylen);
    switch (req.op) {
    case OB_CTL_START:
    case OB_CTL_STOP:
        return do_start_stop(ctx, adb, &req, replylen, who);
    case OB_CTL_STATUS:
        return do_status(ctx, adb, &req, replylen);
    case OB_CTL_CLIENTS:
        return do_clients(ctx, replylen);
    default:
        ob_warn("ctl: unhandled op %d from %s", (int)req.op, who);
        return ob_ctl_reply_err("bad_request", "unknown op", replylen);
    }
}

long ctl_server_resume(struct sync_ctx *ctx, sqlite3 *db)
{
    struct account_row *rows = NULL;
    struct account_db *adb = account_db_new(db);
    long n = adb ? account_db_list(adb, NULL, NULL, 1, CTL_MAX_ACCOUNTS, &rows) : -1;
    account_db_free(adb);
    if (n < 0)
        return -1;
    long started = 0;
    for (long i = 0; i < n; i++) {
        struct account *a = registry_get(ctx->reg, ctx, rows[i].id, rows[i].user, rows[i].email);
        if (!a)
            break;
        snprintf(a->last_sync, sizeof a->last_sync, "%s", rows[i].last_sync);
        if (account_start(a, db) == 0)
            started++;
    }
    free(rows);
    if (n > 0)
        ob_info("resumed sync of %ld account(s) wanted before the restart", started);
    return started;
}

/* --- connections ----------------------------------------------------------- */

static void client_close(struct ctl_server *s, int i)
{
    struct ctl_client *c = s->clients[i];
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    ob_linebuf_free(&c->lb);
    free(c);
    s->clients[i] = NULL;
}

struct line_ctx {
    struct ctl_server *s;
    struct ctl_client *c;
};

static void on_line(void *vctx, char *line, size_t len)
{
    struct line_ctx *lc = vctx;
    if (lc->c->close_after)
        return;
    size_t rlen = 0;
    int garbage = 0;
    char *reply = ctl_server_handle(lc->s->ctx, lc->s->adb, line, len, &rlen, lc->c->who, &garbage);
    if (!reply || ob_sock_write_all(lc->c->fd, reply, rlen, CTL_WRITE_MS) < 0) {
        ob_warn("ctl: cannot reply to %s; closing", lc->c->who);
        lc->c->close_after = 1;
    }
    /* A peer that sends garbage is answered once and dropped (STYLE 3). */
    if (garbage)
        lc->c->close_after = 1;
    free(reply);
}

static void client_read(struct ctl_server *s, int i)
{
    struct ctl_client *c = s->clients[i];
    char buf[4096];
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        client_close(s, i);
        return;
    }
    c->last_ms = ob_time_mono_ms();
    unsigned long dropped = c->lb.dropped;
    struct line_ctx lc = { s, c };
    if (ob_linebuf_feed(&c->lb, buf, (size_t)r, on_line, &lc, c->who) < 0)
        c->close_after = 1;
    if (c->lb.dropped != dropped && !c->close_after) {
        size_t rlen = 0;
        char *reply = ob_ctl_reply_err("bad_request", "request line too long", &rlen);
        if (reply)
            ob_sock_write_all(c->fd, reply, rlen, CTL_WRITE_MS);
        free(reply);
        c->close_after = 1;
    }
    if (c->close_after)
        client_close(s, i);
}

static void accept_all(struct ctl_server *s)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                ob_warn("ctl: accept: %s", strerror(errno));
            return;
        }
        char who[64] = "unknown peer";
        if (ob_sock_peer_allowed(fd, who, sizeof who) != 1) {
            ob_warn("ctl: refused connection from %s (not our uid or gid)", who);
            close(fd);
            continue;
        }
        int slot = -1;
        for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++)
            if (!s->clients[i])
                slot = i;
        struct ctl_client *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
        if (!c || ob_linebuf_init(&c->lb, CTL_LINE_MAX) < 0) {
            ob_warn("ctl: too many connections; refusing %s", who);
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        snprintf(c->who, sizeof c->who, "%s", who);
        c->last_ms = ob_time_mono_ms();
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)slot + 2 };
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            ob_linebuf_free(&c->lb);
            free(c);
            close(fd);
            continue;
        }
        s->clients[slot] = c;
    }
}

struct ctl_server *ctl_server_new(struct sync_ctx *ctx, sqlite3 *db, char *err, size_t errlen)
{
    struct ctl_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->ctx = ctx;
    s->ep = -1;
    s->adb = account_db_new(db);
    if (!s->adb) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
    s->lfd = ob_sock_listen_unix(ctx->cfg->sync_sock, 0660, err, errlen);
    if (s->lfd < 0) {
        account_db_free(s->adb);
        free(s);
        return NULL;
    }
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };
    if (s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        ctl_server_free(s);
        return NULL;
    }
    return s;
}

void ctl_server_free(struct ctl_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        if (s->clients[i])
            client_close(s, i);
    if (s->lfd >= 0) {
        close(s->lfd);
        unlink(s->ctx->cfg->sync_sock);
    }
    if (s->ep >= 0)
        close(s->ep);
    account_db_free(s->adb);
    free(s);
}

int ctl_server_run(struct ctl_server *s, int stop_fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, stop_fd, &ev) < 0) {
        ob_error("ctl: epoll: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(s->ep, evs, 16, 1000);
        if (n < 0 && errno != EINTR) {
            ob_error("ctl: epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag == 1)
                return 0;
            if (tag == 0)
                accept_all(s);
            else if (tag - 2 < CTL_MAX_CLIENTS && s->clients[tag - 2])
                client_read(s, (int)(tag - 2));
        }
        int64_t now = ob_time_mono_ms();
        for (int i = 0; i < CTL_MAX_CLIENTS; i++)
            if (s->clients[i] && now - s->clients[i]->last_ms > CTL_IDLE_MS)
                client_close(s, i);
    }
}
