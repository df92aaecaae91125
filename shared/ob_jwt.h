/* ob_jwt: JSON Web Tokens, HS256 only (RFC 7519, RFC 7515).
 *
 * Tokens carry sub (user id), role ("user"|"admin"), iat and exp.  Verify
 * pins the algorithm: any header alg other than "HS256" ("none" included) is
 * rejected before the signature is looked at; the MAC is compared in
 * constant time; exp is required. */
#ifndef OB_JWT_H
#define OB_JWT_H

#include <stddef.h>
#include <time.h>

#define OB_JWT_KEY_LEN 32
#define OB_JWT_MAX_LEN 4096     /* longer tokens are rejected unread */
#define OB_JWT_LEEWAY 30        /* seconds of clock skew tolerated on exp/iat */

struct ob_jwt_claims {
    char sub[64];
    char role[16];
    time_t iat, exp;
};

/* Signs {sub, role, iat: now, exp: now + ttl}.  Returns a malloc'd token
 * (caller frees) or NULL. */
char *ob_jwt_sign(const unsigned char *key, size_t keylen, const char *sub,
                  const char *role, time_t now, long ttl);

/* Verifies token at time now.  Returns 0 and fills *out, or -1 with a short
 * reason in err ("malformed token", "unsupported alg", "bad signature",
 * "token expired", ...). */
int ob_jwt_verify(const unsigned char *key, size_t keylen, const char *token,
                  time_t now, struct ob_jwt_claims *out, char *err, size_t errlen);

#endif
