/* ob_ctl: the sync.sock control protocol — request parsing and replies for
 * the server (onebox-syncd), and a blocking call with a timeout for clients
 * (onebox-api, onebox-realtime).  See ob_proto.h for the wire format. */
#ifndef OB_CTL_H
#define OB_CTL_H

#include "ob_proto.h"

#include <jansson.h>
#include <stddef.h>

struct ob_ctl_req {
    enum ob_ctl_op op;
    char user[OB_PROTO_ID_MAX];      /* "" when absent */
    char email[OB_PROTO_EMAIL_MAX];  /* "" = every account of the user */
};

/* Parses one request line.  Checks: JSON object, "v" absent or
 * OB_PROTO_VERSION, known "op", "user" a valid id (required for start and
 * stop), "email" a string of sane length.  Returns 0, or -1 with err. */
int ob_ctl_req_parse(const char *line, size_t len, struct ob_ctl_req *req,
                     char *err, size_t errlen);

/* Reply lines ending in '\n', malloc'd (caller frees); data is stolen. */
char *ob_ctl_reply_ok(json_t *data, size_t *len);
char *ob_ctl_reply_err(const char *code, const char *message, size_t *len);

/* Sends req to the server at path and waits at most timeout_ms in all.
 *   0: {"ok":true}; *data = the "data" object (new reference, caller
 *      decrefs; an empty object if absent);
 *   1: {"ok":false}; the server's code and message are in code/err;
 *  -1: unreachable, timed out or garbled reply; reason in err. */
int ob_ctl_call(const char *path, const struct ob_ctl_req *req, int timeout_ms,
                json_t **data, char *code, size_t codelen, char *err, size_t errlen);

/* The same exchange on an already connected fd (a kept-alive connection:
 * the server answers any number of requests, one line each).  Returns as
 * ob_ctl_call; on -1 the fd is no longer usable (close it), and *sent tells
 * whether the request reached the socket (0: nothing was written, so the
 * caller may retry on a fresh connection).  sent may be NULL. */
int ob_ctl_call_fd(int fd, const struct ob_ctl_req *req, int timeout_ms, json_t **data,
                   char *code, size_t codelen, char *err, size_t errlen, int *sent);

/* The two halves of ob_ctl_call_fd, for a caller that can use the reply
 * line as it is (onebox-api passes syncd's status array through):
 * ob_ctl_call_fd_line sends req and returns the reply line in *reply
 * (malloc'd, NUL-terminated, without the newline; caller frees) — 0, or -1
 * as ob_ctl_call_fd; ob_ctl_reply_parse reads a reply line and returns as
 * ob_ctl_call_fd. */
int ob_ctl_call_fd_line(int fd, const struct ob_ctl_req *req, int timeout_ms, char **reply,
                        size_t *replylen, char *err, size_t errlen, int *sent);
int ob_ctl_reply_parse(const char *reply, size_t len, json_t **data, char *code, size_t codelen,
                       char *err, size_t errlen);

#endif
