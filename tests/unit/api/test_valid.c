/* test_valid: the checks every field and parameter passes — email, phone,
 * password policy, host, token URL, text and row ids (valid.c); percent
 * decoding and query parameters (req.c); the JSON body's Content-Type and
 * syntax checks; FTS5 query building (fts_query.c); and the login throttle
 * (throttle.c: per-key windows, reset, Retry-After, bounded table). */
#include "../unit.h"
#include "../../../api/fts_query.h"
#include "../../../api/req.h"
#include "../../../api/throttle.h"
#include "../../../api/valid.h"
#include "ob_config.h"

#include <stdio.h>
#include <string.h>

static void test_email(void)
{
    CU_ASSERT(valid_email("a@example.com"));
    CU_ASSERT(valid_email("first.last+tag@sub.example.co"));
    CU_ASSERT(valid_email("alice@localhost"));
    CU_ASSERT(valid_email("o'brien@example.com"));
    CU_ASSERT_FALSE(valid_email(""));
    CU_ASSERT_FALSE(valid_email("no-at.example.com"));
    CU_ASSERT_FALSE(valid_email("@example.com"));
    CU_ASSERT_FALSE(valid_email("a@"));
    CU_ASSERT_FALSE(valid_email("a@@example.com"));
    CU_ASSERT_FALSE(valid_email("a@b@example.com"));
    CU_ASSERT_FALSE(valid_email("a..b@example.com"));
    CU_ASSERT_FALSE(valid_email(".a@example.com"));
    CU_ASSERT_FALSE(valid_email("a.@example.com"));
    CU_ASSERT_FALSE(valid_email("a/b@example.com"));
    CU_ASSERT_FALSE(valid_email("../x@example.com"));
    CU_ASSERT_FALSE(valid_email("a b@example.com"));
    CU_ASSERT_FALSE(valid_email("a@exa mple.com"));
    CU_ASSERT_FALSE(valid_email("a@-example.com"));
    CU_ASSERT_FALSE(valid_email("a@example.com."));
    CU_ASSERT_FALSE(valid_email("a@example..com"));
    CU_ASSERT_FALSE(valid_email("a\n@example.com"));
    CU_ASSERT_FALSE(valid_email("\"a\"@example.com"));
    CU_ASSERT_FALSE(valid_email("z'; DROP TABLE users;--"));
    char longlocal[80];
    memset(longlocal, 'a', 65);
    strcpy(longlocal + 65, "@example.com");
    CU_ASSERT_FALSE(valid_email(longlocal));
}

static void test_phone(void)
{
    CU_ASSERT(valid_phone("+1234567890"));
    CU_ASSERT(valid_phone("1234567890"));
    CU_ASSERT(valid_phone("+123456789012345"));
    CU_ASSERT_FALSE(valid_phone("+1234567890123456"));
    CU_ASSERT_FALSE(valid_phone("+123456"));
    CU_ASSERT_FALSE(valid_phone("+0123456789"));
    CU_ASSERT_FALSE(valid_phone("+1 234 567 890"));
    CU_ASSERT_FALSE(valid_phone("++1234567890"));
    CU_ASSERT_FALSE(valid_phone("12ab567890"));
    CU_ASSERT_FALSE(valid_phone(""));
}

static void test_password_policy(void)
{
    char err[128];
    CU_ASSERT(valid_password("TestPassword123", "+1234567890", err, sizeof err));
    CU_ASSERT(valid_password("pässwört9", NULL, err, sizeof err));
    CU_ASSERT_FALSE(valid_password("short1", NULL, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'password'"));
    CU_ASSERT_FALSE(valid_password("onlyletters", NULL, err, sizeof err));
    CU_ASSERT_FALSE(valid_password("1234567890", NULL, err, sizeof err));
    CU_ASSERT_FALSE(valid_password("tab\there1", NULL, err, sizeof err));
    CU_ASSERT_FALSE(valid_password("Alice12345@example.com", "alice12345@EXAMPLE.com", err, sizeof err));
    char big[VALID_PASSWORD_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[0] = '1';
    big[sizeof big - 1] = '\0';
    CU_ASSERT_FALSE(valid_password(big, NULL, err, sizeof err));
}

static void test_host_and_url(void)
{
    CU_ASSERT(valid_host("imap.example.com"));
    CU_ASSERT(valid_host("localhost"));
    CU_ASSERT(valid_host("127.0.0.1"));
    CU_ASSERT(valid_host("::1"));
    CU_ASSERT(valid_host("[2001:db8::1]"));
    CU_ASSERT_FALSE(valid_host(""));
    CU_ASSERT_FALSE(valid_host("bad host"));
    CU_ASSERT_FALSE(valid_host("a_b.example"));
    CU_ASSERT_FALSE(valid_host("../../etc/passwd"));
    CU_ASSERT_FALSE(valid_host("host:993"));
    CU_ASSERT_FALSE(valid_host("-x.example"));
    CU_ASSERT(valid_token_url("https://oauth2.googleapis.com/token"));
    CU_ASSERT(valid_token_url("https://login.example.com:8443/oauth/token?x=1"));
    CU_ASSERT(valid_token_url("http://127.0.0.1:9000/token"));
    CU_ASSERT(valid_token_url("http://localhost/token"));
    CU_ASSERT_FALSE(valid_token_url("http://example.com/token"));
    CU_ASSERT_FALSE(valid_token_url("ftp://example.com/token"));
    CU_ASSERT_FALSE(valid_token_url("https://user:pw@example.com/token"));
    CU_ASSERT_FALSE(valid_token_url("https://"));
    CU_ASSERT_FALSE(valid_token_url("https://ex ample.com/"));
    CU_ASSERT_FALSE(valid_token_url("https://example.com:/x"));
    CU_ASSERT_FALSE(valid_token_url("javascript:alert(1)"));
}

static void test_text_and_ids(void)
{
    long long id = 0;
    CU_ASSERT(valid_text("INBOX", 10));
    CU_ASSERT(valid_text("Entwürfe", 20));
    CU_ASSERT_FALSE(valid_text("", 10));
    CU_ASSERT_FALSE(valid_text("a\rb", 10));
    CU_ASSERT_FALSE(valid_text("abcdef", 5));
    CU_ASSERT(valid_row_id("1", &id));
    CU_ASSERT_EQUAL(id, 1);
    CU_ASSERT(valid_row_id("9007199254740992", &id));
    CU_ASSERT_FALSE(valid_row_id("9007199254740993", &id));
    CU_ASSERT_FALSE(valid_row_id("0", &id));
    CU_ASSERT_FALSE(valid_row_id("007", &id));
    CU_ASSERT_FALSE(valid_row_id("-1", &id));
    CU_ASSERT_FALSE(valid_row_id("1 OR 1=1", &id));
    CU_ASSERT_FALSE(valid_row_id("", &id));
}

static void test_pct_decode(void)
{
    char out[32];
    CU_ASSERT_EQUAL(req_pct_decode("a%40b.com", 9, out, sizeof out, 0), 7);
    CU_ASSERT_STRING_EQUAL(out, "a@b.com");
    CU_ASSERT_EQUAL(req_pct_decode("a+b", 3, out, sizeof out, 1), 3);
    CU_ASSERT_STRING_EQUAL(out, "a b");
    CU_ASSERT_EQUAL(req_pct_decode("a+b", 3, out, sizeof out, 0), 3);
    CU_ASSERT_STRING_EQUAL(out, "a+b");
    CU_ASSERT_EQUAL(req_pct_decode("%2f%2F", 6, out, sizeof out, 0), 2);
    CU_ASSERT_STRING_EQUAL(out, "//");
    CU_ASSERT_EQUAL(req_pct_decode("x%00y", 5, out, sizeof out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("x%4", 3, out, sizeof out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("x%", 2, out, sizeof out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("%zz", 3, out, sizeof out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("abcd", 4, out, 4, 0), -1);   /* no room for NUL */
    CU_ASSERT_EQUAL(req_pct_decode("", 0, out, sizeof out, 0), 0);
}

static void test_query(void)
{
    char v[16];
    const char *q = "limit=10&email=a%40b.example&q=hello+world&flag&empty=&limit=99";
    CU_ASSERT_EQUAL(req_query_get(q, "limit", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "10");   /* the first occurrence */
    CU_ASSERT_EQUAL(req_query_get(q, "email", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "a@b.example");
    CU_ASSERT_EQUAL(req_query_get(q, "q", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "hello world");
    CU_ASSERT_EQUAL(req_query_get(q, "flag", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "");
    CU_ASSERT_EQUAL(req_query_get(q, "empty", v, sizeof v), 1);
    CU_ASSERT_EQUAL(req_query_get(q, "lim", v, sizeof v), 0);
    CU_ASSERT_EQUAL(req_query_get(q, "missing", v, sizeof v), 0);
    CU_ASSERT_EQUAL(req_query_get("x=%00", "x", v, sizeof v), -1);
    CU_ASSERT_EQUAL(req_query_get("x=0123456789abcdefghij", "x", v, sizeof v), -1);
    CU_ASSERT_EQUAL(req_query_get("", "x", v, sizeof v), 0);
    CU_ASSERT_EQUAL(req_query_get(NULL, "x", v, sizeof v), 0);
}

static void test_body_json(void)
{
    struct ob_config cfg;
    struct api_server srv;
    struct api_req r;
    char err[128];
    ob_config_load(&cfg, NULL, err, sizeof err);
    memset(&srv, 0, sizeof srv);
    srv.cfg = &cfg;
    memset(&r, 0, sizeof r);
    r.srv = &srv;
    const char *cts[] = { "application/json", "application/json; charset=utf-8",
                          "Application/JSON", NULL };
    for (int i = 0; cts[i]; i++) {
        r.content_type = cts[i];
        r.body = "{\"a\":1}";
        r.body_len = strlen(r.body);
        json_t *o = req_body_json(&r, 0);
        CU_ASSERT_PTR_NOT_NULL(o);
        json_decref(o);
    }
    const char *bad_cts[] = { "text/plain", "application/jsonx", "application/x-www-form-urlencoded", NULL };
    for (int i = 0; bad_cts[i]; i++) {
        r.content_type = bad_cts[i];
        CU_ASSERT_PTR_NULL(req_body_json(&r, 0));
        CU_ASSERT_EQUAL(r.status, 400);
        req_clear(&r);
    }
    r.content_type = NULL;
    CU_ASSERT_PTR_NULL(req_body_json(&r, 0));
    req_clear(&r);
    r.content_type = "application/json";
    const char *bad[] = { "{", "[]", "\"x\"", "{\"a\":1}{}", "{\"a\":1,\"a\":2}", "{\"a\":\"\xff\"}", NULL };
    for (int i = 0; bad[i]; i++) {
        r.body = bad[i];
        r.body_len = strlen(bad[i]);
        CU_ASSERT_PTR_NULL(req_body_json(&r, 0));
        CU_ASSERT_EQUAL(r.status, 400);
        CU_ASSERT_PTR_NOT_NULL(r.out && strstr(r.out, "\"bad_request\""));
        req_clear(&r);
    }
    /* optional body: empty is {}, whatever the Content-Type */
    r.content_type = NULL;
    r.body = "";
    r.body_len = 0;
    json_t *o = req_body_json(&r, 1);
    CU_ASSERT(o && json_object_size(o) == 0);
    json_decref(o);
    ob_config_free(&cfg);
}

static void test_fts_query(void)
{
    char out[1024];
    CU_ASSERT_EQUAL(fts_query_build("invoice", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"invoice\"");
    CU_ASSERT_EQUAL(fts_query_build("  e-mail   re: x ", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"e-mail\" \"re:\" \"x\"");
    CU_ASSERT_EQUAL(fts_query_build("and or not near", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"and\" \"or\" \"not\" \"near\"");
    CU_ASSERT_EQUAL(fts_query_build("'; DROP TABLE emails;--", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"';\" \"DROP\" \"TABLE\" \"emails;--\"");
    CU_ASSERT_EQUAL(fts_query_build("\"pay the\"", out, sizeof out), 1);
    CU_ASSERT_STRING_EQUAL(out, "\"pay the\"");
    CU_ASSERT_EQUAL(fts_query_build("invoice OR pills", out, sizeof out), 1);
    CU_ASSERT_EQUAL(fts_query_build("invo*", out, sizeof out), 1);
    CU_ASSERT_EQUAL(fts_query_build("(a", out, sizeof out), 1);
    CU_ASSERT_EQUAL(fts_query_build("NEAR(a b)", out, sizeof out), 1);
    CU_ASSERT_EQUAL(fts_query_build("a NOT b", out, sizeof out), 1);
    CU_ASSERT_EQUAL(fts_query_build("", out, sizeof out), -1);
    CU_ASSERT_EQUAL(fts_query_build("   ", out, sizeof out), -1);
    CU_ASSERT_EQUAL(fts_query_build("a\nb", out, sizeof out), -1);
    CU_ASSERT_EQUAL(fts_query_build("word", out, 4), -1);
    char many[200] = "";
    for (int i = 0; i < FTS_QUERY_TERMS + 1; i++)
        strcat(many, "w ");
    CU_ASSERT_EQUAL(fts_query_build(many, out, sizeof out), -1);
    char big[FTS_QUERY_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(fts_query_build(big, out, sizeof out), -1);
}

static void test_throttle(void)
{
    struct throttle *t = throttle_new(3, 60, 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    time_t now = 1000000;
    CU_ASSERT_EQUAL(throttle_wait(t, "acct:a", now), 0);
    throttle_fail(t, "acct:a", now);
    throttle_fail(t, "acct:a", now + 1);
    CU_ASSERT_EQUAL(throttle_wait(t, "acct:a", now + 2), 0);
    throttle_fail(t, "acct:a", now + 2);
    CU_ASSERT_EQUAL(throttle_wait(t, "acct:a", now + 10), 50);   /* window ends at now+60 */
    CU_ASSERT_EQUAL(throttle_wait(t, "acct:b", now + 10), 0);    /* keys are separate */
    CU_ASSERT_EQUAL(throttle_wait(t, "acct:a", now + 60), 0);    /* window over */
    throttle_fail(t, "acct:a", now + 61);                       /* a new window starts */
    CU_ASSERT_EQUAL(throttle_wait(t, "acct:a", now + 62), 0);
    for (int i = 0; i < 3; i++)
        throttle_fail(t, "addr:1", now);
    CU_ASSERT(throttle_wait(t, "addr:1", now) > 0);
    throttle_reset(t, "addr:1");
    CU_ASSERT_EQUAL(throttle_wait(t, "addr:1", now), 0);
    /* far more keys than slots: memory stays bounded, recent keys still count */
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "addr:%d", i);
        throttle_fail(t, key, now + 100);
    }
    for (int i = 0; i < 3; i++)
        throttle_fail(t, "acct:z", now + 101);
    CU_ASSERT(throttle_wait(t, "acct:z", now + 101) > 0);
    throttle_free(t);
    throttle_free(NULL);
}

static const struct unit_case cases[] = {
    { "email addresses", test_email },
    { "phone numbers", test_phone },
    { "password policy", test_password_policy },
    { "hosts and token URLs", test_host_and_url },
    { "text and row ids", test_text_and_ids },
    { "percent decoding", test_pct_decode },
    { "query parameters", test_query },
    { "JSON bodies", test_body_json },
    { "FTS5 query building", test_fts_query },
    { "login throttle", test_throttle },
    { NULL, NULL },
};

UNIT_MAIN("api validation", cases)
