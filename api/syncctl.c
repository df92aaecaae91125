/* syncctl: sync.sock calls, a connection pool and the REST mapping; see
 * syncctl.h. */
#include "syncctl.h"
#include "ob_ctl.h"
#include "ob_log.h"
#include "ob_sock.h"
#include "ob_time.h"
#include "req.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_MAX 16

struct syncctl {
    pthread_mutex_t mu;
    char *path;
    int timeout_ms;
    int max_idle, nidle;
    int idle[POOL_MAX];
};

struct syncctl *syncctl_new(const char *path, int max_idle, int timeout_ms)
{
    struct syncctl *sc = calloc(1, sizeof *sc);
    if (!sc || !(sc->path = strdup(path))) {
        free(sc);
        return NULL;
    }
    sc->max_idle = max_idle < 0 ? 0 : max_idle > POOL_MAX ? POOL_MAX : max_idle;
    sc->timeout_ms = timeout_ms;
    pthread_mutex_init(&sc->mu, NULL);
    return sc;
}

void syncctl_free(struct syncctl *sc)
{
    if (!sc)
        return;
    for (int i = 0; i < sc->nidle; i++)
        close(sc->idle[i]);
    pthread_mutex_destroy(&sc->mu);
    free(sc->path);
    free(sc);
}

static int take(struct syncctl *sc)
{
    int fd = -1;
    pthread_mutex_lock(&sc->mu);
    if (sc->nidle > 0)
        fd = sc->idle[--sc->nidle];
    pthread_mutex_unlock(&sc->mu);
    return fd;
}

static void give_back(struct syncctl *sc, int fd)
{
    pthread_mutex_lock(&sc->mu);
    if (sc->nidle < sc->max_idle) {
        sc->idle[sc->nidle++] = fd;
        fd = -1;
    }
    pthread_mutex_unlock(&sc->mu);
    if (fd >= 0)
        close(fd);
}

/* 0 ok, 1 syncd error (code/err), -1 unreachable/timeout/garbled (err).
 * With raw, a reply that starts as a success is handed back as it is
 * (*raw, malloc'd) instead of being parsed into *data. */
static int call(struct syncctl *sc, enum ob_ctl_op op, const char *user, const char *email,
                json_t **data, char **raw, size_t *rawlen, char *code, size_t codelen,
                char *err, size_t errlen)
{
    static const char ok_start[] = "{\"ok\":true,";
    struct ob_ctl_req q;
    memset(&q, 0, sizeof q);
    q.op = op;
    snprintf(q.user, sizeof q.user, "%s", user ? user : "");
    snprintf(q.email, sizeof q.email, "%s", email ? email : "");
    int64_t deadline = ob_time_mono_ms() + sc->timeout_ms;
    *data = NULL;
    code[0] = '\0';
    for (int attempt = 0; attempt < 2; attempt++) {
        int left = (int)(deadline - ob_time_mono_ms());
        if (left <= 0)
            break;
        int fd = attempt == 0 ? take(sc) : -1, kept = fd >= 0;
        if (fd < 0 && (fd = ob_sock_connect_unix(sc->path, left)) < 0) {
            snprintf(err, errlen, "sync service unreachable at %s: %s", sc->path, strerror(errno));
            return -1;
        }
        left = (int)(deadline - ob_time_mono_ms());
        char *line = NULL;
        size_t len = 0;
        int rc = ob_ctl_call_fd_line(fd, &q, left > 0 ? left : 1, &line, &len, err, errlen, NULL);
        if (rc == 0 && raw && len >= sizeof ok_start - 1 &&
            memcmp(line, ok_start, sizeof ok_start - 1) == 0) {
            give_back(sc, fd);
            *raw = line;
            *rawlen = len;
            return 0;
        }
        if (rc == 0)
            rc = ob_ctl_reply_parse(line, len, data, code, codelen, err, errlen);
        free(line);
        if (rc >= 0) {
            give_back(sc, fd);
            return rc;
        }
        close(fd);
        if (!kept)
            return -1;   /* a fresh connection failed: syncd's answer, not a stale fd */
    }
    if (!err[0])
        snprintf(err, errlen, "no reply within the timeout");
    return -1;
}

/* Maps a call's outcome onto the REST answer; 0 only when rc is 0. */
static int answer(struct api_req *r, enum ob_ctl_op op, int rc, const char *code, const char *err)
{
    if (rc == 0)
        return 0;
    if (rc < 0) {
        ob_warn("sync.sock %s: %s", ob_ctl_op_name(op), err);
        req_reply_err(r, 503, "the sync service is not available");
    } else if (strcmp(code, "not_found") == 0) {
        req_reply_err(r, 404, "%s", err);
    } else if (strcmp(code, "bad_request") == 0) {
        req_reply_err(r, 400, "%s", err);
    } else {
        ob_warn("sync.sock %s: %s: %s", ob_ctl_op_name(op), code, err);
        req_reply_err(r, 500, "the sync service failed");
    }
    return -1;
}

int syncctl_call(struct api_req *r, enum ob_ctl_op op, const char *user,
                 const char *email, json_t **data)
{
    char code[64], err[256] = "";
    int rc = call(r->srv->sync, op, user, email, data, NULL, NULL, code, sizeof code, err,
                  sizeof err);
    return answer(r, op, rc, code, err);
}

int syncctl_call_raw(struct api_req *r, enum ob_ctl_op op, const char *user,
                     const char *email, char **raw, size_t *rawlen, json_t **data)
{
    char code[64], err[256] = "";
    *raw = NULL;
    int rc = call(r->srv->sync, op, user, email, data, raw, rawlen, code, sizeof code, err,
                  sizeof err);
    return answer(r, op, rc, code, err);
}

int syncctl_parse_raw(struct api_req *r, enum ob_ctl_op op, const char *raw, size_t rawlen,
                      json_t **data)
{
    char code[64], err[256] = "";
    int rc = ob_ctl_reply_parse(raw, rawlen, data, code, sizeof code, err, sizeof err);
    return answer(r, op, rc, code, err);
}

int syncctl_try(struct syncctl *sc, enum ob_ctl_op op, const char *user, const char *email)
{
    char code[64], err[256] = "";
    json_t *data = NULL;
    int rc = call(sc, op, user, email, &data, NULL, NULL, code, sizeof code, err, sizeof err);
    json_decref(data);
    if (rc != 0)
        ob_info("sync.sock %s (best effort): %s", ob_ctl_op_name(op), err);
    return rc == 0 ? 0 : -1;
}
