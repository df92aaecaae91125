/* auth: token issue and bearer checks; see auth.h. */
#include "auth.h"
#include "ob_proto.h"
#include "req.h"

#include <string.h>
#include <strings.h>
#include <time.h>

char *auth_issue(const struct api_server *srv, const char *user_id, const char *role)
{
    return ob_jwt_sign(srv->jwt_key, sizeof srv->jwt_key, user_id, role, time(NULL),
                       srv->cfg->jwt_ttl);
}

int auth_is_admin(const struct api_req *r)
{
    return r->auth.authed && strcmp(r->auth.claims.role, "admin") == 0;
}

/* RFC 6750 §3: a challenge on every 401; error="invalid_token" when a token
 * was presented but is bad. */
static void unauthorized(struct api_req *r, int bad_token, const char *msg)
{
    req_reply_err(r, 401, "%s", msg);
    r->www_authenticate = bad_token ? 2 : 1;
}

int auth_check(struct api_req *r, enum route_auth need)
{
    memset(&r->auth, 0, sizeof r->auth);
    if (need == ROUTE_PUBLIC)
        return 0;
    const char *h = r->authorization;
    if (!h || !*h) {
        unauthorized(r, 0, "missing Authorization: Bearer token");
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        unauthorized(r, 0, "Authorization must use the Bearer scheme");
        return -1;
    }
    h += 7;
    while (*h == ' ')
        h++;
    char err[128];
    struct ob_jwt_claims c;
    if (ob_jwt_verify(r->srv->jwt_key, sizeof r->srv->jwt_key, h, time(NULL), &c,
                      err, sizeof err) < 0) {
        unauthorized(r, 1, err);
        return -1;
    }
    int admin = strcmp(c.role, "admin") == 0;
    if ((!admin && strcmp(c.role, "user") != 0) || !ob_proto_valid_id(c.sub, 0)) {
        unauthorized(r, 1, "token claims are not valid");
        return -1;
    }
    r->auth.authed = 1;
    r->auth.claims = c;
    if (need == ROUTE_ADMIN && !admin) {
        req_reply_err(r, 403, "this route is for admins only");
        return -1;
    }
    return 0;
}
