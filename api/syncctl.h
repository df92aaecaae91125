/* syncctl: onebox-api's side of sync.sock (DESIGN.md "sync.sock") — one
 * request line per REST call with a short timeout, over a small pool of
 * kept-alive connections (onebox-syncd answers many requests per
 * connection; reusing them spares a connect/accept/close per call), and the
 * mapping of outcomes onto REST answers: unreachable, timed out or garbled
 * → 503 unavailable (never a hang); syncd's not_found → 404, bad_request →
 * 400, anything else → 500.
 *
 * A kept connection that turns out dead (syncd restarted, or closed it
 * while idle) is replaced and the call retried once on a fresh one within
 * the same deadline; every op is idempotent (start of a syncing account
 * and stop of a stopped one are no-ops), so a retry is safe. */
#ifndef SYNCCTL_H
#define SYNCCTL_H

#include "api.h"
#include "ob_proto.h"

#include <jansson.h>

struct syncctl;

/* A pool of at most max_idle kept connections to path.  NULL on failure. */
struct syncctl *syncctl_new(const char *path, int max_idle, int timeout_ms);
/* Closes the kept connections; NULL is fine. */
void syncctl_free(struct syncctl *sc);

/* Calls op for user/email (either may be NULL or "").  Returns 0 and *data
 * (new reference), or -1 after answering. */
int syncctl_call(struct api_req *r, enum ob_ctl_op op, const char *user,
                 const char *email, json_t **data);

/* The same call for a caller that can pass syncd's reply on as it is:
 * a success comes back unparsed in *raw (malloc'd line without the
 * newline; caller frees), anything else as syncctl_call would give it
 * (*data set, or -1 after answering). */
int syncctl_call_raw(struct api_req *r, enum ob_ctl_op op, const char *user,
                     const char *email, char **raw, size_t *rawlen, json_t **data);
/* Parses a raw reply the caller could not use after all: 0 and *data, or
 * -1 after answering as syncctl_call. */
int syncctl_parse_raw(struct api_req *r, enum ob_ctl_op op, const char *raw, size_t rawlen,
                      json_t **data);

/* The same call with no answer: for best-effort side effects (stopping the
 * sync of an account being deleted).  Returns 0 on {"ok":true}, else -1. */
int syncctl_try(struct syncctl *sc, enum ob_ctl_op op, const char *user, const char *email);

#endif
