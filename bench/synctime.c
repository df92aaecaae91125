/* synctime: the sync benchmark's clock and waits, as a sync.sock client
 * (ob_ctl_call) and a reader of the shared SQLite database.
 *
 *   synctime initial --db DB --sock SYNC_SOCK --user U --expect N [--timeout S]
 *       sends `start {user}` and times until U has N rows in `emails`
 *       (polled every 10 ms on a read-only connection, WAL letting it read
 *       while onebox-syncd writes: the largest id first, U's rows counted
 *       only once it reaches N).  Prints "synctime secs=.. msgs=..".
 *   synctime wait-idle --sock SYNC_SOCK --count N [--timeout S] [--pid PID]
 *       polls `status` (every account) until N accounts are `idle`; gives
 *       up early when process PID (onebox-syncd) is gone.
 *       Prints "synctime idle=.. error=.. secs=..".
 * Exit 0 when the goal was reached, 1 on timeout or error. */
#include "ob_ctl.h"
#include "ob_time.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The one integer st answers (after binding user to ?1 if it has one),
 * or -1; st is reset for the next poll. */
static long poll_int(sqlite3_stmt *st, const char *user)
{
    long n = -1;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

static int call(const char *sock, enum ob_ctl_op op, const char *user, json_t **data)
{
    struct ob_ctl_req req = { .op = op };
    char code[64], err[256];
    if (user)
        snprintf(req.user, sizeof req.user, "%s", user);
    int r = ob_ctl_call(sock, &req, 10000, data, code, sizeof code, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "synctime: %s: %s %s\n", ob_ctl_op_name(op), r > 0 ? code : "", err);
    return r;
}

static int initial(const char *db_path, const char *sock, const char *user, long expect, int timeout)
{
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "synctime: %s: %s\n", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 1000);
    json_t *data = NULL;
    double t0 = mono_s();
    if (call(sock, OB_CTL_START, user, &data) != 0) {
        sqlite3_close(db);
        return 1;
    }
    json_decref(data);
    /* The poller shares a core with onebox-syncd, so it must cost next to
     * nothing: the largest row id (one index descent) says when the rows
     * can be all there, and only then the user's rows are counted (a walk
     * of up to N index entries, which every 10 ms took a few % of that
     * core).  Both statements are prepared once. */
    sqlite3_stmt *top = NULL, *cnt = NULL;
    long n = 0;
    double t1 = t0;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM emails", -1, &top, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM emails WHERE user_id = ?1", -1, &cnt, NULL) != SQLITE_OK) {
        fprintf(stderr, "synctime: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(top);
        sqlite3_close(db);
        return 1;
    }
    while (mono_s() - t0 < timeout) {
        if (poll_int(top, user) >= expect && (n = poll_int(cnt, user)) >= expect)
            break;
        sleep_ms(10);
    }
    t1 = mono_s();
    if (n < expect)
        n = poll_int(cnt, user);
    sqlite3_finalize(top);
    sqlite3_finalize(cnt);
    sqlite3_close(db);
    printf("synctime secs=%.3f msgs=%ld msgs_per_s=%.0f\n", t1 - t0, n,
           t1 > t0 ? (double)n / (t1 - t0) : 0.0);
    return n >= expect ? 0 : 1;
}

/* 1 while pid runs (zombies count as gone). */
static int alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int wait_idle(const char *sock, long want, int timeout, int pid)
{
    double t0 = mono_s();
    long idle = 0, errors = 0;
    while (mono_s() - t0 < timeout) {
        json_t *data = NULL;
        idle = errors = 0;
        if (call(sock, OB_CTL_STATUS, NULL, &data) == 0) {
            json_t *arr = json_object_get(data, "status"), *it;
            size_t i;
            json_array_foreach(arr, i, it) {
                const char *s = json_string_value(json_object_get(it, "status"));
                if (s && !strcmp(s, "idle"))
                    idle++;
                else if (s && !strcmp(s, "error"))
                    errors++;
            }
            json_decref(data);
        }
        if (idle >= want)
            break;
        if (pid > 0 && !alive(pid)) {
            fprintf(stderr, "synctime: process %d is gone\n", pid);
            break;
        }
        sleep_ms(250);
    }
    printf("synctime idle=%ld error=%ld secs=%.2f\n", idle, errors, mono_s() - t0);
    return idle >= want ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "db", 1, 0, 'd' }, { "sock", 1, 0, 's' }, { "user", 1, 0, 'u' },
        { "expect", 1, 0, 'e' }, { "count", 1, 0, 'n' }, { "timeout", 1, 0, 't' },
        { "pid", 1, 0, 'p' }, { 0, 0, 0, 0 }
    };
    const char *db = NULL, *sock = NULL, *user = NULL;
    long n = 0;
    int timeout = 300, pid = 0, ch;
    if (argc < 2) {
        fprintf(stderr, "usage: synctime initial|wait-idle [options] (see synctime.c)\n");
        return 2;
    }
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 's': sock = optarg; break;
        case 'u': user = optarg; break;
        case 'e': case 'n': n = atol(optarg); break;
        case 't': timeout = atoi(optarg); break;
        case 'p': pid = atoi(optarg); break;
        default: return 2;
        }
    }
    if (!strcmp(argv[1], "initial") && db && sock && user && n > 0)
        return initial(db, sock, user, n, timeout);
    if (!strcmp(argv[1], "wait-idle") && sock && n > 0)
        return wait_idle(sock, n, timeout, pid);
    fprintf(stderr, "synctime: bad command or missing options (see synctime.c)\n");
    return 2;
}
