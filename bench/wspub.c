/* wspub: per-server publishers for the fan-out benchmark; see wspub.h. */
#include "wspub.h"

#include "ob_event.h"
#include "ob_sock.h"
#include "ob_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPELINE_MAX 64        /* nchan requests in flight on the connection */
#define RBUF_CAP 65536

struct wspub {
    enum wspub_kind kind;
    int fd;
    char host[64];
    unsigned long inflight, refused;
    char rbuf[RBUF_CAP];
    size_t rlen;
};

int wspub_kind_parse(const char *name)
{
    if (!strcmp(name, "onebox"))
        return WSPUB_ONEBOX;
    if (!strcmp(name, "nchan"))
        return WSPUB_NCHAN;
    if (!strcmp(name, "sio"))
        return WSPUB_SIO;
    return -1;
}

static int tcp_connect(const char *hostport, char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(err, errlen, "bad address '%s' (want 127.0.0.1:PORT)", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "bad IPv4 address '%s'", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(err, errlen, "connect %s: %s", hostport, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

struct wspub *wspub_new(enum wspub_kind kind, const char *target, char *err, size_t errlen)
{
    struct wspub *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->kind = kind;
    if (kind == WSPUB_NCHAN) {
        p->fd = tcp_connect(target, err, errlen);
        snprintf(p->host, sizeof p->host, "%s", target);
    } else {
        /* Non-blocking: write_all waits in poll(), so a sidecar that
         * pushes back paces the publisher. */
        p->fd = ob_sock_connect_unix(target, 5000);
        if (p->fd < 0)
            snprintf(err, errlen, "connect %s: %s", target, strerror(errno));
    }
    if (p->fd < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void wspub_free(struct wspub *p)
{
    if (!p)
        return;
    if (p->fd >= 0)
        close(p->fd);
    free(p);
}

static int write_all(struct wspub *p, const char *buf, size_t n, char *err, size_t errlen)
{
    while (n > 0) {
        ssize_t w = send(p->fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { .fd = p->fd, .events = POLLOUT };
            if (poll(&pf, 1, 10000) <= 0) {
                snprintf(err, errlen, "publish: server stopped reading for 10 s");
                return -1;
            }
            continue;
        }
        snprintf(err, errlen, "publish: %s", w < 0 ? strerror(errno) : "short write");
        return -1;
    }
    return 0;
}

/* Consumes complete HTTP responses in rbuf; returns how many, -1 if garbled. */
static long parse_responses(struct wspub *p)
{
    long got = 0;
    size_t off = 0;
    for (;;) {
        char *head = p->rbuf + off;
        size_t avail = p->rlen - off;
        char *end = memmem(head, avail, "\r\n\r\n", 4);
        if (!end)
            break;
        size_t hlen = (size_t)(end - head) + 4;
        if (avail < 12 || strncmp(head, "HTTP/1.1 ", 9) != 0)
            return -1;
        int status = atoi(head + 9);
        long clen = 0;
        char *cl = NULL;
        for (char *q = head; q && q < end; q = memchr(q, '\n', (size_t)(end - q))) {
            if (*q == '\n')
                q++;
            if (strncasecmp(q, "Content-Length:", 15) == 0) {
                cl = q + 15;
                break;
            }
        }
        if (cl)
            clen = strtol(cl, NULL, 10);
        if (clen < 0 || clen > RBUF_CAP / 2)
            return -1;
        if (avail < hlen + (size_t)clen)
            break;
        if (status < 200 || status > 299)
            p->refused++;
        off += hlen + (size_t)clen;
        got++;
    }
    memmove(p->rbuf, p->rbuf + off, p->rlen - off);
    p->rlen -= off;
    return got;
}

/* Reads what the nchan connection has; blocks up to timeout_ms when asked. */
static int read_responses(struct wspub *p, int timeout_ms, char *err, size_t errlen)
{
    struct pollfd pf = { .fd = p->fd, .events = POLLIN };
    int r = poll(&pf, 1, timeout_ms);
    if (r < 0 && errno != EINTR) {
        snprintf(err, errlen, "publish poll: %s", strerror(errno));
        return -1;
    }
    if (r <= 0)
        return 0;
    ssize_t n = recv(p->fd, p->rbuf + p->rlen, RBUF_CAP - p->rlen, MSG_DONTWAIT);
    if (n == 0) {
        snprintf(err, errlen, "publish: nchan closed the connection");
        return -1;
    }
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    p->rlen += (size_t)n;
    long got = parse_responses(p);
    if (got < 0) {
        snprintf(err, errlen, "publish: garbled HTTP response");
        return -1;
    }
    p->inflight -= (unsigned long)got;
    return 0;
}

/* Formats the message for p's server into line; returns its length or -1. */
static int format_msg(const struct wspub *p, const char *to, int is_room, uint64_t t_ns,
                      uint64_t seq, char *line, size_t cap)
{
    char ts[OB_TIME_ISO_LEN], body[128];
    unsigned long long t = (unsigned long long)t_ns, s = (unsigned long long)seq;
    int n = -1;
    switch (p->kind) {
    case WSPUB_ONEBOX:
        ob_time_iso_now(ts);
        if (is_room)
            n = snprintf(line, cap,
                         "{\"v\":1,\"type\":\"message\",\"room\":\"%s\",\"topic\":\"rooms\","
                         "\"ts\":\"%s\",\"data\":{\"content\":\"@@T%llu\",\"seq\":%llu}}\n",
                         to, ts, t, s);
        else
            n = snprintf(line, cap,
                         "{\"v\":1,\"type\":\"sync_progress\",\"user\":\"%s\",\"topic\":\"sync\","
                         "\"ts\":\"%s\",\"data\":{\"userId\":\"%s\","
                         "\"email\":\"@@T%llu@bench.invalid\",\"fetched\":%llu,\"total\":0}}\n",
                         to, ts, to, t, s);
        break;
    case WSPUB_SIO:
        n = snprintf(line, cap, "{\"to\":\"%s\",\"data\":{\"email\":\"@@T%llu\",\"seq\":%llu}}\n",
                     to, t, s);
        break;
    case WSPUB_NCHAN: {
        int bn = snprintf(body, sizeof body, "{\"email\":\"@@T%llu\",\"seq\":%llu}", t, s);
        n = snprintf(line, cap,
                     "POST /pub/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s", to, p->host, bn, body);
        break;
    }
    }
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int wspub_send(struct wspub *p, const char *to, int is_room, uint64_t t_ns, uint64_t seq,
               char *err, size_t errlen)
{
    char line[1024];
    int n = format_msg(p, to, is_room, t_ns, seq, line, sizeof line);
    if (n < 0) {
        snprintf(err, errlen, "publish: recipient name too long");
        return -1;
    }
    while (p->kind == WSPUB_NCHAN && p->inflight >= PIPELINE_MAX)
        if (read_responses(p, 10000, err, errlen) < 0)
            return -1;
    if (write_all(p, line, (size_t)n, err, errlen) < 0)
        return -1;
    if (p->kind == WSPUB_NCHAN) {
        p->inflight++;
        if (read_responses(p, 0, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int wspub_check(const struct wspub *p, const char *to, int is_room, char *err, size_t errlen)
{
    char line[1024];
    int n = format_msg(p, to, is_room, 1, 1, line, sizeof line);
    if (n < 0) {
        snprintf(err, errlen, "recipient '%s' too long", to);
        return -1;
    }
    if (p->kind != WSPUB_ONEBOX)
        return 0;
    struct ob_event ev;
    char why[160];
    if (ob_event_parse(line, (size_t)n - 1, &ev, why, sizeof why) < 0) {
        snprintf(err, errlen, "events.sock line refused by ob_event_parse: %s", why);
        return -1;
    }
    ob_event_clear(&ev);
    return 0;
}

int wspub_drain(struct wspub *p, int timeout_ms, char *err, size_t errlen)
{
    int64_t until = ob_time_mono_ms() + timeout_ms;
    while (p->kind == WSPUB_NCHAN && p->inflight > 0) {
        int64_t left = until - ob_time_mono_ms();
        if (left <= 0) {
            snprintf(err, errlen, "publish: %lu nchan requests unanswered", p->inflight);
            return -1;
        }
        if (read_responses(p, (int)left, err, errlen) < 0)
            return -1;
    }
    return 0;
}

unsigned long wspub_refused(const struct wspub *p)
{
    return p->refused;
}
