/* ob_ctl: sync.sock framing and client; see ob_ctl.h. */
#include "ob_ctl.h"
#include "ob_json.h"
#include "ob_jsonw.h"
#include "ob_sock.h"
#include "ob_time.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_REPLY_MAX OB_PROTO_MAX_LINE

int ob_ctl_req_parse(const char *line, size_t len, struct ob_ctl_req *req,
                     char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    json_t *root = ob_json_parse_object(line, len, OB_PROTO_MAX_LINE, err, errlen);
    if (!root)
        return -1;
    const char *op = NULL, *user = NULL, *email = NULL;
    int rc = -1;
    if (ob_proto_check_version(root, 0, err, errlen) < 0)
        goto out;
    if (ob_json_get_str(root, "op", 1, 32, &op, err, errlen) < 0)
        goto out;
    req->op = ob_ctl_op_from_name(op);
    if (req->op == OB_CTL_INVALID) {
        snprintf(err, errlen, "unknown op '%.32s'", op);
        goto out;
    }
    int need_user = req->op == OB_CTL_START || req->op == OB_CTL_STOP;
    if (ob_json_get_str(root, "user", need_user, OB_PROTO_ID_MAX - 1, &user, err, errlen) < 0)
        goto out;
    if (user && !ob_proto_valid_id(user, 0)) {
        snprintf(err, errlen, "field 'user' is not a valid id");
        goto out;
    }
    if (ob_json_get_str(root, "email", 0, OB_PROTO_EMAIL_MAX - 1, &email, err, errlen) < 0)
        goto out;
    if (email && !user) {
        snprintf(err, errlen, "field 'email' needs 'user'");
        goto out;
    }
    snprintf(req->user, sizeof req->user, "%s", user ? user : "");
    snprintf(req->email, sizeof req->email, "%s", email ? email : "");
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        memset(req, 0, sizeof *req);
    return rc;
}

static char *finish_line(json_t *o, size_t *len)
{
    return ob_json_line(o, OB_PROTO_MAX_LINE, len);
}

char *ob_ctl_reply_ok(json_t *data, size_t *len)
{
    return finish_line(json_pack("{s:b,s:o}", "ok", 1, "data", data ? data : json_object()), len);
}

char *ob_ctl_reply_err(const char *code, const char *message, size_t *len)
{
    return finish_line(json_pack("{s:b,s:o}", "ok", 0, "error",
                                 ob_json_err_obj(code, message)), len);
}

/* The longest request line: the user and email escaped at their longest
 * (six bytes a byte) and the frame; a longer one is refused. */
#define CTL_REQ_MAX (6 * (OB_PROTO_ID_MAX + OB_PROTO_EMAIL_MAX) + 64)

/* The request line, written with ob_jsonw: it goes out on every REST call
 * that asks syncd, and a jansson tree for three fields cost more than the
 * exchange around it.  A status request for a user comes out exactly as
 * syncd's fast path reads it: {"v":1,"op":"status","user":"ID"}.  Returns
 * the line (caller frees) and its length, or NULL. */
static char *request_line(const struct ob_ctl_req *req, size_t *len)
{
    struct ob_jsonw w;
    ob_jsonw_init(&w, 256, CTL_REQ_MAX);
    ob_jsonw_lit(&w, "{\"v\":");
    ob_jsonw_int(&w, OB_PROTO_VERSION);
    ob_jsonw_lit(&w, ",\"op\":");
    ob_jsonw_str(&w, ob_ctl_op_name(req->op));
    if (req->user[0]) {
        ob_jsonw_lit(&w, ",\"user\":");
        ob_jsonw_str(&w, req->user);
    }
    if (req->email[0]) {
        ob_jsonw_lit(&w, ",\"email\":");
        ob_jsonw_str(&w, req->email);
    }
    ob_jsonw_lit(&w, "}\n");
    return ob_jsonw_finish(&w, len);
}

/* Reads one line within the deadline into a malloc'd buffer. */
static char *read_line(int fd, int64_t deadline, size_t *outlen, char *err, size_t errlen)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        char *nl = len ? memchr(buf, '\n', len) : NULL;
        if (nl) {
            *nl = '\0';
            *outlen = (size_t)(nl - buf);
            return buf;
        }
        if (len + 1 >= cap) {
            if (cap >= CTL_REPLY_MAX) {
                snprintf(err, errlen, "reply longer than %d bytes", CTL_REPLY_MAX);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        int left = (int)(deadline - ob_time_mono_ms());
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            snprintf(err, errlen, "no reply within the timeout");
            break;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "connection closed before a reply");
            break;
        }
        len += (size_t)r;
    }
    free(buf);
    return NULL;
}

int ob_ctl_call_fd_line(int fd, const struct ob_ctl_req *req, int timeout_ms, char **reply,
                        size_t *replylen, char *err, size_t errlen, int *sent)
{
    *reply = NULL;
    if (sent)
        *sent = 0;
    int64_t deadline = ob_time_mono_ms() + timeout_ms;
    size_t len = 0;
    char *line = request_line(req, &len);
    int rc = line ? ob_sock_write_all(fd, line, len, (int)(deadline - ob_time_mono_ms())) : -1;
    free(line);
    if (rc < 0) {
        snprintf(err, errlen, "could not send to the sync service");
        return -1;
    }
    if (sent)
        *sent = 1;
    *reply = read_line(fd, deadline, replylen, err, errlen);
    return *reply ? 0 : -1;
}

int ob_ctl_reply_parse(const char *reply, size_t len, json_t **data, char *code, size_t codelen,
                       char *err, size_t errlen)
{
    *data = NULL;
    if (code && codelen)
        code[0] = '\0';
    json_t *root = ob_json_parse_object(reply, len, CTL_REPLY_MAX, err, errlen);
    if (!root)
        return -1;
    int rc = -1;
    json_t *ok = json_object_get(root, "ok");
    if (json_is_true(ok)) {
        json_t *d = json_object_get(root, "data");
        *data = json_is_object(d) ? json_incref(d) : json_object();
        rc = 0;
    } else if (json_is_false(ok)) {
        json_t *e = json_object_get(root, "error");
        const char *c = json_string_value(json_object_get(e, "code"));
        const char *m = json_string_value(json_object_get(e, "message"));
        if (code && codelen)
            snprintf(code, codelen, "%s", c ? c : "sync_error");
        snprintf(err, errlen, "%s", m ? m : "sync service error");
        rc = 1;
    } else {
        snprintf(err, errlen, "garbled reply from the sync service");
    }
    json_decref(root);
    return rc;
}

int ob_ctl_call_fd(int fd, const struct ob_ctl_req *req, int timeout_ms, json_t **data,
                   char *code, size_t codelen, char *err, size_t errlen, int *sent)
{
    *data = NULL;
    if (code && codelen)
        code[0] = '\0';
    char *reply;
    size_t rlen;
    if (ob_ctl_call_fd_line(fd, req, timeout_ms, &reply, &rlen, err, errlen, sent) < 0)
        return -1;
    int rc = ob_ctl_reply_parse(reply, rlen, data, code, codelen, err, errlen);
    free(reply);
    return rc;
}

int ob_ctl_call(const char *path, const struct ob_ctl_req *req, int timeout_ms,
                json_t **data, char *code, size_t codelen, char *err, size_t errlen)
{
    *data = NULL;
    if (code && codelen)
        code[0] = '\0';
    int64_t deadline = ob_time_mono_ms() + timeout_ms;
    int fd = ob_sock_connect_unix(path, timeout_ms);
    if (fd < 0) {
        snprintf(err, errlen, "sync service unreachable at %s: %s", path, strerror(errno));
        return -1;
    }
    int left = (int)(deadline - ob_time_mono_ms());
    int rc = ob_ctl_call_fd(fd, req, left > 0 ? left : 1, data, code, codelen, err, errlen, NULL);
    close(fd);
    return rc;
}
