/* test_store: SQLite open, migrations (twice, concurrently, newer schema),
 * the schema's constraints, FTS5, and the outbox. */
#include "../unit.h"
#include "ob_outbox.h"
#include "ob_store.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/ob_storeXXXXXX";
static char path[256];

static void fresh_path(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
}

static int scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_open_and_migrate_twice(void)
{
    sqlite3 *db;
    char err[256];
    fresh_path("twice.db");
    CU_ASSERT_EQUAL_FATAL(ob_store_open(path, &db, err, sizeof err), 0);
    CU_ASSERT_EQUAL(scalar(db, "PRAGMA user_version"), ob_store_schema_version());
    CU_ASSERT_EQUAL(ob_store_migrate(db, err, sizeof err), ob_store_schema_version());
    CU_ASSERT_EQUAL(ob_store_migrate(db, err, sizeof err), ob_store_schema_version());
    ob_store_close(db);
    CU_ASSERT_EQUAL_FATAL(ob_store_open(path, &db, err, sizeof err), 0);   /* reopen */
    CU_ASSERT_EQUAL(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='events'"), 1);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    sqlite3_step(st);
    CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    CU_ASSERT_EQUAL(scalar(db, "PRAGMA foreign_keys"), 1);
    ob_store_close(db);
}

static void test_concurrent_first_open(void)
{
    fresh_path("race.db");
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            sqlite3 *db;
            char err[256];
            int rc = ob_store_open(path, &db, err, sizeof err);
            ob_store_close(db);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 4; i++) {
        int status;
        waitpid(kids[i], &status, 0);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

static void test_newer_schema_refused(void)
{
    sqlite3 *db;
    char err[256];
    fresh_path("newer.db");
    CU_ASSERT_EQUAL_FATAL(ob_store_open(path, &db, err, sizeof err), 0);
    sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
    ob_store_close(db);
    CU_ASSERT_EQUAL(ob_store_open(path, &db, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer"));
}

static void test_constraints_and_fts(void)
{
    sqlite3 *db;
    char err[256];
    fresh_path("fts.db");
    CU_ASSERT_EQUAL_FATAL(ob_store_open(path, &db, err, sizeof err), 0);
    const char *setup =
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u_a','a@x.org','h','t');"
        "INSERT INTO accounts (user_id,email,imap_host,imap_port,security,username,auth,created_at)"
        " VALUES ('u_a','a@x.org','localhost',993,'tls','a','password','t');"
        "INSERT INTO emails (account_id,user_id,mailbox,uidvalidity,uid,subject,body,created_at)"
        " VALUES (1,'u_a','INBOX',1,1,'Caf\xc3\xa9 r\xc3\xa9union','Let us meet on Tuesday','t');";
    CU_ASSERT_EQUAL(sqlite3_exec(db, setup, NULL, NULL, NULL), SQLITE_OK);
    /* same (account, mailbox, uidvalidity, uid) twice: refused */
    CU_ASSERT_NOT_EQUAL(sqlite3_exec(db, "INSERT INTO emails (account_id,user_id,mailbox,uidvalidity,uid,created_at)"
                                     " VALUES (1,'u_a','INBOX',1,1,'t')", NULL, NULL, NULL), SQLITE_OK);
    CU_ASSERT_NOT_EQUAL(sqlite3_exec(db, "INSERT INTO accounts (user_id,email,imap_host,imap_port,security,username,auth,created_at)"
                                     " VALUES ('u_a','b@x.org','h',993,'ssl','a','password','t')", NULL, NULL, NULL), SQLITE_OK);
    CU_ASSERT_EQUAL(scalar(db, "SELECT count(*) FROM emails_fts WHERE emails_fts MATCH 'cafe'"), 1);
    CU_ASSERT_EQUAL(scalar(db, "SELECT count(*) FROM emails_fts WHERE emails_fts MATCH 'tuesday'"), 1);
    /* deleting the account cascades to its mail and the index follows */
    CU_ASSERT_EQUAL(sqlite3_exec(db, "DELETE FROM accounts", NULL, NULL, NULL), SQLITE_OK);
    CU_ASSERT_EQUAL(scalar(db, "SELECT count(*) FROM emails"), 0);
    CU_ASSERT_EQUAL(scalar(db, "SELECT count(*) FROM emails_fts WHERE emails_fts MATCH 'tuesday'"), 0);
    ob_store_close(db);
}

struct seen { long long ids[16]; int n; };

static int collect(void *ctx, const struct ob_event *ev)
{
    struct seen *s = ctx;
    if (s->n < 16)
        s->ids[s->n++] = ev->id;
    return 0;
}

static void test_outbox(void)
{
    sqlite3 *db;
    char err[256];
    fresh_path("outbox.db");
    CU_ASSERT_EQUAL_FATAL(ob_store_open(path, &db, err, sizeof err), 0);
    CU_ASSERT_EQUAL(ob_outbox_last_id(db), 0);
    struct ob_event ev;
    long long ids[4];
    const char *users[4] = { "u_a", "u_b", "u_a", "*" };
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(ob_event_init(&ev, OB_EV_SYNC_STATUS, users[i],
                                            json_pack("{s:s}", "status", "idle")), 0);
        CU_ASSERT_EQUAL(ob_outbox_emit(db, NULL, &ev), 0);
        ids[i] = ev.id;
        CU_ASSERT(ev.id > 0);
        ob_event_clear(&ev);
    }
    CU_ASSERT(ids[0] < ids[1] && ids[1] < ids[2] && ids[2] < ids[3]);
    struct seen s = { .n = 0 };
    CU_ASSERT_EQUAL(ob_outbox_after(db, "u_a", 0, 0, 100, collect, &s), 2);
    CU_ASSERT_EQUAL(s.ids[0], ids[0]);
    CU_ASSERT_EQUAL(s.ids[1], ids[2]);
    s.n = 0;
    CU_ASSERT_EQUAL(ob_outbox_after(db, "u_a", 1, ids[0], 100, collect, &s), 2);
    CU_ASSERT_EQUAL(s.ids[0], ids[2]);
    CU_ASSERT_EQUAL(s.ids[1], ids[3]);
    /* a rolled-back transaction leaves no event behind */
    CU_ASSERT_EQUAL(ob_store_begin(db), 0);
    ob_event_init(&ev, OB_EV_NEW_EMAIL, "u_a", json_object());
    CU_ASSERT_EQUAL(ob_outbox_add(db, &ev), 0);
    ob_store_rollback(db);
    ob_event_clear(&ev);
    CU_ASSERT_EQUAL(ob_outbox_last_id(db), ids[3]);
    /* ephemeral events never enter the table */
    ob_event_init(&ev, OB_EV_IMAP_LOG, "u_a", json_object());
    CU_ASSERT_EQUAL(ob_outbox_add(db, &ev), -1);
    ob_event_clear(&ev);
    /* a corrupted row is skipped, not fatal */
    sqlite3_exec(db, "INSERT INTO events (user_id,type,topic,payload,ts) VALUES ('u_a','new_email','emails','{bad','t')",
                 NULL, NULL, NULL);
    s.n = 0;
    CU_ASSERT_EQUAL(ob_outbox_after(db, "u_a", 0, ids[3], 100, collect, &s), 0);
    ob_store_close(db);
}

static const struct unit_case cases[] = {
    { "open sets WAL/foreign keys; migrations applied twice are a no-op", test_open_and_migrate_twice },
    { "four processes opening a new database at once all succeed", test_concurrent_first_open },
    { "a database from a newer build is refused", test_newer_schema_refused },
    { "constraints hold; FTS5 index follows inserts and cascades", test_constraints_and_fts },
    { "outbox ids are ordered, per user, rollback-safe, durable only", test_outbox },
    { NULL, NULL },
};

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    int rc = unit_run("store", cases);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
