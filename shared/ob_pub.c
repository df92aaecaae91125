/* ob_pub: non-blocking events.sock publisher; see ob_pub.h.
 *
 * Queue discipline: producers append at the tail under the mutex; only the
 * sender thread removes from the head, and it keeps the head in the queue
 * until the whole line is written, so a line cut by a broken connection is
 * sent again from its start on the next connection. */
#include "ob_pub.h"
#include "ob_log.h"
#include "ob_proto.h"
#include "ob_rand.h"
#include "ob_sock.h"
#include "ob_time.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct item {
    struct item *next;
    size_t len, off;
    char data[];
};

struct ob_pub {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    char *path;
    struct item *head, *tail;
    size_t queued, max;
    int stop, fd;
    int64_t flush_deadline;
    struct ob_pub_stats st;
};

static void timed_wait(struct ob_pub *p, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

static void disconnect(struct ob_pub *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->st.connected = 0;
    if (p->head)
        p->head->off = 0;
}

/* Writes some of the head item; called without the lock.  Returns 1 when the
 * item is complete, 0 to come back later, -1 on a broken connection. */
static int write_head(struct ob_pub *p, struct item *it)
{
    struct pollfd pf = { .fd = p->fd, .events = POLLOUT };
    if (poll(&pf, 1, 200) <= 0)
        return 0;
    if (pf.revents & (POLLERR | POLLHUP | POLLNVAL))
        return -1;
    ssize_t w = send(p->fd, it->data + it->off, it->len - it->off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    it->off += (size_t)w;
    return it->off == it->len;
}

static void *pub_thread(void *arg)
{
    struct ob_pub *p = arg;
    int backoff = BACKOFF_MIN_MS;
    int64_t next_try = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->stop && (!p->head || ob_time_mono_ms() >= p->flush_deadline || p->fd < 0))
            break;
        if (p->fd < 0) {
            int64_t now = ob_time_mono_ms();
            if (now < next_try) {
                timed_wait(p, (int)(next_try - now));
                continue;
            }
            pthread_mutex_unlock(&p->mu);
            int fd = ob_sock_connect_unix(p->path, 500);
            pthread_mutex_lock(&p->mu);
            if (fd < 0) {
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                next_try = ob_time_mono_ms() + backoff / 2 + (int64_t)(ob_rand_unit() * backoff / 2);
                continue;
            }
            p->fd = fd;
            p->st.connected = 1;
            p->st.reconnects++;
            backoff = BACKOFF_MIN_MS;
            ob_debug("events: connected to %s", p->path);
        }
        if (!p->head) {
            timed_wait(p, 1000);
            continue;
        }
        struct item *it = p->head;
        pthread_mutex_unlock(&p->mu);
        int r = write_head(p, it);
        pthread_mutex_lock(&p->mu);
        if (r < 0) {
            ob_warn("events: lost connection to %s; reconnecting", p->path);
            disconnect(p);
            next_try = ob_time_mono_ms() + BACKOFF_MIN_MS;
        } else if (r == 1) {
            p->head = it->next;
            if (!p->head)
                p->tail = NULL;
            p->queued -= it->len;
            p->st.sent++;
            free(it);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct ob_pub *ob_pub_new(const char *path, size_t max_queue)
{
    struct ob_pub *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fd = -1;
    p->max = max_queue;
    p->path = strdup(path);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!p->path || pthread_create(&p->thread, NULL, pub_thread, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p->path);
        free(p);
        return NULL;
    }
    return p;
}

void ob_pub_free(struct ob_pub *p, int flush_ms)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    p->flush_deadline = ob_time_mono_ms() + flush_ms;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    if (p->fd >= 0)
        close(p->fd);
    for (struct item *it = p->head, *n; it; it = n) {
        n = it->next;
        free(it);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->path);
    free(p);
}

int ob_pub_send(struct ob_pub *p, const char *line, size_t len)
{
    if (!p || len == 0 || len > OB_PROTO_MAX_LINE || line[len - 1] != '\n')
        return -1;
    pthread_mutex_lock(&p->mu);
    if (p->queued + len > p->max) {
        p->st.dropped++;
        unsigned long long d = p->st.dropped;
        pthread_mutex_unlock(&p->mu);
        if (d == 1 || d % 1000 == 0)
            ob_warn("events: queue full (%zu bytes); %llu events dropped so far", p->max, d);
        return -1;
    }
    struct item *it = malloc(sizeof *it + len);
    if (!it) {
        p->st.dropped++;
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    it->next = NULL;
    it->len = len;
    it->off = 0;
    memcpy(it->data, line, len);
    if (p->tail)
        p->tail->next = it;
    else
        p->head = it;
    p->tail = it;
    p->queued += len;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int ob_pub_event(struct ob_pub *p, const struct ob_event *ev)
{
    size_t len;
    char *line = ob_event_line(ev, &len);
    if (!line)
        return -1;
    int rc = ob_pub_send(p, line, len);
    free(line);
    return rc;
}

void ob_pub_get_stats(struct ob_pub *p, struct ob_pub_stats *st)
{
    pthread_mutex_lock(&p->mu);
    *st = p->st;
    st->queued_bytes = p->queued;
    pthread_mutex_unlock(&p->mu);
}
