/* test_router: the route table and its dispatch without a web server —
 * matching, percent-decoded and validated path parameters (traversal, NUL,
 * bad ids), 404 vs 405 with Allow, every route documented by --routes, and
 * the bearer checks router_dispatch runs before a handler (401 without or
 * with a bad/expired token, 403 for a user on an admin route). */
#include "../unit.h"
#include "../../../api/api.h"
#include "ob_config.h"
#include "ob_log.h"
#include "../../../api/req.h"
#include "../../../api/router.h"
#include "../../../api/syncctl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static struct ob_config cfg;
static struct api_server srv;

static void setup(void)
{
    char err[256];
    static int done;
    if (done)
        return;
    done = 1;
    ob_log_init("test_router", OB_LOG_ERROR);
    ob_config_load(&cfg, NULL, err, sizeof err);
    ob_config_set(&cfg, "sync_sock", "/nonexistent/onebox-test/sync.sock", err, sizeof err);
    memset(&srv, 0, sizeof srv);
    srv.cfg = &cfg;
    srv.sync = syncctl_new(cfg.sync_sock, 2, 200);
    memset(srv.jwt_key, 7, sizeof srv.jwt_key);
}

static void req_init(struct api_req *r, const char *method, const char *path)
{
    setup();
    memset(r, 0, sizeof *r);
    r->srv = &srv;
    r->method = method;
    r->path = path;
    r->path_len = strlen(path);
    const char *q = strchr(path, '?');
    if (q)
        r->path_len = (size_t)(q - path);
    r->query = q ? q + 1 : "";
    r->remote_addr = "127.0.0.1";
    r->body = "";
    r->route_index = -1;
}

static int match(const char *method, const char *path, struct api_req *r)
{
    req_init(r, method, path);
    return router_match(r);
}

static void test_literal_routes(void)
{
    struct api_req r;
    CU_ASSERT_EQUAL(match("POST", "/api/user/login", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.route->pattern, "/api/user/login");
    CU_ASSERT_EQUAL(r.nparams, 0);
    req_clear(&r);
    CU_ASSERT_EQUAL(match("GET", "/metrics", &r), 0);
    CU_ASSERT_EQUAL(r.route->auth, ROUTE_ADMIN);
    req_clear(&r);
    /* the literal "search" wins over :id */
    CU_ASSERT_EQUAL(match("GET", "/api/emails/search", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.route->pattern, "/api/emails/search");
    req_clear(&r);
}

static void test_params_decoded(void)
{
    struct api_req r;
    CU_ASSERT_EQUAL(match("POST", "/api/sync/start/u_0123456789abcdef/a%40example.com", &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.nparams, 2);
    CU_ASSERT_STRING_EQUAL(r.params[0], "u_0123456789abcdef");
    CU_ASSERT_STRING_EQUAL(r.params[1], "a@example.com");
    req_clear(&r);
    CU_ASSERT_EQUAL(match("DELETE", "/api/accounts/b@example.com", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.params[0], "b@example.com");
    req_clear(&r);
    CU_ASSERT_EQUAL(match("GET", "/api/emails/42", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.params[0], "42");
    req_clear(&r);
    CU_ASSERT_EQUAL(match("GET", "/api/sync/status/u_1?email=a%40b.example", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.params[0], "u_1");
    req_clear(&r);
}

static void expect_status(const char *method, const char *path, int status)
{
    struct api_req r;
    CU_ASSERT_EQUAL(match(method, path, &r), -1);
    CU_ASSERT_EQUAL(r.status, status);
    if (r.status != status)
        fprintf(stderr, "\n%s %s: got %d, want %d\n", method, path, r.status, status);
    CU_ASSERT_PTR_NOT_NULL(r.out);
    req_clear(&r);
}

static void test_bad_params(void)
{
    expect_status("GET", "/api/sync/status/..%2F..%2Fetc", 400);
    expect_status("GET", "/api/sync/status/..", 400);
    expect_status("GET", "/api/sync/status/u%00x", 400);
    expect_status("GET", "/api/sync/status/u%2", 400);
    expect_status("GET", "/api/sync/status/a%20b", 400);
    expect_status("GET", "/api/sync/status/x'%3BDROP", 400);
    expect_status("DELETE", "/api/accounts/..%2Fa%40example.com", 400);
    expect_status("DELETE", "/api/accounts/a%2Fb%40example.com", 400);
    expect_status("DELETE", "/api/accounts/not-an-email", 400);
    expect_status("POST", "/api/sync/start/u_1/a..b%40example.com", 400);
    expect_status("GET", "/api/emails/0", 400);
    expect_status("GET", "/api/emails/-1", 400);
    expect_status("GET", "/api/emails/1e3", 400);
    expect_status("GET", "/api/emails/99999999999999999999", 400);
}

static void test_not_found(void)
{
    expect_status("GET", "/", 404);
    expect_status("GET", "", 404);
    expect_status("GET", "api/health", 404);
    expect_status("GET", "/api/healthz", 404);
    expect_status("GET", "/api/health/", 404);
    expect_status("GET", "/api//health", 404);
    expect_status("GET", "/API/health", 404);
    expect_status("GET", "/api/%68ealth", 404);   /* literals are not decoded */
    expect_status("GET", "/a/b/c/d/e/f/g/h/i/j/k", 404);
    expect_status("GET", "/api/sync/status/", 404);
    expect_status("POST", "/api/sync/start/u_1", 404);
}

static void test_method_not_allowed(void)
{
    struct api_req r;
    CU_ASSERT_EQUAL(match("PUT", "/api/accounts", &r), -1);
    CU_ASSERT_EQUAL(r.status, 405);
    CU_ASSERT_STRING_EQUAL(r.allow, "POST, GET");
    req_clear(&r);
    CU_ASSERT_EQUAL(match("GET", "/api/accounts/a%40example.com", &r), -1);
    CU_ASSERT_EQUAL(r.status, 405);
    CU_ASSERT_STRING_EQUAL(r.allow, "DELETE");
    req_clear(&r);
    CU_ASSERT_EQUAL(match("HEAD", "/api/health", &r), -1);
    CU_ASSERT_EQUAL(r.status, 405);
    CU_ASSERT_STRING_EQUAL(r.allow, "GET");
    req_clear(&r);
    CU_ASSERT_EQUAL(match("POST", "/api/emails/search", &r), -1);
    CU_ASSERT_STRING_EQUAL(r.allow, "GET");
    req_clear(&r);
}

static void test_routes_listing(void)
{
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    router_print(f);
    fclose(f);
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, router_count);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "GET    /api/sync/clients"));
    /* every parameter name in the table has a checker (router refuses others) */
    for (int i = 0; i < router_count; i++) {
        const char *p = router_table[i].pattern;
        while ((p = strchr(p, ':')) != NULL) {
            p++;
            CU_ASSERT(strncmp(p, "userId", 6) == 0 || strncmp(p, "email", 5) == 0 ||
                      strncmp(p, "id", 2) == 0);
        }
    }
}

static void dispatch(const char *method, const char *path, const char *authz, struct api_req *r)
{
    req_init(r, method, path);
    r->authorization = authz;
    router_dispatch(r);
}

static void test_dispatch_auth(void)
{
    struct api_req r;
    char hdr[4200];
    time_t now = time(NULL);
    char *user = ob_jwt_sign(srv.jwt_key, sizeof srv.jwt_key, "u_aaaa", "user", now, 600);
    char *admin = ob_jwt_sign(srv.jwt_key, sizeof srv.jwt_key, "u_bbbb", "admin", now, 600);
    char *expired = ob_jwt_sign(srv.jwt_key, sizeof srv.jwt_key, "u_aaaa", "user", now - 7200, 60);
    unsigned char other[OB_JWT_KEY_LEN];
    memset(other, 9, sizeof other);
    char *forged = ob_jwt_sign(other, sizeof other, "u_aaaa", "admin", now, 600);
    CU_ASSERT_PTR_NOT_NULL_FATAL(user);

    dispatch("GET", "/api/sync/clients", NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_EQUAL(r.www_authenticate, 1);
    req_clear(&r);
    dispatch("GET", "/api/sync/clients", "Basic dTpw", &r);
    CU_ASSERT_EQUAL(r.status, 401);
    req_clear(&r);
    snprintf(hdr, sizeof hdr, "Bearer %s", expired);
    dispatch("GET", "/api/sync/clients", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_EQUAL(r.www_authenticate, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "expired"));
    req_clear(&r);
    snprintf(hdr, sizeof hdr, "Bearer %s", forged);
    dispatch("GET", "/api/sync/clients", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    req_clear(&r);
    snprintf(hdr, sizeof hdr, "Bearer %s", user);
    dispatch("GET", "/api/sync/clients", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    req_clear(&r);
    /* ownership of :userId, checked before syncd is asked */
    dispatch("GET", "/api/sync/status/u_other", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    req_clear(&r);
    /* scheme is case-insensitive (RFC 7235 §2.1); syncd is away: 503, not a hang */
    snprintf(hdr, sizeof hdr, "bearer %s", user);
    dispatch("GET", "/api/sync/status/u_aaaa", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 503);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"unavailable\""));
    req_clear(&r);
    snprintf(hdr, sizeof hdr, "Bearer %s", admin);
    dispatch("GET", "/api/sync/status/u_aaaa", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 503);
    req_clear(&r);
    dispatch("GET", "/api/sync/clients", hdr, &r);
    CU_ASSERT_EQUAL(r.status, 503);
    req_clear(&r);
    free(user);
    free(admin);
    free(expired);
    free(forged);
}

static void test_error_codes(void)
{
    CU_ASSERT_STRING_EQUAL(req_error_code(400), "bad_request");
    CU_ASSERT_STRING_EQUAL(req_error_code(401), "unauthorized");
    CU_ASSERT_STRING_EQUAL(req_error_code(413), "payload_too_large");
    CU_ASSERT_STRING_EQUAL(req_error_code(429), "rate_limited");
    CU_ASSERT_STRING_EQUAL(req_error_code(500), "internal_error");
    CU_ASSERT_STRING_EQUAL(req_error_code(503), "unavailable");
}

static void test_teardown(void)
{
    syncctl_free(srv.sync);
    ob_config_free(&cfg);
}

static const struct unit_case cases[] = {
    { "literal routes", test_literal_routes },
    { "parameters are decoded", test_params_decoded },
    { "bad parameters are 400", test_bad_params },
    { "unknown paths are 404", test_not_found },
    { "wrong methods are 405 with Allow", test_method_not_allowed },
    { "--routes lists the table", test_routes_listing },
    { "dispatch checks the bearer token", test_dispatch_auth },
    { "one error code per status", test_error_codes },
    { "teardown", test_teardown },
    { NULL, NULL },
};

UNIT_MAIN("api router", cases)
