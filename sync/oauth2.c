/* oauth2: refresh_token grant over libcurl; see oauth2.h. */
#include "oauth2.h"

#include "imap_log.h"
#include "ob_json.h"
#include "ob_seal.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OAUTH2_REPLY_MAX (64 * 1024)
#define OAUTH2_FIELD_MAX 8192

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void oauth2_secret_clear(struct oauth2_secret *s)
{
    if (!s)
        return;
    wipe_free(s->client_secret);
    wipe_free(s->refresh_token);
    s->client_secret = s->refresh_token = NULL;
}

int oauth2_secret_parse(const unsigned char *secret, size_t len, struct oauth2_secret *s,
                        char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char perr[160];
    json_t *o = ob_json_parse_object((const char *)secret, len, OB_SEAL_MAX_PLAIN, perr, sizeof perr);
    if (!o) {
        snprintf(err, errlen, "stored OAuth2 secret is not a JSON object");
        return -1;
    }
    const char *cs = NULL, *rt = NULL;
    int rc = -1;
    if (ob_json_get_str(o, "clientSecret", 0, OAUTH2_FIELD_MAX, &cs, perr, sizeof perr) < 0 ||
        ob_json_get_str(o, "refreshToken", 1, OAUTH2_FIELD_MAX, &rt, perr, sizeof perr) < 0) {
        snprintf(err, errlen, "stored OAuth2 secret: %s", perr);
    } else {
        s->client_secret = strdup(cs ? cs : "");
        s->refresh_token = strdup(rt);
        if (s->client_secret && s->refresh_token)
            rc = 0;
        else
            snprintf(err, errlen, "out of memory");
    }
    /* jansson keeps its own copies of the strings: wipe them too. */
    if (cs)
        OPENSSL_cleanse((char *)cs, strlen(cs));
    if (rt)
        OPENSSL_cleanse((char *)rt, strlen(rt));
    json_decref(o);
    if (rc < 0)
        oauth2_secret_clear(s);
    return rc;
}

struct reply {
    char *buf;
    size_t len;
    int too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t add = size * n;
    if (r->len + add > OAUTH2_REPLY_MAX) {
        r->too_big = 1;
        return 0;
    }
    char *nb = realloc(r->buf, r->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, p, add);
    r->buf = nb;
    r->len += add;
    r->buf[r->len] = '\0';
    return add;
}

/* Appends "&name=urlencoded(value)" to a growing form body. */
static int form_add(CURL *c, char **body, size_t *len, const char *name, const char *value)
{
    char *esc = curl_easy_escape(c, value, 0);
    if (!esc)
        return -1;
    size_t add = strlen(name) + strlen(esc) + 2;
    char *nb = malloc(*len + add + 1);
    if (!nb) {
        OPENSSL_cleanse(esc, strlen(esc));
        curl_free(esc);
        return -1;
    }
    int n = snprintf(nb, *len + add + 1, "%s%s%s=%s", *body ? *body : "", *len ? "&" : "",
                     name, esc);
    OPENSSL_cleanse(esc, strlen(esc));
    curl_free(esc);
    if (*body) {
        OPENSSL_cleanse(*body, *len);
        free(*body);
    }
    *body = nb;
    *len = (size_t)n;
    return 0;
}

static void describe_error(const char *reply, size_t len, long status, char *err, size_t errlen)
{
    char perr[64];
    json_t *o = reply ? ob_json_parse_object(reply, len, OAUTH2_REPLY_MAX, perr, sizeof perr) : NULL;
    const char *code = NULL, *desc = NULL;
    if (o) {
        ob_json_get_str(o, "error", 0, 200, &code, perr, sizeof perr);
        ob_json_get_str(o, "error_description", 0, 400, &desc, perr, sizeof perr);
    }
    char c[128] = "", d[200] = "";
    if (code)
        imap_log_sanitize(c, sizeof c, code, strlen(code));
    if (desc)
        imap_log_sanitize(d, sizeof d, desc, strlen(desc));
    snprintf(err, errlen, "token endpoint answered HTTP %ld%s%s%s%s", status,
             c[0] ? ": " : "", c, d[0] ? " - " : "", d);
    json_decref(o);
}

int oauth2_refresh(const char *token_url, const char *client_id, const struct oauth2_secret *s,
                   long timeout_s, char **token, long *expires_in, char *err, size_t errlen)
{
    *token = NULL;
    *expires_in = 0;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot start an HTTP request");
        return -1;
    }
    char *body = NULL;
    size_t blen = 0;
    struct reply rep = { 0 };
    int rc = -1;
    if (form_add(c, &body, &blen, "grant_type", "refresh_token") < 0 ||
        form_add(c, &body, &blen, "refresh_token", s->refresh_token) < 0 ||
        form_add(c, &body, &blen, "client_id", client_id) < 0 ||
        (s->client_secret[0] && form_add(c, &body, &blen, "client_secret", s->client_secret) < 0)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, token_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
    CURLcode cr = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cr != CURLE_OK) {
        snprintf(err, errlen, "token endpoint: %s",
                 rep.too_big ? "reply too large" : curl_easy_strerror(cr));
        goto out;
    }
    if (status < 200 || status > 299) {
        describe_error(rep.buf, rep.len, status, err, errlen);
        rc = status >= 400 && status < 500 ? -2 : -1;
        goto out;
    }
    char perr[128];
    json_t *o = ob_json_parse_object(rep.buf ? rep.buf : "", rep.len, OAUTH2_REPLY_MAX,
                                     perr, sizeof perr);
    const char *tok = NULL;
    long long exp = 3600;
    if (!o || ob_json_get_str(o, "access_token", 1, OAUTH2_FIELD_MAX, &tok, perr, sizeof perr) < 0 ||
        ob_json_get_int(o, "expires_in", 0, 1, 10LL * 365 * 86400, &exp, perr, sizeof perr) < 0) {
        snprintf(err, errlen, "token endpoint reply: %s", perr);
    } else if (!(*token = strdup(tok))) {
        snprintf(err, errlen, "out of memory");
    } else {
        *expires_in = (long)exp;
        rc = 0;
    }
    if (tok)
        OPENSSL_cleanse((char *)tok, strlen(tok));
    json_decref(o);
out:
    if (rep.buf) {
        OPENSSL_cleanse(rep.buf, rep.len);
        free(rep.buf);
    }
    if (body) {
        OPENSSL_cleanse(body, blen);
        free(body);
    }
    curl_easy_cleanup(c);
    return rc;
}
