/* syncctl: sync.sock calls and their REST mapping; see syncctl.h. */
#include "syncctl.h"
#include "ob_ctl.h"
#include "ob_log.h"
#include "req.h"

#include <stdio.h>
#include <string.h>

static int call(const struct api_server *srv, enum ob_ctl_op op, const char *user,
                const char *email, json_t **data, char *code, size_t codelen,
                char *err, size_t errlen)
{
    struct ob_ctl_req q;
    memset(&q, 0, sizeof q);
    q.op = op;
    snprintf(q.user, sizeof q.user, "%s", user ? user : "");
    snprintf(q.email, sizeof q.email, "%s", email ? email : "");
    return ob_ctl_call(srv->cfg->sync_sock, &q, srv->sync_timeout_ms, data, code, codelen,
                       err, errlen);
}

int syncctl_call(struct api_req *r, enum ob_ctl_op op, const char *user,
                 const char *email, json_t **data)
{
    char code[64], err[256];
    int rc = call(r->srv, op, user, email, data, code, sizeof code, err, sizeof err);
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

int syncctl_try(const struct api_server *srv, enum ob_ctl_op op, const char *user,
                const char *email)
{
    char code[64], err[256];
    json_t *data = NULL;
    int rc = call(srv, op, user, email, &data, code, sizeof code, err, sizeof err);
    json_decref(data);
    if (rc != 0)
        ob_info("sync.sock %s (best effort): %s", ob_ctl_op_name(op), err);
    return rc == 0 ? 0 : -1;
}
