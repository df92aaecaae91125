/* imap_inject: fills a test mailbox fast — IMAP MULTIAPPEND (RFC 3502) with
 * non-synchronizing literals (RFC 7888 LITERAL+) over a plain connection to
 * 127.0.0.1, hundreds of messages per command, no \Seen flag.  For the
 * onebox-syncd integration tests and benchmarks (doveadm save costs one
 * process per message).
 *
 *   imap_inject PORT USER PASS COUNT PREFIX [BODY_BYTES]
 *
 * Message i (1..COUNT) has Subject "PREFIX i" and a unique Message-ID; the
 * body is padded to about BODY_BYTES (default 200).  Exit 0 when the server
 * accepted every message, 1 otherwise. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PER_COMMAND 200

static int fd = -1;
static char rbuf[65536];
static size_t rlen;

static int send_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until a line starting with tag (or "* BYE") arrives; 0 if it is OK. */
static int wait_tag(const char *tag)
{
    size_t tl = strlen(tag);
    for (;;) {
        char *nl;
        while ((nl = memchr(rbuf, '\n', rlen)) != NULL) {
            size_t ll = (size_t)(nl - rbuf) + 1;
            int done = ll > tl + 1 && strncmp(rbuf, tag, tl) == 0 && rbuf[tl] == ' ';
            int ok = done && strncmp(rbuf + tl + 1, "OK", 2) == 0;
            if (done && !ok)
                fprintf(stderr, "imap_inject: %.*s", (int)ll, rbuf);
            memmove(rbuf, rbuf + ll, rlen - ll);
            rlen -= ll;
            if (done)
                return ok ? 0 : -1;
        }
        if (rlen == sizeof rbuf)
            rlen = 0;
        ssize_t r = read(fd, rbuf + rlen, sizeof rbuf - rlen);
        if (r <= 0) {
            fprintf(stderr, "imap_inject: connection closed\n");
            return -1;
        }
        rlen += (size_t)r;
    }
}

static char *make_msg(const char *prefix, long i, size_t body, size_t *len)
{
    size_t cap = body + 1024;
    char *m = malloc(cap);
    if (!m)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(m, cap,
                     "From: Injector <inject@example.org>\r\n"
                     "To: someone@example.com\r\n"
                     "Subject: %s %ld\r\n"
                     "Message-ID: <inject.%ld.%ld.%ld.%d@onebox.test>\r\n"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                     "Message %ld of a bulk injection.\r\n",
                     prefix, i, i, (long)ts.tv_sec, ts.tv_nsec, (int)getpid(), i);
    size_t o = (size_t)n;
    static const char pad[] = "onebox sync test padding line, to make messages the size asked for.\r\n";
    while (o + sizeof pad < body + (size_t)n && o + sizeof pad < cap) {
        memcpy(m + o, pad, sizeof pad - 1);
        o += sizeof pad - 1;
    }
    *len = o;
    return m;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: imap_inject PORT USER PASS COUNT PREFIX [BODY_BYTES]\n");
        return 1;
    }
    long count = strtol(argv[4], NULL, 10);
    size_t body = argc > 6 ? (size_t)strtoul(argv[6], NULL, 10) : 200;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("imap_inject: connect");
        return 1;
    }
    char line[1024];
    snprintf(line, sizeof line, "L LOGIN \"%s\" \"%s\"\r\n", argv[2], argv[3]);
    if (send_all(line, strlen(line)) < 0 || wait_tag("L") < 0)
        return 1;
    long i = 1;
    int tagn = 0;
    while (i <= count) {
        char tag[16];
        snprintf(tag, sizeof tag, "A%d", tagn++);
        snprintf(line, sizeof line, "%s APPEND INBOX", tag);
        if (send_all(line, strlen(line)) < 0)
            return 1;
        for (int k = 0; k < PER_COMMAND && i <= count; k++, i++) {
            size_t len;
            char *m = make_msg(argv[5], i, body, &len);
            if (!m)
                return 1;
            snprintf(line, sizeof line, " () {%zu+}\r\n", len);
            int r = send_all(line, strlen(line)) < 0 || send_all(m, len) < 0;
            free(m);
            if (r)
                return 1;
        }
        if (send_all("\r\n", 2) < 0 || wait_tag(tag) < 0)
            return 1;
    }
    send_all("Z LOGOUT\r\n", 10);
    wait_tag("Z");
    close(fd);
    return 0;
}
