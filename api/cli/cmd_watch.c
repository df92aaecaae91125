/* cmd_watch: `onebox watch` — live events from onebox-realtime, one line
 * each (or the raw frames with --json), over a libwebsockets client.  If the
 * connection drops it reconnects with backoff and resumes after the last
 * event id it printed, so nothing is shown twice or missed.
 * cli_ws_run() is also the engine of `sync start --wait`. */
#include "cli.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_MAX (1024 * 1024)

struct ws_state {
    struct cli *c;
    cli_event_fn fn;
    void *ctx;
    char *buf;
    size_t len;
    long long last_id;
    int done, closed, connected, rc, close_code;
};

static volatile sig_atomic_t interrupted;
static void on_sigint(int s) { (void)s; interrupted = 1; }

static void deliver(struct ws_state *s)
{
    json_t *msg = json_loadb(s->buf, s->len, 0, NULL);
    s->len = 0;
    if (!json_is_object(msg)) {
        json_decref(msg);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    if (json_is_integer(id)) {
        if (json_integer_value(id) <= s->last_id) {      /* replayed twice */
            json_decref(msg);
            return;
        }
        s->last_id = json_integer_value(id);
    }
    if (s->fn(s->ctx, msg))
        s->done = 1;
    json_decref(msg);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len)
{
    struct ws_state *s = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s->connected = 1;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (s->len + len > FRAME_MAX) {
            s->len = 0;                   /* a hostile or broken frame: skip */
            break;
        }
        if (len) {
            char *nb = realloc(s->buf, s->len + len + 1);
            if (!nb)
                return -1;
            s->buf = nb;
            memcpy(s->buf + s->len, in, len);
            s->len += len;
        }
        if (lws_is_final_fragment(wsi))
            deliver(s);
        if (s->done)
            return -1;
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            s->close_code = ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "onebox: WebSocket: %s\n", in ? (const char *)in : "connection failed");
        s->closed = 1;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        s->closed = 1;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "onebox-cli", callback, 0, 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ws(s)://host:port/path from --ws-url, $ONEBOX_WS_URL, or the API URL. */
static void ws_url(const struct cli *c, char *out, size_t cap)
{
    if (c->ws_url[0]) {
        snprintf(out, cap, "%s", c->ws_url);
        return;
    }
    const char *u = c->url;
    if (strncmp(u, "https://", 8) == 0)
        snprintf(out, cap, "wss://%s/ws", u + 8);
    else if (strncmp(u, "http://", 7) == 0)
        snprintf(out, cap, "ws://%s/ws", u + 7);
    else
        snprintf(out, cap, "%s/ws", u);
}

static int connect_once(struct ws_state *s, struct lws_context *ctx)
{
    char url[1024], parse[1024], path[6000], esc[5000];
    ws_url(s->c, url, sizeof url);
    snprintf(parse, sizeof parse, "%s", url);
    const char *prot, *addr, *p;
    int port;
    if (lws_parse_uri(parse, &prot, &addr, &port, &p)) {
        fprintf(stderr, "onebox: bad WebSocket URL %s\n", url);
        return -1;
    }
    int n = snprintf(path, sizeof path, "/%s%stoken=%s", p, strchr(p, '?') ? "&" : "?",
                     cli_escape(s->c->token, esc, sizeof esc));
    if (s->last_id > 0)
        snprintf(path + n, sizeof path - (size_t)n, "&lastEventId=%lld", s->last_id);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = addr;
    ci.port = port;
    ci.path = path;
    ci.host = addr;
    ci.origin = addr;
    ci.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
    ci.protocol = NULL;
    s->closed = 0;
    s->connected = 0;
    return lws_client_connect_via_info(&ci) ? 0 : -1;
}

int cli_ws_run(struct cli *c, cli_event_fn fn, void *ctx, int timeout_s)
{
    if (!c->token[0]) {
        fprintf(stderr, "onebox: not logged in (run: onebox login)\n");
        return CLI_NOLOGIN;
    }
    struct ws_state s = { .c = c, .fn = fn, .ctx = ctx, .rc = CLI_OK };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = &s;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context *lctx = lws_create_context(&info);
    if (!lctx)
        return CLI_UNREACHABLE;
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    time_t end = time(NULL) + timeout_s;
    int backoff = 1, ever = 0;
    if (connect_once(&s, lctx) < 0)
        s.closed = 1;
    while (!interrupted && !s.done && time(NULL) < end) {
        lws_service(lctx, 250);
        ever |= s.connected;
        if (s.done)
            break;               /* the caller has what it waited for */
        if (!s.closed)
            continue;
        if (s.close_code == 4401) {
            fprintf(stderr, "onebox: the server refused the token (run: onebox login)\n");
            s.rc = CLI_NOLOGIN;
            break;
        }
        if (!ever && backoff > 8) {
            s.rc = CLI_UNREACHABLE;
            break;
        }
        fprintf(stderr, "onebox: disconnected; reconnecting in %d s\n", backoff);
        for (int i = 0; i < backoff * 4 && !interrupted; i++)
            lws_service(lctx, 250);
        backoff = backoff < 30 ? backoff * 2 : 30;
        s.close_code = 0;
        if (connect_once(&s, lctx) < 0)
            s.closed = 1;
    }
    lws_context_destroy(lctx);
    free(s.buf);
    return s.rc;
}

struct watch { int json; const char *types; };

static int type_wanted(const char *types, const char *type)
{
    if (!types)
        return 1;
    size_t n = strlen(type);
    for (const char *p = types; (p = strstr(p, type)); p += n)
        if ((p == types || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static int print_event(void *ctx, const json_t *msg)
{
    struct watch *w = ctx;
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type || !type_wanted(w->types, type))
        return 0;
    if (w->json) {
        char *s = json_dumps(msg, JSON_COMPACT);
        printf("%s\n", s ? s : "{}");
        free(s);
        fflush(stdout);
        return 0;
    }
    json_t *d = json_object_get(msg, "data");
    char ts[64], a[512], b[512], cat[64];
    cli_text(json_object_get(msg, "timestamp"), ts, sizeof ts);
    if (strcmp(type, "new_email") == 0) {
        json_t *e = json_object_get(d, "email");
        printf("%s new_email    [%s %.2f] %s — %s (%s)\n", ts,
               cli_text(json_object_get(e, "category"), cat, sizeof cat),
               json_number_value(json_object_get(e, "categoryConfidence")),
               cli_text(json_object_get(e, "from"), a, sizeof a),
               cli_text(json_object_get(e, "subject"), b, sizeof b),
               json_string_value(json_object_get(e, "email")) ? json_string_value(json_object_get(e, "email")) : "");
    } else if (strcmp(type, "sync_status") == 0) {
        const char *err = json_string_value(json_object_get(d, "error"));
        printf("%s sync_status  %s %s%s%s\n", ts, cli_text(json_object_get(d, "email"), a, sizeof a),
               cli_text(json_object_get(d, "status"), b, sizeof b), err ? ": " : "", err ? err : "");
    } else if (strcmp(type, "sync_progress") == 0) {
        printf("%s sync_progress %s %lld/%lld\n", ts, cli_text(json_object_get(d, "email"), a, sizeof a),
               (long long)json_integer_value(json_object_get(d, "fetched")),
               (long long)json_integer_value(json_object_get(d, "total")));
    } else {
        char *s = json_dumps(d, JSON_COMPACT);
        printf("%s %-12s %s\n", ts, type, s ? s : "{}");
        free(s);
    }
    fflush(stdout);
    return 0;
}

int cli_cmd_watch(struct cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: onebox watch [--json] [--types new_email,sync_status,...] [--ws-url URL]\n"
               "  Prints live events until Ctrl-C; reconnects and resumes if the connection drops.\n");
        return CLI_OK;
    }
    const char *u = cli_opt(argc, argv, "--ws-url");
    if (u)
        snprintf(c->ws_url, sizeof c->ws_url, "%s", u);
    struct watch w = { .json = c->json || cli_flag(argc, argv, "--json"),
                       .types = cli_opt(argc, argv, "--types") };
    return cli_ws_run(c, print_event, &w, 365 * 24 * 3600);
}
