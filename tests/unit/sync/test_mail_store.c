/* test_mail_store: the outbox rule for mail — each batch, its new_email
 * events and the new UIDNEXT in one transaction; re-storing is a no-op that
 * announces nothing; a Message-ID already stored is not announced again; a
 * UIDVALIDITY reset gives one event and a rebuild re-matches stored rows. */
#include "../unit.h"
#include "../../../sync/account.h"
#include "../../../sync/mail_store.h"
#include "../../../sync/sync_ctx.h"
#include "ob_config.h"
#include "ob_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/ob_mstoreXXXXXX";
static char dbpath[256];
static sqlite3 *db;
static struct ob_config cfg;
static struct sync_ctx ctx;
static struct account *acc;
static long long acct_id;

static long long count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void make_item(struct mail_item *it, uint32_t uid, const char *subject, const char *msgid,
                      int announce)
{
    memset(it, 0, sizeof *it);
    char raw[512];
    int n = snprintf(raw, sizeof raw, "From: A <a@example.org>\r\nTo: b@example.com\r\n"
                     "Subject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                     "\r\nBody of %s\r\n", subject, msgid, subject);
    char err[128];
    CU_ASSERT_EQUAL_FATAL(mime_decode(raw, (size_t)n, NULL, &it->msg, err, sizeof err), 0);
    it->decoded = 1;
    it->uid = uid;
    it->size = (uint32_t)n;
    snprintf(it->category, sizeof it->category, "Interested");
    it->confidence = 0.75;
    ob_time_iso_now(it->categorized_at);
    it->announce = announce;
}

static void free_items(struct mail_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mime_msg_free(&v[i].msg);
}

static int setup(void)
{
    char err[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    if (ob_store_open(dbpath, &db, err, sizeof err) < 0)
        return -1;
    unsetenv("ONEBOX_CONFIG");
    ob_config_load(&cfg, NULL, err, sizeof err);
    ctx.cfg = &cfg;
    sqlite3_exec(db, "INSERT INTO users (id, email, password_hash, created_at)"
                     " VALUES ('u_t', 't@users', 'x', '2026-01-01T00:00:00.000Z');"
                     "INSERT INTO accounts (user_id, email, imap_host, imap_port, security, username,"
                     " auth, created_at) VALUES ('u_t', 't@example.com', 'h', 143, 'plain', 't',"
                     " 'password', '2026-01-01T00:00:00.000Z');", NULL, NULL, NULL);
    acct_id = sqlite3_last_insert_rowid(db);
    acc = account_new(&ctx, acct_id, "u_t", "t@example.com");
    return acc ? 0 : -1;
}

static void test_save_once(void)
{
    CU_ASSERT_EQUAL_FATAL(mail_store_mbox_create(db, acct_id, "INBOX", 100), 0);
    struct mail_item it[3];
    make_item(&it[0], 1, "one", "m1@x", 1);
    make_item(&it[1], 2, "two", "m2@x", 1);
    make_item(&it[2], 3, "three", "m3@x", 0);
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "INBOX", 100, it, 3, 4, MAIL_STORE_NORMAL), 2);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails"), 3);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM events WHERE type = 'new_email'"), 2);
    CU_ASSERT_EQUAL(count("SELECT uidnext FROM mailboxes"), 4);
    /* Fetched again (a crash before the next step): nothing new, nothing announced. */
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "INBOX", 100, it, 3, 4, MAIL_STORE_NORMAL), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails"), 3);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM events WHERE type = 'new_email'"), 2);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE category = 'Interested'"
                          " AND category_confidence = 0.75 AND from_addr LIKE 'A <a@%'"), 3);
    free_items(it, 3);
}

static void test_known_message_id(void)
{
    struct mail_item it[2];
    make_item(&it[0], 7, "one again", "m1@x", 1);     /* same Message-ID, new UID */
    memset(&it[1], 0, sizeof it[1]);
    it[1].uid = 8;                                  /* not decoded: skipped */
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "INBOX", 100, it, 2, 9, MAIL_STORE_NORMAL), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails"), 4);
    CU_ASSERT_EQUAL(count("SELECT uidnext FROM mailboxes"), 9);
    /* uidnext never goes back. */
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "INBOX", 100, NULL, 0, 5, MAIL_STORE_NORMAL), 0);
    CU_ASSERT_EQUAL(count("SELECT uidnext FROM mailboxes"), 9);
    free_items(it, 2);
}

static void test_event_data(void)
{
    struct mail_item it;
    make_item(&it, 9, "shape", "m9@x", 1);
    json_t *d = mail_store_event_data(acc, 42, "INBOX", &it);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    json_t *e = json_object_get(d, "email");
    const char *keys[] = { "id", "userId", "uid", "subject", "from", "to", "date", "body", "folder",
                           "email", "category", "categoryConfidence", "categorizedAt" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(json_object_get(e, keys[i]));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "id")), 42);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "date")), "2026-11-23T10:00:00.000Z");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "userId")), "u_t");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(d, "timestamp"));
    json_decref(d);
    mime_msg_free(&it.msg);
}

static void test_reset_and_rebuild(void)
{
    CU_ASSERT_EQUAL(mail_store_mbox_reset(db, acc, "INBOX", 100, 200, 1), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM events WHERE type = 'sync_status'"
                          " AND json_extract(payload, '$.reset.oldUidValidity') = 100"
                          " AND json_extract(payload, '$.reset.newUidValidity') = 200"), 1);
    struct mail_mbox mb;
    CU_ASSERT_EQUAL(mail_store_mbox_get(db, acct_id, "INBOX", &mb), 0);
    CU_ASSERT(mb.found && mb.uidvalidity == 200 && mb.uidnext == 0 && !mb.synced && mb.resets == 1);
    struct mail_item it[3];
    make_item(&it[0], 11, "one", "m1@x", 1);
    make_item(&it[1], 12, "two", "m2@x", 1);
    make_item(&it[2], 13, "brand new", "m13@x", 1);
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "INBOX", 200, it, 3, 14, MAIL_STORE_REBUILD), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE uidvalidity = 200"), 3);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails"), 5);   /* 2 re-matched + 1 new */
    CU_ASSERT_EQUAL(count("SELECT uid FROM emails WHERE message_id = 'm2@x'"), 12);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM events WHERE type = 'new_email'"), 2);
    /* Rebuild resumed after a crash: still nothing new. */
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "INBOX", 200, it, 3, 14, MAIL_STORE_REBUILD), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails"), 5);
    char iso[OB_TIME_ISO_LEN];
    CU_ASSERT_EQUAL(mail_store_mbox_synced(db, acct_id, "INBOX", 20, 77, 1, iso), 0);
    CU_ASSERT_EQUAL(mail_store_mbox_get(db, acct_id, "INBOX", &mb), 0);
    CU_ASSERT(mb.synced && mb.uidnext == 20 && mb.modseq == 77 && mb.resets == 0);
    CU_ASSERT_EQUAL(mail_store_has_uid(db, acct_id, "INBOX", 200, 13), 1);
    CU_ASSERT_EQUAL(mail_store_has_uid(db, acct_id, "INBOX", 100, 13), 0);
    free_items(it, 3);
}

/* One batch, stored with one multi-row INSERT: a Message-ID twice in the
 * batch is announced once, a UID twice is stored once, and each event's id
 * is the row of its own message. */
static void test_batch_duplicates(void)
{
    enum { N = 300 };
    CU_ASSERT_EQUAL_FATAL(mail_store_mbox_create(db, acct_id, "Archive", 300), 0);
    struct mail_item *it = calloc(N, sizeof *it);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it);
    char subj[32], mid[32];
    for (int i = 0; i < N; i++) {
        snprintf(subj, sizeof subj, "batch %d", i);
        snprintf(mid, sizeof mid, "b%d@x", i == 5 ? 4 : i);  /* 4 and 5 share one */
        make_item(&it[i], (uint32_t)(i == 8 ? 8 : i + 1), subj, mid, 1); /* 7 and 8: UID 8 */
    }
    long long before = count("SELECT count(*) FROM events WHERE type = 'new_email'");
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "Archive", 300, it, N, N + 1, MAIL_STORE_NORMAL),
                    N - 2);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE mailbox = 'Archive'"), N - 1);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM events WHERE type = 'new_email'"),
                    before + N - 2);
    CU_ASSERT_EQUAL(count("SELECT subject = 'batch 7' FROM emails WHERE mailbox = 'Archive'"
                          " AND uid = 8"), 1);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM events e JOIN emails m"
                          " ON m.id = json_extract(e.payload, '$.email.id')"
                          " WHERE e.type = 'new_email' AND m.mailbox = 'Archive'"
                          " AND m.uid = json_extract(e.payload, '$.email.uid')"
                          " AND m.subject = json_extract(e.payload, '$.email.subject')"), N - 2);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails_fts WHERE emails_fts MATCH 'batch'"),
                    count("SELECT count(*) FROM emails WHERE subject LIKE 'batch %'"));
    CU_ASSERT_EQUAL(mail_store_save(db, acc, "Archive", 300, it, N, N + 1, MAIL_STORE_NORMAL), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE mailbox = 'Archive'"), N - 1);
    free_items(it, N);
    free(it);
}

/* Batches stored through one mail_store_cache reuse its INSERT: a later
 * batch's items without Message-ID or Date get NULL there, not the values
 * bound for the batch before; a batch of another size gets its own. */
static void test_cached_batches(void)
{
    struct mail_store_cache sc = { 0 };
    struct mail_item a[3], b[3], c[2];
    CU_ASSERT_EQUAL_FATAL(mail_store_mbox_create(db, acct_id, "Cached", 400), 0);
    for (int i = 0; i < 3; i++) {
        char subj[32], mid[32];
        snprintf(subj, sizeof subj, "cached a%d", i);
        snprintf(mid, sizeof mid, "ca%d@x", i);
        make_item(&a[i], (uint32_t)(i + 1), subj, mid, 0);
    }
    for (int i = 0; i < 3; i++) {
        char raw[128], err[128];
        int n = snprintf(raw, sizeof raw,
                         "From: c@example.org\r\nSubject: cached b%d\r\n\r\nno id\r\n", i);
        memset(&b[i], 0, sizeof b[i]);
        CU_ASSERT_EQUAL_FATAL(mime_decode(raw, (size_t)n, NULL, &b[i].msg, err, sizeof err), 0);
        b[i].decoded = 1;
        b[i].uid = (uint32_t)(10 + i);
        snprintf(b[i].category, sizeof b[i].category, "Spam");
        ob_time_iso_now(b[i].categorized_at);
    }
    make_item(&c[0], 20, "cached c0", "cc0@x", 0);
    make_item(&c[1], 21, "cached c1", "cc1@x", 0);
    CU_ASSERT_EQUAL(mail_store_save_cached(db, &sc, acc, "Cached", 400, a, 3, 4,
                                           MAIL_STORE_NORMAL), 0);
    sqlite3_stmt *first = sc.ins;
    CU_ASSERT_PTR_NOT_NULL(first);
    CU_ASSERT_EQUAL(mail_store_save_cached(db, &sc, acc, "Cached", 400, b, 3, 13,
                                           MAIL_STORE_NORMAL), 0);
    CU_ASSERT_PTR_EQUAL(sc.ins, first);
    CU_ASSERT_EQUAL(mail_store_save_cached(db, &sc, acc, "Cached", 400, c, 2, 22,
                                           MAIL_STORE_NORMAL), 0);
    CU_ASSERT_EQUAL(sc.ins_rows, 2);
    mail_store_cache_clear(&sc);
    CU_ASSERT_PTR_NULL(sc.ins);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE mailbox = 'Cached'"), 8);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE mailbox = 'Cached' AND uid >= 10"
                          " AND uid < 20 AND message_id IS NULL AND date IS NULL"), 3);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails WHERE mailbox = 'Cached'"
                          " AND message_id = 'cc1@x' AND subject = 'cached c1'"), 1);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM emails_fts WHERE emails_fts MATCH 'cached'"), 8);
    free_items(a, 3);
    free_items(b, 3);
    free_items(c, 2);
}

static const struct unit_case cases[] = {
    { "a batch is stored and announced once", test_save_once },
    { "a known Message-ID is stored, not announced", test_known_message_id },
    { "new_email carries the seed 001 email object", test_event_data },
    { "UIDVALIDITY reset: one event, rebuild re-matches", test_reset_and_rebuild },
    { "one batch: duplicate Message-IDs and UIDs, event ids match rows", test_batch_duplicates },
    { "a cached INSERT is reused without stale bindings", test_cached_batches },
    { NULL, NULL },
};

int main(void)
{
    if (setup() < 0)
        return 2;
    int rc = unit_run("sync mail_store", cases);
    account_free(acc);
    ob_store_close(db);
    ob_config_free(&cfg);
    char p[300];
    const char *sfx[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
    return rc;
}
