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

static void unauthorized(struct api_req *r, const char *code, const char *msg)
{
    req_reply_err(r, 401, code, "%s", msg);
    r->www_authenticate = 1;
}

int auth_check(struct api_req *r, enum route_auth need)
{
    memset(&r->auth, 0, sizeof r->auth);
    if (need == ROUTE_PUBLIC)
        return 0;
    const char *h = r->authorization;
    if (!h || !*h) {
        unauthorized(r, "unauthorized", "missing Authorization: Bearer token");
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        unauthorized(r, "unauthorized", "Authorization must use the Bearer scheme");
        return -1;
    }
    h += 7;
    while (*h == ' ')
        h++;
    char err[128];
    struct ob_jwt_claims c;
    if (ob_jwt_verify(r->srv->jwt_key, sizeof r->srv->jwt_key, h, time(NULL), &c,
                      err, sizeof err) < 0) {
        unauthorized(r, "invalid_token", err);
        return -1;
    }
    int admin = strcmp(c.role, "admin") == 0;
    if ((!admin && strcmp(c.role, "user") != 0) || !ob_proto_valid_id(c.sub, 0)) {
        unauthorized(r, "invalid_token", "token claims are not valid");
        return -1;
    }
    r->auth.authed = 1;
    r->auth.claims = c;
    if (need == ROUTE_ADMIN && !admin) {
        req_reply_err(r, 403, "forbidden", "this route is for admins only");
        return -1;
    }
    return 0;
}
