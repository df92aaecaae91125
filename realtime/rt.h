/* rt: the state of onebox-realtime shared by its files — the one `struct rt`
 * owned by main.c, the per-connection state lws keeps for each WebSocket
 * (struct ws_conn, its per-session data), and the per-user record.
 *
 * Everything here is touched by the lws service thread only; the one other
 * thread (autosync.c) talks to it through its own locked queue and
 * lws_cancel_service() (notes/clibs.md §2.8). */
#ifndef RT_H
#define RT_H

#include "ob_config.h"
#include "ob_jwt.h"
#include "ob_proto.h"
#include "ws_hash.h"

#include <libwebsockets.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>

struct ws_msg;
struct ws_member;
struct ws_imaplog;
struct autosync;
struct order;
struct ingest_conn;

/* Topics a /ws connection can subscribe to, one bit each (ws_topics.c). */
#define WS_TOPIC_EMAILS    0x01u
#define WS_TOPIC_SYNC      0x02u
#define WS_TOPIC_ACCOUNTS  0x04u
#define WS_TOPIC_METRICS   0x08u
#define WS_TOPIC_IMAPLOGS  0x10u
#define WS_TOPIC_ROOMS     0x20u
/* What a connection that never subscribed receives (seed 001 clients expect
 * new_email and sync_status without asking). */
#define WS_TOPICS_DEFAULT  (WS_TOPIC_EMAILS | WS_TOPIC_SYNC | WS_TOPIC_ACCOUNTS)

enum ws_kind { WS_KIND_NOTIFY = 0, WS_KIND_IMAPLOGS };

/* Connection states; ws_conn_set_state() is the one setter (ws_protocol.c):
 *   NEW --ESTABLISHED--> AUTH_WAIT --token ok--> LIVE --close--> CLOSING
 *   NEW --ESTABLISHED + token ok--> LIVE;  any --limit/auth error--> CLOSING */
enum ws_state { WS_ST_NEW = 0, WS_ST_AUTH_WAIT, WS_ST_LIVE, WS_ST_CLOSING };

/* Flags of a connection. */
#define WS_F_ADMIN       0x01u   /* token role "admin" */
#define WS_F_EXPLICIT    0x02u   /* subscribed explicitly: topics replace the default */
#define WS_F_REPLAYING   0x04u   /* paging its resume from the outbox */
#define WS_F_ANCHORED    0x08u   /* has received a durable event or replayed */
#define WS_F_DROP_QUEUE  0x10u   /* closing without flushing (slow reader) */
#define WS_F_LISTED      0x20u   /* on rt->conns (cleanup is idempotent) */
#define WS_F_RATE_NOTED  0x40u   /* already told it is over the rate */
#define WS_F_GAP         0x80u   /* a resume asked for ids it can no longer get in order */
#define WS_F_RESUME_WANTED 0x100u /* ?lastEventId= given: replay once authenticated */
#define WS_F_RX_DISCARD  0x200u  /* skipping the rest of a refused (binary) message */

/* lws per-session data of /ws and /ws/imap-logs: zeroed by lws, kept small
 * (idle connections are the memory budget: no buffers until needed). */
struct ws_conn {
    struct lws *wsi;
    struct ws_user *user;                 /* NULL until authenticated */
    struct ws_conn *u_prev, *u_next;      /* the user's connections */
    struct ws_conn *a_prev, *a_next;      /* every connection (timers) */
    struct ws_conn *adm_prev, *adm_next;  /* admin connections ("*" events) */
    struct ws_msg **q;                    /* send queue ring, lazily allocated */
    struct ws_member *rooms;              /* room memberships (ws_rooms.c) */
    char *rx;                             /* reassembly of a fragmented message */
    const char *close_why;                /* static text for the close frame */
    long long cursor;                     /* highest durable id queued to it */
    long long base;                       /* it got every durable id in (base, cursor] */
    long long replay_after;               /* next replay page starts after this id */
    int64_t deadline;                     /* auth deadline or token expiry (unix s) */
    uint32_t q_bytes, rx_len;
    uint32_t id;                          /* connection number */
    int32_t replay_left;                  /* events the replay may still send */
    uint32_t replay_count;
    uint32_t rate_window;                 /* minute number of the rate window */
    uint32_t rate_count;
    uint16_t q_head, q_len, q_cap;
    uint16_t close_code;
    uint16_t flags;
    uint8_t state, kind, topics, nrooms;
};

/* A user with at least one connection, a pending auto-stop, or IMAP logs. */
struct ws_user {
    struct ws_hash_node hn;               /* key: id (ws_users.c) */
    char id[OB_PROTO_ID_MAX];
    struct ws_conn *conns;
    uint16_t nconns;
    /* autosync.c */
    uint8_t sync_state;
    int64_t sync_at_ms;                   /* when the pending stop/retry is due */
    struct autosync_job *job;             /* queued to the worker, or NULL */
    /* ws_imaplogs.c */
    struct ws_imaplog *logs;
    struct ws_user *lru_prev, *lru_next;
};

/* Counters for /stats, /metrics and the `metrics` message. */
struct rt_stats {
    unsigned long long conns_total, conns_rejected, auth_failures;
    unsigned long long msgs_in, msgs_out, bytes_in, bytes_out;
    unsigned long long errors_sent, slow_closed, limit_closed;
    unsigned long long ev_in, ev_bad, ev_dup, ev_gapfilled, ev_dropped_peer;
    unsigned long long by_type[OB_EV_COUNT];      /* deliveries per event type */
    unsigned long long replayed, replays, replays_incomplete;
    unsigned long long sync_calls, sync_failures;
};

struct rt {
    struct ob_config *cfg;
    unsigned char jwt_key[OB_JWT_KEY_LEN];
    sqlite3 *db;                          /* the sidecar's own connection */
    struct lws_context *ctx;
    struct lws_vhost *ws_vh, *raw_vh;
    struct lws *ingest_listener;
    int ingest_fd;
    struct ingest_conn *ingest_conns;     /* publisher connections (ingest.c) */
    unsigned ningest;
    int fd_limit;                         /* lws fd_limit_per_thread */
    int max_conns;                        /* WebSockets accepted at most */

    /* connections */
    struct ws_conn *conns, *admins;
    unsigned nconns, nauthed, nimaplogs, nonline;   /* nonline: users with a connection */
    uint32_t next_conn_id;
    struct ws_hash *users, *rooms;
    unsigned nusers;

    /* send queues (fanout.c) */
    unsigned long long live_msg_bytes;    /* bytes in live shared messages */
    int ingest_paused;

    struct order *order;
    struct autosync *autosync;
    struct rt_limits *limits;
    struct rt_metrics *metrics;
    struct ws_imaplog_budget *logbudget;

    lws_sorted_usec_list_t tick_sul, metrics_sul;
    int64_t started_ms;
    int stopping;
    struct rt_stats st;
};

/* The sidecar's state from any of its connections (the context's user). */
static inline struct rt *rt_from_wsi(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

#endif
