/* account: one IMAP account's sync state machine (RFC 3501 session,
 * RFC 2177 IDLE).  Every change goes through account_set_state(), which logs
 * "from X to Y" and publishes sync_status when the public status changes.
 *
 *   state           public   entered by
 *   STOPPED         stopped  account_new; teardown() in account_run when
 *                            stop was asked; account_stop on a session-less one
 *   CONNECTING      syncing  account_start (STOPPED/FAILED); step_connect
 *                            (from BACKOFF when its timer fires)
 *   AUTHENTICATING  syncing  step_connect, once TLS is verified
 *   SYNCING         syncing  step_connect, once logged in: SELECT INBOX,
 *                            initial sync or catch-up from UIDNEXT
 *   IDLE            idle     enter_wait: in IDLE, fd parked in the loop
 *   POLLING         idle     enter_wait: no IDLE capability (or IDLE
 *                            misbehaved), NOOP each minute
 *   FETCHING        idle     step_wake: DONE/NOOP, then fetch the new mail
 *   BACKOFF         error    account_run, when a step fails transiently
 *                            (network, timeout, server hiccup); parked
 *                            until the backoff delay has passed
 *   FAILED          error    account_run, when a step fails for good:
 *                            authentication refused, untrusted certificate,
 *                            bad settings, UIDVALIDITY loop — no retry until
 *                            the next start
 *
 *   STOPPED -> CONNECTING -> AUTHENTICATING -> SYNCING -> IDLE|POLLING
 *   IDLE|POLLING -> FETCHING -> IDLE|POLLING
 *   any connected state -> BACKOFF -> CONNECTING;  -> FAILED;  -> STOPPED
 *
 * Threads: see enum account_holder.  Only the holder changes the state;
 * a->mu guards the fields that the control thread reads. */
#include "account.h"

#include "account_db.h"
#include "imap_conn.h"
#include "imap_fetch.h"
#include "imap_idle.h"
#include "imap_log.h"
#include "ob_event.h"
#include "ob_log.h"
#include "ob_outbox.h"
#include "sync_ctx.h"
#include "workers.h"

#include <libetpan/libetpan.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define POLL_INTERVAL_MS 60000
#define SILENCE_WATCHDOG_MS (5 * 60 * 1000)
#define RECHECK_DELAY_MS 1000
#define RECHECK_MAX 3

static const char *const state_names[ACCOUNT_STATE_COUNT] = {
    "stopped", "connecting", "authenticating", "syncing", "idle", "polling",
    "fetching", "backoff", "failed",
};

const char *account_state_name(enum account_state s)
{
    return s < ACCOUNT_STATE_COUNT ? state_names[s] : "invalid";
}

const char *account_status_name(enum account_state s)
{
    switch (s) {
    case ACCOUNT_STOPPED:
        return "stopped";
    case ACCOUNT_CONNECTING:
    case ACCOUNT_AUTHENTICATING:
    case ACCOUNT_SYNCING:
        return "syncing";
    case ACCOUNT_IDLE:
    case ACCOUNT_POLLING:
    case ACCOUNT_FETCHING:
        return "idle";
    default:
        return "error";
    }
}

struct account *account_new(struct sync_ctx *ctx, long long id, const char *user,
                            const char *email)
{
    struct account *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->id = id;
    a->ctx = ctx;
    snprintf(a->user, sizeof a->user, "%s", user);
    snprintf(a->email, sizeof a->email, "%s", email);
    pthread_mutex_init(&a->mu, NULL);
    a->state = ACCOUNT_STOPPED;
    a->sock_fd = -1;
    a->idle_fd = -1;
    a->loop_slot = -1;
    return a;
}

static void drop_token(struct account *a)
{
    if (a->access_token) {
        OPENSSL_cleanse(a->access_token, strlen(a->access_token));
        free(a->access_token);
        a->access_token = NULL;
    }
    a->token_expiry_ms = 0;
}

void account_free(struct account *a)
{
    if (!a)
        return;
    imap_conn_close(a);
    drop_token(a);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

json_t *account_status_json(struct account *a)
{
    pthread_mutex_lock(&a->mu);
    const char *st = a->wanted ? account_status_name(a->state)
                               : (a->state == ACCOUNT_FAILED ? "error" : "stopped");
    json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "userId", a->user, "email", a->email,
                          "status", st, "lastSync",
                          a->last_sync[0] ? json_string(a->last_sync) : json_null());
    if (o && strcmp(st, "error") == 0 && a->error[0])
        json_object_set_new(o, "error", json_string(a->error));
    pthread_mutex_unlock(&a->mu);
    return o;
}

static void emit_status(struct account *a, sqlite3 *db, const char *status, const char *error)
{
    char ts[OB_TIME_ISO_LEN];
    ob_time_iso_now(ts);
    json_t *data = json_pack("{s:s,s:s,s:s,s:s}", "userId", a->user, "status", status,
                             "email", a->email, "timestamp", ts);
    if (data && error && error[0])
        json_object_set_new(data, "error", json_string(error));
    struct ob_event ev;
    if (!data || ob_event_init(&ev, OB_EV_SYNC_STATUS, a->user, data) < 0)
        return;
    if (!db || ob_outbox_emit(db, a->ctx->pub, &ev) < 0)
        ob_warn("%s/%s: sync_status %s not stored", a->user, a->email, status);
    ob_event_clear(&ev);
}

void account_set_state(struct account *a, sqlite3 *db, enum account_state to, const char *error)
{
    pthread_mutex_lock(&a->mu);
    enum account_state from = a->state;
    const char *pub_from = account_status_name(from), *pub_to = account_status_name(to);
    int is_error = strcmp(pub_to, "error") == 0;
    int emit = strcmp(pub_from, pub_to) != 0 ||
               (is_error && error && strcmp(error, a->error) != 0);
    a->state = to;
    if (is_error)
        snprintf(a->error, sizeof a->error, "%s", error ? error : "unknown error");
    else
        a->error[0] = '\0';
    char errcopy[ACCOUNT_ERROR_MAX];
    snprintf(errcopy, sizeof errcopy, "%s", a->error);
    pthread_mutex_unlock(&a->mu);
    /* The idle <-> fetching round trip happens on every new message: debug. */
    int routine = (from == ACCOUNT_FETCHING || to == ACCOUNT_FETCHING) && !is_error;
    if (from != to && routine) {
        ob_debug("%s/%s: from %s to %s", a->user, a->email, account_state_name(from),
                 account_state_name(to));
    } else if (from != to) {
        if (is_error)
            ob_info("%s/%s: from %s to %s: %s", a->user, a->email, account_state_name(from),
                    account_state_name(to), errcopy);
        else
            ob_info("%s/%s: from %s to %s", a->user, a->email, account_state_name(from),
                    account_state_name(to));
    }
    if (emit)
        emit_status(a, db, pub_to, is_error ? errcopy : NULL);
}

void account_interrupt(struct account *a)
{
    pthread_mutex_lock(&a->mu);
    if (a->sock_fd >= 0)
        shutdown(a->sock_fd, SHUT_RDWR);
    pthread_mutex_unlock(&a->mu);
}

int account_start(struct account *a, sqlite3 *db)
{
    pthread_mutex_lock(&a->mu);
    a->wanted = 1;
    if (a->holder != ACCOUNT_HELD_NONE) {
        pthread_mutex_unlock(&a->mu);
        return 0;
    }
    a->holder = ACCOUNT_HELD_CTL;
    pthread_mutex_unlock(&a->mu);
    backoff_reset(&a->bo);
    a->careful = 0;
    account_set_state(a, db, ACCOUNT_CONNECTING, NULL);
    pthread_mutex_lock(&a->mu);
    a->holder = ACCOUNT_HELD_QUEUED;
    pthread_mutex_unlock(&a->mu);
    workers_submit(a->ctx->workers, a);
    return 0;
}

void account_stop(struct account *a, sqlite3 *db)
{
    pthread_mutex_lock(&a->mu);
    a->wanted = 0;
    enum account_holder h = a->holder;
    if (h == ACCOUNT_HELD_NONE)
        a->holder = ACCOUNT_HELD_CTL;
    else if (h == ACCOUNT_HELD_LOOP)
        imap_idle_kick(a->ctx->loop, a);     /* under a->mu: ordered after the park */
    else if (a->sock_fd >= 0)
        shutdown(a->sock_fd, SHUT_RDWR);     /* the worker's blocking call returns */
    pthread_mutex_unlock(&a->mu);
    if (h == ACCOUNT_HELD_NONE) {
        account_set_state(a, db, ACCOUNT_STOPPED, NULL);
        pthread_mutex_lock(&a->mu);
        a->holder = ACCOUNT_HELD_NONE;
        pthread_mutex_unlock(&a->mu);
    }
}

/* --- steps (worker thread, holding the account) ----------------------------- */

enum step { STEP_PARK, STEP_AGAIN, STEP_RETRY, STEP_FAIL };

int account_wanted(struct account *a)
{
    pthread_mutex_lock(&a->mu);
    int w = a->wanted && !atomic_load(&a->ctx->stopping);
    pthread_mutex_unlock(&a->mu);
    return w;
}

/* Enters IDLE (or arranges the next NOOP poll) and sets the wake-up time. */
static enum step enter_wait(struct account *a, sqlite3 *db, char *err, size_t errlen)
{
    int64_t now = ob_time_mono_ms();
    int64_t restart = a->ctx->cfg->imap_idle_restart * 1000;
    imap_conn_trim(a);
    if (!a->has_idle) {
        /* Polling is bounded like an IDLE period (tests shorten both). */
        a->idle_fd = -1;
        a->wake_at_ms = now + (restart < POLL_INTERVAL_MS ? restart : POLL_INTERVAL_MS);
        if (a->recheck > 0)
            a->wake_at_ms = now + RECHECK_DELAY_MS;
        account_set_state(a, db, ACCOUNT_POLLING, NULL);
        return STEP_PARK;
    }
    if (imap_conn_idle(a, err, errlen) < 0)
        return STEP_RETRY;
    a->idle_since_ms = now;
    int64_t silence = restart < SILENCE_WATCHDOG_MS ? restart : SILENCE_WATCHDOG_MS;
    a->wake_at_ms = now + restart;
    if (a->last_rx_ms + silence < a->wake_at_ms)
        a->wake_at_ms = (a->last_rx_ms > now ? now : a->last_rx_ms) + silence;
    if (a->recheck > 0)
        a->wake_at_ms = now + RECHECK_DELAY_MS;
    account_set_state(a, db, ACCOUNT_IDLE, NULL);
    /* Bytes already read into libetpan's buffer never wake epoll (clibs §1.8). */
    if (imap_conn_idle_buffered(a))
        return STEP_AGAIN;
    return STEP_PARK;
}

static enum step step_connect(struct account *a, sqlite3 *db, char *err, size_t errlen)
{
    account_set_state(a, db, ACCOUNT_CONNECTING, NULL);
    struct account_conf conf;
    int r = account_db_load_conf(db, a->ctx->seal_key, a->id, &conf, err, errlen);
    if (r == 1) {
        snprintf(err, errlen, "account no longer exists");
        return STEP_FAIL;
    }
    if (r < 0)
        return STEP_FAIL;
    enum step s = STEP_RETRY;
    r = imap_conn_open(a, &conf, err, errlen);
    if (r < 0) {
        s = r == -2 ? STEP_FAIL : STEP_RETRY;
        goto out;
    }
    account_set_state(a, db, ACCOUNT_AUTHENTICATING, NULL);
    r = imap_conn_login(a, &conf, err, errlen);
    if (r < 0) {
        s = r == -2 ? STEP_FAIL : STEP_RETRY;
        goto out;
    }
    account_conf_clear(&conf);
    a->connected_ms = ob_time_mono_ms();
    account_set_state(a, db, ACCOUNT_SYNCING, NULL);
    r = imap_fetch_open_inbox(a, db, err, errlen);
    if (r < 0)
        return r == -2 ? STEP_FAIL : STEP_RETRY;
    a->recheck = 0;
    return enter_wait(a, db, err, errlen);
out:
    account_conf_clear(&conf);
    return s;
}

static enum step step_wake(struct account *a, sqlite3 *db, char *err, size_t errlen)
{
    int was_idle = a->state == ACCOUNT_IDLE;
    account_set_state(a, db, ACCOUNT_FETCHING, NULL);
    int hint = 0;
    if (was_idle ? imap_conn_idle_done(a, &hint, err, errlen) < 0
                 : imap_conn_noop(a, &hint, err, errlen) < 0)
        return STEP_RETRY;
    int n = imap_fetch_new(a, db, err, errlen);
    if (n < 0)
        return STEP_RETRY;
    /* EXISTS announced but nothing fetchable yet (imap-sync rule 4): look
     * again shortly, a few times. */
    if (n == 0 && (hint || a->recheck > 0) && a->recheck < RECHECK_MAX)
        a->recheck++;
    else
        a->recheck = 0;
    return enter_wait(a, db, err, errlen);
}

static void teardown(struct account *a, sqlite3 *db)
{
    imap_conn_close(a);
    account_set_state(a, db, ACCOUNT_STOPPED, NULL);
}

/* Parks a in the loop unless stop was asked meanwhile; 1 if parked. */
static int park(struct account *a)
{
    pthread_mutex_lock(&a->mu);
    int ok = a->wanted && !atomic_load(&a->ctx->stopping);
    if (ok) {
        a->holder = ACCOUNT_HELD_LOOP;
        imap_idle_park(a->ctx->loop, a);
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

static void release(struct account *a)
{
    pthread_mutex_lock(&a->mu);
    a->holder = ACCOUNT_HELD_NONE;
    pthread_mutex_unlock(&a->mu);
}

void account_run(struct account *a, sqlite3 *db, struct imap_log_cap *cap)
{
    a->cap = cap;
    char err[ACCOUNT_ERROR_MAX];
    for (;;) {
        err[0] = '\0';
        if (!account_wanted(a)) {
            teardown(a, db);
            release(a);
            break;
        }
        enum step s;
        switch (a->state) {
        case ACCOUNT_IDLE:
        case ACCOUNT_POLLING:
            s = a->imap ? step_wake(a, db, err, sizeof err) : step_connect(a, db, err, sizeof err);
            break;
        default:
            s = step_connect(a, db, err, sizeof err);
            break;
        }
        if (s == STEP_AGAIN)
            continue;
        if (s == STEP_PARK) {
            if (park(a))
                break;
            continue;              /* stop asked meanwhile: tear down */
        }
        imap_conn_close(a);
        if (!account_wanted(a))
            continue;              /* the failure was our own stop */
        if (s == STEP_FAIL) {
            account_set_state(a, db, ACCOUNT_FAILED, err[0] ? err : "sync failed");
            drop_token(a);
            release(a);
            break;
        }
        int64_t now = ob_time_mono_ms();
        int64_t delay = backoff_next(&a->bo, a->connected_ms, now);
        a->connected_ms = 0;
        a->idle_fd = -1;
        a->wake_at_ms = now + delay;
        char why[ACCOUNT_ERROR_MAX + 16];
        snprintf(why, sizeof why, "reconnecting: %s", err[0] ? err : "connection lost");
        account_set_state(a, db, ACCOUNT_BACKOFF, why);
        ob_info("%s/%s: next attempt in %lld ms", a->user, a->email, (long long)delay);
        if (park(a))
            break;
    }
    a->cap = NULL;
}
