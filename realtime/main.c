/* onebox-realtime: the WebSocket sidecar (RFC 6455, on libwebsockets 4.1).
 *
 * It pushes onebox's events to browsers.  Publishers (onebox-api,
 * onebox-syncd) write one JSON event per line to events.sock; the sidecar
 * fans each event out to the WebSocket connections of its recipient user
 * (or a room, or every admin), replays missed durable events from the
 * outbox when a client resumes, and asks onebox-syncd to start a user's
 * sync when their first connection opens and to stop it a grace period
 * after their last one closes.  One thread runs everything through the lws
 * event loop; a small worker thread makes the blocking sync.sock calls.
 *
 *   browser ──WS /ws, /ws/imap-logs──►┐
 *   curl ─────HTTP /health /stats /metrics──►  onebox-realtime  ──sync.sock──► onebox-syncd
 *   onebox-api, onebox-syncd ──events.sock──►┘      │  start/stop {user}     (autosync.c)
 *        {"v":1,"id":N,"type":..,"user":..}         │
 *                                                   └──SQLite (read): events after an id (resume,
 *                                                      gaps in the live stream)
 *
 * Listens on: cfg.ws_host:cfg.ws_port (IPv4 only: LWS_SERVER_OPTION_DISABLE_IPV6,
 * clibs §2.12 pitfall 1) and cfg.events_sock (mode 0660, peers checked by
 * SO_PEERCRED).  Files, in reading order: rt.h (shared state), ws_protocol.c
 * (the /ws callback), ws_auth.c, ws_topics.c, ws_rooms.c, ws_replay.c,
 * ws_imaplogs.c, ingest.c, order.c, fanout.c, ws_msg.c, ws_users.c,
 * ws_hash.c, limits.c, autosync.c, metrics.c, http_stats.c.
 *
 * Event loop: a libev loop we own (epoll), handed to lws as a foreign loop.
 * lws's default poll() loop walks every descriptor on each wakeup, so the
 * cost of one delivery grew with the number of idle connections; epoll
 * wakes us only for the sockets that are ready.  main() runs the loop one
 * iteration at a time so a signal (which wakes it with lws_cancel_service)
 * is noticed at once.
 *
 * Shutdown: SIGTERM/SIGINT close every client with 1001, stop the worker,
 * free everything and exit 0. */
#include "autosync.h"
#include "fanout.h"
#include "ingest.h"
#include "limits.h"
#include "metrics.h"
#include "order.h"
#include "rt.h"
#include "ws_hash.h"
#include "ws_imaplogs.h"
#include "ws_protocol.h"
#include "ws_rooms.h"
#include "ws_users.h"

#include "ob_config.h"
#include "ob_keyfile.h"
#include "ob_log.h"
#include "ob_store.h"
#include "ob_time.h"

#include <errno.h>
#include <ev.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROC_NAME "onebox-realtime"

static volatile sig_atomic_t stop_requested;
static struct lws_context *sig_ctx;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (sig_ctx)
        lws_cancel_service(sig_ctx);    /* only a write(2): signal-safe */
}

/* lws writes its own log lines ending in '\n'; route warnings and errors
 * to ob_log so every line has the onebox format. */
static void lws_emit(int level, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    ob_log(level == LLL_ERR ? OB_LOG_WARN : OB_LOG_DEBUG, "lws: %s", buf);
}

/* The fd ceiling (clibs §2.9): lws busy-loops on EMFILE, so its table stays
 * below RLIMIT_NOFILE, with headroom for the database, the sync.sock calls
 * and the ingest connections; WebSockets stop being accepted a little below
 * the table size so publishers can still connect at the limit. */
static void size_fd_limits(struct rt *rt)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    long nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576 ? 1048576 : (long)rl.rlim_cur;
    long want = rt->cfg->ws_max_fds > 0 ? rt->cfg->ws_max_fds : nofile * 9 / 10;
    if (want > nofile - 32)
        want = nofile - 32;
    if (want < 64)
        want = 64;
    rt->fd_limit = (int)want;
    rt->max_conns = rt->fd_limit - LIMITS_FD_RESERVE;
    if (rt->max_conns < 8)
        rt->max_conns = 8;
    ob_info("fd ceiling %d (RLIMIT_NOFILE %ld): at most %d WebSocket connections",
            rt->fd_limit, nofile, rt->max_conns);
}

static lws_retry_bo_t idle_policy;

static int create_context(struct rt *rt, struct ev_loop *loop)
{
    struct lws_context_creation_info info;
    void *foreign_loops[1] = { loop };
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                   LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign_loops;
    info.fd_limit_per_thread = (unsigned)rt->fd_limit;
    info.user = rt;
    info.max_http_header_data = 8192;
    info.timeout_secs = 10;
    info.pt_serv_buf_size = 65536;       /* publisher reads land here */

    /* lws 4.1 sizes its fd -> connection table from RLIMIT_NOFILE when the
     * context is created, and when fd_limit_per_thread is smaller it looks
     * every ready descriptor up by a linear scan of that table (a third of
     * the CPU at 10k connections).  So the soft limit equals our ceiling
     * while the context is created (a direct-indexed table of that size)
     * and goes back up after, which leaves the process headroom above
     * lws's accept modulation: no EMFILE spin. */
    struct rlimit rl, was;
    int lowered = 0;
    if (getrlimit(RLIMIT_NOFILE, &was) == 0 && (was.rlim_cur == RLIM_INFINITY ||
                                                was.rlim_cur > (rlim_t)rt->fd_limit)) {
        rl = was;
        rl.rlim_cur = (rlim_t)rt->fd_limit;
        lowered = setrlimit(RLIMIT_NOFILE, &rl) == 0;
    }
    rt->ctx = lws_create_context(&info);
    if (lowered && setrlimit(RLIMIT_NOFILE, &was) < 0)
        ob_warn("cannot restore RLIMIT_NOFILE: %s", strerror(errno));
    if (!rt->ctx) {
        ob_error("cannot create the lws context");
        return -1;
    }
    sig_ctx = rt->ctx;

    /* Heartbeat: lws pings after ws_heartbeat s without a valid pong and drops
     * the peer 10 s later (seed 004's 30 s / 10 s); its default would be
     * 300/310 s (clibs §2.5). */
    idle_policy.secs_since_valid_ping = (uint16_t)rt->cfg->ws_heartbeat;
    idle_policy.secs_since_valid_hangup = (uint16_t)(rt->cfg->ws_heartbeat + 10);

    memset(&info, 0, sizeof info);
    info.vhost_name = "ws";
    info.port = (int)rt->cfg->ws_port;
    info.iface = rt->cfg->ws_host;
    info.protocols = ws_protocol_table();  /* the WS protocol is [0]: pitfall 12 */
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.retry_and_idle_policy = &idle_policy;
    info.keepalive_timeout = 5;
    rt->ws_vh = lws_create_vhost(rt->ctx, &info);
    if (!rt->ws_vh) {
        ob_error("cannot listen on %s:%ld", rt->cfg->ws_host, rt->cfg->ws_port);
        return -1;
    }

    /* The raw vhost listens nowhere itself: it holds the adopted events.sock
     * listener and the publisher connections, so no WebSocket client can
     * name their protocols. */
    memset(&info, 0, sizeof info);
    info.vhost_name = "ingest";
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = ingest_protocol_table();
    rt->raw_vh = lws_create_vhost(rt->ctx, &info);
    if (!rt->raw_vh) {
        ob_error("cannot create the ingest vhost");
        return -1;
    }
    return 0;
}

static void on_wait_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* One loop iteration that returns after at most timeout_ms even when no
 * socket is ready. */
static void loop_once(struct ev_loop *loop, int timeout_ms)
{
    ev_timer t;
    ev_timer_init(&t, on_wait_timeout, timeout_ms / 1000.0, 0.);
    ev_timer_start(loop, &t);
    ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &t);
}

/* Closes every client with 1001 and lets the close frames go out. */
static void close_all(struct rt *rt, struct ev_loop *loop)
{
    for (struct ws_conn *c = rt->conns; c; c = c->a_next)
        ws_protocol_close(rt, c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutdown", 1);
    int64_t until = ob_time_mono_ms() + 2000;
    while (rt->nconns && ob_time_mono_ms() < until)
        loop_once(loop, 50);
}

int main(int argc, char **argv)
{
    struct ob_config cfg;
    char err[512];
    int cr = ob_config_from_args(&cfg, argc, argv, PROC_NAME,
                                 "WebSocket sidecar of onebox: events.sock in, /ws and /ws/imap-logs out");
    if (cr != 0) {
        ob_config_free(&cfg);
        return cr > 0 ? 0 : 2;
    }
    ob_log_init(PROC_NAME, (enum ob_log_level)ob_log_level_parse(cfg.log_level));
    lws_set_log_level(LLL_ERR | (ob_log_enabled(OB_LOG_DEBUG) ? LLL_WARN : 0), lws_emit);
    if (ob_config_make_dirs(&cfg, err, sizeof err) < 0) {
        ob_error("%s", err);
        ob_config_free(&cfg);
        return 1;
    }

    static struct rt rt_state;
    struct rt *rt = &rt_state;
    struct ev_loop *loop = NULL;
    rt->cfg = &cfg;
    rt->ingest_fd = -1;
    rt->started_ms = ob_time_mono_ms();
    int rc = 1;

    if (ob_keyfile_load(cfg.jwt_key_file, rt->jwt_key, OB_JWT_KEY_LEN, err, sizeof err) < 0) {
        ob_error("jwt key: %s", err);
        goto out;
    }
    if (ob_store_open(cfg.db_path, &rt->db, err, sizeof err) < 0) {
        ob_error("database: %s", err);
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    size_fd_limits(rt);
    rt->users = ws_hash_new();
    rt->rooms = ws_hash_new();
    rt->limits = limits_new(&cfg);
    rt->metrics = metrics_new();
    rt->logbudget = ws_imaplogs_budget_new();
    if (!rt->users || !rt->rooms || !rt->limits || !rt->metrics || !rt->logbudget) {
        ob_error("out of memory");
        goto out;
    }
    rt->order = order_new(rt);
    if (!rt->order)
        goto out;
    loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
    if (!loop) {
        ob_error("cannot create the event loop (epoll)");
        goto out;
    }
    if (create_context(rt, loop) < 0)
        goto out;
    rt->autosync = autosync_new(rt);
    if (!rt->autosync)
        goto out;
    if (ingest_listen(rt) < 0)
        goto out;
    ws_protocol_start_timers(rt);
    ob_info("listening on ws://%s:%ld (/ws, /ws/imap-logs, /health, /stats, /metrics);"
            " events on %s; sync control at %s", cfg.ws_host, cfg.ws_port,
            cfg.events_sock, cfg.sync_sock);

    while (!stop_requested)
        ev_run(loop, EVRUN_ONCE);
    ob_info("shutting down: closing %u connection(s)", rt->nconns);
    rt->stopping = 1;
    close_all(rt, loop);
    rc = 0;

out:
    /* the worker wakes the loop through the context: stop it first */
    autosync_free(rt->autosync);
    rt->autosync = NULL;
    if (rt->ctx) {
        ws_protocol_stop_timers(rt);
        order_stop_timers(rt->order);
        ingest_close(rt);
        lws_context_destroy(rt->ctx);
        sig_ctx = NULL;
    }
    if (loop)
        ev_loop_destroy(loop);
    order_free(rt->order);
    ws_rooms_free_all(rt);
    ws_users_free_all(rt);
    ws_hash_free(rt->users);
    ws_hash_free(rt->rooms);
    ws_imaplogs_budget_free(rt->logbudget);
    metrics_free(rt->metrics);
    limits_free(rt->limits);
    ob_store_close(rt->db);
    OPENSSL_cleanse(rt->jwt_key, sizeof rt->jwt_key);
    ob_config_free(&cfg);
    if (rc == 0)
        ob_info("stopped");
    return rc;
}
