/* auth: token issue and bearer checks; see auth.h. */
#include "auth.h"
#include "ob_proto.h"
#include "req.h"

#include <openssl/crypto.h>
#include <stdio.h>
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

/* The last token each worker thread verified.  Clients send the same bearer
 * token on every call, and verifying it again costs two base64 decodes, two
 * JSON parses and an HMAC; a byte-equal token has the same claims.  The
 * comparison is constant-time (the cached token is someone's credential)
 * and exp is checked again on every use. */
static _Thread_local struct {
    char tok[OB_JWT_MAX_LEN + 1];
    size_t len;
    struct ob_jwt_claims claims;
} last_token;

static int verify(struct api_req *r, const char *tok, struct ob_jwt_claims *c,
                  char *err, size_t errlen)
{
    size_t n = strnlen(tok, OB_JWT_MAX_LEN + 1);
    time_t now = time(NULL);
    if (n > 0 && n == last_token.len && CRYPTO_memcmp(tok, last_token.tok, n) == 0) {
        if (now > last_token.claims.exp + OB_JWT_LEEWAY) {
            snprintf(err, errlen, "token expired");
            return -1;
        }
        *c = last_token.claims;
        return 0;
    }
    if (ob_jwt_verify(r->srv->jwt_key, sizeof r->srv->jwt_key, tok, now, c, err, errlen) < 0)
        return -1;
    if (n <= OB_JWT_MAX_LEN) {
        memcpy(last_token.tok, tok, n);
        last_token.len = n;
        last_token.claims = *c;
    }
    return 0;
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
    if (verify(r, h, &c, err, sizeof err) < 0) {
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
