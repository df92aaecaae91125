/* test_ctl_server: sync.sock requests answered from the database and the
 * registry — garbage and unknown ops get bad_request, unknown accounts
 * not_found, status and clients have the shapes of process-common.md — and
 * start/stop drive a real worker pool and IDLE loop: an account whose
 * server refuses connections goes to error with the reason and backs off,
 * and stops at once. */
#include "../unit.h"
#include "../../../sync/account.h"
#include "../../../sync/account_db.h"
#include "../../../sync/ctl_server.h"
#include "../../../sync/imap_idle.h"
#include "../../../sync/registry.h"
#include "../../../sync/sync_ctx.h"
#include "../../../sync/tls_verify.h"
#include "../../../sync/workers.h"
#include "ob_config.h"
#include "ob_json.h"
#include "ob_keyfile.h"
#include "ob_seal.h"
#include "ob_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/ob_ctlXXXXXX";
static char dbpath[256];
static sqlite3 *db;
static struct account_db *adb;
static struct ob_config cfg;
static struct sync_ctx ctx;

static json_t *ask(const char *line)
{
    size_t len = 0;
    int garbage = -1;
    char *r = ctl_server_handle(&ctx, adb, line, strlen(line), &len, "test", &garbage);
    CU_ASSERT(garbage == 0 || garbage == 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(len > 0 && r[len - 1] == '\n');
    char err[128];
    json_t *o = ob_json_parse_object(r, len - 1, 1 << 20, err, sizeof err);
    free(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

static const char *err_code(json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "error"), "code"));
}

static json_t *first_status(json_t *o)
{
    return json_array_get(json_object_get(json_object_get(o, "data"), "status"), 0);
}

static void test_bad_requests(void)
{
    const char *bad[] = { "", "garbage", "[1,2]", "{\"op\":\"explode\"}", "{\"op\":\"start\"}",
                          "{\"op\":\"start\",\"user\":\"bad user!\"}", "{\"op\":1}",
                          "{\"v\":2,\"op\":\"status\"}", "{\"op\":\"status\",\"email\":\"x@y\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 0;
        int garbage = 0;
        free(ctl_server_handle(&ctx, adb, bad[i], strlen(bad[i]), &len, "test", &garbage));
        CU_ASSERT_EQUAL(garbage, 1);
        json_t *o = ask(bad[i]);
        CU_ASSERT(json_is_false(json_object_get(o, "ok")));
        CU_ASSERT_STRING_EQUAL(err_code(o), "bad_request");
        json_decref(o);
    }
}

static void test_status_and_clients(void)
{
    json_t *o = ask("{\"op\":\"status\",\"user\":\"u_none\"}");
    CU_ASSERT(json_is_true(json_object_get(o, "ok")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(o, "data"), "status")), 0);
    json_decref(o);
    o = ask("{\"op\":\"start\",\"user\":\"u_c\",\"email\":\"nobody@example.com\"}");
    CU_ASSERT_STRING_EQUAL(err_code(o), "not_found");
    json_decref(o);
    o = ask("{\"op\":\"status\",\"user\":\"u_c\",\"email\":\"C@EXAMPLE.COM\"}");
    json_t *s = first_status(o);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "status")), "stopped");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "email")), "c@example.com");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "lastSync")), "2026-02-03T04:05:06.000Z");
    json_decref(o);
    o = ask("{\"op\":\"clients\"}");
    json_t *d = json_object_get(o, "data");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "clientCount")), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "emailAccountCount")), 0);
    CU_ASSERT(json_is_array(json_object_get(d, "activeClients")));
    CU_ASSERT(json_is_array(json_object_get(d, "activeEmailAccounts")));
    json_decref(o);
}

/* The status line is written by hand: strings that need escaping come
 * back intact (bytes that are not UTF-8 as U+FFFD), accounts appear in id order, and an account added between
 * two calls shows up (the kept statements see new rows). */
static void test_status_escaping_and_fresh_rows(void)
{
    sqlite3_exec(db, "INSERT INTO users (id, email, password_hash, created_at)"
                     " VALUES ('u_q', 'q@users', 'x', '2026-01-01T00:00:00.000Z');"
                     "INSERT INTO accounts (user_id, email, imap_host, imap_port, security, username,"
                     " auth, created_at) VALUES ('u_q', 'a\"b\\c' || char(1) || '@example.com',"
                     " 'h', 1, 'plain', 'q', 'password', '2026-01-01T00:00:00.000Z');",
                 NULL, NULL, NULL);
    json_t *o = ask("{\"op\":\"status\",\"user\":\"u_q\"}");
    json_t *arr = json_object_get(json_object_get(o, "data"), "status");
    CU_ASSERT_EQUAL(json_array_size(arr), 1);
    json_t *s = json_array_get(arr, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "email")), "a\"b\\c\001@example.com");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "userId")), "u_q");
    CU_ASSERT(json_is_null(json_object_get(s, "lastSync")));
    json_decref(o);
    sqlite3_exec(db, "INSERT INTO accounts (user_id, email, imap_host, imap_port, security, username,"
                     " auth, created_at) VALUES ('u_q', 'second@example.com', 'h', 1, 'plain', 'q',"
                     " 'password', '2026-01-01T00:00:00.000Z');", NULL, NULL, NULL);
    o = ask("{\"op\":\"status\",\"user\":\"u_q\"}");
    arr = json_object_get(json_object_get(o, "data"), "status");
    CU_ASSERT_EQUAL(json_array_size(arr), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(arr, 1), "email")),
                           "second@example.com");
    json_decref(o);
    o = ask("{\"op\":\"status\",\"user\":\"u_q\",\"email\":\"SECOND@example.com\"}");
    arr = json_object_get(json_object_get(o, "data"), "status");
    CU_ASSERT_EQUAL(json_array_size(arr), 1);
    json_decref(o);
    sqlite3_exec(db, "DELETE FROM accounts WHERE user_id = 'u_q'", NULL, NULL, NULL);
    o = ask("{\"op\":\"status\",\"user\":\"u_q\",\"email\":\"second@example.com\"}");
    CU_ASSERT_STRING_EQUAL(err_code(o), "not_found");
    json_decref(o);    /* a column that is not UTF-8 still gives a line that parses */
    sqlite3_exec(db, "INSERT INTO accounts (user_id, email, imap_host, imap_port, security, username,"
                     " auth, created_at) VALUES ('u_q', CAST(X'61FF40782E636F6D' AS TEXT), 'h', 1,"
                     " 'plain', 'q', 'password', '2026-01-01T00:00:00.000Z');", NULL, NULL, NULL);
    o = ask("{\"op\":\"status\",\"user\":\"u_q\"}");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(first_status(o), "email")),
                           "a\xef\xbf\xbd@x.com");
    json_decref(o);
    sqlite3_exec(db, "DELETE FROM accounts WHERE user_id = 'u_q'", NULL, NULL, NULL);
}

/* The status line onebox-api sends is read without jansson: it must give
 * the same answer as the same request spelled any other way, and lines
 * that only look like it are still refused. */
static void test_plain_status_line(void)
{
    json_t *a = ask("{\"v\":1,\"op\":\"status\",\"user\":\"u_c\"}");
    json_t *b = ask("{ \"op\": \"status\", \"user\": \"u_c\", \"v\": 1 }");
    CU_ASSERT(json_equal(a, b));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(first_status(a), "email")), "c@example.com");
    json_decref(a);
    json_decref(b);
    const char *bad[] = { "{\"v\":1,\"op\":\"status\",\"user\":\"u_c\\\"}",
                          "{\"v\":1,\"op\":\"status\",\"user\":\"bad user\"}",
                          "{\"v\":1,\"op\":\"status\",\"user\":\"\"}",
                          "{\"v\":1,\"op\":\"status\",\"user\":\"u_c\"}x\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = ask(bad[i]);
        CU_ASSERT_STRING_EQUAL(err_code(o), "bad_request");
        json_decref(o);
    }
}

static int status_is(const char *want, const char *err_part)
{
    json_t *o = ask("{\"op\":\"status\",\"user\":\"u_c\"}");
    json_t *s = first_status(o);
    const char *st = json_string_value(json_object_get(s, "status"));
    const char *e = json_string_value(json_object_get(s, "error"));
    int ok = st && strcmp(st, want) == 0 && (!err_part || (e && strstr(e, err_part)));
    json_decref(o);
    return ok;
}

static void test_start_stop(void)
{
    json_t *o = ask("{\"op\":\"start\",\"user\":\"u_c\"}");
    /* The reply is the live state: a worker may already have been refused
     * (port 1 answers at once) before the reply was built. */
    const char *st0 = json_string_value(json_object_get(first_status(o), "status"));
    CU_ASSERT(st0 && (strcmp(st0, "syncing") == 0 || strcmp(st0, "error") == 0));
    json_decref(o);
    int ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        ok = status_is("error", "reconnecting: connect to 127.0.0.1:1");
        if (!ok)
            usleep(50000);
    }
    CU_ASSERT(ok);
    o = ask("{\"op\":\"clients\"}");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(o, "data"), "clientCount")), 1);
    json_decref(o);
    o = ask("{\"op\":\"stop\",\"user\":\"u_c\"}");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(first_status(o), "status")), "stopped");
    json_decref(o);
    struct account *a = registry_find(ctx.reg, "u_c", "c@example.com");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    ok = 0;
    for (int i = 0; i < 200 && !ok; i++) {
        pthread_mutex_lock(&a->mu);
        ok = a->state == ACCOUNT_STOPPED && a->holder == ACCOUNT_HELD_NONE;
        pthread_mutex_unlock(&a->mu);
        if (!ok)
            usleep(50000);
    }
    CU_ASSERT(ok);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT sync_wanted FROM accounts WHERE email = 'c@example.com'", -1, &st, NULL);
    CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
}

static const struct unit_case cases[] = {
    { "garbage and bad requests get bad_request", test_bad_requests },
    { "status, not_found and clients shapes", test_status_and_clients },
    { "status escapes strings and sees new rows", test_status_escaping_and_fresh_rows },
    { "the plain status line answers as any other spelling", test_plain_status_line },
    { "start goes to error with backoff; stop at once", test_start_stop },
    { NULL, NULL },
};

static int setup(void)
{
    char err[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    unsetenv("ONEBOX_CONFIG");
    setenv("ONEBOX_DATA_DIR", dir, 1);
    if (ob_config_load(&cfg, NULL, err, sizeof err) < 0 || ob_store_open(dbpath, &db, err, sizeof err) < 0)
        return -1;
    free(cfg.db_path);
    cfg.db_path = strdup(dbpath);
    ctx.cfg = &cfg;
    adb = account_db_new(db);
    if (!adb)
        return -1;
    if (ob_keyfile_load(cfg.seal_key_file, ctx.seal_key, sizeof ctx.seal_key, err, sizeof err) < 0)
        return -1;
    ctx.reg = registry_new();
    ctx.tls = tls_verify_new(NULL, err, sizeof err);
    ctx.workers = workers_new(&ctx, 2, err, sizeof err);
    ctx.loop = imap_idle_new(&ctx, err, sizeof err);
    if (!ctx.reg || !ctx.tls || !ctx.workers || !ctx.loop)
        return -1;
    sqlite3_exec(db, "INSERT INTO users (id, email, password_hash, created_at)"
                     " VALUES ('u_c', 'c@users', 'x', '2026-01-01T00:00:00.000Z');"
                     "INSERT INTO accounts (user_id, email, imap_host, imap_port, security, username,"
                     " auth, created_at) VALUES ('u_c', 'c@example.com', '127.0.0.1', 1, 'plain', 'c',"
                     " 'password', '2026-01-01T00:00:00.000Z');", NULL, NULL, NULL);
    long long id = sqlite3_last_insert_rowid(db);
    char aad[64];
    unsigned char *blob = NULL;
    size_t bl = 0;
    ob_seal_aad(aad, sizeof aad, id, "secret");
    if (ob_seal(ctx.seal_key, aad, "pw", 2, &blob, &bl) < 0)
        return -1;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "UPDATE accounts SET secret = ?1 WHERE id = ?2", -1, &st, NULL);
    sqlite3_bind_blob(st, 1, blob, (int)bl, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_step(st);
    sqlite3_finalize(st);
    free(blob);
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO mailboxes (account_id, name, uidvalidity, uidnext, last_sync)"
             " VALUES (%lld, 'INBOX', 1, 1, '2026-02-03T04:05:06.000Z')", id);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    return 0;
}

int main(void)
{
    if (setup() < 0)
        return 2;
    int rc = unit_run("sync ctl_server", cases);
    atomic_store(&ctx.stopping, 1);
    imap_idle_stop(ctx.loop);
    workers_stop(ctx.workers);
    imap_idle_free(ctx.loop);
    workers_free(ctx.workers);
    registry_free(ctx.reg);
    tls_verify_free(ctx.tls);
    account_db_free(adb);
    ob_store_close(db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    ob_config_free(&cfg);
    return rc;
}
