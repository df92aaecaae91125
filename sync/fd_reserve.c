/* fd_reserve: placeholders below FD_SETSIZE for IMAP sockets; see
 * fd_reserve.h. */
#include "fd_reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    int limit;                 /* 0: nothing reserved */
    int src;                   /* /dev/null above the limit: what placeholders dup */
    dev_t src_dev;
    ino_t src_ino;
    int *slots;                /* placeholder descriptors, a stack */
    size_t n;
    unsigned char *held;       /* held[fd]: fd is in slots */
    int quiet_r, quiet_w;
} R = { .mu = PTHREAD_MUTEX_INITIALIZER, .src = -1, .quiet_r = -1, .quiet_w = -1 };

/* Caller holds R.mu.  F_DUPFD hands out the lowest free descriptor, so one
 * call per free slot plus one that lands above the limit. */
static void refill_locked(void)
{
    if (R.limit <= 0)
        return;
    for (;;) {
        int fd = fcntl(R.src, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            return;
        if (fd >= R.limit) {
            close(fd);
            return;
        }
        if (R.held[fd]) {
            /* Cannot happen unless someone closed a placeholder behind our
             * back; keep the one entry. */
            continue;
        }
        R.held[fd] = 1;
        R.slots[R.n++] = fd;
    }
}

/* Still our placeholder (nobody closed and reused it)? */
static int is_placeholder(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == R.src_dev && st.st_ino == R.src_ino;
}

static int lower_locked(int fd)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (fd < (R.limit > 0 ? R.limit : FD_SETSIZE))
        return fd;
    refill_locked();
    while (R.n > 0) {
        int slot = R.slots[--R.n];
        R.held[slot] = 0;
        if (!is_placeholder(slot))
            continue;
        if (dup3(fd, slot, O_CLOEXEC) == slot) {
            close(fd);
            return slot;
        }
        /* dup3 failed: the placeholder is still there. */
        R.held[slot] = 1;
        R.n++;
        return -1;
    }
    errno = EMFILE;
    return -1;
}

static void make_quiet_pipe(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    int r = lower_locked(p[0]);
    if (r < 0) {
        close(p[0]);
        close(p[1]);
        return;
    }
    /* The write end stays open (a pipe whose writers are gone reads EOF,
     * which select reports as readable) and is never written to. */
    R.quiet_r = r;
    R.quiet_w = p[1];
}

int fd_reserve_init(int limit, char *err, size_t errlen)
{
    pthread_mutex_lock(&R.mu);
    int rc = -1;
    struct rlimit rl;
    if (R.limit > 0 || R.quiet_r >= 0) {
        snprintf(err, errlen, "descriptors are already reserved");
        goto out;
    }
    if (limit <= 3 || limit > FD_SETSIZE) {
        snprintf(err, errlen, "bad reservation limit %d", limit);
        goto out;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t)limit * 2) {
        snprintf(err, errlen, "the open-files limit (%llu) is below %d",
                 (unsigned long long)rl.rlim_cur, limit * 2);
        goto quiet;
    }
    int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (dn < 0) {
        snprintf(err, errlen, "/dev/null: %s", strerror(errno));
        goto quiet;
    }
    R.src = fcntl(dn, F_DUPFD_CLOEXEC, limit);
    close(dn);
    struct stat st;
    if (R.src < 0 || fstat(R.src, &st) < 0) {
        snprintf(err, errlen, "cannot place /dev/null above %d: %s", limit, strerror(errno));
        if (R.src >= 0)
            close(R.src);
        R.src = -1;
        goto quiet;
    }
    R.src_dev = st.st_dev;
    R.src_ino = st.st_ino;
    R.slots = malloc((size_t)limit * sizeof *R.slots);
    R.held = calloc((size_t)limit, 1);
    if (!R.slots || !R.held) {
        snprintf(err, errlen, "out of memory");
        free(R.slots);
        free(R.held);
        R.slots = NULL;
        R.held = NULL;
        close(R.src);
        R.src = -1;
        goto quiet;
    }
    R.limit = limit;
    R.n = 0;
    refill_locked();
    rc = 0;
quiet:
    make_quiet_pipe();
    if (rc == 0 && R.quiet_r < 0) {
        snprintf(err, errlen, "no descriptor below %d left for the quiet pipe", limit);
        rc = -1;
    }
out:
    pthread_mutex_unlock(&R.mu);
    return rc;
}

int fd_reserve_lower(int fd)
{
    pthread_mutex_lock(&R.mu);
    int r = lower_locked(fd);
    int e = errno;
    pthread_mutex_unlock(&R.mu);
    errno = e;
    return r;
}

void fd_reserve_refill(void)
{
    pthread_mutex_lock(&R.mu);
    refill_locked();
    pthread_mutex_unlock(&R.mu);
}

int fd_reserve_quiet_fd(void)
{
    pthread_mutex_lock(&R.mu);
    int q = R.quiet_r;
    pthread_mutex_unlock(&R.mu);
    return q;
}

size_t fd_reserve_available(void)
{
    pthread_mutex_lock(&R.mu);
    refill_locked();
    size_t n = R.n;
    pthread_mutex_unlock(&R.mu);
    return n;
}

void fd_reserve_free(void)
{
    pthread_mutex_lock(&R.mu);
    while (R.n > 0)
        close(R.slots[--R.n]);
    free(R.slots);
    free(R.held);
    R.slots = NULL;
    R.held = NULL;
    if (R.src >= 0)
        close(R.src);
    if (R.quiet_r >= 0)
        close(R.quiet_r);
    if (R.quiet_w >= 0)
        close(R.quiet_w);
    R.src = R.quiet_r = R.quiet_w = -1;
    R.limit = 0;
    pthread_mutex_unlock(&R.mu);
}
