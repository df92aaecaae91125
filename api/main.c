/* onebox-api: the REST API of onebox (DESIGN.md "REST API") as a
 * multi-threaded FastCGI responder (fcgi2, FastCGI 1.0), reached through any
 * FastCGI web server — nginx, lighttpd, Apache mod_proxy_fcgi (contrib/).
 *
 *   browser/CLI --HTTP--> nginx --FastCGI--> onebox-api --sync.sock--> onebox-syncd
 *                                               |   start/stop/status/clients (JSON line,
 *                                               |   2 s timeout: 503 when syncd is away)
 *                                               |--events.sock--> onebox-realtime
 *                                               |   sync_status, account_added/_removed
 *                                               |   (durable: outbox row first; never blocks)
 *                                               `--SQLite (WAL)-- users, accounts, emails, events
 *
 * Listens on cfg.api_listen: a Unix socket path (default <run_dir>/api.sock,
 * mode 0660), or HOST:PORT for TCP (":PORT" binds 127.0.0.1, never every
 * interface), or "-" for the listening socket on fd 0 as spawn-fcgi passes
 * it (also used automatically when fd 0 is a listening socket).
 *
 * Threads: cfg.api_threads workers, each with its own FCGX_Request and its
 * own SQLite connection, all blocked in FCGX_Accept_r on the one socket; the
 * main thread waits for SIGTERM/SIGINT with sigwait, then sets
 * FCGX_ShutdownPending and shuts the listening socket down, which wakes every
 * worker; a request in flight completes first.
 *
 * The first admin: a user who registers with the email address set in
 * cfg.admin_email (ONEBOX_ADMIN_EMAIL) gets role "admin"; everyone else
 * "user".
 *
 * Flags: --config PATH, --print-config, --help (ob_config_from_args), and
 * --routes: print the route table (method, pattern, auth) and exit. */
#include "api.h"
#include "fcgi_request.h"
#include "hashgate.h"
#include "metrics.h"
#include "ob_keyfile.h"
#include "ob_log.h"
#include "ob_passwd.h"
#include "ob_sock.h"
#include "ob_store.h"
#include "req.h"
#include "router.h"
#include "syncctl.h"
#include "throttle.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define THROTTLE_SLOTS 16384
#define HASH_SLOTS_MAX 4

struct worker {
    pthread_t th;
    int index, started;
    struct api_server *srv;
    sqlite3 *db;
    char *body;            /* api_body_max + 1 bytes, reused per request */
    size_t body_cap;
};

static int listen_fd = -1;
static atomic_int stopping;

static int fd0_is_listener(void)
{
    int v = 0;
    socklen_t n = sizeof v;
    return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &v, &n) == 0 && v;
}

/* HOST:PORT (or :PORT) when the text ends in ":digits" and is not a path. */
static int parse_tcp(const char *s, char *host, size_t hostcap, int *port)
{
    if (s[0] == '/' || s[0] == '.')
        return 0;
    const char *colon = strrchr(s, ':');
    if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return 0;
    long p = strtol(colon + 1, NULL, 10);
    if (p < 1 || p > 65535)
        return -1;
    size_t hn = (size_t)(colon - s);
    if (hn == 0)
        snprintf(host, hostcap, "127.0.0.1");
    else if (hn == 9 && strncmp(s, "localhost", 9) == 0)
        snprintf(host, hostcap, "127.0.0.1");
    else
        snprintf(host, hostcap, "%.*s", (int)hn, s);
    *port = (int)p;
    return 1;
}

static int listen_tcp(const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "api_listen: '%s' is not an IPv4 address", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "api_listen %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Opens cfg.api_listen; *unix_path is set when a socket file was made. */
static int open_listener(const char *spec, const char **unix_path, char *err, size_t errlen)
{
    char host[64];
    int port;
    *unix_path = NULL;
    if (strcmp(spec, "-") == 0 || fd0_is_listener()) {
        if (!fd0_is_listener()) {
            snprintf(err, errlen, "api_listen '-': fd 0 is not a listening socket");
            return -1;
        }
        return 0;
    }
    int tcp = parse_tcp(spec, host, sizeof host, &port);
    if (tcp < 0) {
        snprintf(err, errlen, "api_listen '%s': bad port", spec);
        return -1;
    }
    if (tcp)
        return listen_tcp(host, port, err, errlen);
    /* Not FCGX_OpenSocket: it unlinks whatever the path names and exit()s on
     * failure.  ob_sock refuses to replace a live socket or a regular file. */
    int fd = ob_sock_listen_unix(spec, 0660, err, errlen);
    if (fd < 0)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        snprintf(err, errlen, "%s: %s", spec, strerror(errno));
        close(fd);
        unlink(spec);
        return -1;
    }
    *unix_path = spec;
    return fd;
}

static void serve_one(struct worker *w, FCGX_Request *fr)
{
    int64_t t0 = metrics_now_us();
    struct api_req r;
    memset(&r, 0, sizeof r);
    r.srv = w->srv;
    r.db = w->db;
    r.route_index = -1;
    if (fcgi_request_read(fr, &r, w->body, w->body_cap) == 0)
        router_dispatch(&r);
    if (fcgi_request_write(fr, &r) < 0)
        ob_debug("worker %d: the web server went away before the answer", w->index);
    int64_t us = metrics_now_us() - t0;
    metrics_observe(r.route_index, r.status, us);
    /* before FCGX_Finish_r: the param strings r points at die with it */
    if (ob_log_enabled(OB_LOG_DEBUG))
        ob_debug("%s %.*s %d %.1fms", r.method ? r.method : "-", (int)r.path_len,
                 r.path ? r.path : "", r.status, (double)us / 1000.0);
    fcgi_request_finish(fr, r.input_done);
    req_clear(&r);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    FCGX_Request fr;
    if (FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        ob_error("worker %d: FCGX_InitRequest failed", w->index);
        return NULL;
    }
    for (;;) {
        int rc = FCGX_Accept_r(&fr);
        if (rc >= 0) {
            serve_one(w, &fr);   /* accepted before the shutdown: answer it */
            continue;
        }
        if (atomic_load(&stopping))
            break;
        /* EMFILE and friends: back off instead of spinning or dying */
        ob_warn("worker %d: accept failed (%d); retrying", w->index, rc);
        usleep(100000);
    }
    FCGX_Free(&fr, 0);
    return NULL;
}

static int server_init(struct api_server *srv, const struct ob_config *cfg)
{
    char err[256];
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    srv->started = time(NULL);
    if (ob_keyfile_load(cfg->jwt_key_file, srv->jwt_key, sizeof srv->jwt_key, err, sizeof err) < 0 ||
        ob_keyfile_load(cfg->seal_key_file, srv->seal_key, sizeof srv->seal_key, err, sizeof err) < 0) {
        ob_error("keys: %s", err);
        return -1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int slots = (int)(ncpu < 1 ? 1 : ncpu > HASH_SLOTS_MAX ? HASH_SLOTS_MAX : ncpu);
    if (slots > cfg->api_threads)
        slots = (int)cfg->api_threads;
    srv->gate = hashgate_new(slots);
    srv->throttle = throttle_new(cfg->login_max_failures, cfg->login_window, THROTTLE_SLOTS);
    /* Verifying unknown logins against a real hash costs them the same time
     * as known ones, so response time does not reveal who is registered. */
    srv->dummy_hash = ob_passwd_hash("onebox-no-such-user", OB_PASSWD_LN);
    srv->pub = ob_pub_new(cfg->events_sock, (size_t)cfg->pub_queue_max);
    srv->sync = syncctl_new(cfg->sync_sock, API_SYNC_KEEP, API_SYNC_TIMEOUT_MS);
    if (!srv->gate || !srv->throttle || !srv->dummy_hash || !srv->pub || !srv->sync) {
        ob_error("start-up: out of memory");
        return -1;
    }
    return 0;
}

static void server_free(struct api_server *srv)
{
    ob_pub_free(srv->pub, 1000);
    syncctl_free(srv->sync);
    hashgate_free(srv->gate);
    throttle_free(srv->throttle);
    free(srv->dummy_hash);
    OPENSSL_cleanse(srv->jwt_key, sizeof srv->jwt_key);
    OPENSSL_cleanse(srv->seal_key, sizeof srv->seal_key);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--routes") == 0) {
            router_print(stdout);
            return 0;
        }

    /* config */
    struct ob_config cfg;
    char err[256];
    int arc = ob_config_from_args(&cfg, argc, argv, "onebox-api",
                                  "FastCGI responder for the onebox REST API "
                                  "(--routes prints the route table; the user "
                                  "registering with admin_email becomes admin)");
    if (arc != 0) {
        ob_config_free(&cfg);
        return arc > 0 ? 0 : 1;
    }
    ob_log_init("onebox-api", (enum ob_log_level)ob_log_level_parse(cfg.log_level));
    if (ob_config_make_dirs(&cfg, err, sizeof err) < 0) {
        ob_error("%s", err);
        ob_config_free(&cfg);
        return 1;
    }

    /* store: migrate once here; each worker then opens its own connection */
    sqlite3 *db0;
    if (ob_store_open(cfg.db_path, &db0, err, sizeof err) < 0) {
        ob_error("store: %s", err);
        ob_config_free(&cfg);
        return 1;
    }
    ob_store_close(db0);

    /* Signals: block before FCGX_Init and before any thread, so every thread
     * inherits the mask and only sigwait below sees SIGTERM/SIGINT.  SIGPIPE
     * stays with fcgi2's no-op handler (EPIPE is returned instead). */
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);
    if (FCGX_Init() != 0) {
        ob_error("FCGX_Init failed");
        ob_config_free(&cfg);
        return 1;
    }

    struct api_server srv;
    int rc = 1;
    struct worker *ws = NULL;
    const char *unix_path = NULL;
    if (server_init(&srv, &cfg) < 0)
        goto out;

    /* sockets */
    listen_fd = open_listener(cfg.api_listen, &unix_path, err, sizeof err);
    if (listen_fd < 0) {
        ob_error("%s", err);
        goto out;
    }

    /* workers */
    int n = (int)cfg.api_threads;
    ws = calloc((size_t)n, sizeof *ws);
    if (!ws)
        goto out;
    for (int i = 0; i < n; i++) {
        ws[i].index = i;
        ws[i].srv = &srv;
        ws[i].body_cap = (size_t)cfg.api_body_max + 1;
        ws[i].body = malloc(ws[i].body_cap);
        if (!ws[i].body || ob_store_open(cfg.db_path, &ws[i].db, err, sizeof err) < 0) {
            ob_error("worker %d: %s", i, ws[i].body ? err : "out of memory");
            goto stop;
        }
    }
    for (int i = 0; i < n; i++) {
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
            ob_error("worker %d: cannot start a thread", i);
            goto stop;
        }
        ws[i].started = 1;
    }
    if (listen_fd == 0)
        ob_info("listening on the FastCGI socket passed as fd 0 (%d threads)", n);
    else
        ob_info("listening on %s (%d threads); sync.sock %s, events.sock %s",
                cfg.api_listen, n, cfg.sync_sock, cfg.events_sock);

    /* loop: the workers serve; this thread only waits for the end */
    for (;;) {
        int sig = 0;
        if (sigwait(&ss, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            ob_info("SIGHUP ignored (restart to reload the configuration)");
            continue;
        }
        ob_info("signal %d: shutting down", sig);
        break;
    }
    rc = 0;

stop:
    /* shutdown: FCGX_ShutdownPending only sets a flag; shutting the socket
     * down is what wakes the threads blocked in accept(). */
    atomic_store(&stopping, 1);
    FCGX_ShutdownPending();
    if (listen_fd >= 0)
        shutdown(listen_fd, SHUT_RDWR);
    for (int i = 0; ws && i < n; i++) {
        if (ws[i].started)
            pthread_join(ws[i].th, NULL);
        ob_store_close(ws[i].db);
        free(ws[i].body);
    }
out:
    free(ws);
    if (listen_fd > 0)
        close(listen_fd);
    if (unix_path)
        unlink(unix_path);
    server_free(&srv);
    ob_config_free(&cfg);
    if (rc == 0)
        ob_info("stopped");
    return rc;
}
