/* ws_auth: token extraction, JWT verification and the Origin allow-list;
 * see ws_auth.h.  Tokens are never logged. */
#include "ws_auth.h"

#include "ob_log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int from_cookie(const char *cookies, char *buf, size_t len)
{
    const char *p = cookies;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 13 && strncmp(p, "onebox_token=", 13) == 0) {
            n -= 13;
            while (n && p[13 + n - 1] == ' ')
                n--;
            if (n >= len)
                return -1;
            memcpy(buf, p + 13, n);
            buf[n] = '\0';
            return n ? 1 : 0;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

int ws_auth_token_from_request(struct lws *wsi, char *buf, size_t len)
{
    /* lws copies each whole "name=value" argument into the buffer and stops
     * at the first that does not fit: a buffer for the longest we accept */
    char hdr[OB_JWT_MAX_LEN + 512];
    const char *v = lws_get_urlarg_by_name(wsi, "token=", hdr, sizeof hdr);
    if (v) {
        if (strlen(v) >= len)
            return -1;
        snprintf(buf, len, "%s", v);
        return buf[0] ? 1 : 0;
    }
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 0) {
        if ((size_t)n >= sizeof hdr || lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            return -1;
        if (strncasecmp(hdr, "Bearer ", 7) == 0) {
            const char *t = hdr + 7;
            while (*t == ' ')
                t++;
            if (strlen(t) >= len)
                return -1;
            snprintf(buf, len, "%s", t);
            return buf[0] ? 1 : 0;
        }
    }
    n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE);
    if (n > 0) {
        if ((size_t)n >= sizeof hdr)
            return -1;
        if (lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_COOKIE) < 0)
            return -1;
        return from_cookie(hdr, buf, len);
    }
    return 0;
}

int ws_auth_verify(struct rt *rt, const char *token, struct ob_jwt_claims *cl,
                   char *err, size_t errlen)
{
    if (ob_jwt_verify(rt->jwt_key, sizeof rt->jwt_key, token, time(NULL), cl, err, errlen) < 0)
        return -1;
    if (!ob_proto_valid_id(cl->sub, 0)) {
        snprintf(err, errlen, "token subject is not a valid user id");
        return -1;
    }
    if (strcmp(cl->role, "user") != 0 && strcmp(cl->role, "admin") != 0) {
        snprintf(err, errlen, "token role must be user or admin");
        return -1;
    }
    return 0;
}

int ws_auth_origin_ok(struct rt *rt, struct lws *wsi)
{
    const char *list = rt->cfg->ws_origins;
    if (!list || !*list)
        return 1;
    char origin[256];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (n <= 0)
        return 1;
    if ((size_t)n >= sizeof origin || lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return 0;
    size_t olen = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t k = (size_t)(e - p);
        while (k && isspace((unsigned char)p[k - 1]))
            k--;
        if (k && ((k == 1 && *p == '*') || (k == olen && strncasecmp(p, origin, k) == 0)))
            return 1;
        p = e;
    }
    return 0;
}
