/* test_proto: the socket protocols — framing (split, over-long and many
 * lines), events.sock message checks, sync.sock requests and replies, and a
 * real sync.sock round trip including a server that never answers. */
#include "../unit.h"
#include "ob_ctl.h"
#include "ob_event.h"
#include "ob_linebuf.h"
#include "ob_sock.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct lines { char got[8][256]; int n; };

static void on_line(void *ctx, char *line, size_t len)
{
    struct lines *l = ctx;
    if (l->n < 8)
        snprintf(l->got[l->n++], 256, "%.*s", (int)len, line);
}

#define FEED(lb, s, ...) ob_linebuf_feed(lb, s, strlen(s), __VA_ARGS__)

static void test_linebuf_split_and_many(void)
{
    struct ob_linebuf lb;
    struct lines l = { .n = 0 };
    CU_ASSERT_EQUAL_FATAL(ob_linebuf_init(&lb, 64), 0);
    CU_ASSERT_EQUAL(FEED(&lb, "{\"a\":", on_line, &l, "t"), 0);
    CU_ASSERT_EQUAL(FEED(&lb, "1}\r\n{\"b\"", on_line, &l, "t"), 1);
    CU_ASSERT_EQUAL(FEED(&lb, ":2}\n\n{\"c\":3}\n", on_line, &l, "t"), 2);
    CU_ASSERT_EQUAL(l.n, 3);
    CU_ASSERT_STRING_EQUAL(l.got[0], "{\"a\":1}");
    CU_ASSERT_STRING_EQUAL(l.got[1], "{\"b\":2}");
    CU_ASSERT_STRING_EQUAL(l.got[2], "{\"c\":3}");
    ob_linebuf_free(&lb);
}

static void test_linebuf_too_long(void)
{
    struct ob_linebuf lb;
    struct lines l = { .n = 0 };
    ob_linebuf_init(&lb, 16);
    char big[40];
    memset(big, 'x', sizeof big);
    /* an over-long line arriving in pieces is dropped whole */
    CU_ASSERT_EQUAL(ob_linebuf_feed(&lb, big, 10, on_line, &l, "t"), 0);
    CU_ASSERT_EQUAL(ob_linebuf_feed(&lb, big, 30, on_line, &l, "t"), 0);
    CU_ASSERT_EQUAL(ob_linebuf_feed(&lb, "tail\nok\n", 8, on_line, &l, "t"), 1);
    CU_ASSERT_EQUAL(l.n, 1);
    CU_ASSERT_STRING_EQUAL(l.got[0], "ok");
    CU_ASSERT_EQUAL(lb.dropped, 1);
    /* exactly at the limit passes, one over does not */
    char edge[18];
    memset(edge, 'y', 16);
    edge[16] = '\n';
    CU_ASSERT_EQUAL(ob_linebuf_feed(&lb, edge, 17, on_line, &l, "t"), 1);
    memset(edge, 'z', 17);
    edge[17] = '\n';
    CU_ASSERT_EQUAL(ob_linebuf_feed(&lb, edge, 18, on_line, &l, "t"), 0);
    CU_ASSERT_EQUAL(lb.dropped, 2);
    ob_linebuf_free(&lb);
}

static int parse(const char *line, struct ob_event *ev, char *err)
{
    return ob_event_parse(line, strlen(line), ev, err, 256);
}

static void test_event_parse_good(void)
{
    struct ob_event ev;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse("{\"v\":1,\"id\":4182,\"type\":\"new_email\",\"user\":\"u_7f3a\","
                                "\"topic\":\"emails\",\"ts\":\"2026-01-01T00:00:00.000Z\","
                                "\"data\":{\"subject\":\"hi\"}}", &ev, err), 0);
    CU_ASSERT_EQUAL(ev.type, OB_EV_NEW_EMAIL);
    CU_ASSERT_EQUAL(ev.id, 4182);
    CU_ASSERT_STRING_EQUAL(ev.user, "u_7f3a");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev.data, "subject")), "hi");
    /* serialize and parse back */
    size_t len;
    char *line = ob_event_line(&ev, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_EQUAL(line[len - 1], '\n');
    struct ob_event ev2;
    CU_ASSERT_EQUAL(ob_event_parse(line, len - 1, &ev2, err, sizeof err), 0);
    CU_ASSERT_EQUAL(ev2.id, 4182);
    ob_event_clear(&ev2);
    free(line);
    ob_event_clear(&ev);
    CU_ASSERT_EQUAL(parse("{\"v\":1,\"type\":\"imap_log\",\"user\":\"*\",\"data\":{}}", &ev, err), 0);
    CU_ASSERT_STRING_EQUAL(ev.topic, "imap-logs");
    ob_event_clear(&ev);
    CU_ASSERT_EQUAL(parse("{\"v\":1,\"type\":\"message\",\"room\":\"support\",\"data\":{}}", &ev, err), 0);
    ob_event_clear(&ev);
}

static void test_event_parse_bad(void)
{
    static const struct { const char *line, *why; } bad[] = {
        { "not json", "invalid JSON" },
        { "[1,2]", "expected a JSON object" },
        { "{\"v\":2,\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"data\":{}}", "unsupported protocol version" },
        { "{\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"data\":{}}", "field 'v' is required" },
        { "{\"v\":\"1\",\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"data\":{}}", "field 'v' must be an integer" },
        { "{\"v\":1,\"type\":\"launch_rockets\",\"user\":\"u\",\"data\":{}}", "unknown event type" },
        { "{\"v\":1,\"type\":7,\"user\":\"u\",\"data\":{}}", "field 'type' must be a string" },
        { "{\"v\":1,\"type\":\"new_email\",\"user\":\"u\",\"data\":{}}", "needs its outbox id" },
        { "{\"v\":1,\"type\":\"imap_log\",\"id\":3,\"user\":\"u\",\"data\":{}}", "must not carry an id" },
        { "{\"v\":1,\"type\":\"new_email\",\"id\":1,\"data\":{}}", "exactly one of" },
        { "{\"v\":1,\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"room\":\"r\",\"data\":{}}", "exactly one of" },
        { "{\"v\":1,\"type\":\"new_email\",\"id\":1,\"user\":\"../etc\",\"data\":{}}", "not a valid id" },
        { "{\"v\":1,\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"data\":[]}", "field 'data' must be an object" },
        { "{\"v\":1,\"type\":\"new_email\",\"id\":-5,\"user\":\"u\",\"data\":{}}", "field 'id' must be" },
        { "{\"v\":1,\"v\":1,\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"data\":{}}", "invalid JSON" },
        { "{\"v\":1,\"type\":\"new_email\",\"id\":1,\"user\":\"u\",\"data\":{}} trailing", "invalid JSON" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ob_event ev;
        char err[256] = "";
        CU_ASSERT_EQUAL(parse(bad[i].line, &ev, err), -1);
        CU_ASSERT_PTR_NULL(ev.data);
        if (!strstr(err, bad[i].why))
            fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, bad[i].why);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
    }
}

static void test_catalogue(void)
{
    for (int t = 1; t < OB_EV_COUNT; t++) {
        CU_ASSERT_EQUAL(ob_ev_from_name(ob_ev_name((enum ob_ev_type)t)), t);
        CU_ASSERT(ob_ev_topic((enum ob_ev_type)t)[0] != '\0');
    }
    for (int o = 1; o < OB_CTL_COUNT; o++)
        CU_ASSERT_EQUAL(ob_ctl_op_from_name(ob_ctl_op_name((enum ob_ctl_op)o)), o);
    CU_ASSERT_STRING_EQUAL(ob_ev_name(OB_EV_COUNT), "invalid");
    CU_ASSERT_STRING_EQUAL(ob_ctl_op_name((enum ob_ctl_op)-1), "invalid");
    CU_ASSERT(ob_ev_durable(OB_EV_NEW_EMAIL) && !ob_ev_durable(OB_EV_IMAP_LOG));
}

static void test_ctl_parse(void)
{
    struct ob_ctl_req r;
    char err[256];
    const char *ok = "{\"op\":\"start\",\"user\":\"u_7f3a\",\"email\":\"a@example.com\"}";
    CU_ASSERT_EQUAL(ob_ctl_req_parse(ok, strlen(ok), &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL(r.op, OB_CTL_START);
    CU_ASSERT_STRING_EQUAL(r.email, "a@example.com");
    const char *bad[] = {
        "{\"op\":\"start\"}", "{\"op\":\"explode\",\"user\":\"u\"}", "{\"op\":1}",
        "{\"v\":9,\"op\":\"status\"}", "{\"op\":\"stop\",\"user\":\"a b\"}",
        "{\"op\":\"status\",\"email\":\"x@y\"}", "{\"op\":\"start\",\"user\":\"u\",\"email\":5}", "garbage", NULL };
    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(ob_ctl_req_parse(bad[i], strlen(bad[i]), &r, err, sizeof err), -1);
}

/* A one-shot sync.sock server: reads one request line, answers `reply`
 * (or nothing when reply is NULL), then closes. */
struct server { int ls; const char *reply; char got[512]; };

static void *serve_once(void *arg)
{
    struct server *s = arg;
    int fd = -1;
    for (int i = 0; i < 200 && fd < 0; i++) {
        fd = accept(s->ls, NULL, NULL);
        if (fd < 0)
            usleep(10000);
    }
    if (fd < 0)
        return NULL;
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof s->got - 1 && (r = read(fd, s->got + n, sizeof s->got - 1 - (size_t)n)) > 0) {
        n += r;
        if (memchr(s->got, '\n', (size_t)n))
            break;
    }
    s->got[n > 0 ? n : 0] = '\0';
    if (s->reply)
        ob_sock_write_all(fd, s->reply, strlen(s->reply), 1000);
    else
        usleep(400000);                   /* a server that never answers */
    close(fd);
    return NULL;
}

static void test_ctl_call_roundtrip(void)
{
    char path[] = "/tmp/ob_ctlXXXXXX", sock[300], err[256], code[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(path));
    snprintf(sock, sizeof sock, "%s/sync.sock", path);
    struct ob_ctl_req req = { .op = OB_CTL_STATUS };
    snprintf(req.user, sizeof req.user, "u_1");
    snprintf(req.email, sizeof req.email, "a\"b\\c\001d@example.com");
    json_t *data = NULL;
    /* nobody listening: a clean -1, not a hang */
    CU_ASSERT_EQUAL(ob_ctl_call(sock, &req, 200, &data, code, sizeof code, err, sizeof err), -1);

    const char *replies[] = {
        "{\"ok\":true,\"data\":{\"status\":[]}}\n",
        "{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no such account\"}}\n",
        "{\"ok\":\"maybe\"}\n",
        NULL,
    };
    int want[] = { 0, 1, -1, -1 };
    for (int i = 0; i < 4; i++) {
        struct server s = { .reply = replies[i] };
        s.ls = ob_sock_listen_unix(sock, 0600, err, sizeof err);
        CU_ASSERT_FATAL(s.ls >= 0);
        pthread_t th;
        pthread_create(&th, NULL, serve_once, &s);
        int rc = ob_ctl_call(sock, &req, 200, &data, code, sizeof code, err, sizeof err);
        CU_ASSERT_EQUAL(rc, want[i]);
        pthread_join(th, NULL);
        CU_ASSERT_PTR_NOT_NULL(strstr(s.got, "\"op\":\"status\""));
        /* the hand-written request line escapes what needs it */
        struct ob_ctl_req back;
        char *nl = strchr(s.got, '\n');
        CU_ASSERT_FATAL(nl != NULL);
        CU_ASSERT_EQUAL(ob_ctl_req_parse(s.got, (size_t)(nl - s.got), &back, err, sizeof err), 0);
        CU_ASSERT_STRING_EQUAL(back.user, "u_1");
        CU_ASSERT_STRING_EQUAL(back.email, req.email);
        if (i == 0) {
            CU_ASSERT(json_is_array(json_object_get(data, "status")));
        } else if (i == 1) {
            CU_ASSERT_STRING_EQUAL(code, "not_found");
            CU_ASSERT_STRING_EQUAL(err, "no such account");
        }
        json_decref(data);
        data = NULL;
        close(s.ls);
        unlink(sock);
    }
    rmdir(path);
}

static void test_sock_listen_refuses(void)
{
    char path[] = "/tmp/ob_lsXXXXXX", sock[300], err[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(path));
    snprintf(sock, sizeof sock, "%s/x.sock", path);
    int a = ob_sock_listen_unix(sock, 0660, err, sizeof err);
    CU_ASSERT_FATAL(a >= 0);
    /* a second server must not steal a live socket */
    CU_ASSERT_EQUAL(ob_sock_listen_unix(sock, 0660, err, sizeof err), -1);
    int c = ob_sock_connect_unix(sock, 100);
    CU_ASSERT(c >= 0);
    int s = accept(a, NULL, NULL);
    CU_ASSERT_EQUAL(ob_sock_peer_allowed(s, NULL, 0), 1);
    close(c);
    close(s);
    close(a);
    /* a stale socket file is replaced; a regular file is not */
    int b = ob_sock_listen_unix(sock, 0660, err, sizeof err);
    CU_ASSERT(b >= 0);
    close(b);
    unlink(sock);
    FILE *f = fopen(sock, "w");
    fclose(f);
    CU_ASSERT_EQUAL(ob_sock_listen_unix(sock, 0660, err, sizeof err), -1);
    unlink(sock);
    rmdir(path);
}

static const struct unit_case cases[] = {
    { "lines split across reads and many per read", test_linebuf_split_and_many },
    { "a line longer than the maximum is dropped whole", test_linebuf_too_long },
    { "event parse and serialize round trip", test_event_parse_good },
    { "bad events: JSON, version, type, ids, fields", test_event_parse_bad },
    { "catalogue names round trip", test_catalogue },
    { "sync.sock request checks", test_ctl_parse },
    { "sync.sock call: ok, error, garbled, silent, absent", test_ctl_call_roundtrip },
    { "listen refuses a live socket or a file, replaces a stale one", test_sock_listen_refuses },
    { NULL, NULL },
};

UNIT_MAIN("proto", cases)
