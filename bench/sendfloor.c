/* sendfloor: the kernel's floor under the per-user fan-out benchmark — what
 * one send() of a small WebSocket frame costs the sending process over
 * loopback TCP when it does nothing else.
 *
 * Shaped like a per-user wsload run so that the kernel does the same work:
 *   - the sender (this process) listens on 127.0.0.1, accepts --conns
 *     connections, sets TCP_NODELAY on them as libwebsockets does, and is
 *     pinned to --send-cpu (default 0, where run.sh puts the servers);
 *   - --procs reader processes, pinned to --read-cpu (default 1, the
 *     loaders' core), open those connections bound to the source addresses
 *     127.0.0.2 .. 127.0.0.(1+--srcs) (IP_BIND_ADDRESS_NO_PORT, as wsload:
 *     each source has its own ephemeral port range), then read them
 *     non-blocking in an epoll loop and count whole frames into shared
 *     memory;
 *   - the sender writes one pre-built RFC 6455 server frame (§5.2: FIN,
 *     text opcode, unmasked, --bytes payload bytes) with one
 *     send(MSG_NOSIGNAL) to a random connection at a time, keeping at most
 *     --window frames sent and not yet counted by the readers, as fast as
 *     that allows or, with --rate, paced to a server's measured delivery
 *     rate (the kernel's cost per send grows when readers sleep between
 *     frames: more of the sends then wake one up).
 * Pinning is done here with sched_setaffinity (the readers are forked
 * children), so the caller needs no taskset.
 *
 * After --warmup seconds of the same loop, --secs seconds are timed and the
 * sender's own utime+stime (getrusage RUSAGE_SELF: the send path, the
 * loopback delivery and the receiver's softirq and wake-up that the kernel
 * runs in the sender's context, with tick-based accounting and no
 * IRQ-time accounting; softirq work deferred to ksoftirqd escapes it, as it
 * escapes wsload's figure for a server) is divided by the frames sent.
 * Nothing is parsed, framed, queued or polled on the sending side, so no
 * server that writes one such frame per delivery with one send() can spend
 * less (at the same delivery rate, for the paced figure).
 *
 *   sender (core 0) ==TCP loopback, N connections==> readers (core 1)
 *   readers --frame counts (shared memory)--> sender (window)
 *
 * Prints one line "sendfloor key=value ..." on stdout (bench/run.sh reads
 * it) and diagnostics on stderr; exits non-zero on any failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
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
#define MAX_SRCS 200
#define MAX_BYTES 65535                 /* the 16-bit length form of §5.2 */
#define MAX_WINDOW 1000000
#define HDR_MAX 4                 /* 0x81, 126, 16-bit length */
#define RBUF 65536
#define SETUP_TIMEOUT_MS 120000
#define DRAIN_TIMEOUT_MS 10000

/* ---- shared memory between the sender and its readers ------------------- */

struct slot {
    uint64_t frames, connected, ready, bad;
    int failed;
    char err[160];
};

struct shm {
    int stop;
    struct slot slot[MAX_PROCS];
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static struct {
    long conns, bytes, window, procs, srcs, send_cpu, read_cpu;
    double secs, warmup, rate;
} opt = { .conns = 0, .bytes = 0, .window = 1000, .procs = 4, .srcs = 8, .send_cpu = 0,
          .read_cpu = 1, .secs = 0, .warmup = 1.0 };

static struct shm *shm;
static unsigned char frame[HDR_MAX + MAX_BYTES];
static size_t frame_len;
static struct sockaddr_in dst;

static void usage(void)
{
    fprintf(stderr,
            "usage: sendfloor --conns N --bytes B --secs S [--window W] [--srcs K]\n"
            "                 [--procs P] [--warmup S] [--rate R] [--send-cpu C] [--read-cpu C]\n"
            "  N 1..%d connections, B 1..%d payload bytes, S 0.1..600 timed seconds,\n"
            "  W 1..%d frames outstanding (1000), K 1..%d source addresses 127.0.0.2.. (8),\n"
            "  P 1..%d reader processes (4), warm-up 0..60 s (1), R sends/s (0: as fast\n"
            "  as the window allows), sender core 0, reader core 1.\n",
            MAX_CONNS, MAX_BYTES, MAX_WINDOW, MAX_SRCS, MAX_PROCS);
    exit(2);
}

/* A whole decimal number in [lo, hi], or exits with usage. */
static long arg_long(const char *name, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "sendfloor: --%s wants an integer in %ld..%ld, not '%s'\n", name, lo, hi, s);
        exit(2);
    }
    return v;
}

static double arg_double(const char *name, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "sendfloor: --%s wants a number in %g..%g, not '%s'\n", name, lo, hi, s);
        exit(2);
    }
    return v;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int pin(long cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

/* The one frame every send writes: RFC 6455 §5.2, FIN + text, no mask. */
static void frame_build(size_t n)
{
    size_t h = 0;
    frame[h++] = 0x81;
    if (n < 126) {
        frame[h++] = (unsigned char)n;
    } else {
        frame[h++] = 126;
        frame[h++] = (unsigned char)(n >> 8);
        frame[h++] = (unsigned char)n;
    }
    /* Printable filler: the kernel copies bytes, it does not look at them. */
    for (size_t i = 0; i < n; i++)
        frame[h + i] = (unsigned char)('a' + i % 26);
    frame_len = h + n;
}

/* ---- a reader process --------------------------------------------------- */

static struct slot *me;

static void reader_fail(const char *what, int e)
{
    if (me->err[0] == '\0')
        snprintf(me->err, sizeof me->err, "%s: %s", what, strerror(e));
    STORE(me->failed, 1);
}

/* Per connection: where in the frame the next byte falls.  Every frame is
 * the same, so each byte read is checked against it and whole frames are
 * counted without parsing. */
struct rconn {
    int fd;
    uint32_t pos;
};

static int reader_connect(unsigned idx)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        reader_fail("socket", errno);
        return -1;
    }
    int one = 1;
    /* Bind the source address only; the port is chosen at connect time per
     * 4-tuple, so several sources multiply the ephemeral range. */
    struct sockaddr_in src = { .sin_family = AF_INET };
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(idx % (unsigned)opt.srcs));
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        reader_fail("setsockopt", errno);
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
        reader_fail("bind source address", errno);
        close(fd);
        return -1;
    }
    while (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        if (errno == EINTR)
            continue;
        reader_fail("connect", errno);
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        reader_fail("fcntl O_NONBLOCK", errno);
        close(fd);
        return -1;
    }
    return fd;
}

/* Counts the whole frames in n bytes read from c; -1 if a byte is not the
 * frame's byte at that place. */
static int reader_bytes(struct rconn *c, const unsigned char *p, size_t n)
{
    uint64_t frames = 0;
    while (n > 0) {
        size_t take = frame_len - c->pos;
        if (take > n)
            take = n;
        if (memcmp(p, frame + c->pos, take) != 0)
            return -1;
        p += take;
        n -= take;
        c->pos += (uint32_t)take;
        if (c->pos == frame_len) {
            c->pos = 0;
            frames++;
        }
    }
    if (frames)
        __atomic_fetch_add(&me->frames, frames, __ATOMIC_RELAXED);
    return 0;
}

static void reader_run(int id)
{
    me = &shm->slot[id];
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
        reader_fail("prctl", errno);
        _exit(1);
    }
    if (getppid() == 1)
        _exit(1);                  /* the sender is gone already */
    if (pin(opt.read_cpu) < 0) {
        reader_fail("sched_setaffinity --read-cpu", errno);
        _exit(1);
    }
    unsigned mine = 0;
    for (long i = id; i < opt.conns; i += opt.procs)
        mine++;
    struct rconn *cs = calloc(mine ? mine : 1, sizeof *cs);
    unsigned char *rbuf = malloc(RBUF);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || !rbuf || ep < 0) {
        reader_fail("reader setup", ENOMEM);
        _exit(1);
    }
    for (unsigned k = 0; k < mine; k++) {
        cs[k].fd = reader_connect((unsigned)id + k * (unsigned)opt.procs);
        if (cs[k].fd < 0)
            _exit(1);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = k };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[k].fd, &ev) < 0) {
            reader_fail("epoll_ctl", errno);
            _exit(1);
        }
        STORE(me->connected, k + 1);
    }
    STORE(me->ready, 1);
    struct epoll_event evs[512];
    int rc = 0;
    while (!LOAD(shm->stop) && rc == 0) {
        int n = epoll_wait(ep, evs, 512, 50);
        if (n < 0 && errno != EINTR) {
            reader_fail("epoll_wait", errno);
            rc = 1;
        }
        for (int i = 0; i < n && rc == 0; i++) {
            struct rconn *c = &cs[evs[i].data.u32];
            for (;;) {
                ssize_t r = recv(c->fd, rbuf, RBUF, 0);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r <= 0) {
                    reader_fail("recv", r == 0 ? ECONNRESET : errno);
                    rc = 1;
                    break;
                }
                if (reader_bytes(c, rbuf, (size_t)r) < 0) {
                    STORE(me->bad, 1);
                    reader_fail("bytes that are not the sent frame", EPROTO);
                    rc = 1;
                    break;
                }
                if ((size_t)r < RBUF)
                    break;
            }
        }
    }
    /* Abortive close: no TIME_WAIT on either side for the next run. */
    struct linger lg = { 1, 0 };
    for (unsigned k = 0; k < mine; k++) {
        setsockopt(cs[k].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(cs[k].fd);
    }
    _exit(rc);
}

/* ---- the sender --------------------------------------------------------- */

static uint64_t received(void)
{
    uint64_t s = 0;
    for (long i = 0; i < opt.procs; i++)
        s += LOAD(shm->slot[i].frames);
    return s;
}

static int reader_failed(char *err, size_t errlen)
{
    for (long i = 0; i < opt.procs; i++)
        if (LOAD(shm->slot[i].failed)) {
            snprintf(err, errlen, "reader %ld: %s", i, shm->slot[i].err);
            return 1;
        }
    return 0;
}

/* The sender's utime+stime in seconds, -1 if unreadable; *ivcsw gets its
 * involuntary context switches (another task took core 0 from it). */
static double cpu_self_s(long *ivcsw)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return -1;
    *ivcsw = ru.ru_nivcsw;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* utime+stime of a reader in seconds from /proc (ticks), -1 if unreadable. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double readers_cpu_s(const pid_t *kids)
{
    double t = 0;
    for (long i = 0; i < opt.procs; i++) {
        double k = proc_cpu_s(kids[i]);
        if (k < 0)
            return -1;
        t += k;
    }
    return t;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

struct counters {
    uint64_t sent, waits, partial, naps;
};

/* Sends frames to random connections until `until` (monotonic ns), at most
 * opt.window outstanding and, with --rate, no more than opt.rate per second
 * on average: the sender sleeps whenever it is 200 µs ahead, so frames go
 * out in short bursts, as a server's do after one read of its publisher.
 * A partial send (the socket buffer full) is finished after poll and
 * counted: it would mean the window is too large for the buffers, not a
 * cheaper send.  Returns 0 or -1 with err. */
static int send_loop(const int *fds, int64_t until, struct counters *k, char *err, size_t errlen)
{
    uint64_t window = (uint64_t)opt.window;
    unsigned n = (unsigned)opt.conns;
    int64_t start = mono_ns();
    uint64_t sent0 = k->sent;
    for (unsigned iter = 0;; iter++) {
        if ((iter & 63) == 0) {
            if (mono_ns() >= until)
                return 0;
            if (reader_failed(err, errlen))
                return -1;
        }
        if (opt.rate > 0) {
            int64_t due = start + (int64_t)((double)(k->sent - sent0) * 1e9 / opt.rate);
            int64_t ahead = due - mono_ns();
            if (ahead > 200000) {
                k->naps++;
                sleep_us((long)(ahead / 1000));
                continue;
            }
        }
        if (k->sent - received() >= window) {
            /* Sleep, not spin: a spinning sender would bill its wait as
             * CPU per send. */
            k->waits++;
            sleep_us(50);
            continue;
        }
        int fd = fds[pick(n)];
        size_t off = 0;
        while (off < frame_len) {
            ssize_t w = send(fd, frame + off, frame_len - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                if (poll(&pf, 1, 10000) <= 0) {
                    snprintf(err, errlen, "socket still full after 10 s");
                    return -1;
                }
                continue;
            }
            if (w < 0) {
                snprintf(err, errlen, "send: %s", strerror(errno));
                return -1;
            }
            off += (size_t)w;
            if (off < frame_len)
                k->partial++;
        }
        k->sent++;
    }
}

/* Accepts opt.conns connections; -1 with err on a failure or timeout. */
static int accept_all(int lfd, int *fds, char *err, size_t errlen)
{
    int64_t deadline = mono_ns() + (int64_t)SETUP_TIMEOUT_MS * 1000000;
    long got = 0;
    int one = 1;
    while (got < opt.conns) {
        if (mono_ns() > deadline) {
            snprintf(err, errlen, "only %ld of %ld connections after %d s", got, opt.conns,
                     SETUP_TIMEOUT_MS / 1000);
            return -1;
        }
        if (reader_failed(err, errlen))
            return -1;
        struct pollfd pf = { .fd = lfd, .events = POLLIN };
        int pr = poll(&pf, 1, 100);
        if (pr < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        if (pr <= 0)
            continue;
        for (;;) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    break;
                snprintf(err, errlen, "accept: %s", strerror(errno));
                return -1;
            }
            if (got >= opt.conns) {
                close(fd);
                snprintf(err, errlen, "more connections than --conns");
                return -1;
            }
            /* libwebsockets sets TCP_NODELAY on every accepted socket. */
            if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
                snprintf(err, errlen, "TCP_NODELAY: %s", strerror(errno));
                close(fd);
                return -1;
            }
            fds[got++] = fd;
        }
    }
    return 0;
}

static int listen_loopback(char *err, size_t errlen)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
        snprintf(err, errlen, "listen on 127.0.0.1: %s", strerror(errno));
        close(lfd);
        return -1;
    }
    dst = a;
    return lfd;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "conns", 1, 0, 'n' }, { "bytes", 1, 0, 'b' }, { "window", 1, 0, 'w' },
        { "secs", 1, 0, 's' }, { "srcs", 1, 0, 'a' }, { "procs", 1, 0, 'j' },
        { "warmup", 1, 0, 'W' }, { "send-cpu", 1, 0, 'S' }, { "read-cpu", 1, 0, 'R' },
        { "rate", 1, 0, 'r' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1 || ncpu > CPU_SETSIZE)
        ncpu = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'n': opt.conns = arg_long("conns", optarg, 1, MAX_CONNS); break;
        case 'b': opt.bytes = arg_long("bytes", optarg, 1, MAX_BYTES); break;
        case 'w': opt.window = arg_long("window", optarg, 1, MAX_WINDOW); break;
        case 's': opt.secs = arg_double("secs", optarg, 0.1, 600); break;
        case 'a': opt.srcs = arg_long("srcs", optarg, 1, MAX_SRCS); break;
        case 'j': opt.procs = arg_long("procs", optarg, 1, MAX_PROCS); break;
        case 'r': opt.rate = arg_double("rate", optarg, 0, 10000000); break;
        case 'W': opt.warmup = arg_double("warmup", optarg, 0, 60); break;
        case 'S': opt.send_cpu = arg_long("send-cpu", optarg, 0, ncpu - 1); break;
        case 'R': opt.read_cpu = arg_long("read-cpu", optarg, 0, ncpu - 1); break;
        default: usage();
        }
    }
    if (optind != argc || opt.conns == 0 || opt.bytes == 0 || opt.secs == 0)
        usage();
    if (opt.read_cpu >= ncpu) {
        fprintf(stderr, "sendfloor: --read-cpu %ld: only %ld CPUs online\n", opt.read_cpu, ncpu);
        return 2;
    }
    if (opt.procs > opt.conns)
        opt.procs = opt.conns;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "sendfloor: getrlimit: %s\n", strerror(errno));
        return 1;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "sendfloor: setrlimit: %s\n", strerror(errno));
        return 1;
    }
    if ((rlim_t)opt.conns + 64 > rl.rlim_cur) {
        fprintf(stderr, "sendfloor: %ld connections exceed the fd limit %llu of the sender\n",
                opt.conns, (unsigned long long)rl.rlim_cur);
        return 2;
    }
    if (pin(opt.send_cpu) < 0) {
        fprintf(stderr, "sendfloor: sched_setaffinity --send-cpu %ld: %s\n", opt.send_cpu,
                strerror(errno));
        return 1;
    }
    frame_build((size_t)opt.bytes);

    char err[256] = "";
    int lfd = listen_loopback(err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "sendfloor: %s\n", err);
        return 1;
    }
    int *fds = calloc((size_t)opt.conns, sizeof *fds);
    shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!fds || shm == MAP_FAILED) {
        fprintf(stderr, "sendfloor: out of memory\n");
        return 1;
    }
    for (long i = 0; i < opt.conns; i++)
        fds[i] = -1;
    pid_t kids[MAX_PROCS];
    long nkids = 0;
    int rc = 0;
    for (; nkids < opt.procs; nkids++) {
        kids[nkids] = fork();
        if (kids[nkids] == 0) {
            close(lfd);
            reader_run((int)nkids);
        }
        if (kids[nkids] < 0) {
            fprintf(stderr, "sendfloor: fork: %s\n", strerror(errno));
            rc = 1;
            break;
        }
    }
    int64_t t_setup = mono_ns();
    if (rc == 0 && accept_all(lfd, fds, err, sizeof err) < 0) {
        fprintf(stderr, "sendfloor: accepting the connections: %s\n", err);
        rc = 1;
    }
    /* Every reader has its sockets in epoll before a frame is sent. */
    for (long i = 0; rc == 0 && i < opt.procs; i++) {
        while (rc == 0 && !LOAD(shm->slot[i].ready)) {
            if (reader_failed(err, sizeof err) ||
                mono_ns() - t_setup > (int64_t)SETUP_TIMEOUT_MS * 1000000) {
                fprintf(stderr, "sendfloor: readers not ready: %s\n",
                        err[0] ? err : "timeout");
                rc = 1;
            }
            sleep_us(1000);
        }
    }
    close(lfd);

    struct counters warm = { 0, 0, 0, 0 }, k = { 0, 0, 0, 0 };
    double cpu = -1, rcpu = -1, secs = 0;
    long preempted = 0;
    if (rc == 0) {
        fprintf(stderr, "sendfloor: %ld connections from %ld readers in %.1f s; frame %zu bytes "
                "(payload %ld); sender on core %ld, readers on core %ld\n",
                opt.conns, opt.procs, (double)(mono_ns() - t_setup) / 1e9, frame_len,
                opt.bytes, opt.send_cpu, opt.read_cpu);
        if (send_loop(fds, mono_ns() + (int64_t)(opt.warmup * 1e9), &warm, err, sizeof err) < 0) {
            fprintf(stderr, "sendfloor: warm-up: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0) {
        k.sent = warm.sent;          /* the window counts from every frame sent */
        uint64_t sent0 = warm.sent;
        long iv0 = 0, iv1 = 0;
        double c0 = cpu_self_s(&iv0), r0 = readers_cpu_s(kids);
        int64_t t0 = mono_ns();
        if (send_loop(fds, t0 + (int64_t)(opt.secs * 1e9), &k, err, sizeof err) < 0) {
            fprintf(stderr, "sendfloor: %s\n", err);
            rc = 1;
        }
        int64_t t1 = mono_ns();
        double c1 = cpu_self_s(&iv1), r1 = readers_cpu_s(kids);
        k.sent -= sent0;
        preempted = iv1 - iv0;
        secs = (double)(t1 - t0) / 1e9;
        cpu = c0 >= 0 && c1 >= 0 ? c1 - c0 : -1;
        rcpu = r0 >= 0 && r1 >= 0 ? r1 - r0 : -1;
        /* Every frame must arrive whole before the figure is believed. */
        uint64_t total = sent0 + k.sent;
        int64_t until = mono_ns() + (int64_t)DRAIN_TIMEOUT_MS * 1000000;
        while (rc == 0 && received() < total && mono_ns() < until && !reader_failed(err, sizeof err))
            sleep_us(1000);
        if (rc == 0 && received() != total) {
            fprintf(stderr, "sendfloor: %llu frames sent, %llu received: %s\n",
                    (unsigned long long)total, (unsigned long long)received(),
                    reader_failed(err, sizeof err) ? err : "lost");
            rc = 1;
        }
        if (rc == 0 && (cpu <= 0 || k.sent == 0)) {
            fprintf(stderr, "sendfloor: no CPU time or no sends measured\n");
            rc = 1;
        }
    }

    STORE(shm->stop, 1);
    for (long i = 0; i < nkids; i++) {
        int st = 0;
        if (waitpid(kids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (rc == 0)
                fprintf(stderr, "sendfloor: reader %ld failed: %s\n", i, shm->slot[i].err);
            rc = 1;
        }
    }
    for (long i = 0; i < opt.conns; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (rc == 0) {
        printf("sendfloor conns=%ld bytes=%ld sends=%llu secs=%.3f cpu_us_per_send=%.3f "
               "sends_per_cpu_s=%.0f frame_bytes=%zu window=%ld rate=%.0f sender_cpu_s=%.3f "
               "sender_core_busy=%.0f%% reader_cpu_s=%.2f window_waits=%llu partial_sends=%llu rate_sleeps=%llu preempted=%ld\n",
               opt.conns, opt.bytes, (unsigned long long)k.sent, secs, cpu * 1e6 / (double)k.sent,
               (double)k.sent / cpu, frame_len, opt.window, opt.rate, cpu, 100.0 * cpu / secs, rcpu,
               (unsigned long long)k.waits, (unsigned long long)k.partial, (unsigned long long)k.naps, preempted);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "sendfloor: writing the result: %s\n", strerror(errno));
            rc = 1;
        }
    }
    free(fds);
    munmap(shm, sizeof *shm);
    return rc;
}
