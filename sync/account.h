/* account: one IMAP account's sync state machine.  See account.c for the
 * states, the transitions and which function makes each one. */
#ifndef SYNC_ACCOUNT_H
#define SYNC_ACCOUNT_H

#include "backoff.h"
#include "ob_proto.h"
#include "ob_time.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

struct sync_ctx;
struct imap_log_cap;
typedef struct mailimap mailimap;

enum account_state {
    ACCOUNT_STOPPED = 0,
    ACCOUNT_CONNECTING,
    ACCOUNT_AUTHENTICATING,
    ACCOUNT_SYNCING,
    ACCOUNT_IDLE,
    ACCOUNT_POLLING,
    ACCOUNT_FETCHING,
    ACCOUNT_BACKOFF,
    ACCOUNT_FAILED,
    ACCOUNT_STATE_COUNT
};

/* Which thread may touch the session right now (a session belongs to one
 * thread at a time; the hand-offs go through the worker queue and the IDLE
 * loop's command queue, both under account->mu). */
enum account_holder {
    ACCOUNT_HELD_NONE = 0,   /* no session; ctl may change state */
    ACCOUNT_HELD_QUEUED,     /* in the worker queue */
    ACCOUNT_HELD_WORKER,     /* a worker is running a step */
    ACCOUNT_HELD_LOOP,       /* parked in the IDLE loop */
    ACCOUNT_HELD_CTL         /* ctl thread changing a stopped account */
};

#define ACCOUNT_ERROR_MAX 256

struct account {
    long long id;                      /* accounts.id */
    char user[OB_PROTO_ID_MAX];
    char email[OB_PROTO_EMAIL_MAX];
    struct sync_ctx *ctx;

    pthread_mutex_t mu;                /* guards the fields up to sock_fd */
    enum account_state state;
    enum account_holder holder;
    int wanted;                        /* start asked, stop not yet */
    int kicked;                        /* the loop was asked to hand it back */
    char error[ACCOUNT_ERROR_MAX];     /* reason of the last error status */
    char last_sync[OB_TIME_ISO_LEN];   /* "" = never */
    int sock_fd;                       /* live socket (for shutdown), or -1 */
    struct account *job_next;          /* worker queue link (workers.c) */

    /* Owned by the holding thread. */
    mailimap *imap;
    struct imap_log_cap *cap;          /* the holding worker's log buffers */
    int64_t last_rx_ms;                /* last byte received */
    int64_t connected_ms;              /* when the current session logged in */
    int64_t idle_since_ms;             /* when IDLE was last entered */
    int64_t wake_at_ms;                /* the loop hands it back then */
    int idle_fd;                       /* watched by the loop, or -1 */
    int loop_slot;                     /* index in the loop's table, or -1 */
    struct backoff bo;
    int has_idle, has_condstore;
    int no_idle;                       /* IDLE misbehaved here: poll instead */
    int careful;                       /* fetch one message at a time */
    int recheck;                       /* EXISTS seen but nothing fetched yet */
    uint32_t uidvalidity, uidnext;     /* of INBOX in the current session */
    uint64_t modseq;
    char *access_token;                /* XOAUTH2, wiped when freed */
    int64_t token_expiry_ms;
};

/* Allocates a stopped account.  NULL on allocation failure. */
struct account *account_new(struct sync_ctx *ctx, long long id, const char *user,
                            const char *email);
/* Closes any session and frees; the caller made sure no thread holds it. */
void account_free(struct account *a);

/* The one state setter: logs "from X to Y", and when the public status
 * (stopped|syncing|idle|error) or the error reason changes, stores and
 * publishes a sync_status event using db (the calling thread's connection;
 * NULL: log only).  error may be NULL.  Only the holding thread calls it. */
void account_set_state(struct account *a, sqlite3 *db, enum account_state to,
                       const char *error);

const char *account_state_name(enum account_state s);
/* The public status of a state: "stopped", "syncing", "idle" or "error". */
const char *account_status_name(enum account_state s);

/* Asks for sync (ctl thread).  Starts a stopped or failed account through
 * the worker pool; a running one is left alone.  Returns 0 or -1. */
int account_start(struct account *a, sqlite3 *db);
/* Asks sync to stop (ctl thread); never waits for the network: a parked
 * account is handed to a worker, a busy one has its socket shut down. */
void account_stop(struct account *a, sqlite3 *db);

/* Runs one step for an account taken from the worker queue (worker thread):
 * connect/login/catch-up, or wake from IDLE and fetch, or tear down.  It
 * ends by parking the account in the IDLE loop, or leaving it stopped or
 * failed.  db and cap belong to the worker. */
void account_run(struct account *a, sqlite3 *db, struct imap_log_cap *cap);

/* 1 while sync is wanted and the process is not shutting down (a long
 * step checks it between batches). */
int account_wanted(struct account *a);

/* Shuts the live socket down so a blocking read in another thread returns
 * at once (shutdown; caller holds nothing).  Safe at any time. */
void account_interrupt(struct account *a);

/* A status object {userId,email,status,lastSync,error?} (new reference). */
json_t *account_status_json(struct account *a);

#endif
