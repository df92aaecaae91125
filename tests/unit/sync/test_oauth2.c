/* test_oauth2: the refresh_token grant against a canned HTTP server in a
 * thread — the form body carries the grant, a 200 gives the token and its
 * lifetime, a 4xx is a refusal (-2, with the provider's error), a 5xx, a
 * timeout, garbage or an oversized reply are transient (-1); the stored
 * secret JSON is checked field by field. */
#include "../unit.h"
#include "../../../sync/oauth2.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int lfd;
static char url[64];
static const char *canned;          /* the next reply, set before each call */
static char last_body[4096];

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char req[8192];
        size_t len = 0;
        for (;;) {
            ssize_t r = read(fd, req + len, sizeof req - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = '\0';
            char *end = strstr(req, "\r\n\r\n");
            char *cl = strcasestr(req, "Content-Length:");
            if (end && cl && (size_t)(end + 4 - req) + strtoul(cl + 15, NULL, 10) <= len)
                break;
        }
        char *end = strstr(req, "\r\n\r\n");
        snprintf(last_body, sizeof last_body, "%s", end ? end + 4 : "");
        if (strcmp(canned, "SLEEP") == 0) {
            sleep(2);
        } else if (write(fd, canned, strlen(canned)) < 0) {
            perror("write");
        }
        close(fd);
    }
}

static const struct oauth2_secret sec = { "cs&x=1", "rt/one+two" };

static int refresh(const char *reply, char **tok, long *exp, char *err, size_t errlen)
{
    canned = reply;
    return oauth2_refresh(url, "client-1", &sec, 1, tok, exp, err, errlen);
}

#define OK_HDR "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"

static void test_ok(void)
{
    char *tok = NULL, err[256];
    long exp = 0;
    CU_ASSERT_EQUAL(refresh(OK_HDR "{\"access_token\":\"AT-1\",\"expires_in\":1800,\"token_type\":\"Bearer\"}",
                            &tok, &exp, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(tok, "AT-1");
    CU_ASSERT_EQUAL(exp, 1800);
    free(tok);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_body, "grant_type=refresh_token"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_body, "refresh_token=rt%2Fone%2Btwo"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_body, "client_id=client-1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_body, "client_secret=cs%26x%3D1"));
    CU_ASSERT_EQUAL(refresh(OK_HDR "{\"access_token\":\"AT-2\"}", &tok, &exp, err, sizeof err), 0);
    CU_ASSERT_EQUAL(exp, 3600);
    free(tok);
}

static void test_refused(void)
{
    char *tok = NULL, err[256];
    long exp = 0;
    CU_ASSERT_EQUAL(refresh("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
                            "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been\\nrevoked.\"}",
                            &tok, &exp, err, sizeof err), -2);
    CU_ASSERT_PTR_NULL(tok);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 400: invalid_grant"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "revoked"));
    CU_ASSERT_PTR_NULL(strstr(err, "rt/one"));
    CU_ASSERT_EQUAL(refresh("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\nnope",
                            &tok, &exp, err, sizeof err), -2);
}

static void test_transient(void)
{
    char *tok = NULL, err[256];
    long exp = 0;
    CU_ASSERT_EQUAL(refresh("HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\n", &tok, &exp, err, sizeof err), -1);
    CU_ASSERT_EQUAL(refresh(OK_HDR "not json", &tok, &exp, err, sizeof err), -1);
    CU_ASSERT_EQUAL(refresh(OK_HDR "{\"token\":\"x\"}", &tok, &exp, err, sizeof err), -1);
    CU_ASSERT_EQUAL(refresh(OK_HDR "{\"access_token\":\"x\",\"expires_in\":-5}", &tok, &exp, err, sizeof err), -1);
    static char big[80 * 1024];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, OK_HDR, strlen(OK_HDR));
    CU_ASSERT_EQUAL(refresh(big, &tok, &exp, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(tok);
    struct oauth2_secret s2 = sec;
    CU_ASSERT_EQUAL(oauth2_refresh("http://127.0.0.1:1/token", "c", &s2, 1, &tok, &exp, err, sizeof err), -1);
    CU_ASSERT_EQUAL(oauth2_refresh("file:///etc/passwd", "c", &s2, 1, &tok, &exp, err, sizeof err), -1);
    /* Last: the server thread sleeps past the 1 s timeout. */
    CU_ASSERT_EQUAL(refresh("SLEEP", &tok, &exp, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "token endpoint"));
}

static void test_secret_parse(void)
{
    struct oauth2_secret s;
    char err[200];
    const char *good = "{\"clientSecret\":\"cs\",\"refreshToken\":\"rt\"}";
    CU_ASSERT_EQUAL(oauth2_secret_parse((const unsigned char *)good, strlen(good), &s, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(s.client_secret, "cs");
    CU_ASSERT_STRING_EQUAL(s.refresh_token, "rt");
    oauth2_secret_clear(&s);
    CU_ASSERT_PTR_NULL(s.refresh_token);
    const char *bad[] = { "", "password", "{\"clientSecret\":\"cs\"}", "{\"refreshToken\":7}",
                          "{\"refreshToken\":\"a\",\"refreshToken\":\"b\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(oauth2_secret_parse((const unsigned char *)bad[i], strlen(bad[i]), &s, err, sizeof err), -1);
        CU_ASSERT_PTR_NULL(strstr(err, "\"b\""));
    }
}

static const struct unit_case cases[] = {
    { "a 200 gives the token; the form carries the grant", test_ok },
    { "a 4xx is a refusal with the provider's reason", test_refused },
    { "5xx, garbage, timeouts, huge replies are transient", test_transient },
    { "the stored secret JSON is checked", test_secret_parse },
    { NULL, NULL },
};

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 8) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
        return 2;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/token", ntohs(sa.sin_port));
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);
    int rc = unit_run("sync oauth2", cases);
    shutdown(lfd, SHUT_RDWR);
    close(lfd);
    pthread_join(th, NULL);
    curl_global_cleanup();
    return rc;
}
