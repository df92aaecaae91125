/* ev_publish: publishes events to onebox-realtime the way onebox-api and
 * onebox-syncd do — a durable event is inserted into the outbox
 * (ob_store_begin, ob_outbox_add, ob_store_commit) and then pushed on
 * events.sock through the real publisher (ob_pub: bounded queue, reconnect
 * with backoff); an ephemeral one is only pushed.  For the realtime tests.
 *
 *   ev_publish --db PATH --sock PATH [--gen N --user U [--type T]
 *              [--interval-ms MS] [--size BYTES]] [--flush-ms MS]
 *
 * Without --gen it reads requests from stdin, one JSON object a line:
 *   {"type":"new_email","user":"u_a","data":{...}}   publish; prints the id
 *   {"type":"message","room":"r1","data":{...}}     (0 for ephemeral events)
 *   control fields, removed before publishing:
 *     "_push": false     outbox only (a push that never comes)
 *     "_times": N        push the same line N times (duplicates)
 *     "_hold": true      outbox now, push later at the next {"_release":true},
 *                        which pushes every held line newest first (out of
 *                        order)
 *   a line starting with '!' is pushed verbatim without its '!' (garbage).
 *   {"_sync":true} waits until the publisher queue is empty; prints "synced".
 * With --gen it publishes N durable events of type T (new_email) for U, each
 * with data {"seq":i,...} (padded to about BYTES), one every MS, printing
 * each id; then waits for the queue to drain (at most --flush-ms). */
#include "ob_event.h"
#include "ob_json.h"
#include "ob_log.h"
#include "ob_outbox.h"
#include "ob_pub.h"
#include "ob_store.h"
#include "ob_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 1024

static struct ob_pub *pub;
static sqlite3 *db;
static char *held[MAX_HELD];
static size_t held_len[MAX_HELD];
static int nheld;
static volatile sig_atomic_t stop;

static void on_signal(int s)
{
    (void)s;
    stop = 1;
}

/* Inserts ev into the outbox in its own transaction, retrying on BUSY. */
static int store(struct ob_event *ev)
{
    for (int tries = 0; tries < 20; tries++) {
        if (ob_store_begin(db) == 0 && ob_outbox_add(db, ev) == 0 && ob_store_commit(db) == 0)
            return 0;
        ob_store_rollback(db);
        if (!ob_store_retryable(db))
            break;
        usleep(10000);
    }
    return -1;
}

static void wait_drained(int ms)
{
    int64_t end = ob_time_mono_ms() + ms;
    struct ob_pub_stats st;
    do {
        ob_pub_get_stats(pub, &st);
        if (st.queued_bytes == 0)
            return;
        usleep(5000);
    } while (ob_time_mono_ms() < end && !stop);
}

static void push(const char *line, size_t len)
{
    if (ob_pub_send(pub, line, len) < 0)
        fprintf(stderr, "ev_publish: publisher queue full, line dropped\n");
}

/* One request line; prints the id (or an error) on stdout. */
static void request(char *line, size_t len)
{
    char err[256];
    if (line[0] == '!') {
        line[len] = '\n';
        push(line + 1, len);
        line[len] = '\0';
        puts("0");
        return;
    }
    json_t *o = ob_json_parse_object(line, len, OB_PROTO_MAX_LINE, err, sizeof err);
    if (!o) {
        printf("error %s\n", err);
        return;
    }
    if (json_is_true(json_object_get(o, "_sync"))) {
        wait_drained(30000);
        puts("synced");
        json_decref(o);
        return;
    }
    if (json_is_true(json_object_get(o, "_release"))) {
        for (int i = nheld - 1; i >= 0; i--) {
            push(held[i], held_len[i]);
            free(held[i]);
        }
        printf("released %d\n", nheld);
        nheld = 0;
        json_decref(o);
        return;
    }
    int do_push = !json_is_false(json_object_get(o, "_push"));
    int hold = json_is_true(json_object_get(o, "_hold"));
    json_int_t times = json_is_integer(json_object_get(o, "_times"))
                       ? json_integer_value(json_object_get(o, "_times")) : 1;
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *user = json_string_value(json_object_get(o, "user"));
    const char *room = json_string_value(json_object_get(o, "room"));
    json_t *data = json_object_get(o, "data");
    struct ob_event ev;
    enum ob_ev_type t = ob_ev_from_name(type);
    if (t == OB_EV_INVALID || (!user && !room) ||
        ob_event_init(&ev, t, user ? user : "*", data ? json_incref(data) : json_object()) < 0) {
        puts("error bad request");
        json_decref(o);
        return;
    }
    if (room) {
        ev.user[0] = '\0';
        snprintf(ev.room, sizeof ev.room, "%s", room);
    }
    const char *topic = json_string_value(json_object_get(o, "topic"));
    if (topic)
        snprintf(ev.topic, sizeof ev.topic, "%s", topic);
    if (ob_ev_durable(t) && store(&ev) < 0) {
        puts("error outbox insert failed");
        ob_event_clear(&ev);
        json_decref(o);
        return;
    }
    size_t n;
    char *out = ob_event_line(&ev, &n);
    if (out && hold && nheld < MAX_HELD) {
        held[nheld] = out;
        held_len[nheld++] = n;
        out = NULL;
    } else if (out && do_push) {
        for (json_int_t i = 0; i < times; i++)
            push(out, n);
    }
    free(out);
    printf("%lld\n", ev.id);
    ob_event_clear(&ev);
    json_decref(o);
}

static int generate(long n, const char *user, const char *type, long interval_ms, long size)
{
    enum ob_ev_type t = ob_ev_from_name(type);
    if (!ob_ev_durable(t)) {
        fprintf(stderr, "ev_publish: --gen needs a durable type\n");
        return 1;
    }
    char *pad = NULL;
    if (size > 64) {
        pad = malloc((size_t)size - 63);
        if (!pad)
            return 1;
        memset(pad, 'x', (size_t)size - 64);
        pad[size - 64] = '\0';
    }
    for (long i = 1; i <= n && !stop; i++) {
        json_t *data = json_pack("{s:i,s:s}", "seq", (json_int_t)i, "userId", user);
        if (pad)
            json_object_set_new(data, "pad", json_string(pad));
        struct ob_event ev;
        if (ob_event_init(&ev, t, user, data) < 0 || store(&ev) < 0) {
            fprintf(stderr, "ev_publish: event %ld not stored\n", i);
            ob_event_clear(&ev);
            free(pad);
            return 1;
        }
        ob_pub_event(pub, &ev);
        printf("%lld\n", ev.id);
        fflush(stdout);
        ob_event_clear(&ev);
        if (interval_ms > 0)
            usleep((useconds_t)interval_ms * 1000);
    }
    free(pad);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dbpath = NULL, *sock = NULL, *user = NULL, *type = "new_email";
    long gen = 0, interval = 0, size = 0, flush_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "ev_publish: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--db")) dbpath = v;
        else if (!strcmp(a, "--sock")) sock = v;
        else if (!strcmp(a, "--gen")) gen = strtol(v, NULL, 10);
        else if (!strcmp(a, "--user")) user = v;
        else if (!strcmp(a, "--type")) type = v;
        else if (!strcmp(a, "--interval-ms")) interval = strtol(v, NULL, 10);
        else if (!strcmp(a, "--size")) size = strtol(v, NULL, 10);
        else if (!strcmp(a, "--flush-ms")) flush_ms = strtol(v, NULL, 10);
        else {
            fprintf(stderr, "ev_publish: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (!dbpath || !sock || (gen && !user)) {
        fprintf(stderr, "usage: ev_publish --db PATH --sock PATH [--gen N --user U [--type T]"
                        " [--interval-ms MS] [--size BYTES]] [--flush-ms MS]\n");
        return 2;
    }
    ob_log_init("ev_publish", OB_LOG_WARN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char err[256];
    if (ob_store_open(dbpath, &db, err, sizeof err) < 0) {
        fprintf(stderr, "ev_publish: %s\n", err);
        return 1;
    }
    pub = ob_pub_new(sock, 64u * 1024 * 1024);
    if (!pub) {
        ob_store_close(db);
        return 1;
    }
    int rc = 0;
    if (gen) {
        rc = generate(gen, user, type, interval, size);
    } else {
        setvbuf(stdout, NULL, _IOLBF, 0);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while (!stop && (n = getline(&line, &cap, stdin)) > 0) {
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n)
                request(line, (size_t)n);
        }
        free(line);
    }
    wait_drained((int)flush_ms);
    ob_pub_free(pub, (int)flush_ms);
    for (int i = 0; i < nheld; i++)
        free(held[i]);
    ob_store_close(db);
    return rc;
}
