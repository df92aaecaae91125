/* cli_http: the CLI's REST client on libcurl: JSON in, JSON out, bounded
 * response size, timeouts, and the bearer token. */
#include "cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (8 * 1024 * 1024)

struct buf { char *p; size_t n; int overflow; };

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    if (b->n + n > RESP_MAX) {
        b->overflow = 1;
        return 0;
    }
    char *np = realloc(b->p, b->n + n + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, ptr, n);
    b->p = np;
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

void cli_http_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void cli_http_cleanup(void) { curl_global_cleanup(); }

long cli_http(const struct cli *c, const char *method, const char *path,
              const json_t *body, json_t **resp, char *err, size_t errlen)
{
    *resp = NULL;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "cannot start an HTTP client");
        return 0;
    }
    char url[2048], auth[4200];
    snprintf(url, sizeof url, "%s%s", c->url, path);
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/json");
    char *payload = NULL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload ? payload : "{}");
    }
    if (c->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hdr = curl_slist_append(hdr, auth);
    }
    struct buf b = { 0 };
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (b.p)
            *resp = json_loadb(b.p, b.n, 0, NULL);
    } else {
        snprintf(err, errlen, "%s: %s", url, b.overflow ? "response too large" : curl_easy_strerror(rc));
    }
    free(b.p);
    free(payload);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return status;
}

char *cli_escape(const char *s, char *out, size_t cap)
{
    char *e = curl_easy_escape(NULL, s, 0);
    snprintf(out, cap, "%s", e ? e : "");
    curl_free(e);
    return out;
}

int cli_call(const struct cli *c, const char *method, const char *path,
             const json_t *body, int needs_login, json_t **data)
{
    *data = NULL;
    if (needs_login && !c->token[0]) {
        fprintf(stderr, "onebox: not logged in (run: onebox login)\n");
        return CLI_NOLOGIN;
    }
    json_t *resp = NULL;
    char err[600];
    long st = cli_http(c, method, path, body, &resp, err, sizeof err);
    if (st == 0) {
        fprintf(stderr, "onebox: %s\n", err);
        return CLI_UNREACHABLE;
    }
    if (json_is_true(json_object_get(resp, "success"))) {
        json_t *d = json_object_get(resp, "data");
        *data = d ? json_incref(d) : json_object();
        json_decref(resp);
        return CLI_OK;
    }
    json_t *e = json_object_get(resp, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    fprintf(stderr, "onebox: %s (HTTP %ld%s%s)\n", msg ? msg : "the server refused the request",
            st, code ? ", " : "", code ? code : "");
    if (st == 401 && needs_login)
        fprintf(stderr, "onebox: your login may have expired (run: onebox login)\n");
    json_decref(resp);
    return st >= 500 && st != 503 ? CLI_REFUSED : (st == 401 && needs_login ? CLI_NOLOGIN : CLI_REFUSED);
}
