/* auth: bearer tokens for onebox-api — issuing the HS256 JWT a login
 * returns (RFC 7519; signed by ob_jwt with the key loaded once at start) and
 * checking the "Authorization: Bearer" header (RFC 6750 §2.1) a route needs.
 * Ownership of a :userId is checked by the handlers (req_may_act_for). */
#ifndef AUTH_H
#define AUTH_H

#include "api.h"
#include "router.h"

/* Checks r->authorization against what the route needs and fills r->auth.
 * Returns 0, or -1 after answering 401 (missing, malformed, expired or
 * tampered token; with a Bearer challenge) or 403 (not an admin). */
int auth_check(struct api_req *r, enum route_auth need);

/* Issues a token for user id/role lasting cfg.jwt_ttl seconds.  Returns a
 * malloc'd token (caller frees) or NULL. */
char *auth_issue(const struct api_server *srv, const char *user_id, const char *role);

/* 1 if the caller is an admin. */
int auth_is_admin(const struct api_req *r);

#endif
