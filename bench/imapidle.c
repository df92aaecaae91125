/* imapidle: the IDLE-latency benchmark client (IMAP4rev1 RFC 3501, IDLE
 * RFC 2177, LITERAL+ RFC 7888; WebSocket RFC 6455 through bws.c).
 *
 * Three connections: an appender, a plain IMAP client sitting in IDLE on
 * INBOX, and (with --ws) a WebSocket to onebox-realtime as the mailbox's
 * onebox user.  Each sample APPENDs one message and waits for both the
 * plain client's "* N EXISTS" and the WebSocket's new_email carrying that
 * message's subject.  The plain client measures Dovecot's own notify delay
 * (the ~0.5 s floor) in the same sample, so
 *   overhead = WebSocket arrival - plain IDLE arrival
 * is what onebox adds after Dovecot's notification: syncd's wake-up, fetch,
 * decode, categorize, store, events.sock, realtime, the WebSocket frame.
 *
 *   imapidle --port P --user U --pass PW [--samples N]
 *            [--ws ws://127.0.0.1:PORT/ws?token=JWT]
 * Prints "imapidle key=value ..." (milliseconds). */
#include "bws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 262144

struct io {
    int fd;
    char buf[BUF];
    size_t len;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int tcp_connect(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "imapidle: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more into io within timeout_ms; -1 on error/EOF/timeout. */
static int fill(struct io *io, int timeout_ms)
{
    struct pollfd pf = { .fd = io->fd, .events = POLLIN };
    if (io->len >= BUF - 1 || poll(&pf, 1, timeout_ms) <= 0)
        return -1;
    ssize_t n = recv(io->fd, io->buf + io->len, BUF - 1 - io->len, 0);
    if (n <= 0)
        return -1;
    io->len += (size_t)n;
    io->buf[io->len] = '\0';
    return 0;
}

/* Takes one CRLF line out of io into line (NUL-terminated, without CRLF);
 * 1 if there was one, 0 if not yet. */
static int take_line(struct io *io, char *line, size_t cap)
{
    char *e = memmem(io->buf, io->len, "\r\n", 2);
    if (!e)
        return 0;
    size_t n = (size_t)(e - io->buf);
    snprintf(line, cap, "%.*s", (int)(n < cap ? n : cap - 1), io->buf);
    memmove(io->buf, e + 2, io->len - n - 2);
    io->len -= n + 2;
    io->buf[io->len] = '\0';
    return 1;
}

/* Waits for a line starting with prefix; fails on a tagged NO/BAD. */
static int expect_line(struct io *io, const char *prefix, const char *tag)
{
    char line[1024];
    double until = now_ms() + 10000;
    for (;;) {
        while (take_line(io, line, sizeof line)) {
            if (!strncmp(line, prefix, strlen(prefix)))
                return 0;
            if (tag && !strncmp(line, tag, strlen(tag))) {
                fprintf(stderr, "imapidle: server said: %s\n", line);
                return -1;
            }
        }
        if (now_ms() > until || fill(io, 10000) < 0) {
            fprintf(stderr, "imapidle: no '%s' from the server\n", prefix);
            return -1;
        }
    }
}

static int imap_login(struct io *io, int port, const char *user, const char *pass)
{
    char cmd[512];
    io->len = 0;
    io->fd = tcp_connect(port);
    if (io->fd < 0 || expect_line(io, "* OK", NULL) < 0)
        return -1;
    snprintf(cmd, sizeof cmd, "l LOGIN \"%s\" \"%s\"\r\n", user, pass);
    if (send_all(io->fd, cmd, strlen(cmd)) < 0 || expect_line(io, "l OK", "l ") < 0)
        return -1;
    return 0;
}

static int ws_open(struct io *io, const char *url)
{
    char hostport[64], key[BWS_KEY_LEN + 1], acc[BWS_ACCEPT_LEN + 1], req[4096], err[160];
    const char *hp = url + 5, *slash = strchr(hp, '/');
    if (strncmp(url, "ws://", 5) != 0 || !slash || (size_t)(slash - hp) >= sizeof hostport) {
        fprintf(stderr, "imapidle: --ws wants ws://127.0.0.1:PORT/PATH\n");
        return -1;
    }
    snprintf(hostport, sizeof hostport, "%.*s", (int)(slash - hp), hp);
    const char *colon = strchr(hostport, ':');
    io->len = 0;
    io->fd = colon ? tcp_connect(atoi(colon + 1)) : -1;
    if (io->fd < 0 || bws_key_new(key, acc) < 0 ||
        bws_request(req, sizeof req, hostport, slash, key, NULL) < 0 ||
        send_all(io->fd, req, strlen(req)) < 0)
        return -1;
    for (;;) {
        size_t hl;
        int r = bws_response_check(io->buf, io->len, acc, &hl, err, sizeof err);
        if (r < 0) {
            fprintf(stderr, "imapidle: WebSocket: %s\n", err);
            return -1;
        }
        if (r == 1) {
            memmove(io->buf, io->buf + hl, io->len - hl);
            io->len -= hl;
            return 0;
        }
        if (fill(io, 10000) < 0) {
            fprintf(stderr, "imapidle: WebSocket handshake timed out\n");
            return -1;
        }
    }
}

/* Consumes whole frames; returns 1 if one contained both needles. */
static int ws_scan(struct io *io, const char *n1, const char *n2)
{
    int hit = 0;
    size_t off = 0;
    for (;;) {
        struct bws_frame f;
        long used = bws_frame_parse((unsigned char *)io->buf + off, io->len - off, &f);
        if (used <= 0) {
            if (used < 0)
                io->len = off = 0;         /* garbage: drop it */
            break;
        }
        if (f.opcode == BWS_OP_PING) {
            unsigned char pong[160];
            long pl = bws_frame_build(pong, sizeof pong, BWS_OP_PONG, f.payload, f.len);
            if (pl > 0)
                send_all(io->fd, pong, (size_t)pl);
        } else if (memmem(f.payload, f.len, n1, strlen(n1)) &&
                   memmem(f.payload, f.len, n2, strlen(n2))) {
            hit = 1;
        }
        off += (size_t)used;
    }
    memmove(io->buf, io->buf + off, io->len - off);
    io->len -= off;
    return hit;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double q)
{
    if (n == 0)
        return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i = (int)(q * n + 0.5) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static struct io app, idl, ws;

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "port", 1, 0, 'p' }, { "user", 1, 0, 'u' }, { "pass", 1, 0, 'P' },
        { "samples", 1, 0, 'n' }, { "ws", 1, 0, 'w' }, { 0, 0, 0, 0 }
    };
    const char *user = NULL, *pass = NULL, *wsurl = NULL;
    int port = 0, samples = 50, ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'p': port = atoi(optarg); break;
        case 'u': user = optarg; break;
        case 'P': pass = optarg; break;
        case 'n': samples = atoi(optarg); break;
        case 'w': wsurl = optarg; break;
        default: return 2;
        }
    }
    if (!port || !user || !pass || samples < 1 || samples > 10000) {
        fprintf(stderr, "usage: imapidle --port P --user U --pass PW [--samples N] [--ws URL]\n");
        return 2;
    }
    if (imap_login(&app, port, user, pass) < 0 || imap_login(&idl, port, user, pass) < 0)
        return 1;
    if (send_all(idl.fd, "s SELECT INBOX\r\n", 16) < 0 || expect_line(&idl, "s OK", "s ") < 0 ||
        send_all(idl.fd, "i IDLE\r\n", 8) < 0 || expect_line(&idl, "+", "i ") < 0)
        return 1;
    if (wsurl && ws_open(&ws, wsurl) < 0)
        return 1;
    if (wsurl) {
        double until = now_ms() + 10000;
        while (!ws_scan(&ws, "\"connected\"", "\"connected\"")) {
            if (now_ms() > until || fill(&ws, 10000) < 0) {
                fprintf(stderr, "imapidle: no `connected` on the WebSocket\n");
                return 1;
            }
        }
    }
    double *floor_ms = calloc((size_t)samples, sizeof(double));
    double *ws_ms = calloc((size_t)samples, sizeof(double));
    double *over_ms = calloc((size_t)samples, sizeof(double));
    if (!floor_ms || !ws_ms || !over_ms)
        return 1;
    int nf = 0, nw = 0, missed = 0;
    unsigned nonce = (unsigned)time(NULL) ^ (unsigned)getpid();
    for (int i = 0; i < samples; i++) {
        char subj[96], msg[1024], cmd[128], line[1024];
        snprintf(subj, sizeof subj, "bench-idle-%d-%u", i, nonce);
        int mn = snprintf(msg, sizeof msg,
                          "From: Latency Probe <probe@example.org>\r\nTo: %s@bench.invalid\r\n"
                          "Subject: %s\r\nMessage-ID: <%s@example.org>\r\n"
                          "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
                          "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                          "Could we meet on Tuesday to go over the proposal?\r\n", user, subj, subj);
        snprintf(cmd, sizeof cmd, "a%d APPEND INBOX {%d+}\r\n", i, mn);
        double t0 = now_ms(), t_idle = -1, t_ws = wsurl ? -1 : 0;
        if (send_all(app.fd, cmd, strlen(cmd)) < 0 || send_all(app.fd, msg, (size_t)mn) < 0 ||
            send_all(app.fd, "\r\n", 2) < 0) {
            fprintf(stderr, "imapidle: APPEND failed\n");
            return 1;
        }
        char tag[16];
        snprintf(tag, sizeof tag, "a%d OK", i);
        int appended = 0;
        while ((t_idle < 0 || t_ws < 0 || !appended) && now_ms() - t0 < 10000) {
            struct pollfd pf[3] = { { app.fd, POLLIN, 0 }, { idl.fd, POLLIN, 0 },
                                    { wsurl ? ws.fd : -1, POLLIN, 0 } };
            if (poll(pf, 3, 100) < 0 && errno != EINTR)
                return 1;
            double t = now_ms();
            if ((pf[0].revents & POLLIN) && fill(&app, 0) == 0)
                while (take_line(&app, line, sizeof line))
                    if (!strncmp(line, tag, strlen(tag)))
                        appended = 1;
            if ((pf[1].revents & POLLIN) && fill(&idl, 0) == 0)
                while (take_line(&idl, line, sizeof line))
                    if (t_idle < 0 && strstr(line, " EXISTS"))
                        t_idle = t;
            if (wsurl && (pf[2].revents & POLLIN) && fill(&ws, 0) == 0 && t_ws < 0 &&
                ws_scan(&ws, "new_email", subj))
                t_ws = t;
        }
        if (t_idle < 0 || t_ws < 0) {
            missed++;
            continue;
        }
        fprintf(stderr, "imapidle: sample %d: plain IDLE %.2f ms, WebSocket %.2f ms\n", i,
                t_idle - t0, wsurl ? t_ws - t0 : 0.0);
        floor_ms[nf++] = t_idle - t0;
        if (wsurl) {
            ws_ms[nw] = t_ws - t0;
            over_ms[nw++] = t_ws - t_idle;
        }
        /* Each session's own sync after a notification (new/ -> cur/, the
         * uidlist) re-arms Dovecot's 0.5 s notify timer; a message landing
         * while that timer runs is announced early.  A gap of 0.8 s lets
         * every session's timer lapse, so each sample sees the same floor. */
        struct timespec gap = { 0, 800000000 };
        nanosleep(&gap, NULL);
    }
    double omax = -1e9;
    for (int i = 0; i < nw; i++)
        if (over_ms[i] > omax)
            omax = over_ms[i];
    printf("imapidle samples=%d missed=%d floor_p50_ms=%.2f floor_p99_ms=%.2f", samples, missed,
           pct(floor_ms, nf, 0.5), pct(floor_ms, nf, 0.99));
    if (wsurl)
        printf(" ws_p50_ms=%.2f ws_p99_ms=%.2f over_p50_ms=%.2f over_p99_ms=%.2f over_max_ms=%.2f",
               pct(ws_ms, nw, 0.5), pct(ws_ms, nw, 0.99), pct(over_ms, nw, 0.5),
               pct(over_ms, nw, 0.99), nw ? omax : -1.0);
    printf("\n");
    free(floor_ms);
    free(ws_ms);
    free(over_ms);
    close(app.fd);
    close(idl.fd);
    if (wsurl)
        close(ws.fd);
    return missed == samples ? 1 : 0;
}
