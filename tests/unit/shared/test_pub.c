/* test_pub: the events.sock publisher never blocks its caller — with nobody
 * listening, with a full queue — and delivers every queued line, once and in
 * order, to a listener that appears late or restarts. */
#include "../unit.h"
#include "ob_linebuf.h"
#include "ob_pub.h"
#include "ob_sock.h"
#include "ob_time.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char dir[] = "/tmp/ob_pubXXXXXX";
static char sock[300];

struct rx { int n; int last; int in_order; };

static void on_line(void *ctx, char *line, size_t len)
{
    struct rx *r = ctx;
    int k = -1;
    (void)len;
    sscanf(line, "{\"k\":%d}", &k);
    if (k < 1 || (r->last >= 0 && k != r->last + 1))
        r->in_order = 0;      /* torn or out of order */
    r->last = k;
    r->n++;
}

/* Accepts connections on ls and reads lines until `want` arrived or
 * timeout_ms passed; returns the count. */
static int receive(int ls, struct rx *r, int want, int timeout_ms, int close_after)
{
    int64_t end = ob_time_mono_ms() + timeout_ms;
    int fd = -1;
    struct ob_linebuf lb;
    ob_linebuf_init(&lb, 4096);
    while (r->n < want && ob_time_mono_ms() < end) {
        if (fd < 0) {
            struct pollfd p = { .fd = ls, .events = POLLIN };
            if (poll(&p, 1, 50) == 1)
                fd = accept(ls, NULL, NULL);
            continue;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 50) != 1)
            continue;
        char buf[4096];
        ssize_t n = read(fd, buf, close_after ? 1 : sizeof buf);
        if (n <= 0) {
            close(fd);
            fd = -1;
            continue;
        }
        ob_linebuf_feed(&lb, buf, (size_t)n, on_line, r, "pub");
        if (close_after && r->n >= close_after) {
            close(fd);                     /* the sidecar dies mid-stream */
            fd = -1;
            close_after = 0;
            break;
        }
    }
    if (fd >= 0)
        close(fd);
    ob_linebuf_free(&lb);
    return r->n;
}

static void send_k(struct ob_pub *p, int from, int to)
{
    for (int k = from; k <= to; k++) {
        char line[64];
        int n = snprintf(line, sizeof line, "{\"k\":%d}\n", k);
        CU_ASSERT_EQUAL(ob_pub_send(p, line, (size_t)n), 0);
    }
}

static void test_no_listener_never_blocks(void)
{
    struct ob_pub *p = ob_pub_new(sock, 1 << 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    int64_t t0 = ob_time_mono_ms();
    send_k(p, 1, 1000);
    /* Queueing 1000 lines with no sidecar is a memcpy each, not a wait on a
     * socket: it finishes long before one connect timeout (500 ms). */
    CU_ASSERT(ob_time_mono_ms() - t0 < 500);
    struct ob_pub_stats st;
    ob_pub_get_stats(p, &st);
    CU_ASSERT_EQUAL(st.connected, 0);
    CU_ASSERT(st.queued_bytes > 0);
    ob_pub_free(p, 0);
}

static void test_late_listener_gets_all_in_order(void)
{
    struct ob_pub *p = ob_pub_new(sock, 1 << 20);
    send_k(p, 1, 500);
    char err[256];
    int ls = ob_sock_listen_unix(sock, 0600, err, sizeof err);
    CU_ASSERT_FATAL(ls >= 0);
    struct rx r = { .last = 0, .in_order = 1 };
    CU_ASSERT_EQUAL(receive(ls, &r, 500, 10000, 0), 500);
    CU_ASSERT(r.in_order);
    ob_pub_free(p, 1000);
    close(ls);
    unlink(sock);
}

static void test_listener_restart_resends_cut_line(void)
{
    char err[256];
    int ls = ob_sock_listen_unix(sock, 0600, err, sizeof err);
    CU_ASSERT_FATAL(ls >= 0);
    struct ob_pub *p = ob_pub_new(sock, 1 << 20);
    send_k(p, 1, 200);
    struct rx r = { .last = 0, .in_order = 1 };
    receive(ls, &r, 200, 10000, 3);         /* read byte by byte, die after 3 lines */
    CU_ASSERT_EQUAL(r.n, 3);
    close(ls);
    unlink(sock);
    ls = ob_sock_listen_unix(sock, 0600, err, sizeof err);
    /* Lines already in the dead peer's socket buffer are lost with it (the
     * outbox covers those); what follows arrives whole and in order: a line
     * cut mid-write is sent again from its start. */
    struct rx r2 = { .last = -1, .in_order = 1 };
    receive(ls, &r2, 10000, 3000, 0);
    CU_ASSERT(r2.n > 0);
    CU_ASSERT(r2.in_order);
    CU_ASSERT_EQUAL(r2.last, 200);
    struct ob_pub_stats st;
    ob_pub_get_stats(p, &st);
    CU_ASSERT(st.reconnects >= 2);
    ob_pub_free(p, 1000);
    close(ls);
    unlink(sock);
}

static void test_full_queue_drops_newest(void)
{
    struct ob_pub *p = ob_pub_new(sock, 1024);
    char line[200];
    memset(line, 'a', sizeof line);
    line[199] = '\n';
    int queued = 0;
    for (int i = 0; i < 20; i++)
        queued += ob_pub_send(p, line, sizeof line) == 0;
    CU_ASSERT_EQUAL(queued, 5);
    struct ob_pub_stats st;
    ob_pub_get_stats(p, &st);
    CU_ASSERT_EQUAL(st.dropped, 15);
    CU_ASSERT_EQUAL(ob_pub_send(p, "no newline", 10), -1);
    ob_pub_free(p, 0);
}

static const struct unit_case cases[] = {
    { "no sidecar: sends queue and return at once", test_no_listener_never_blocks },
    { "a sidecar that starts late gets every line in order", test_late_listener_gets_all_in_order },
    { "a sidecar restart mid-line: reconnect, no torn line", test_listener_restart_resends_cut_line },
    { "a full queue drops and counts, never grows", test_full_queue_drops_newest },
    { NULL, NULL },
};

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    snprintf(sock, sizeof sock, "%s/events.sock", dir);
    int rc = unit_run("publisher", cases);
    unlink(sock);
    rmdir(dir);
    return rc;
}
