/* sync_token_server: a local OAuth 2.0 token endpoint (RFC 6749 §6, the
 * refresh_token grant) for the onebox-syncd XOAUTH2 integration test.  It
 * answers POSTs with a form-encoded body on 127.0.0.1:PORT:
 *   200 {"access_token":<ACCESS_FILE>,"token_type":"Bearer","expires_in":N}
 *       when grant_type, client_id, client_secret and refresh_token match;
 *   400 {"error":"invalid_grant",...} or {"error":"invalid_client",...} else.
 * The refresh token and the access token are re-read from their files on
 * every request, so a test can revoke or rotate them.  One line per request
 * on stdout ("request N: ok|invalid_grant|invalid_client|bad_request"),
 * never a secret.
 *
 *   sync_token_server PORT CLIENT_ID CLIENT_SECRET REFRESH_FILE ACCESS_FILE EXPIRES_IN */
#include "tool_listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX 65536

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static int read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Finds name=value in a form body and URL-decodes value into out. */
static int form_get(const char *body, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, nl) != 0 || p[nl] != '=')
            continue;
        const char *v = p + nl + 1;
        size_t o = 0;
        while (*v && *v != '&' && o + 1 < cap) {
            if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                out[o++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
                v += 3;
            } else {
                out[o++] = *v == '+' ? ' ' : *v;
                v++;
            }
        }
        out[o] = '\0';
        return 0;
    }
    return -1;
}

static void reply(int fd, int status, const char *json)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Bad Request", strlen(json));
    if (write(fd, head, (size_t)n) < 0 || write(fd, json, strlen(json)) < 0)
        perror("sync_token_server: write");
}

static const char *handle(char *req, size_t len, char **argv, char *out, size_t outcap, int *status)
{
    *status = 400;
    char *end = strstr(req, "\r\n\r\n");
    if (strncmp(req, "POST ", 5) != 0 || !end) {
        snprintf(out, outcap, "{\"error\":\"invalid_request\"}");
        return "bad_request";
    }
    char *body = end + 4;
    req[len] = '\0';
    char grant[64], cid[256], csec[256], rtok[1024], want_r[1024], access[1024];
    if (form_get(body, "grant_type", grant, sizeof grant) < 0 || strcmp(grant, "refresh_token") != 0) {
        snprintf(out, outcap, "{\"error\":\"unsupported_grant_type\"}");
        return "bad_request";
    }
    if (form_get(body, "client_id", cid, sizeof cid) < 0 || strcmp(cid, argv[2]) != 0 ||
        form_get(body, "client_secret", csec, sizeof csec) < 0 || strcmp(csec, argv[3]) != 0) {
        snprintf(out, outcap, "{\"error\":\"invalid_client\",\"error_description\":\"unknown client\"}");
        return "invalid_client";
    }
    if (read_file(argv[4], want_r, sizeof want_r) < 0 ||
        form_get(body, "refresh_token", rtok, sizeof rtok) < 0 || strcmp(rtok, want_r) != 0) {
        snprintf(out, outcap, "{\"error\":\"invalid_grant\",\"error_description\":\"token revoked\"}");
        return "invalid_grant";
    }
    if (read_file(argv[5], access, sizeof access) < 0) {
        snprintf(out, outcap, "{\"error\":\"server_error\"}");
        *status = 500;
        return "server_error";
    }
    snprintf(out, outcap, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%s}",
             access, argv[6]);
    *status = 200;
    return "ok";
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: sync_token_server PORT CLIENT_ID CLIENT_SECRET REFRESH_FILE "
                        "ACCESS_FILE EXPIRES_IN\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int ls = tool_listen_loopback(argv[1], 16);
    if (ls < 0) {
        perror("sync_token_server: listen");
        return 1;
    }
    printf("listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    static char req[REQ_MAX + 1];
    long n = 0;
    while (!stop) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = { .tv_sec = 5 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        size_t len = 0;
        long want = -1;
        for (;;) {
            ssize_t r = read(fd, req + len, REQ_MAX - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = '\0';
            char *end = strstr(req, "\r\n\r\n");
            if (end && want < 0) {
                char *cl = strcasestr(req, "\r\nContent-Length:");
                want = (long)(end + 4 - req) + (cl && cl < end ? strtol(cl + 17, NULL, 10) : 0);
            }
            if ((want >= 0 && (long)len >= want) || len == REQ_MAX)
                break;
        }
        char out[2048];
        int status;
        const char *what = handle(req, len, argv, out, sizeof out, &status);
        reply(fd, status, out);
        close(fd);
        printf("request %ld: %s\n", ++n, what);
        fflush(stdout);
    }
    close(ls);
    return 0;
}
