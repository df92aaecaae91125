/* imap_conn: connect, verify, log in, IDLE/DONE/NOOP; see imap_conn.h. */
#include "imap_conn.h"

#include "account.h"
#include "account_db.h"
#include "etpan_cancel.h"
#include "fd_reserve.h"
#include "imap_log.h"
#include "oauth2.h"
#include "ob_log.h"
#include "ob_time.h"
#include "sync_ctx.h"
#include "tls_verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libetpan/libetpan.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/select.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Dead-peer detection between DONE cycles: ~2 minutes after the last ACK. */
#define KEEPALIVE_IDLE_S 60
#define KEEPALIVE_INTVL_S 15
#define KEEPALIVE_CNT 4
/* An access token is refreshed when it has less than this left. */
#define TOKEN_MARGIN_MS (5 * 60 * 1000)

const char *imap_conn_strerror(int r)
{
    switch (r) {
    case MAILIMAP_NO_ERROR:
    case MAILIMAP_NO_ERROR_AUTHENTICATED:
    case MAILIMAP_NO_ERROR_NON_AUTHENTICATED:
        return "ok";
    case MAILIMAP_ERROR_BAD_STATE:
        return "command not allowed in this state";
    case MAILIMAP_ERROR_STREAM:
        return "connection lost or timed out";
    case MAILIMAP_ERROR_PARSE:
        return "unparsable server response";
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
        return "connection refused";
    case MAILIMAP_ERROR_MEMORY:
        return "out of memory";
    case MAILIMAP_ERROR_FATAL:
        return "server closed the connection";
    case MAILIMAP_ERROR_PROTOCOL:
        return "protocol error";
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
        return "server refused the connection";
    case MAILIMAP_ERROR_LOGIN:
        return "login refused";
    case MAILIMAP_ERROR_SELECT:
        return "SELECT failed";
    case MAILIMAP_ERROR_FETCH:
    case MAILIMAP_ERROR_UID_FETCH:
        return "FETCH failed";
    case MAILIMAP_ERROR_NOOP:
        return "NOOP failed";
    case MAILIMAP_ERROR_STARTTLS:
        return "STARTTLS failed";
    case MAILIMAP_ERROR_SSL:
        return "TLS handshake failed";
    case MAILIMAP_ERROR_CAPABILITY:
        return "CAPABILITY failed";
    case MAILIMAP_ERROR_INVAL:
        return "invalid argument";
    default:
        return "IMAP error";
    }
}

static int is_ok(int r)
{
    return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
           r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

void imap_conn_server_text(struct account *a, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!a->imap || !a->imap->imap_response)
        return;
    size_t n = imap_log_sanitize(buf, cap, a->imap->imap_response,
                                 strnlen(a->imap->imap_response, 1024));
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\t')
            buf[i] = ' ';
}

static void fail(struct account *a, int r, const char *what, char *err, size_t errlen)
{
    char srv[160];
    imap_conn_server_text(a, srv, sizeof srv);
    if (srv[0] && r != MAILIMAP_ERROR_STREAM)
        snprintf(err, errlen, "%s: %s (%s)", what, imap_conn_strerror(r), srv);
    else
        snprintf(err, errlen, "%s: %s", what, imap_conn_strerror(r));
}

static int is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* SNI (RFC 6066 §3: host names only, never IP literals). */
static void sni_cb(struct mailstream_ssl_context *c, void *host)
{
    if (!is_ip_literal(host))
        mailstream_ssl_set_server_name(c, host);
}

static void set_keepalive(int fd)
{
    int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTVL_S, cnt = KEEPALIVE_CNT;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static void set_sock_fd(struct account *a, int fd)
{
    pthread_mutex_lock(&a->mu);
    a->sock_fd = fd;
    pthread_mutex_unlock(&a->mu);
}

/* Connects with a timeout.  The socket is published in a->sock_fd before
 * connect(2), so a stop (account_interrupt) can cut a connect or a
 * greeting that never comes.  Returns the blocking fd, or -1 with err. */
static int tcp_connect(struct account *a, const char *host, int port, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    int r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0) {
        snprintf(err, errlen, "cannot resolve %.200s: %s", host, gai_strerror(r));
        return -1;
    }
    int timeout_ms = (int)a->ctx->cfg->imap_timeout * 1000, fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        set_sock_fd(a, fd);
        if (!account_wanted(a)) {
            e = ECANCELED;
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            e = 0;
        } else if (errno != EINPROGRESS) {
            e = errno;
        } else {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int pr;
            do
                pr = poll(&p, 1, timeout_ms);
            while (pr < 0 && errno == EINTR);
            socklen_t sl = sizeof e;
            if (pr == 0)
                e = ETIMEDOUT;
            else if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
                e = errno;
        }
        if (e == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0)
            break;
        set_sock_fd(a, -1);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "connect to %.200s:%d: %s", host, port,
                 e == ECANCELED ? "stopped" : strerror(e ? e : ECONNREFUSED));
    else
        set_keepalive(fd);
    return fd;
}

void imap_conn_close(struct account *a)
{
    if (!a->imap)
        return;
    pthread_mutex_lock(&a->mu);
    a->sock_fd = -1;
    pthread_mutex_unlock(&a->mu);
    int had_stream = a->imap->imap_stream != NULL;
    if (had_stream) {
        etpan_cancel_release(mailstream_get_low(a->imap->imap_stream));
        mailstream_close(a->imap->imap_stream);
        a->imap->imap_stream = NULL;
    }
    mailimap_free(a->imap);
    a->imap = NULL;
    if (had_stream)
        fd_reserve_refill();        /* the socket's number is a placeholder again */
    a->idle_fd = -1;
    a->has_idle = a->has_condstore = 0;
}

static int refresh_caps(struct account *a, char *err, size_t errlen)
{
    struct mailimap_capability_data *cd = NULL;
    imap_log_begin(a, "CAPABILITY");
    int r = mailimap_capability(a->imap, &cd);
    if (cd)
        mailimap_capability_data_free(cd);
    if (!is_ok(r)) {
        fail(a, r, "CAPABILITY", err, errlen);
        imap_log_end(a, err);
        return -1;
    }
    imap_log_end(a, NULL);
    return 0;
}

/* libetpan 1.9.4 waits on a session's socket with select(2), and glibc
 * aborts the whole process when FD_SET meets a descriptor >= FD_SETSIZE.
 * The socket is moved onto a descriptor fd_reserve keeps below that line
 * (everything else the process opens lands above it, and libetpan's cancel
 * pipe is replaced by a shared descriptor, etpan_cancel.h), so one session
 * costs one low descriptor.  When none is left the account ends in `error`
 * with the reason instead of taking the process down. */
static int lower_socket(struct account *a, int fd, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->mu);
    int low = fd_reserve_lower(fd);
    a->sock_fd = low >= 0 ? low : -1;
    pthread_mutex_unlock(&a->mu);
    if (low >= 0)
        return low;
    close(fd);
    snprintf(err, errlen, "this onebox-syncd has no file descriptor below %d left for another "
             "IMAP session (libetpan waits with select); stop other accounts or run "
             "another onebox-syncd", FD_SETSIZE);
    ob_warn("%s/%s: %s", a->user, a->email, err);
    return -1;
}

/* Drops the stream's cancel pipe (etpan_cancel.h). */
static int detach_cancel(struct account *a, mailstream *st, char *err, size_t errlen)
{
    if (etpan_cancel_detach(mailstream_get_low(st), err, errlen) == 0)
        return 0;
    ob_warn("%s/%s: %s", a->user, a->email, err);
    return -1;
}

/* mailimap_socket_starttls_with_callback() as in libetpan 1.9.4, with the
 * socket stream's cancel taken out before libetpan frees it and the TLS
 * stream's pipe dropped once it exists. */
static int starttls(struct account *a, const char *host, char *err, size_t errlen)
{
    imap_log_begin(a, "STARTTLS");
    int r = mailimap_starttls(a->imap);
    if (!is_ok(r)) {
        fail(a, r, "STARTTLS", err, errlen);
        imap_log_end(a, err);
        return -1;
    }
    mailstream_low *low = mailstream_get_low(a->imap->imap_stream);
    int fd = mailstream_low_get_fd(low);
    mailstream_low *tls = fd < 0 ? NULL
        : mailstream_low_tls_open_with_callback_timeout(fd, (time_t)a->ctx->cfg->imap_timeout,
                                                        sni_cb, (void *)host);
    if (!tls) {
        snprintf(err, errlen, "STARTTLS: TLS handshake failed");
        imap_log_end(a, err);
        return -1;
    }
    etpan_cancel_release(low);
    mailstream_low_free(low);
    mailstream_set_low(a->imap->imap_stream, tls);
    if (detach_cancel(a, a->imap->imap_stream, err, errlen) < 0) {
        imap_log_end(a, err);
        return -2;
    }
    imap_log_end(a, NULL);
    return 0;
}

int imap_conn_open(struct account *a, const struct account_conf *c, char *err, size_t errlen)
{
    imap_conn_close(a);
    a->imap = mailimap_new(0, NULL);
    if (!a->imap) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Before connecting: the timeout is copied into the stream then (clibs §1.9). */
    mailimap_set_timeout(a->imap, a->ctx->cfg->imap_timeout);
    imap_log_attach(a->imap, a);
    a->last_rx_ms = ob_time_mono_ms();
    char what[300];
    snprintf(what, sizeof what, "connect to %.200s:%d", c->host, c->port);
    imap_log_begin(a, "CONNECT");
    int fd = tcp_connect(a, c->host, c->port, err, errlen);
    if (fd < 0) {
        imap_log_end(a, err);
        return -1;
    }
    fd = lower_socket(a, fd, err, errlen);
    if (fd < 0) {
        imap_log_end(a, err);
        return -2;
    }
    time_t tmo = (time_t)a->ctx->cfg->imap_timeout;
    mailstream *st = c->security == ACCOUNT_SEC_TLS
        ? mailstream_ssl_open_with_callback_timeout(fd, tmo, sni_cb, c->host)
        : mailstream_socket_open_timeout(fd, tmo);
    if (!st) {
        set_sock_fd(a, -1);
        close(fd);
        fd_reserve_refill();
        snprintf(err, errlen, "%s: %s", what,
                 c->security == ACCOUNT_SEC_TLS ? "TLS handshake failed" : "out of memory");
        imap_log_end(a, err);
        return -1;
    }
    /* From here the stream owns fd; imap_conn_close() closes it. */
    if (detach_cancel(a, st, err, errlen) < 0) {
        set_sock_fd(a, -1);
        mailstream_close(st);
        fd_reserve_refill();
        imap_log_end(a, err);
        return -2;
    }
    int r = mailimap_connect(a->imap, st);
    if (!is_ok(r)) {
        fail(a, r, what, err, errlen);
        imap_log_end(a, err);
        return -1;
    }
    imap_log_end(a, NULL);
    if (c->security == ACCOUNT_SEC_STARTTLS) {
        if (!mailimap_has_extension(a->imap, "STARTTLS") && refresh_caps(a, err, errlen) < 0)
            return -1;
        if (!mailimap_has_extension(a->imap, "STARTTLS")) {
            /* No silent downgrade to plain text. */
            snprintf(err, errlen, "server does not offer STARTTLS");
            return -2;
        }
        r = starttls(a, c->host, err, errlen);
        if (r < 0)
            return r;
    }
    if (c->security != ACCOUNT_SEC_PLAIN) {
        char why[200];
        if (tls_verify_peer(a->ctx->tls, a->imap->imap_stream, c->host, why, sizeof why) < 0) {
            snprintf(err, errlen, "TLS: %s (host %.100s)", why, c->host);
            ob_warn("%s/%s: refusing server: %s", a->user, a->email, err);
            return -2;
        }
        /* Capabilities before TLS cannot be trusted (RFC 2595 §3.1). */
        if (c->security == ACCOUNT_SEC_STARTTLS && refresh_caps(a, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int login_password(struct account *a, const struct account_conf *c, char *err, size_t errlen)
{
    if (memchr(c->secret, '\0', c->secret_len)) {
        snprintf(err, errlen, "stored password contains a NUL byte");
        return -2;
    }
    imap_log_begin(a, "LOGIN");
    int r = mailimap_login(a->imap, c->username, (const char *)c->secret);
    if (is_ok(r)) {
        imap_log_end(a, NULL);
        return 0;
    }
    fail(a, r, "authentication failed", err, errlen);
    imap_log_end(a, err);
    return r == MAILIMAP_ERROR_LOGIN ? -2 : -1;
}

static int get_token(struct account *a, const struct account_conf *c, int force,
                     char *err, size_t errlen)
{
    int64_t now = ob_time_mono_ms();
    if (!force && a->access_token && a->token_expiry_ms - now > TOKEN_MARGIN_MS)
        return 0;
    struct oauth2_secret s;
    if (oauth2_secret_parse(c->secret, c->secret_len, &s, err, errlen) < 0)
        return -2;
    char *tok = NULL;
    long expires = 0;
    int64_t t0 = ob_time_mono_ms();
    imap_log_begin(a, "OAUTH2 REFRESH");
    int r = oauth2_refresh(c->token_url, c->client_id, &s, a->ctx->cfg->imap_timeout,
                           &tok, &expires, err, errlen);
    oauth2_secret_clear(&s);
    imap_log_end(a, r < 0 ? err : NULL);
    if (r < 0)
        return r;
    if (a->access_token) {
        OPENSSL_cleanse(a->access_token, strlen(a->access_token));
        free(a->access_token);
    }
    a->access_token = tok;
    a->token_expiry_ms = t0 + (int64_t)expires * 1000;
    ob_info("%s/%s: access token refreshed (valid %ld s)", a->user, a->email, expires);
    return 0;
}

static int login_xoauth2(struct account *a, const struct account_conf *c, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int r = get_token(a, c, attempt > 0, err, errlen);
        if (r < 0)
            return r;
        imap_log_begin(a, "AUTHENTICATE XOAUTH2");
        r = mailimap_oauth2_authenticate(a->imap, c->username, a->access_token);
        if (is_ok(r)) {
            imap_log_end(a, NULL);
            return 0;
        }
        fail(a, r, "authentication failed", err, errlen);
        imap_log_end(a, err);
        if (r != MAILIMAP_ERROR_LOGIN)
            return -1;
        /* A refused token may just have expired early: refresh once. */
    }
    return -2;
}

int imap_conn_login(struct account *a, const struct account_conf *c, char *err, size_t errlen)
{
    int r = c->auth == ACCOUNT_AUTH_XOAUTH2 ? login_xoauth2(a, c, err, errlen)
                                            : login_password(a, c, err, errlen);
    if (r < 0)
        return r;
    /* Post-login capabilities differ (CONDSTORE shows only now, clibs §1.1). */
    if (refresh_caps(a, err, errlen) < 0)
        return -1;
    a->has_idle = mailimap_has_idle(a->imap) && !a->no_idle;
    a->has_condstore = mailimap_has_condstore(a->imap);
    return 0;
}

void imap_conn_trim(struct account *a)
{
    mailimap *m = a->imap;
    if (!m)
        return;
    MMAPString **bufs[2] = { &m->imap_stream_buffer, &m->imap_response_buffer };
    for (int i = 0; i < 2; i++) {
        if (!*bufs[i] || (*bufs[i])->allocated_len <= IMAP_CONN_IDLE_BUFFER_MAX)
            continue;
        /* Safe between commands: libetpan empties both before each read. */
        MMAPString *fresh = mmap_string_new("");
        if (fresh) {
            mmap_string_free(*bufs[i]);
            *bufs[i] = fresh;
        }
    }
}

int imap_conn_idle(struct account *a, char *err, size_t errlen)
{
    if (!a->imap || !a->imap->imap_selection_info) {
        /* libetpan dereferences the selection info (clibs pitfall 4). */
        snprintf(err, errlen, "IDLE without a selected mailbox");
        return -1;
    }
    imap_log_begin(a, "IDLE");
    int r = mailimap_idle(a->imap);
    if (!is_ok(r)) {
        fail(a, r, "IDLE", err, errlen);
        imap_log_end(a, err);
        /* A stop shuts the socket under the waiting IDLE: that is no
         * fault of the server's. */
        if ((r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE) && account_wanted(a)) {
            /* libetpan 1.9.4 hangs on data before "+ idling" (pitfall 2):
             * after one such failure this account polls instead. */
            a->no_idle = 1;
            ob_warn("%s/%s: IDLE failed (%s); polling with NOOP from now on",
                    a->user, a->email, imap_conn_strerror(r));
        }
        return -1;
    }
    imap_log_end(a, NULL);
    a->idle_fd = mailimap_idle_get_fd(a->imap);
    if (a->idle_fd < 0) {
        snprintf(err, errlen, "IDLE: no socket");
        return -1;
    }
    return 0;
}

int imap_conn_idle_buffered(struct account *a)
{
    return a->imap && a->imap->imap_stream && a->imap->imap_stream->read_buffer_len > 0;
}

int imap_conn_idle_done(struct account *a, int *exists, char *err, size_t errlen)
{
    *exists = 0;
    a->idle_fd = -1;
    imap_log_begin(a, "DONE");
    int r = mailimap_idle_done(a->imap);
    if (!is_ok(r)) {
        fail(a, r, "DONE", err, errlen);
        imap_log_end(a, err);
        return -1;
    }
    imap_log_end(a, NULL);
    struct mailimap_selection_info *si = a->imap->imap_selection_info;
    *exists = si && si->sel_has_exists;
    return 0;
}

int imap_conn_noop(struct account *a, int *exists, char *err, size_t errlen)
{
    *exists = 0;
    struct mailimap_selection_info *si = a->imap ? a->imap->imap_selection_info : NULL;
    uint32_t before = si ? si->sel_exists : 0;
    imap_log_begin(a, "NOOP");
    int r = mailimap_noop(a->imap);
    if (!is_ok(r)) {
        fail(a, r, "NOOP", err, errlen);
        imap_log_end(a, err);
        return -1;
    }
    imap_log_end(a, NULL);
    si = a->imap->imap_selection_info;
    *exists = si && si->sel_exists > before;
    return 0;
}
