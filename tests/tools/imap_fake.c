/* imap_fake: a small scripted IMAP server (RFC 3501 subset, RFC 2177 IDLE)
 * on 127.0.0.1 that reproduces the server behaviours libetpan 1.9.4
 * mishandles (notes/clibs.md §1.12, Appendix B), for the onebox-syncd edge
 * case test.  Real servers (Dovecot) cannot be made to do these on demand.
 *
 *   imap_fake PORT DIR SCENARIO
 *
 * Messages: every file that appears in DIR/new is taken (in name order) as a
 * new message and removed; IDLE and NOOP clients get "* N EXISTS".  One
 * client at a time; the mailbox survives reconnects.  Each command line
 * received is printed to stdout as "C: <line>" (test passwords only).
 *
 * Scenarios:
 *   plain           a well-behaved server with IDLE
 *   noidle          no IDLE capability (the client must poll with NOOP)
 *   idle_buffered   the first IDLE is answered "+ idling" and "* 1 EXISTS"
 *                   in one write, with a message added at that moment
 *                   (the data sits in libetpan's buffer: epoll never fires)
 *   flags_idle      IDLE is answered "* FLAGS (...)" before "+ idling"
 *                   (libetpan 1.9.4 waits for its timeout)
 *   nostarttls      no STARTTLS capability (a STARTTLS account must refuse)
 *   badfetch        the body of UID 2 comes back unparsable
 *   status_empty    SELECT also sends "* STATUS INBOX ()" (CVE-2022-4121) */
#include "tool_listen.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_MSGS 1000
#define MSG_MAX (1024 * 1024)

struct msg {
    unsigned uid;
    char *raw;
    size_t len;
};

static struct msg msgs[MAX_MSGS];
static unsigned nmsgs, next_uid = 1, reported;
static const char *scenario, *dir;
static int cfd = -1, idles;
static volatile sig_atomic_t stop;

static void on_signal(int s) { (void)s; stop = 1; }

static int is(const char *s) { return strcmp(scenario, s) == 0; }

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0 && write(cfd, buf, (size_t)n) < 0)
        perror("imap_fake: write");
}

static void add_msg(const char *raw, size_t len)
{
    if (nmsgs == MAX_MSGS)
        return;
    msgs[nmsgs].uid = next_uid++;
    msgs[nmsgs].raw = malloc(len);
    memcpy(msgs[nmsgs].raw, raw, len);
    msgs[nmsgs].len = len;
    nmsgs++;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Takes the files dropped into DIR/new; returns how many. */
static int scan_new(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/new", dir);
    struct dirent **names;
    int n = scandir(path, &names, NULL, cmp_names), added = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char f[1024];
            snprintf(f, sizeof f, "%s/%s", path, names[i]->d_name);
            FILE *fp = fopen(f, "rb");
            if (fp) {
                static char buf[MSG_MAX];
                size_t len = fread(buf, 1, sizeof buf, fp);
                fclose(fp);
                add_msg(buf, len);
                unlink(f);
                added++;
            }
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return added;
}

static void report_exists(void)
{
    if (nmsgs != reported) {
        out("* %u EXISTS\r\n", nmsgs);
        reported = nmsgs;
    }
}

static const char *caps(void)
{
    if (is("noidle"))
        return "IMAP4rev1 STARTTLS AUTH=PLAIN";
    if (is("nostarttls"))
        return "IMAP4rev1 IDLE AUTH=PLAIN";
    return "IMAP4rev1 IDLE STARTTLS AUTH=PLAIN";
}

static void fetch_sizes(const char *tag, unsigned from, int by_uid)
{
    int any = 0;
    for (unsigned i = 0; i < nmsgs; i++) {
        int want = by_uid ? msgs[i].uid >= from : i + 1 >= from;
        /* "n:*" always matches the last message (RFC 3501 §6.4.8). */
        if (!want && i + 1 == nmsgs && !any)
            want = 1;
        if (!want)
            continue;
        any = 1;
        out("* %u FETCH (UID %u RFC822.SIZE %zu INTERNALDATE \"01-Jan-2026 10:00:00 +0100\")\r\n",
            i + 1, msgs[i].uid, msgs[i].len);
    }
    out("%s OK Fetch completed\r\n", tag);
}

static int in_set(const char *set, unsigned uid)
{
    const char *p = set;
    while (*p) {
        unsigned a = (unsigned)strtoul(p, (char **)&p, 10), b = a;
        if (*p == ':') {
            p++;
            if (*p == '*') {
                b = ~0u;
                p++;
            } else {
                b = (unsigned)strtoul(p, (char **)&p, 10);
            }
        }
        if (uid >= a && uid <= b)
            return 1;
        if (*p != ',')
            break;
        p++;
    }
    return 0;
}

static void fetch_bodies(const char *tag, const char *set, size_t partial)
{
    for (unsigned i = 0; i < nmsgs; i++) {
        if (!in_set(set, msgs[i].uid))
            continue;
        if (is("badfetch") && msgs[i].uid == 2) {
            out("* %u FETCH (UID %u BODY[] (this is not a literal))\r\n", i + 1, msgs[i].uid);
            continue;
        }
        size_t len = partial && partial < msgs[i].len ? partial : msgs[i].len;
        if (partial)
            out("* %u FETCH (UID %u BODY[]<0> {%zu}\r\n", i + 1, msgs[i].uid, len);
        else
            out("* %u FETCH (UID %u BODY[] {%zu}\r\n", i + 1, msgs[i].uid, len);
        if (write(cfd, msgs[i].raw, len) < 0)
            perror("imap_fake: write");
        out(")\r\n");
    }
    out("%s OK Fetch completed\r\n", tag);
}

/* Reads one line (without CRLF) from the client, watching DIR/new while
 * idling.  Returns the length, or -1 when the client is gone. */
static int read_line(char *buf, size_t cap, int idling)
{
    static char in[65536];
    static size_t inlen;
    for (;;) {
        char *nl = memchr(in, '\n', inlen);
        if (nl) {
            size_t l = (size_t)(nl - in);
            size_t c = l < cap - 1 ? l : cap - 1;
            memcpy(buf, in, c);
            buf[c] = '\0';
            if (c > 0 && buf[c - 1] == '\r')
                buf[--c] = '\0';
            memmove(in, nl + 1, inlen - l - 1);
            inlen -= l + 1;
            return (int)c;
        }
        struct pollfd p = { .fd = cfd, .events = POLLIN };
        int r = poll(&p, 1, 200);
        if (stop)
            return -1;
        if (r == 0) {
            if (idling && scan_new())
                report_exists();
            continue;
        }
        ssize_t n = read(cfd, in + inlen, sizeof in - inlen);
        if (n <= 0) {
            inlen = 0;
            return -1;
        }
        inlen += (size_t)n;
    }
}

static void serve(void)
{
    reported = nmsgs;
    out("* OK [CAPABILITY %s] imap_fake ready\r\n", caps());
    char line[8192], tag[64], cmd[64];
    while (read_line(line, sizeof line, 0) >= 0) {
        printf("C: %s\n", line);
        fflush(stdout);
        char *rest = NULL;
        if (sscanf(line, "%63s %63s", tag, cmd) != 2)
            continue;
        rest = strstr(line, cmd) + strlen(cmd);
        while (*rest == ' ')
            rest++;
        if (!strcasecmp(cmd, "CAPABILITY")) {
            out("* CAPABILITY %s\r\n%s OK done\r\n", caps(), tag);
        } else if (!strcasecmp(cmd, "LOGIN")) {
            out("%s OK [CAPABILITY %s] Logged in\r\n", tag, caps());
        } else if (!strcasecmp(cmd, "SELECT") || !strcasecmp(cmd, "EXAMINE")) {
            scan_new();
            reported = nmsgs;
            out("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* %u EXISTS\r\n"
                "* 0 RECENT\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\n* OK [UIDNEXT %u] next\r\n",
                nmsgs, next_uid);
            if (is("status_empty"))
                out("* STATUS INBOX ()\r\n");
            out("%s OK [READ-WRITE] Select completed\r\n", tag);
        } else if (!strcasecmp(cmd, "FETCH")) {
            fetch_sizes(tag, (unsigned)strtoul(rest, NULL, 10), 0);
        } else if (!strcasecmp(cmd, "UID") && !strncasecmp(rest, "FETCH ", 6)) {
            char set[4096];
            sscanf(rest + 6, "%4095s", set);
            const char *partial = strstr(rest, "BODY.PEEK[]<0.");
            if (strstr(rest, "BODY.PEEK[]"))
                fetch_bodies(tag, set, partial ? strtoul(partial + 14, NULL, 10) : 0);
            else
                fetch_sizes(tag, (unsigned)strtoul(set, NULL, 10), 1);
        } else if (!strcasecmp(cmd, "IDLE")) {
            idles++;
            if (is("flags_idle")) {
                out("* FLAGS (\\Seen)\r\n+ idling\r\n");
            } else if (is("idle_buffered") && idles == 1) {
                static const char m[] = "From: fake@example.org\r\nSubject: buffered exists\r\n"
                                        "Message-ID: <buffered@fake>\r\n\r\nhello\r\n";
                add_msg(m, sizeof m - 1);
                reported = nmsgs;
                out("+ idling\r\n* %u EXISTS\r\n", nmsgs);
            } else {
                out("+ idling\r\n");
            }
            int l;
            while ((l = read_line(line, sizeof line, 1)) >= 0 && strcasecmp(line, "DONE") != 0)
                ;
            if (l < 0)
                return;
            printf("C: DONE\n");
            fflush(stdout);
            out("%s OK Idle completed\r\n", tag);
        } else if (!strcasecmp(cmd, "NOOP")) {
            scan_new();
            report_exists();
            out("%s OK NOOP completed\r\n", tag);
        } else if (!strcasecmp(cmd, "LOGOUT")) {
            out("* BYE bye\r\n%s OK Logout completed\r\n", tag);
            return;
        } else {
            out("%s BAD unknown command\r\n", tag);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: imap_fake PORT DIR SCENARIO\n");
        return 2;
    }
    dir = argv[2];
    scenario = argv[3];
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int ls = tool_listen_loopback(argv[1], 4);
    if (ls < 0) {
        perror("imap_fake: listen");
        return 1;
    }
    printf("listening on 127.0.0.1:%s (%s)\n", argv[1], scenario);
    fflush(stdout);
    scan_new();
    while (!stop) {
        struct pollfd p = { .fd = ls, .events = POLLIN };
        if (poll(&p, 1, 200) <= 0)
            continue;
        cfd = accept(ls, NULL, NULL);
        if (cfd < 0)
            continue;
        printf("connection\n");
        fflush(stdout);
        serve();
        close(cfd);
        cfd = -1;
        printf("closed\n");
        fflush(stdout);
    }
    for (unsigned i = 0; i < nmsgs; i++)
        free(msgs[i].raw);
    close(ls);
    return 0;
}
