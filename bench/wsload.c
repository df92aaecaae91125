/* wsload: the WebSocket load generator of the fan-out benchmark.
 *
 * One run = one server, one connection count, one mode:
 *   1. fork --procs loader processes; each opens its share of --conns
 *      WebSocket connections (RFC 6455 client, epoll, non-blocking),
 *      bound before connect to one of --srcs source addresses 127.0.0.2..,
 *      each as its own user (the URL template expands %u, %t = a JWT minted
 *      with ob_jwt_sign under --jwt-key, %i, %r);
 *   2. when all are ready: the server's RSS delta / connections (idle);
 *   3. latency phase: --lat-rate messages/s for --lat-secs, p50/p99 of
 *      publish-to-receive (the payload carries "@@T<CLOCK_REALTIME ns>");
 *   4. throughput phase: --tput-secs of publishing with at most --window
 *      deliveries outstanding, deliveries/s and the server's CPU-seconds
 *      (utime+stime of --server-pid from /proc) per 1,000 deliveries.
 * Modes: "user" publishes each message to one random connected user;
 * "broadcast" publishes to one room every connection joined.
 *
 *   parent (publisher, wspub.c) --events.sock / POST /pub / sio socket--> server
 *   server ==WebSocket==> children (loaders) --counters, histograms (shared memory)--> parent
 *
 * Prints one line "wsload key=value ..." on stdout (bench/run.sh reads it)
 * and diagnostics on stderr. */
#include "bws.h"
#include "lat_hist.h"
#include "wspub.h"

#include "ob_jwt.h"
#include "ob_keyfile.h"
#include "ob_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 16
#define MAX_CONNS 60000
#define NPHASE 3              /* 0 setup, 1 latency, 2 throughput */
#define CONNECTING_MAX 256    /* handshakes in flight per loader process */
#define RBUF 65536

/* ---- shared memory between the parent and its loaders ------------------ */

struct slot {
    uint64_t connected, ready, failed, closed, frames, bad, done;
    uint64_t recv[NPHASE];
    struct lat_hist hist[NPHASE];
    char err[160];
};

struct shm {
    int phase, stop;
    struct slot slot[MAX_PROCS];
    unsigned char ready_map[MAX_CONNS];
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x) __atomic_store_n(&(x), (x) + 1, __ATOMIC_RELAXED) /* one writer */

/* ---- options ------------------------------------------------------------ */

static struct {
    const char *server, *url, *mode, *pub, *room, *init, *ready, *protocol, *jwt_key;
    int conns, procs, srcs, eio, server_pid, lat_secs_ms, tput_secs_ms, settle_ms;
    int connect_timeout;
    double lat_rate;
    long window;
    int is_broadcast;
} opt = {
    .room = "bench", .conns = 1000, .procs = 4, .srcs = 8, .lat_secs_ms = 3000,
    .tput_secs_ms = 5000, .settle_ms = 1000, .connect_timeout = 120, .lat_rate = 1000,
    .window = 1000,
};

static char host_port[64];
static struct sockaddr_in dst;
static const char *path_tmpl;
static unsigned char jwt_key[OB_JWT_KEY_LEN];

static void usage(void)
{
    fprintf(stderr,
            "usage: wsload --server onebox|nchan|sio --url ws://127.0.0.1:PORT/PATH?..%%u..%%t..\n"
            "              --pub TARGET --mode user|broadcast [--conns N] [--procs P] [--srcs S]\n"
            "              [--room NAME] [--init TEXT] [--ready SUBSTR] [--eio] [--protocol P]\n"
            "              [--jwt-key FILE] [--server-pid PID] [--lat-rate R] [--lat-secs S]\n"
            "              [--tput-secs S] [--window W] [--settle-ms MS] [--connect-timeout S]\n"
            "URL/init expansions: %%u user id, %%t JWT for it, %%i index, %%r room, %%%% '%%'.\n");
    exit(2);
}

static void user_of(unsigned idx, char *out, size_t cap)
{
    snprintf(out, cap, "u_b%07u", idx);
}

/* Expands a template for connection idx; -1 if it does not fit. */
static int expand(const char *tmpl, unsigned idx, char *out, size_t cap)
{
    char user[32];
    user_of(idx, user, sizeof user);
    size_t o = 0;
    for (const char *p = tmpl; *p; p++) {
        char tmp[32];
        const char *ins = NULL;
        char *tok = NULL;
        if (*p != '%') {
            if (o + 1 >= cap)
                return -1;
            out[o++] = *p;
            continue;
        }
        switch (*++p) {
        case 'u': ins = user; break;
        case 'i': snprintf(tmp, sizeof tmp, "%u", idx); ins = tmp; break;
        case 'r': ins = opt.room; break;
        case '%': ins = "%"; break;
        case 't':
            tok = ob_jwt_sign(jwt_key, sizeof jwt_key, user, "user", time(NULL), 7200);
            if (!tok)
                return -1;
            ins = tok;
            break;
        default: return -1;
        }
        size_t n = strlen(ins);
        if (o + n >= cap) {
            free(tok);
            return -1;
        }
        memcpy(out + o, ins, n);
        o += n;
        free(tok);
    }
    out[o] = '\0';
    return (int)o;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- a loader process --------------------------------------------------- */

enum cst { C_FREE = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_DEAD };

struct conn {
    int fd;
    uint8_t st, ready;
    unsigned idx;
    unsigned char *buf;          /* handshake bytes or a partial frame */
    uint32_t len, cap;
    unsigned char *out;          /* bytes the socket did not take yet */
    uint32_t out_len;
};

static struct shm *shm;
static struct slot *me;
static char ws_key[BWS_KEY_LEN + 1], ws_accept[BWS_ACCEPT_LEN + 1];

static void slot_error(const char *fmt, const char *a, const char *b)
{
    if (me->err[0] == '\0')
        snprintf(me->err, sizeof me->err, fmt, a, b);
}

static void conn_fail(int ep, struct conn *c, const char *why)
{
    if (c->st == C_DEAD || c->st == C_FREE)
        return;
    if (!c->ready) {
        INC(me->failed);
        slot_error("%s%s", why, "");
    } else {
        INC(me->closed);
        STORE(shm->ready_map[c->idx], 0);
        slot_error("closed after ready: %s%s", why, "");
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->st = C_DEAD;
    free(c->buf);
    free(c->out);
    c->buf = c->out = NULL;
    c->len = c->cap = c->out_len = 0;
}

/* Sends bytes, keeping what the socket does not take for EPOLLOUT. */
static int conn_send(int ep, struct conn *c, const void *p, size_t n)
{
    if (c->out_len == 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (w < 0)
            w = 0;
        p = (const char *)p + w;
        n -= (size_t)w;
        if (n == 0)
            return 0;
    }
    unsigned char *o = realloc(c->out, c->out_len + n);
    if (!o)
        return -1;
    memcpy(o + c->out_len, p, n);
    c->out = o;
    c->out_len += (uint32_t)n;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

static int conn_flush(int ep, struct conn *c)
{
    while (c->out_len > 0) {
        ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (uint32_t)w;
    }
    free(c->out);
    c->out = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

static int conn_send_frame(int ep, struct conn *c, int op, const void *p, size_t n)
{
    unsigned char f[1024];
    long fl = bws_frame_build(f, sizeof f, op, p, n);
    return fl < 0 ? -1 : conn_send(ep, c, f, (size_t)fl);
}

static void conn_mark_ready(struct conn *c)
{
    if (c->ready)
        return;
    c->ready = 1;
    STORE(shm->ready_map[c->idx], 1);
    INC(me->ready);
}

/* One complete server frame. */
static int on_frame(int ep, struct conn *c, const struct bws_frame *f)
{
    switch (f->opcode) {
    case BWS_OP_PING:
        return conn_send_frame(ep, c, BWS_OP_PONG, f->payload, f->len);
    case BWS_OP_PONG:
        return 0;
    case BWS_OP_CLOSE: {
        char why[64];
        int code = f->len >= 2 ? (f->payload[0] << 8 | f->payload[1]) : 1005;
        snprintf(why, sizeof why, "server closed with %d %.*s", code,
                 f->len > 2 ? (int)(f->len - 2 > 40 ? 40 : f->len - 2) : 0,
                 f->len > 2 ? (const char *)f->payload + 2 : "");
        conn_fail(ep, c, why);
        return 1;
    }
    default:
        break;
    }
    INC(me->frames);
    if (opt.eio && f->len == 1 && f->payload[0] == '2')
        return conn_send_frame(ep, c, BWS_OP_TEXT, "3", 1);  /* Engine.IO pong */
    if (!c->ready) {
        if (!opt.ready || memmem(f->payload, f->len, opt.ready, strlen(opt.ready)))
            conn_mark_ready(c);
    }
    const unsigned char *m = memmem(f->payload, f->len, "@@T", 3);
    if (!m)
        return 0;
    uint64_t t = 0;
    const unsigned char *end = f->payload + f->len;
    for (m += 3; m < end && *m >= '0' && *m <= '9'; m++)
        t = t * 10 + (uint64_t)(*m - '0');
    uint64_t now = now_ns();
    int ph = LOAD(shm->phase);
    if (ph < 0 || ph >= NPHASE)
        ph = 0;
    lat_hist_add(&me->hist[ph], now > t ? (now - t) / 1000u : 0);
    INC(me->recv[ph]);
    return 0;
}

/* Parses every complete frame in data; keeps a partial one in c->buf. */
static void on_bytes(int ep, struct conn *c, const unsigned char *data, size_t n)
{
    const unsigned char *p = data;
    size_t len = n;
    if (c->len > 0) {                     /* continue a partial frame */
        if (c->len + n > c->cap) {
            size_t cap = c->len + n;
            unsigned char *b = realloc(c->buf, cap);
            if (!b) {
                conn_fail(ep, c, "out of memory");
                return;
            }
            c->buf = b;
            c->cap = (uint32_t)cap;
        }
        memcpy(c->buf + c->len, data, n);
        c->len += (uint32_t)n;
        p = c->buf;
        len = c->len;
    }
    size_t off = 0;
    while (off < len) {
        struct bws_frame f;
        long used = bws_frame_parse(p + off, len - off, &f);
        if (used < 0) {
            conn_fail(ep, c, "invalid frame from server");
            INC(me->bad);
            return;
        }
        if (used == 0)
            break;
        int r = on_frame(ep, c, &f);
        if (r != 0) {
            if (r < 0)
                conn_fail(ep, c, "send failed");
            return;
        }
        off += (size_t)used;
    }
    size_t rest = len - off;
    if (rest == 0) {
        c->len = 0;
        if (c->cap > 4096) {
            free(c->buf);
            c->buf = NULL;
            c->cap = 0;
        }
        return;
    }
    if (p == c->buf) {
        memmove(c->buf, c->buf + off, rest);
    } else {
        if (rest > c->cap) {
            unsigned char *b = realloc(c->buf, rest);
            if (!b) {
                conn_fail(ep, c, "out of memory");
                return;
            }
            c->buf = b;
            c->cap = (uint32_t)rest;
        }
        memcpy(c->buf, p + off, rest);
    }
    c->len = (uint32_t)rest;
}

static int conn_start(int ep, struct conn *c, unsigned idx)
{
    memset(c, 0, sizeof *c);
    c->idx = idx;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        INC(me->failed);
        slot_error("socket: %s%s", strerror(errno), "");
        c->st = C_DEAD;
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Bind the source address only; the port is chosen at connect time per
     * 4-tuple, so several sources multiply the ephemeral range. */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = { .sin_family = AF_INET };
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(idx % (unsigned)opt.srcs));
    if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS)) {
        INC(me->failed);
        slot_error("connect: %s%s", strerror(errno), "");
        close(c->fd);
        c->fd = -1;
        c->st = C_DEAD;
        return -1;
    }
    c->st = C_CONNECTING;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void on_event(int ep, struct conn *c, uint32_t events, unsigned char *rbuf)
{
    if (c->st == C_DEAD || c->st == C_FREE)
        return;                          /* closed earlier in this batch */
    if (c->st == C_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            conn_fail(ep, c, strerror(e));
            return;
        }
        char path[2048], req[3072];
        if (expand(path_tmpl, c->idx, path, sizeof path) < 0 ||
            bws_request(req, sizeof req, host_port, path, ws_key, opt.protocol) < 0) {
            conn_fail(ep, c, "URL template too long or token failed");
            return;
        }
        c->st = C_HANDSHAKE;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        INC(me->connected);
        if (conn_send(ep, c, req, strlen(req)) < 0)
            conn_fail(ep, c, "send handshake");
        return;
    }
    if ((events & EPOLLOUT) && conn_flush(ep, c) < 0) {
        conn_fail(ep, c, "send");
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (int rounds = 0; rounds < 4 && c->st != C_DEAD; rounds++) {
        ssize_t n = recv(c->fd, rbuf, RBUF, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            conn_fail(ep, c, n == 0 ? "server closed the connection" : strerror(errno));
            return;
        }
        if (c->st == C_HANDSHAKE) {
            if (c->len + (size_t)n > c->cap) {
                size_t cap = c->len + (size_t)n;
                unsigned char *b = realloc(c->buf, cap);
                if (!b) {
                    conn_fail(ep, c, "out of memory");
                    return;
                }
                c->buf = b;
                c->cap = (uint32_t)cap;
            }
            memcpy(c->buf + c->len, rbuf, (size_t)n);
            c->len += (uint32_t)n;
            size_t hl = 0;
            char err[128];
            int r = bws_response_check((char *)c->buf, c->len, ws_accept, &hl, err, sizeof err);
            if (r < 0) {
                conn_fail(ep, c, err);
                return;
            }
            if (r == 0)
                continue;
            size_t rest = c->len - hl;
            unsigned char tail[RBUF];
            memcpy(tail, c->buf + hl, rest);
            free(c->buf);
            c->buf = NULL;
            c->len = c->cap = 0;
            c->st = C_OPEN;
            if (opt.init) {
                char msg[1024];
                if (expand(opt.init, c->idx, msg, sizeof msg) < 0 ||
                    conn_send_frame(ep, c, BWS_OP_TEXT, msg, strlen(msg)) < 0) {
                    conn_fail(ep, c, "send init message");
                    return;
                }
            } else if (!opt.ready) {
                conn_mark_ready(c);
            }
            if (rest > 0)
                on_bytes(ep, c, tail, rest);
            continue;
        }
        on_bytes(ep, c, rbuf, (size_t)n);
    }
}

static void loader_run(int id)
{
    me = &shm->slot[id];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    unsigned mine = 0;
    for (int i = id; i < opt.conns; i += opt.procs)
        mine++;
    struct conn *cs = calloc(mine ? mine : 1, sizeof *cs);
    unsigned char *rbuf = malloc(RBUF);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || !rbuf || ep < 0) {
        slot_error("loader setup failed%s%s", "", "");
        STORE(me->done, 1);
        _exit(1);
    }
    struct epoll_event evs[512];
    unsigned next = 0;
    int64_t deadline = ob_time_mono_ms() + (int64_t)opt.connect_timeout * 1000;
    int connecting_done = 0;
    while (!LOAD(shm->stop)) {
        /* Keep at most CONNECTING_MAX handshakes in flight: a burst larger
         * than the server's listen backlog only measures SYN retries. */
        if (next < mine) {
            unsigned pending = (unsigned)(next - (LOAD(me->ready) + LOAD(me->failed)));
            while (next < mine && pending < CONNECTING_MAX) {
                conn_start(ep, &cs[next], (unsigned)id + next * (unsigned)opt.procs);
                next++;
                pending++;
            }
        }
        if (!connecting_done) {
            uint64_t settled = LOAD(me->ready) + LOAD(me->failed);
            if (next == mine && settled >= mine) {
                connecting_done = 1;
                STORE(me->done, 1);
            } else if (ob_time_mono_ms() > deadline) {
                for (unsigned i = 0; i < next; i++)
                    if (!cs[i].ready && cs[i].st != C_DEAD)
                        conn_fail(ep, &cs[i], "not ready before --connect-timeout");
                for (; next < mine; next++)
                    INC(me->failed);
                connecting_done = 1;
                STORE(me->done, 1);
            }
        }
        int n = epoll_wait(ep, evs, 512, 50);
        for (int i = 0; i < n; i++)
            on_event(ep, evs[i].data.ptr, evs[i].events, rbuf);
    }
    /* Abortive close: no TIME_WAIT left behind on the loader's side, so the
     * next run starts with a clean ephemeral range. */
    struct linger lg = { 1, 0 };
    for (unsigned i = 0; i < mine; i++)
        if (cs[i].fd > 0 && cs[i].st != C_DEAD) {
            setsockopt(cs[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(cs[i].fd);
        }
    _exit(0);
}

/* ---- the parent: /proc readings, phases, the report --------------------- */

static long proc_cpu_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');      /* comm may hold spaces */
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    /* After ")": state(3) ... utime is field 14, stime 15. */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

static long proc_rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static uint64_t sum_recv(int phase)
{
    uint64_t s = 0;
    for (int i = 0; i < opt.procs; i++)
        s += LOAD(shm->slot[i].recv[phase]);
    return s;
}

static uint64_t sum_field(size_t off)
{
    uint64_t s = 0;
    for (int i = 0; i < opt.procs; i++)
        s += __atomic_load_n((uint64_t *)((char *)&shm->slot[i] + off), __ATOMIC_RELAXED);
    return s;
}
#define SUM(field) sum_field(offsetof(struct slot, field))

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static unsigned *live;       /* indices of ready connections */
static unsigned nlive;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned pick(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return live[rng % nlive];
}

static uint64_t seq;

static int publish_one(struct wspub *pub, char *err, size_t errlen)
{
    char to[64];
    if (opt.is_broadcast)
        snprintf(to, sizeof to, "%s", opt.room);
    else
        user_of(pick(), to, sizeof to);
    return wspub_send(pub, to, opt.is_broadcast, now_ns(), ++seq, err, errlen);
}

/* Waits until phase `ph` received `want` deliveries or timeout_ms passed;
 * returns the monotonic ms at which it stopped. */
static int64_t await_recv(int ph, uint64_t want, int timeout_ms)
{
    int64_t until = ob_time_mono_ms() + timeout_ms;
    while (sum_recv(ph) < want && ob_time_mono_ms() < until)
        sleep_ms(1);
    return ob_time_mono_ms();
}

static long children_ticks(const pid_t *kids)
{
    long t = 0;
    for (int i = 0; i < opt.procs; i++) {
        long k = proc_cpu_ticks(kids[i]);
        if (k > 0)
            t += k;
    }
    return t;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "server", 1, 0, 's' }, { "url", 1, 0, 'u' }, { "mode", 1, 0, 'm' },
        { "pub", 1, 0, 'p' }, { "room", 1, 0, 'r' }, { "init", 1, 0, 'I' },
        { "ready", 1, 0, 'R' }, { "protocol", 1, 0, 'P' }, { "jwt-key", 1, 0, 'k' },
        { "conns", 1, 0, 'n' }, { "procs", 1, 0, 'j' }, { "srcs", 1, 0, 'a' },
        { "eio", 0, 0, 'e' }, { "server-pid", 1, 0, 'S' }, { "lat-rate", 1, 0, 'L' },
        { "lat-secs", 1, 0, 'l' }, { "tput-secs", 1, 0, 't' }, { "window", 1, 0, 'w' },
        { "settle-ms", 1, 0, 'z' }, { "connect-timeout", 1, 0, 'T' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 's': opt.server = optarg; break;
        case 'u': opt.url = optarg; break;
        case 'm': opt.mode = optarg; break;
        case 'p': opt.pub = optarg; break;
        case 'r': opt.room = optarg; break;
        case 'I': opt.init = optarg; break;
        case 'R': opt.ready = optarg; break;
        case 'P': opt.protocol = optarg; break;
        case 'k': opt.jwt_key = optarg; break;
        case 'n': opt.conns = atoi(optarg); break;
        case 'j': opt.procs = atoi(optarg); break;
        case 'a': opt.srcs = atoi(optarg); break;
        case 'e': opt.eio = 1; break;
        case 'S': opt.server_pid = atoi(optarg); break;
        case 'L': opt.lat_rate = atof(optarg); break;
        case 'l': opt.lat_secs_ms = (int)(atof(optarg) * 1000); break;
        case 't': opt.tput_secs_ms = (int)(atof(optarg) * 1000); break;
        case 'w': opt.window = atol(optarg); break;
        case 'z': opt.settle_ms = atoi(optarg); break;
        case 'T': opt.connect_timeout = atoi(optarg); break;
        default: usage();
        }
    }
    if (!opt.server || !opt.url || !opt.mode || !opt.pub)
        usage();
    if (opt.conns < 1 || opt.conns > MAX_CONNS || opt.procs < 1 || opt.procs > MAX_PROCS ||
        opt.srcs < 1 || opt.srcs > 200 || opt.lat_rate <= 0 || opt.window < 1) {
        fprintf(stderr, "wsload: --conns 1..%d, --procs 1..%d, --srcs 1..200, positive rate/window\n",
                MAX_CONNS, MAX_PROCS);
        return 2;
    }
    opt.is_broadcast = !strcmp(opt.mode, "broadcast");
    if (!opt.is_broadcast && strcmp(opt.mode, "user") != 0)
        usage();
    int kind = wspub_kind_parse(opt.server);
    if (kind < 0)
        usage();

    /* ws://HOST:PORT/PATH */
    if (strncmp(opt.url, "ws://", 5) != 0) {
        fprintf(stderr, "wsload: --url must start with ws://\n");
        return 2;
    }
    const char *hp = opt.url + 5, *slash = strchr(hp, '/'), *colon = memchr(hp, ':', slash ? (size_t)(slash - hp) : 0);
    if (!slash || !colon || (size_t)(slash - hp) >= sizeof host_port) {
        fprintf(stderr, "wsload: --url wants ws://IPV4:PORT/PATH\n");
        return 2;
    }
    memcpy(host_port, hp, (size_t)(slash - hp));
    host_port[slash - hp] = '\0';
    path_tmpl = slash;
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - hp), hp);
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
        fprintf(stderr, "wsload: bad IPv4 address in --url\n");
        return 2;
    }
    char err[256];
    if (strstr(opt.url, "%t") || (opt.init && strstr(opt.init, "%t"))) {
        if (!opt.jwt_key) {
            fprintf(stderr, "wsload: %%t needs --jwt-key\n");
            return 2;
        }
        if (ob_keyfile_load(opt.jwt_key, jwt_key, sizeof jwt_key, err, sizeof err) < 0) {
            fprintf(stderr, "wsload: %s\n", err);
            return 1;
        }
    }
    if (bws_key_new(ws_key, ws_accept) < 0) {
        fprintf(stderr, "wsload: no randomness for the WebSocket key\n");
        return 1;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((rlim_t)(opt.conns / opt.procs + 64) > rl.rlim_cur) {
            fprintf(stderr, "wsload: %d connections per process exceed the fd limit %llu: raise --procs\n",
                    opt.conns / opt.procs + 1, (unsigned long long)rl.rlim_cur);
            return 2;
        }
    }

    struct wspub *pub = wspub_new((enum wspub_kind)kind, opt.pub, err, sizeof err);
    if (!pub) {
        fprintf(stderr, "wsload: publisher: %s\n", err);
        return 1;
    }
    if (wspub_check(pub, opt.is_broadcast ? opt.room : "u_b0000000", opt.is_broadcast,
                    err, sizeof err) < 0) {
        fprintf(stderr, "wsload: publisher: %s\n", err);
        wspub_free(pub);
        return 1;
    }

    shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        fprintf(stderr, "wsload: mmap: %s\n", strerror(errno));
        return 1;
    }
    long rss0 = opt.server_pid ? proc_rss_kb(opt.server_pid) : -1;
    int64_t t_conn0 = ob_time_mono_ms();
    pid_t kids[MAX_PROCS];
    for (int i = 0; i < opt.procs; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            loader_run(i);
        if (kids[i] < 0) {
            fprintf(stderr, "wsload: fork: %s\n", strerror(errno));
            STORE(shm->stop, 1);
            return 1;
        }
    }
    int all_done = 0;
    while (!all_done) {
        all_done = 1;
        for (int i = 0; i < opt.procs; i++)
            if (!LOAD(shm->slot[i].done))
                all_done = 0;
        sleep_ms(20);
    }
    double connect_s = (double)(ob_time_mono_ms() - t_conn0) / 1000.0;
    uint64_t ready = SUM(ready), failed = SUM(failed);
    fprintf(stderr, "wsload: %s %s: %llu of %d connections ready in %.1f s (%llu failed)\n",
            opt.server, opt.mode, (unsigned long long)ready, opt.conns, connect_s,
            (unsigned long long)failed);
    sleep_ms(opt.settle_ms);
    long rss1 = opt.server_pid ? proc_rss_kb(opt.server_pid) : -1;

    live = calloc((size_t)opt.conns, sizeof *live);
    for (int i = 0; live && i < opt.conns; i++)
        if (LOAD(shm->ready_map[i]))
            live[nlive++] = (unsigned)i;

    int ok = nlive > 0;
    uint64_t lat_pub = 0, tput_pub = 0, lat_recv = 0, tput_recv = 0;
    double tput_secs = 0, cpu_secs = -1, loader_cpu = -1;
    long tck = sysconf(_SC_CLK_TCK);
    uint64_t fan = opt.is_broadcast ? nlive : 1;

    if (ok) {
        /* Latency: paced, well below saturation. */
        STORE(shm->phase, 1);
        int64_t t0 = ob_time_mono_ms();
        long total = (long)(opt.lat_rate * opt.lat_secs_ms / 1000.0);
        if (total < 1)
            total = 1;
        for (long i = 0; i < total && ok; i++) {
            int64_t due = t0 + (int64_t)((double)i * 1000.0 / opt.lat_rate);
            int64_t wait = due - ob_time_mono_ms();
            if (wait > 0)
                sleep_ms(wait);
            if (publish_one(pub, err, sizeof err) < 0) {
                fprintf(stderr, "wsload: %s\n", err);
                ok = 0;
            }
            lat_pub++;
        }
        if (ok && wspub_drain(pub, 10000, err, sizeof err) < 0)
            fprintf(stderr, "wsload: %s\n", err);
        await_recv(1, lat_pub * fan, 10000);
        lat_recv = sum_recv(1);

        /* Throughput: as fast as the server delivers, with a bounded
         * number of deliveries outstanding so queues never grow without
         * limit (a slow-reader rule would otherwise close connections). */
        STORE(shm->phase, 2);
        long cpu0 = opt.server_pid ? proc_cpu_ticks(opt.server_pid) : -1;
        long lcpu0 = children_ticks(kids);
        int64_t s0 = ob_time_mono_ms(), s_end = s0 + opt.tput_secs_ms;
        uint64_t window = (uint64_t)opt.window;
        if (opt.is_broadcast && window < 2 * fan)
            window = 2 * fan;              /* two broadcasts in flight */
        while (ok && ob_time_mono_ms() < s_end) {
            long long outstanding = (long long)(tput_pub * fan) - (long long)sum_recv(2);
            if (outstanding + (long long)fan > (long long)window) {
                struct timespec ts = { 0, 100000 };
                nanosleep(&ts, NULL);
                continue;
            }
            if (publish_one(pub, err, sizeof err) < 0) {
                fprintf(stderr, "wsload: %s\n", err);
                ok = 0;
            }
            tput_pub++;
        }
        if (wspub_drain(pub, 10000, err, sizeof err) < 0)
            fprintf(stderr, "wsload: %s\n", err);
        int64_t s1 = await_recv(2, tput_pub * fan, 5000);
        long cpu1 = opt.server_pid ? proc_cpu_ticks(opt.server_pid) : -1;
        long lcpu1 = children_ticks(kids);
        tput_recv = sum_recv(2);
        tput_secs = (double)(s1 - s0) / 1000.0;
        if (cpu0 >= 0 && cpu1 >= 0)
            cpu_secs = (double)(cpu1 - cpu0) / (double)tck;
        loader_cpu = (double)(lcpu1 - lcpu0) / (double)tck;
    }

    STORE(shm->stop, 1);
    for (int i = 0; i < opt.procs; i++)
        waitpid(kids[i], NULL, 0);

    struct lat_hist *lat = calloc(1, sizeof *lat), *tp = calloc(1, sizeof *tp);
    char first_err[160] = "";
    for (int i = 0; lat && tp && i < opt.procs; i++) {
        lat_hist_merge(lat, &shm->slot[i].hist[1]);
        lat_hist_merge(tp, &shm->slot[i].hist[2]);
        if (!first_err[0] && shm->slot[i].err[0])
            snprintf(first_err, sizeof first_err, "%s", shm->slot[i].err);
    }
    for (char *q = first_err; *q; q++)
        if (*q == ' ' || *q == '"' || *q == '=')
            *q = '_';
    uint64_t closed = SUM(closed);
    double rate = tput_secs > 0 ? (double)tput_recv / tput_secs : 0;
    printf("wsload server=%s mode=%s conns=%d ready=%llu failed=%llu closed=%llu connect_s=%.2f "
           "rss_before_kb=%ld rss_after_kb=%ld rss_per_conn_b=%.0f "
           "lat_published=%llu lat_received=%llu lat_p50_us=%llu lat_p99_us=%llu lat_max_us=%llu "
           "tput_published=%llu tput_received=%llu tput_lost=%lld tput_secs=%.3f deliveries_per_s=%.0f "
           "tput_p50_us=%llu tput_p99_us=%llu server_cpu_s=%.2f cpu_ms_per_1k=%.3f "
           "deliveries_per_cpu_s=%.0f loader_cpu_s=%.2f refused=%lu error=%s\n",
           opt.server, opt.mode, opt.conns, (unsigned long long)ready, (unsigned long long)failed,
           (unsigned long long)closed, connect_s, rss0, rss1,
           rss0 >= 0 && rss1 >= 0 && ready ? (double)(rss1 - rss0) * 1024.0 / (double)ready : -1.0,
           (unsigned long long)lat_pub, (unsigned long long)lat_recv,
           (unsigned long long)(lat ? lat_hist_quantile(lat, 0.5) : 0),
           (unsigned long long)(lat ? lat_hist_quantile(lat, 0.99) : 0),
           (unsigned long long)(lat ? lat->max_us : 0),
           (unsigned long long)tput_pub, (unsigned long long)tput_recv,
           (long long)(tput_pub * fan) - (long long)tput_recv, tput_secs, rate,
           (unsigned long long)(tp ? lat_hist_quantile(tp, 0.5) : 0),
           (unsigned long long)(tp ? lat_hist_quantile(tp, 0.99) : 0),
           cpu_secs, cpu_secs >= 0 && tput_recv ? cpu_secs * 1e6 / (double)tput_recv : -1.0,
           cpu_secs > 0 ? (double)tput_recv / cpu_secs : -1.0, loader_cpu,
           wspub_refused(pub), first_err[0] ? first_err : "-");
    free(lat);
    free(tp);
    free(live);
    wspub_free(pub);
    munmap(shm, sizeof *shm);
    return ok ? 0 : 1;
}
