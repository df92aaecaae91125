/* req: answers, JSON bodies and query parameters of one request; see req.h. */
#include "req.h"
#include "ob_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_out(struct api_req *r, int status, char *s)
{
    free(r->out);
    r->status = status;
    r->out = s;
    r->content_type_out = NULL;
}

void req_reply_ok(struct api_req *r, int status, json_t *data)
{
    char *s = ob_json_ok(data);
    if (!s) {
        set_out(r, 500, ob_json_err("internal_error", "could not build the answer"));
        return;
    }
    set_out(r, status, s);
}

void req_reply_json(struct api_req *r, int status, char *text)
{
    if (!text) {
        set_out(r, 500, ob_json_err("internal_error", "could not build the answer"));
        return;
    }
    set_out(r, status, text);
}

const char *req_error_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 429: return "rate_limited";
    case 500: return "internal_error";
    case 503: return "unavailable";
    }
    return "error";
}

void req_reply_err(struct api_req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_out(r, status, ob_json_err(req_error_code(status), msg));
}

void req_reply_text(struct api_req *r, int status, const char *content_type,
                    const char *text, size_t len)
{
    char *s = malloc(len + 1);
    if (!s) {
        set_out(r, 500, ob_json_err("internal_error", "out of memory"));
        return;
    }
    memcpy(s, text, len);
    s[len] = '\0';
    set_out(r, status, s);
    r->content_type_out = content_type;
}

void req_clear(struct api_req *r)
{
    free(r->out);
    r->out = NULL;
    for (int i = 0; i < r->nparams; i++) {
        free(r->params[i]);
        r->params[i] = NULL;
    }
    r->nparams = 0;
}

/* "application/json" optionally followed by ";" parameters (RFC 9110 §8.3). */
static int is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

json_t *req_body_json(struct api_req *r, int optional)
{
    if (optional && r->body_len == 0)
        return json_object();
    if (!is_json_type(r->content_type)) {
        req_reply_err(r, 400, "Content-Type must be application/json");
        return NULL;
    }
    char err[256];
    json_t *o = ob_json_parse_object(r->body, r->body_len, (size_t)r->srv->cfg->api_body_max,
                                     err, sizeof err);
    if (!o)
        req_reply_err(r, 400, "%s", err);
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long req_pct_decode(const char *in, size_t n, char *out, size_t cap, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '%') {
            if (n - i < 3)
                return -1;
            int hi = hexval(in[i + 1]);
            int lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0' || o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    if (cap == 0)
        return -1;
    out[o] = '\0';
    return (long)o;
}

int req_query_get(const char *query, const char *name, char *out, size_t cap)
{
    if (!query)
        return 0;
    size_t nl = strlen(name);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        if (klen == nl && memcmp(p, name, nl) == 0) {
            const char *v = eq ? eq + 1 : p + len;
            size_t vlen = eq ? len - klen - 1 : 0;
            return req_pct_decode(v, vlen, out, cap, 1) < 0 ? -1 : 1;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

int req_query_long(struct api_req *r, const char *name, long min, long max, long *out)
{
    char buf[32];
    int rc = req_query_get(r->query, name, buf, sizeof buf);
    if (rc == 0)
        return 0;
    char *end = NULL;
    long v = rc > 0 && buf[0] ? strtol(buf, &end, 10) : 0;
    if (rc < 0 || !buf[0] || *end || v < min || v > max) {
        req_reply_err(r, 400, "query parameter '%s' must be a whole number from %ld to %ld",
                      name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int req_query_str(struct api_req *r, const char *name, char *out, size_t cap)
{
    int rc = req_query_get(r->query, name, out, cap);
    if (rc < 0) {
        req_reply_err(r, 400, "query parameter '%s' is malformed or longer than %zu bytes",
                      name, cap - 1);
        return -1;
    }
    return rc;
}

int req_may_act_for(struct api_req *r, const char *user_id)
{
    if (strcmp(r->auth.claims.sub, user_id) == 0 ||
        strcmp(r->auth.claims.role, "admin") == 0)
        return 0;
    req_reply_err(r, 403, "you may only act on your own user");
    return -1;
}
