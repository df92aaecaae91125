/* ev_tap: listens on an events.sock path (as onebox-realtime would) and prints
 * every line it receives to stdout, flushed, one per line — the integration
 * tests' window onto what onebox-api and onebox-syncd publish.
 *
 *   ev_tap /path/events.sock [--count N]   exits after N lines, or on SIGTERM */
#include "ob_linebuf.h"
#include "ob_log.h"
#include "ob_proto.h"
#include "ob_sock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 16

static volatile sig_atomic_t stop;
static long remaining = -1;

static void on_signal(int s) { (void)s; stop = 1; }

static void print_line(void *ctx, char *line, size_t len)
{
    (void)ctx;
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    if (remaining > 0 && --remaining == 0)
        stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ev_tap SOCKET [--count N]\n");
        return 2;
    }
    if (argc == 4 && strcmp(argv[2], "--count") == 0)
        remaining = strtol(argv[3], NULL, 10);
    ob_log_init("ev_tap", OB_LOG_INFO);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char err[256];
    int ls = ob_sock_listen_unix(argv[1], 0660, err, sizeof err);
    if (ls < 0) {
        fprintf(stderr, "ev_tap: %s\n", err);
        return 1;
    }
    struct pollfd pf[MAX_CLIENTS + 1];
    struct ob_linebuf lb[MAX_CLIENTS + 1];
    int n = 1;
    pf[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
    while (!stop) {
        if (poll(pf, (nfds_t)n, 200) < 0 && errno != EINTR)
            break;
        for (int i = n - 1; i >= 1; i--) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            ssize_t r = read(pf[i].fd, buf, sizeof buf);
            if (r > 0) {
                ob_linebuf_feed(&lb[i], buf, (size_t)r, print_line, NULL, "publisher");
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            close(pf[i].fd);
            ob_linebuf_free(&lb[i]);
            pf[i] = pf[n - 1];
            lb[i] = lb[n - 1];
            n--;
        }
        if ((pf[0].revents & POLLIN) && n <= MAX_CLIENTS) {
            int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                pf[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
                ob_linebuf_init(&lb[n], OB_PROTO_MAX_LINE);
                n++;
            }
        }
    }
    for (int i = 1; i < n; i++) {
        close(pf[i].fd);
        ob_linebuf_free(&lb[i]);
    }
    close(ls);
    unlink(argv[1]);
    return 0;
}
