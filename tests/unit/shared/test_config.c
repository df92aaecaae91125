/* test_config: defaults with no file, file values, environment overrides,
 * derived paths, and clear errors for bad files. */
#include "../unit.h"
#include "ob_config.h"
#include "ob_json.h"
#include "ob_time.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/ob_cfgXXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void)
{
    struct ob_config c;
    char err[256];
    unsetenv("ONEBOX_CONFIG");
    CU_ASSERT_EQUAL_FATAL(ob_config_load(&c, NULL, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.data_dir, "./var");
    CU_ASSERT_STRING_EQUAL(c.run_dir, "./var/run");
    CU_ASSERT_STRING_EQUAL(c.db_path, "./var/onebox.db");
    CU_ASSERT_STRING_EQUAL(c.events_sock, "./var/run/events.sock");
    CU_ASSERT_STRING_EQUAL(c.sync_sock, "./var/run/sync.sock");
    CU_ASSERT_STRING_EQUAL(c.ws_host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.ws_port, 5001);
    CU_ASSERT_EQUAL(c.sync_grace, 30);
    CU_ASSERT_EQUAL(c.ws_max_conns_per_user, 5);
    CU_ASSERT_STRING_EQUAL(c.http_listen, "127.0.0.1:8080");
    ob_config_free(&c);
}

static void test_file_and_env(void)
{
    struct ob_config c;
    char err[256];
    const char *p = write_file("a.conf",
        "# comment\n\ndata_dir = /srv/onebox   # trailing comment\n"
        "ws_port=6001\nllm_key = \"sk-secret\"\n");
    setenv("ONEBOX_WS_PORT", "7001", 1);
    CU_ASSERT_EQUAL_FATAL(ob_config_load(&c, p, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.data_dir, "/srv/onebox");
    CU_ASSERT_STRING_EQUAL(c.db_path, "/srv/onebox/onebox.db");
    CU_ASSERT_EQUAL(c.ws_port, 7001);                 /* env beats file */
    CU_ASSERT_STRING_EQUAL(c.llm_key, "sk-secret");
    /* the dump never shows a secret */
    char buf[16384] = "";
    FILE *m = fmemopen(buf, sizeof buf - 1, "w");
    ob_config_dump(&c, m);
    fclose(m);
    CU_ASSERT_PTR_NULL(strstr(buf, "sk-secret"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ONEBOX_WS_PORT"));
    unsetenv("ONEBOX_WS_PORT");
    ob_config_free(&c);
    setenv("ONEBOX_CONFIG", p, 1);                     /* found through env */
    CU_ASSERT_EQUAL(ob_config_load(&c, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.ws_port, 6001);
    unsetenv("ONEBOX_CONFIG");
    ob_config_free(&c);
}

static void test_bad_input(void)
{
    struct ob_config c;
    char err[256];
    const char *cases[][2] = {
        { "no_such_key = 1\n", "unknown configuration key" },
        { "ws_port = 70000\n", "ws_port" },
        { "ws_port = 12abc\n", "not a whole number" },
        { "just words\n", "expected 'key = value'" },
        { "log_level = loud\n", "log_level" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = write_file("bad.conf", cases[i][0]);
        CU_ASSERT_EQUAL(ob_config_load(&c, p, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i][1]));
        ob_config_free(&c);
    }
    CU_ASSERT_EQUAL(ob_config_load(&c, "/nonexistent/onebox.conf", err, sizeof err), -1);
    ob_config_free(&c);
    setenv("ONEBOX_API_THREADS", "0", 1);
    CU_ASSERT_EQUAL(ob_config_load(&c, NULL, err, sizeof err), -1);
    unsetenv("ONEBOX_API_THREADS");
    ob_config_free(&c);
}

static void test_json_helpers(void)
{
    char err[256];
    const char *doc = "{\"a\":\"x\",\"n\":5,\"b\":true,\"e\":\"\"}";
    json_t *o = ob_json_parse_object(doc, strlen(doc), 1024, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    const char *s = NULL;
    long long n = 0;
    int b = 0;
    CU_ASSERT_EQUAL(ob_json_get_str(o, "a", 1, 10, &s, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(s, "x");
    CU_ASSERT_EQUAL(ob_json_get_str(o, "n", 1, 10, &s, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "field 'n' must be a string");
    CU_ASSERT_EQUAL(ob_json_get_str(o, "e", 1, 10, &s, err, sizeof err), -1);
    CU_ASSERT_EQUAL(ob_json_get_str(o, "missing", 1, 10, &s, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "field 'missing' is required");
    CU_ASSERT_EQUAL(ob_json_get_int(o, "n", 1, 0, 4, &n, err, sizeof err), -1);
    CU_ASSERT_EQUAL(ob_json_get_int(o, "n", 1, 0, 9, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(ob_json_get_bool(o, "b", 1, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b, 1);
    json_decref(o);
    CU_ASSERT_PTR_NULL(ob_json_parse_object("{\"a\":1,\"a\":2}", 13, 1024, err, sizeof err));
    CU_ASSERT_PTR_NULL(ob_json_parse_object("\"str\"", 5, 1024, err, sizeof err));
    CU_ASSERT_PTR_NULL(ob_json_parse_object("{}", 2, 1, err, sizeof err));
    char *e = ob_json_err("not_found", "no such route");
    CU_ASSERT_STRING_EQUAL(e, "{\"success\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}");
    free(e);
    char *ok = ob_json_ok(NULL);
    CU_ASSERT_STRING_EQUAL(ok, "{\"success\":true,\"data\":{}}");
    free(ok);
    time_t t;
    CU_ASSERT_EQUAL(ob_time_iso_parse("2026-01-01T00:00:00.000Z", &t), 0);
    CU_ASSERT_EQUAL(t, 1767225600);
    CU_ASSERT_EQUAL(ob_time_iso_parse("2026-01-01 00:00", &t), -1);
    char iso[OB_TIME_ISO_LEN];
    ob_time_iso(1767225600, 5, iso);
    CU_ASSERT_STRING_EQUAL(iso, "2026-01-01T00:00:00.005Z");
}

static const struct unit_case cases[] = {
    { "defaults work with no file at all", test_defaults },
    { "file values, env overrides, secret hidden in dump", test_file_and_env },
    { "unknown keys, bad numbers, bad lines are clear errors", test_bad_input },
    { "JSON envelopes, checked fields, timestamps", test_json_helpers },
    { NULL, NULL },
};

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    int rc = unit_run("config", cases);
    unlink(write_file("a.conf", ""));
    unlink(write_file("bad.conf", ""));
    rmdir(dir);
    return rc;
}
