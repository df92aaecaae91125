/* ob_jwt: HS256 JWT sign and verify (RFC 7519, RFC 7515); see ob_jwt.h. */
#include "ob_jwt.h"
#include "ob_b64.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hs256(const unsigned char *key, size_t keylen, const char *in,
                 size_t n, unsigned char mac[32])
{
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)in, n, mac, &maclen))
        return -1;
    return maclen == 32 ? 0 : -1;
}

/* Appends base64url(json) to buf at *pos. */
static int put_segment(char *buf, size_t cap, size_t *pos, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s)
        return -1;
    long n = ob_b64url_encode(s, strlen(s), buf + *pos, cap - *pos);
    free(s);
    if (n < 0)
        return -1;
    *pos += (size_t)n;
    return 0;
}

char *ob_jwt_sign(const unsigned char *key, size_t keylen, const char *sub,
                  const char *role, time_t now, long ttl)
{
    if (!sub || !role || strlen(sub) >= 64 || strlen(role) >= 16)
        return NULL;
    char *tok = malloc(OB_JWT_MAX_LEN);
    if (!tok)
        return NULL;
    size_t pos = 0;
    json_t *hdr = json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT");
    json_t *pl = json_pack("{s:s,s:s,s:I,s:I}", "sub", sub, "role", role,
                           "iat", (json_int_t)now, "exp", (json_int_t)(now + ttl));
    int ok = hdr && pl && put_segment(tok, OB_JWT_MAX_LEN, &pos, hdr) == 0;
    if (ok) {
        tok[pos++] = '.';
        ok = put_segment(tok, OB_JWT_MAX_LEN, &pos, pl) == 0;
    }
    json_decref(hdr);
    json_decref(pl);
    unsigned char mac[32];
    if (ok && hs256(key, keylen, tok, pos, mac) == 0 && pos + 50 < OB_JWT_MAX_LEN) {
        tok[pos++] = '.';
        if (ob_b64url_encode(mac, 32, tok + pos, OB_JWT_MAX_LEN - pos) == 43)
            return tok;
    }
    free(tok);
    return NULL;
}

/* Decodes one base64url segment into a JSON object (new ref) or NULL. */
static json_t *decode_segment(const char *seg, size_t n)
{
    unsigned char buf[OB_JWT_MAX_LEN];
    long len = ob_b64url_decode(seg, n, buf, sizeof buf);
    if (len <= 0)
        return NULL;
    json_t *v = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

#define FAIL(msg) do { snprintf(err, errlen, "%s", msg); goto out; } while (0)

int ob_jwt_verify(const unsigned char *key, size_t keylen, const char *token,
                  time_t now, struct ob_jwt_claims *out, char *err, size_t errlen)
{
    int rc = -1;
    json_t *hdr = NULL, *pl = NULL;
    if (!token)
        FAIL("missing token");
    size_t len = strnlen(token, OB_JWT_MAX_LEN + 1);
    if (len == 0 || len > OB_JWT_MAX_LEN)
        FAIL("malformed token");
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        FAIL("malformed token");

    hdr = decode_segment(token, (size_t)(d1 - token));
    if (!hdr)
        FAIL("malformed token header");
    json_t *alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
        FAIL("unsupported alg");

    unsigned char sig[64], mac[32];
    long siglen = ob_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), sig, sizeof sig);
    if (siglen != 32)
        FAIL("bad signature");
    if (hs256(key, keylen, token, (size_t)(d2 - token), mac) < 0)
        FAIL("internal error");
    if (CRYPTO_memcmp(mac, sig, 32) != 0)
        FAIL("bad signature");

    pl = decode_segment(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!pl)
        FAIL("malformed token payload");
    json_t *sub = json_object_get(pl, "sub"), *role = json_object_get(pl, "role");
    json_t *exp = json_object_get(pl, "exp"), *iat = json_object_get(pl, "iat");
    if (!json_is_string(sub) || json_string_length(sub) == 0 ||
        json_string_length(sub) >= sizeof out->sub)
        FAIL("token has no valid sub");
    if (!json_is_string(role) || (strcmp(json_string_value(role), "user") != 0 &&
                                  strcmp(json_string_value(role), "admin") != 0))
        FAIL("token has no valid role");
    if (!json_is_integer(exp))
        FAIL("token has no exp");
    if (iat && !json_is_integer(iat))
        FAIL("token iat is not a number");
    if ((json_int_t)now > json_integer_value(exp) + OB_JWT_LEEWAY)
        FAIL("token expired");
    if (iat && json_integer_value(iat) > (json_int_t)now + OB_JWT_LEEWAY)
        FAIL("token issued in the future");

    memset(out, 0, sizeof *out);
    snprintf(out->sub, sizeof out->sub, "%s", json_string_value(sub));
    snprintf(out->role, sizeof out->role, "%s", json_string_value(role));
    out->exp = (time_t)json_integer_value(exp);
    out->iat = iat ? (time_t)json_integer_value(iat) : 0;
    rc = 0;
out:
    json_decref(hdr);
    json_decref(pl);
    return rc;
}
