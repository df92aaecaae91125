/* imap_idle: the IDLE event loop; see imap_idle.h.
 *
 * Other threads talk to the loop through a command queue (park, kick)
 * guarded by a mutex and signalled on an eventfd.  The loop owns the parked
 * table and every parked account's loop fields (idle_fd, wake_at_ms,
 * loop_slot); it gives an account back by setting holder = QUEUED under
 * a->mu and submitting it to the workers. */
#include "imap_idle.h"

#include "account.h"
#include "ob_log.h"
#include "ob_time.h"
#include "sync_ctx.h"
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IDLE_MAX_EVENTS 64
#define IDLE_MAX_WAIT_MS 60000

enum cmd_type { CMD_PARK, CMD_KICK };

struct cmd {
    enum cmd_type type;
    struct account *a;
};

struct imap_idle {
    struct sync_ctx *ctx;
    pthread_t th;
    int started;
    int ep, efd;

    pthread_mutex_t mu;            /* guards the command queue and quit */
    struct cmd *q;
    size_t qn, qcap;
    int quit;

    /* Loop thread only. */
    struct account **parked;
    size_t np, pcap;
};

static void wake(struct imap_idle *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->efd, &one, sizeof one);
    (void)r;    /* a full counter already means "wake up" */
}

static void enqueue(struct imap_idle *l, enum cmd_type t, struct account *a)
{
    pthread_mutex_lock(&l->mu);
    if (l->qn == l->qcap) {
        size_t nc = l->qcap ? l->qcap * 2 : 64;
        struct cmd *nq = realloc(l->q, nc * sizeof *nq);
        if (!nq) {
            pthread_mutex_unlock(&l->mu);
            ob_fatal("IDLE loop: out of memory for its command queue");
        }
        l->q = nq;
        l->qcap = nc;
    }
    l->q[l->qn++] = (struct cmd){ t, a };
    pthread_mutex_unlock(&l->mu);
    wake(l);
}

void imap_idle_park(struct imap_idle *l, struct account *a)
{
    enqueue(l, CMD_PARK, a);
}

void imap_idle_kick(struct imap_idle *l, struct account *a)
{
    enqueue(l, CMD_KICK, a);
}

static void add_parked(struct imap_idle *l, struct account *a)
{
    if (l->np == l->pcap) {
        size_t nc = l->pcap ? l->pcap * 2 : 64;
        struct account **nv = realloc(l->parked, nc * sizeof *nv);
        if (!nv)
            ob_fatal("IDLE loop: out of memory for its table");
        l->parked = nv;
        l->pcap = nc;
    }
    a->loop_slot = (int)l->np;
    l->parked[l->np++] = a;
    if (a->idle_fd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = a };
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, a->idle_fd, &ev) < 0) {
            /* Cannot watch it: hand it back at once, the worker will notice. */
            ob_warn("IDLE loop: cannot watch %s/%s: %s", a->user, a->email, strerror(errno));
            a->wake_at_ms = 0;
        }
    }
}

static void remove_parked(struct imap_idle *l, struct account *a)
{
    if (a->idle_fd >= 0)
        epoll_ctl(l->ep, EPOLL_CTL_DEL, a->idle_fd, NULL);
    size_t i = (size_t)a->loop_slot;
    l->parked[i] = l->parked[--l->np];
    l->parked[i]->loop_slot = (int)i;
    a->loop_slot = -1;
}

/* Hands a parked account back to the workers. */
static void release(struct imap_idle *l, struct account *a)
{
    remove_parked(l, a);
    pthread_mutex_lock(&a->mu);
    a->holder = ACCOUNT_HELD_QUEUED;
    pthread_mutex_unlock(&a->mu);
    workers_submit(l->ctx->workers, a);
}

static int run_commands(struct imap_idle *l)
{
    pthread_mutex_lock(&l->mu);
    struct cmd *q = l->q;
    size_t n = l->qn;
    int quit = l->quit;
    l->q = NULL;
    l->qn = l->qcap = 0;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n; i++) {
        struct account *a = q[i].a;
        if (q[i].type == CMD_PARK) {
            if (a->loop_slot < 0)
                add_parked(l, a);
        } else if (a->loop_slot >= 0) {
            release(l, a);
        }
    }
    free(q);
    return quit;
}

static void *loop_main(void *arg)
{
    struct imap_idle *l = arg;
    for (;;) {
        int64_t now = ob_time_mono_ms(), next = now + IDLE_MAX_WAIT_MS;
        for (size_t i = 0; i < l->np; i++)
            if (l->parked[i]->wake_at_ms < next)
                next = l->parked[i]->wake_at_ms;
        int timeout = next > now ? (int)(next - now) : 0;
        struct epoll_event evs[IDLE_MAX_EVENTS];
        int n = epoll_wait(l->ep, evs, IDLE_MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            ob_error("IDLE loop: epoll_wait: %s", strerror(errno));
            n = 0;
        }
        int got_cmd = 0;
        for (int i = 0; i < n; i++) {
            struct account *a = evs[i].data.ptr;
            if (!a) {
                uint64_t v;
                ssize_t r = read(l->efd, &v, sizeof v);
                (void)r;
                got_cmd = 1;
            } else if (a->loop_slot >= 0) {
                release(l, a);
            }
        }
        if (got_cmd && run_commands(l))
            break;
        now = ob_time_mono_ms();
        for (size_t i = 0; i < l->np;) {
            struct account *a = l->parked[i];
            if (a->wake_at_ms <= now)
                release(l, a);      /* moves the last entry into slot i */
            else
                i++;
        }
    }
    return NULL;
}

struct imap_idle *imap_idle_new(struct sync_ctx *ctx, char *err, size_t errlen)
{
    struct imap_idle *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->ctx = ctx;
    pthread_mutex_init(&l->mu, NULL);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (l->ep < 0 || l->efd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->efd, &ev) < 0) {
        snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
        imap_idle_free(l);
        return NULL;
    }
    int rc = pthread_create(&l->th, NULL, loop_main, l);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the IDLE thread: %s", strerror(rc));
        imap_idle_free(l);
        return NULL;
    }
    l->started = 1;
    return l;
}

void imap_idle_stop(struct imap_idle *l)
{
    if (!l || !l->started)
        return;
    pthread_mutex_lock(&l->mu);
    l->quit = 1;
    pthread_mutex_unlock(&l->mu);
    wake(l);
    pthread_join(l->th, NULL);
    l->started = 0;
    /* Parks queued after the last loop pass, then everything parked. */
    run_commands(l);
    while (l->np > 0)
        release(l, l->parked[l->np - 1]);
}

void imap_idle_free(struct imap_idle *l)
{
    if (!l)
        return;
    if (l->ep >= 0)
        close(l->ep);
    if (l->efd >= 0)
        close(l->efd);
    pthread_mutex_destroy(&l->mu);
    free(l->q);
    free(l->parked);
    free(l);
}

