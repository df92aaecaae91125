/* req: one REST request as a handler sees it — the DESIGN.md envelopes for
 * answers, the JSON body (Content-Type checked, size already bounded), query
 * parameters and percent-decoding (RFC 3986 §2.1, with '+' as space in
 * queries as HTML forms send it). */
#ifndef REQ_H
#define REQ_H

#include "api.h"

#include <jansson.h>

/* Sets the answer {"success":true,"data":data} (data stolen; NULL = {}). */
void req_reply_ok(struct api_req *r, int status, json_t *data);
/* Sets an answer already written as JSON text, the whole envelope (from
 * ob_jsonw; text is stolen; NULL = 500 "could not build the answer"). */
void req_reply_json(struct api_req *r, int status, char *text);
/* Sets the answer {"success":false,"error":{code,message}}; the code follows
 * from the status, one code per status as contrib/openapi.yaml lists them
 * (400 bad_request, 401 unauthorized, 403 forbidden, 404 not_found,
 * 405 method_not_allowed, 409 conflict, 413 payload_too_large,
 * 429 rate_limited, 500 internal_error, 503 unavailable). */
void req_reply_err(struct api_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The error code of a status ("error" for one not listed above). */
const char *req_error_code(int status);
/* Sets a non-JSON answer (Prometheus text); text is copied. */
void req_reply_text(struct api_req *r, int status, const char *content_type,
                    const char *text, size_t len);
/* Frees what a request owns (answer, params); the request can be reused. */
void req_clear(struct api_req *r);

/* Parses the body as one JSON object.  Checks the Content-Type
 * (application/json, parameters allowed).  Returns a new reference, or NULL
 * after answering 400.  With optional set, an empty body yields an empty
 * object whatever the Content-Type. */
json_t *req_body_json(struct api_req *r, int optional);

/* Finds name in the raw query string and percent-decodes its value into out
 * (cap bytes).  Returns 1 when found, 0 when absent, -1 when the value is
 * malformed (bad escape, NUL, longer than cap - 1). */
int req_query_get(const char *query, const char *name, char *out, size_t cap);

/* Percent-decodes n bytes of in into out (cap bytes, NUL-terminated);
 * plus_space turns '+' into ' '.  Rejects bad escapes and NUL bytes.
 * Returns the decoded length or -1. */
long req_pct_decode(const char *in, size_t n, char *out, size_t cap, int plus_space);

/* Reads an optional query parameter as a whole number in [min, max];
 * absent leaves *out untouched.  Returns 0, or -1 after answering 400. */
int req_query_long(struct api_req *r, const char *name, long min, long max, long *out);
/* Reads an optional query parameter as text; 1 found, 0 absent, -1 after
 * answering 400. */
int req_query_str(struct api_req *r, const char *name, char *out, size_t cap);

/* The user a request acts for is allowed: the caller themself, or an admin.
 * Returns 0, or -1 after answering 403. */
int req_may_act_for(struct api_req *r, const char *user_id);

#endif
