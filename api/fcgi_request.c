/* fcgi_request: FastCGI params and body in, CGI response out; see
 * fcgi_request.h.
 *
 * Every param is hostile: the path comes from REQUEST_URI (raw, so the router
 * decodes each segment itself; nginx's normalised DOCUMENT_URI would already
 * have turned %2F into '/'), CONTENT_LENGTH must be a plain decimal, and the
 * body is read only once its announced size is within the limit — a larger
 * one is answered 413 without reading it. */
#include "fcgi_request.h"
#include "req.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fcgi_request_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "Unknown";
}

static int valid_method(const char *m)
{
    size_t n = 0;
    for (; m[n]; n++)
        if (n >= 16 || !isupper((unsigned char)m[n]))
            return 0;
    return n > 0;
}

int fcgi_request_read(FCGX_Request *fr, struct api_req *r, char *buf, size_t cap)
{
    char **env = fr->envp;
    const char *m = FCGX_GetParam("REQUEST_METHOD", env);
    const char *uri = FCGX_GetParam("REQUEST_URI", env);
    const char *qs = FCGX_GetParam("QUERY_STRING", env);
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", env);
    const char *ra = FCGX_GetParam("REMOTE_ADDR", env);
    r->method = m && valid_method(m) ? m : "GET";
    r->content_type = FCGX_GetParam("CONTENT_TYPE", env);
    r->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", env);
    r->remote_addr = ra ? ra : "";
    r->query = "";
    r->path = "";
    r->path_len = 0;
    r->body = buf;
    r->body_len = 0;
    buf[0] = '\0';
    if (!uri)
        uri = FCGX_GetParam("DOCUMENT_URI", env);
    if (!m || !valid_method(m) || !uri) {
        req_reply_err(r, 400, "the web server sent no valid REQUEST_METHOD/REQUEST_URI");
        return -1;
    }
    const char *q = strchr(uri, '?');
    r->path = uri;
    r->path_len = q ? (size_t)(q - uri) : strlen(uri);
    r->query = qs ? qs : q ? q + 1 : "";
    if (r->path_len > API_PATH_MAX || strlen(r->query) > API_PATH_MAX) {
        r->path_len = 0;
        req_reply_err(r, 400, "request URI longer than %d bytes", API_PATH_MAX);
        return -1;
    }

    long long n = 0;
    if (cl && *cl) {
        char *end;
        errno = 0;
        n = isdigit((unsigned char)cl[0]) ? strtoll(cl, &end, 10) : -1;
        if (n < 0 || errno || *end) {
            req_reply_err(r, 400, "CONTENT_LENGTH is not a number");
            return -1;
        }
    }
    long long max = r->srv->cfg->api_body_max;
    if (n > max || (size_t)n >= cap) {
        req_reply_err(r, 413, "request body larger than %lld bytes", max);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)n) {
        int k = FCGX_GetStr(buf + got, (int)((size_t)n - got), fr->in);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    if (got != (size_t)n) {
        req_reply_err(r, 400, "request body shorter than its Content-Length");
        return -1;
    }
    r->body_len = got;
    /* The end of FCGI_STDIN normally came with the params (nginx and
     * lighttpd send it right behind them), so this reads no socket. */
    r->input_done = FCGX_GetChar(fr->in) == EOF && FCGX_HasSeenEOF(fr->in) == EOF;
    return 0;
}

void fcgi_request_finish(FCGX_Request *fr, int input_done)
{
    /* fcgi2 closes with a lingering shutdown: shutdown(SHUT_WR), then wait
     * (up to 2 s) until the web server has closed its end, so that unread
     * input cannot turn the close into a reset that loses the answer.  Once
     * the whole input has been read there is nothing left to reset, and a
     * plain close spares the wait: three system calls and a wake-up per
     * request.  "detached" is what makes FCGX_Free close without it; it is
     * only set when this finish closes (a kept connection would carry it
     * over to its next request). */
    if (input_done && !fr->keepConnection)
        fr->detached = 1;
    FCGX_Finish_r(fr);
}

int fcgi_request_write(FCGX_Request *fr, const struct api_req *r)
{
    const char *body = r->out ? r->out : "";
    size_t blen = strlen(body);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\n",
                     r->status, fcgi_request_reason(r->status),
                     r->content_type_out ? r->content_type_out : "application/json",
                     blen);
    if (r->allow[0] && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "Allow: %s\r\n", r->allow);
    long retry = r->retry_after > 0 ? r->retry_after : r->status == 503 ? 5 : 0;
    if (retry > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "Retry-After: %ld\r\n", retry);
    if (r->www_authenticate && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "WWW-Authenticate: Bearer realm=\"onebox\"%s\r\n",
                      r->www_authenticate == 2 ? ", error=\"invalid_token\"" : "");
    if ((size_t)n + 2 >= sizeof head)
        return -1;
    memcpy(head + n, "\r\n", 3);
    n += 2;
    if (FCGX_PutStr(head, n, fr->out) != n)
        return -1;
    if (blen && FCGX_PutStr(body, (int)blen, fr->out) != (int)blen)
        return -1;
    return 0;
}
