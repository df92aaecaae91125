/* test_fd_reserve: the descriptors below the limit are kept for sockets
 * (new descriptors land above it, a socket is moved below and its number
 * comes back once closed, exhaustion is an error that leaves the socket
 * alone), the quiet descriptor never reads, and etpan_cancel swaps a real
 * libetpan stream's cancel pipe for it without breaking the stream. */
#include "../unit.h"
#include "../../../sync/etpan_cancel.h"
#include "../../../sync/fd_reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A limit a little above whatever the test process already holds. */
static int pick_limit(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int hi = fd;
    for (int i = fd + 1; i < fd + 64; i++)
        if (fcntl(i, F_GETFD) >= 0)
            hi = i;
    close(fd);
    return hi + 12;
}

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static void test_new_descriptors_land_above(void)
{
    int limit = pick_limit();
    char err[200];
    CU_ASSERT_EQUAL_FATAL(fd_reserve_init(limit, err, sizeof err), 0);
    CU_ASSERT(fd_reserve_quiet_fd() >= 0 && fd_reserve_quiet_fd() < limit);
    size_t avail = fd_reserve_available();
    CU_ASSERT(avail > 0);
    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    CU_ASSERT(sv[0] >= limit && sv[1] >= limit);

    int low = fd_reserve_lower(sv[0]);
    CU_ASSERT(low >= 0 && low < limit);
    CU_ASSERT(!is_open(sv[0]));
    CU_ASSERT_EQUAL(fd_reserve_available(), avail - 1);
    CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
    char c = 0;
    CU_ASSERT_EQUAL(read(low, &c, 1), 1);
    CU_ASSERT_EQUAL(c, 'x');
    /* Already below: left where it is. */
    CU_ASSERT_EQUAL(fd_reserve_lower(low), low);

    close(low);
    fd_reserve_refill();
    CU_ASSERT(is_open(low));          /* a placeholder again */
    CU_ASSERT_EQUAL(fd_reserve_available(), avail);
    close(sv[1]);
    fd_reserve_free();
}

static void test_exhaustion(void)
{
    int limit = pick_limit();
    char err[200];
    CU_ASSERT_EQUAL_FATAL(fd_reserve_init(limit, err, sizeof err), 0);
    size_t avail = fd_reserve_available();
    int lows[64], n = 0, peer[64];
    for (size_t i = 0; i < avail && n < 64; i++) {
        int sv[2];
        CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        lows[n] = fd_reserve_lower(sv[0]);
        peer[n] = sv[1];
        CU_ASSERT(lows[n] >= 0 && lows[n] < limit);
        n++;
    }
    CU_ASSERT_EQUAL(fd_reserve_available(), 0);
    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    errno = 0;
    CU_ASSERT_EQUAL(fd_reserve_lower(sv[0]), -1);
    CU_ASSERT_EQUAL(errno, EMFILE);
    CU_ASSERT(is_open(sv[0]));        /* untouched */
    close(sv[0]);
    close(sv[1]);
    for (int i = 0; i < n; i++) {
        close(lows[i]);
        close(peer[i]);
    }
    CU_ASSERT_EQUAL(fd_reserve_available(), avail);
    fd_reserve_free();
}

static void test_quiet_fd_never_reads(void)
{
    int limit = pick_limit();
    char err[200];
    CU_ASSERT_EQUAL_FATAL(fd_reserve_init(limit, err, sizeof err), 0);
    struct pollfd p = { .fd = fd_reserve_quiet_fd(), .events = POLLIN };
    CU_ASSERT_EQUAL(poll(&p, 1, 0), 0);
    char e2[200];
    CU_ASSERT_EQUAL(fd_reserve_init(limit, e2, sizeof e2), -1);   /* once per process */
    fd_reserve_free();
    CU_ASSERT_EQUAL(fd_reserve_quiet_fd(), -1);
}

static void test_etpan_cancel_swap(void)
{
    int limit = pick_limit();
    char err[200];
    CU_ASSERT_EQUAL_FATAL(fd_reserve_init(limit, err, sizeof err), 0);
    int q = fd_reserve_quiet_fd();
    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int low = fd_reserve_lower(sv[0]);
    CU_ASSERT_FATAL(low >= 0);
    int before = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* next free number */
    close(before);
    mailstream *st = mailstream_socket_open_timeout(low, 5);
    CU_ASSERT_FATAL(st != NULL);
    CU_ASSERT_EQUAL(etpan_cancel_detach(mailstream_get_low(st), err, sizeof err), 0);
    /* The pipe is gone: the next free number is the same as before. */
    int after = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CU_ASSERT_EQUAL(after, before);
    close(after);
    /* A second detach finds no pipe and refuses. */
    CU_ASSERT_EQUAL(etpan_cancel_detach(mailstream_get_low(st), err, sizeof err), -1);

    /* libetpan still reads and writes through select with the quiet fd. */
    CU_ASSERT_EQUAL(mailstream_write(st, "a1 NOOP\r\n", 9), 9);
    CU_ASSERT_EQUAL(mailstream_flush(st), 0);
    char buf[32] = { 0 };
    CU_ASSERT_EQUAL(read(sv[1], buf, sizeof buf - 1), 9);
    CU_ASSERT_STRING_EQUAL(buf, "a1 NOOP\r\n");
    CU_ASSERT_EQUAL(write(sv[1], "* OK\r\n", 6), 6);
    MMAPString *line = mmap_string_new("");
    CU_ASSERT_FATAL(line != NULL);
    char *got = mailstream_read_line(st, line);
    CU_ASSERT(got && strcmp(got, "* OK\r\n") == 0);
    mmap_string_free(line);

    etpan_cancel_release(mailstream_get_low(st));
    mailstream_close(st);
    CU_ASSERT(!is_open(low));
    fd_reserve_refill();
    CU_ASSERT(is_open(low));          /* a placeholder again */
    CU_ASSERT(is_open(q));            /* the shared descriptor survived */
    close(sv[1]);
    fd_reserve_free();
}

static const struct unit_case cases[] = {
    { "new descriptors land above the limit; sockets move below", test_new_descriptors_land_above },
    { "no placeholder left: EMFILE, socket untouched", test_exhaustion },
    { "the quiet descriptor never reads", test_quiet_fd_never_reads },
    { "a libetpan stream runs on the quiet descriptor", test_etpan_cancel_swap },
    { NULL, NULL },
};

UNIT_MAIN("sync fd_reserve", cases)
