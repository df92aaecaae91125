/* autosync: sync.sock start/stop on a worker thread; see autosync.h. */
#include "autosync.h"
#include "ws_users.h"

#include "ob_ctl.h"
#include "ob_log.h"
#include "ob_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { AS_IDLE = 0, AS_STARTED, AS_STOP_PENDING, AS_RETRY };

static const char *state_name(int s)
{
    static const char *const names[] = { "idle", "started", "stop-pending", "retry" };
    return s >= 0 && s <= AS_RETRY ? names[s] : "?";
}

struct autosync_job {
    struct autosync_job *next;
    char user[OB_PROTO_ID_MAX];
    enum ob_ctl_op op;
    int taken;                 /* the worker has it (under mu) */
    int rc;                    /* ob_ctl_call's result */
    int accounts;
    char code[32], err[200];
};

struct autosync {
    struct rt *rt;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct autosync_job *todo, *todo_tail, *done;
    unsigned pending;
    int stop, running;
    /* failure logging, at most AUTOSYNC_LOGS_PER_MIN lines a minute (a down
     * syncd under a connect storm must not flood the log) */
    int64_t fail_minute;
    unsigned fail_logged, fail_quiet;
};

#define AUTOSYNC_LOGS_PER_MIN 10

static void set_state(struct ws_user *u, int to)
{
    if (u->sync_state != to)
        ob_debug("autosync %s: %s -> %s", u->id, state_name(u->sync_state), state_name(to));
    u->sync_state = (uint8_t)to;
}

static void *worker(void *arg)
{
    struct autosync *as = arg;
    pthread_mutex_lock(&as->mu);
    for (;;) {
        while (!as->todo && !as->stop)
            pthread_cond_wait(&as->cv, &as->mu);
        if (as->stop)
            break;
        struct autosync_job *j = as->todo;
        as->todo = j->next;
        if (!as->todo)
            as->todo_tail = NULL;
        j->taken = 1;
        pthread_mutex_unlock(&as->mu);

        struct ob_ctl_req req;
        memset(&req, 0, sizeof req);
        req.op = j->op;
        snprintf(req.user, sizeof req.user, "%s", j->user);
        json_t *data = NULL;
        j->rc = ob_ctl_call(as->rt->cfg->sync_sock, &req, AUTOSYNC_CALL_MS, &data,
                            j->code, sizeof j->code, j->err, sizeof j->err);
        json_t *status = json_object_get(data, "status");
        j->accounts = json_is_array(status) ? (int)json_array_size(status) : 0;
        json_decref(data);

        pthread_mutex_lock(&as->mu);
        j->next = as->done;
        as->done = j;
        pthread_mutex_unlock(&as->mu);
        lws_cancel_service(as->rt->ctx);
        pthread_mutex_lock(&as->mu);
    }
    pthread_mutex_unlock(&as->mu);
    return NULL;
}

struct autosync *autosync_new(struct rt *rt)
{
    struct autosync *as = calloc(1, sizeof *as);
    if (!as)
        return NULL;
    as->rt = rt;
    pthread_mutex_init(&as->mu, NULL);
    pthread_cond_init(&as->cv, NULL);
    /* The worker must not take SIGTERM: the loop thread handles it. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&as->th, NULL, worker, as);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ob_error("autosync: cannot start the worker thread");
        pthread_mutex_destroy(&as->mu);
        pthread_cond_destroy(&as->cv);
        free(as);
        return NULL;
    }
    as->running = 1;
    return as;
}

static void free_list(struct autosync_job *j)
{
    while (j) {
        struct autosync_job *next = j->next;
        free(j);
        j = next;
    }
}

void autosync_free(struct autosync *as)
{
    if (!as)
        return;
    pthread_mutex_lock(&as->mu);
    as->stop = 1;
    pthread_cond_signal(&as->cv);
    pthread_mutex_unlock(&as->mu);
    if (as->running)
        pthread_join(as->th, NULL);
    free_list(as->todo);
    free_list(as->done);
    pthread_mutex_destroy(&as->mu);
    pthread_cond_destroy(&as->cv);
    free(as);
}

static void request(struct rt *rt, struct ws_user *u, enum ob_ctl_op op)
{
    struct autosync *as = rt->autosync;
    if (!as)
        return;
    pthread_mutex_lock(&as->mu);
    if (u->job && !u->job->taken) {
        u->job->op = op;          /* still waiting: the newest wish wins */
    } else {
        struct autosync_job *j = calloc(1, sizeof *j);
        if (j) {
            snprintf(j->user, sizeof j->user, "%s", u->id);
            j->op = op;
            if (as->todo_tail)
                as->todo_tail->next = j;
            else
                as->todo = j;
            as->todo_tail = j;
            as->pending++;
            u->job = j;
            pthread_cond_signal(&as->cv);
        } else {
            ob_warn("autosync %s: out of memory, %s not sent", u->id, ob_ctl_op_name(op));
        }
    }
    pthread_mutex_unlock(&as->mu);
}

void autosync_user_active(struct rt *rt, struct ws_user *u)
{
    if (u->sync_state == AS_STOP_PENDING) {
        set_state(u, AS_STARTED);     /* back within the grace: keep syncing */
        return;
    }
    if (u->sync_state == AS_STARTED)
        return;
    set_state(u, AS_STARTED);
    request(rt, u, OB_CTL_START);
}

void autosync_user_idle(struct rt *rt, struct ws_user *u)
{
    if (rt->stopping || u->sync_state == AS_IDLE)
        return;
    if (rt->cfg->sync_grace <= 0) {
        set_state(u, AS_IDLE);
        request(rt, u, OB_CTL_STOP);
        return;
    }
    set_state(u, AS_STOP_PENDING);
    u->sync_at_ms = ob_time_mono_ms() + rt->cfg->sync_grace * 1000;
}

int autosync_user_busy(const struct ws_user *u)
{
    return u->sync_state == AS_STOP_PENDING;
}

void autosync_tick(struct rt *rt, int64_t now_ms)
{
    struct ws_hash_iter it = { 0 };
    struct ws_hash_node *n;
    while ((n = ws_hash_next(rt->users, &it))) {
        struct ws_user *u = (struct ws_user *)n;
        if (u->sync_state == AS_STOP_PENDING && now_ms >= u->sync_at_ms) {
            set_state(u, AS_IDLE);
            request(rt, u, OB_CTL_STOP);
        } else if (u->sync_state == AS_RETRY && now_ms >= u->sync_at_ms) {
            if (u->nconns) {
                set_state(u, AS_STARTED);
                request(rt, u, OB_CTL_START);
            } else {
                set_state(u, AS_IDLE);
                ws_users_release(rt, u);
            }
        }
    }
}

void autosync_drain(struct rt *rt)
{
    struct autosync *as = rt->autosync;
    if (!as)
        return;
    pthread_mutex_lock(&as->mu);
    struct autosync_job *list = as->done;
    as->done = NULL;
    pthread_mutex_unlock(&as->mu);
    while (list) {
        struct autosync_job *j = list;
        list = j->next;
        as->pending--;
        rt->st.sync_calls++;
        const char *op = ob_ctl_op_name(j->op);
        struct ws_user *u = ws_users_get(rt, j->user, 0);
        if (u && u->job == j)
            u->job = NULL;
        if (j->rc == 0) {
            ob_info("autosync %s: %s: ok (%d account%s)", j->user, op, j->accounts,
                    j->accounts == 1 ? "" : "s");
        } else {
            rt->st.sync_failures++;
            int64_t minute = ob_time_mono_ms() / 60000;
            if (minute != as->fail_minute) {
                if (as->fail_quiet)
                    ob_warn("autosync: %u more failed call(s) not logged", as->fail_quiet);
                as->fail_minute = minute;
                as->fail_logged = as->fail_quiet = 0;
            }
            if (as->fail_logged++ < AUTOSYNC_LOGS_PER_MIN)
                ob_warn("autosync %s: %s failed: %s%s%s", j->user, op, j->rc > 0 ? j->code : "",
                        j->rc > 0 ? ": " : "", j->err);
            else
                as->fail_quiet++;
            if (j->rc < 0 && j->op == OB_CTL_START && u && u->sync_state == AS_STARTED && u->nconns) {
                set_state(u, AS_RETRY);
                u->sync_at_ms = ob_time_mono_ms() + AUTOSYNC_RETRY_MS;
            }
        }
        free(j);
        if (u)
            ws_users_release(rt, u);
    }
}

unsigned autosync_pending(struct rt *rt)
{
    return rt->autosync ? rt->autosync->pending : 0;
}
