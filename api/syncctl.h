/* syncctl: onebox-api's side of sync.sock (DESIGN.md "sync.sock") — one
 * ob_ctl_call per request with a short timeout, and the mapping of its
 * outcomes onto REST answers: unreachable, timed out or garbled → 503
 * unavailable (never a hang); syncd's not_found → 404, bad_request → 400,
 * anything else → 500. */
#ifndef SYNCCTL_H
#define SYNCCTL_H

#include "api.h"
#include "ob_proto.h"

#include <jansson.h>

/* Calls op for user/email (either may be NULL or "").  Returns 0 and *data
 * (new reference), or -1 after answering. */
int syncctl_call(struct api_req *r, enum ob_ctl_op op, const char *user,
                 const char *email, json_t **data);

/* The same call with no answer: for best-effort side effects (stopping the
 * sync of an account being deleted).  Returns 0 on {"ok":true}, else -1. */
int syncctl_try(const struct api_server *srv, enum ob_ctl_op op, const char *user,
                const char *email);

#endif
