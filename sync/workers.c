/* workers: the worker pool; see workers.h.  A FIFO of accounts linked
 * through account->job_next, one mutex and one condition variable. */
#include "workers.h"

#include "account.h"
#include "imap_log.h"
#include "ob_log.h"
#include "ob_store.h"
#include "sync_ctx.h"
#include "wal_ckpt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker {
    struct workers *pool;
    pthread_t th;
    int started;
    int index;
};

struct workers {
    struct sync_ctx *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct account *head, *tail;
    int stopping;
    int n;
    struct worker *w;
};

static struct account *take(struct workers *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stopping)
        pthread_cond_wait(&p->cv, &p->mu);
    struct account *a = p->head;
    if (a) {
        p->head = a->job_next;
        if (!p->head)
            p->tail = NULL;
        a->job_next = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return a;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct workers *p = w->pool;
    sqlite3 *db = NULL;
    char err[256];
    if (ob_store_open(p->ctx->cfg->db_path, &db, err, sizeof err) < 0)
        ob_fatal("worker %d: database: %s", w->index, err);
    wal_ckpt_attach(db);
    struct imap_log_cap *cap = calloc(1, sizeof *cap);
    if (!cap)
        ob_fatal("worker %d: out of memory", w->index);
    struct account *a;
    while ((a = take(p)) != NULL) {
        pthread_mutex_lock(&a->mu);
        a->holder = ACCOUNT_HELD_WORKER;
        pthread_mutex_unlock(&a->mu);
        account_run(a, db, cap);
    }
    free(cap);
    ob_store_close(db);
    return NULL;
}

struct workers *workers_new(struct sync_ctx *ctx, int n, char *err, size_t errlen)
{
    struct workers *p = calloc(1, sizeof *p);
    if (!p || n < 1 || !(p->w = calloc((size_t)n, sizeof *p->w))) {
        snprintf(err, errlen, n < 1 ? "need at least one worker" : "out of memory");
        free(p);
        return NULL;
    }
    p->ctx = ctx;
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < n; i++) {
        p->w[i].pool = p;
        p->w[i].index = i;
        int rc = pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start worker thread: %s", strerror(rc));
            workers_stop(p);
            workers_free(p);
            return NULL;
        }
        p->w[i].started = 1;
    }
    return p;
}

void workers_submit(struct workers *p, struct account *a)
{
    pthread_mutex_lock(&p->mu);
    a->job_next = NULL;
    if (p->tail)
        p->tail->job_next = a;
    else
        p->head = a;
    p->tail = a;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void workers_stop(struct workers *p)
{
    if (!p)
        return;
    /* take() only returns NULL once the queue is empty and stopping is set,
     * so every queued account still gets its (tear-down) step. */
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        if (p->w[i].started) {
            pthread_join(p->w[i].th, NULL);
            p->w[i].started = 0;
        }
}

void workers_free(struct workers *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->w);
    free(p);
}
