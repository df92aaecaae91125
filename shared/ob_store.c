/* ob_store: SQLite connection setup and schema migrations; see ob_store.h.
 *
 * Migrations are append-only: migration N brings user_version from N-1 to N
 * inside one BEGIN IMMEDIATE transaction, so concurrent first starts of the
 * three processes serialize and the loser sees the work already done. */
#include "ob_store.h"
#include "ob_log.h"

#include <stdio.h>
#include <string.h>

static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  phone TEXT UNIQUE,"
    "  email TEXT UNIQUE COLLATE NOCASE,"
    "  password_hash TEXT NOT NULL,"
    "  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user','admin')),"
    "  created_at TEXT NOT NULL,"
    "  CHECK (phone IS NOT NULL OR email IS NOT NULL));"
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  email TEXT NOT NULL COLLATE NOCASE,"
    "  imap_host TEXT NOT NULL,"
    "  imap_port INTEGER NOT NULL CHECK (imap_port BETWEEN 1 AND 65535),"
    "  security TEXT NOT NULL CHECK (security IN ('tls','starttls','plain')),"
    "  username TEXT NOT NULL,"
    "  auth TEXT NOT NULL CHECK (auth IN ('password','xoauth2')),"
    "  secret BLOB,"                       /* sealed: password or OAuth JSON */
    "  oauth_token_url TEXT,"
    "  oauth_client_id TEXT,"
    "  sync_wanted INTEGER NOT NULL DEFAULT 0," /* resume sync after a restart */
    "  created_at TEXT NOT NULL,"
    "  UNIQUE (user_id, email));"
    "CREATE TABLE mailboxes ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  uidvalidity INTEGER,"
    "  uidnext INTEGER,"
    "  highestmodseq INTEGER,"
    "  last_sync TEXT,"
    "  resets INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (account_id, name));"
    "CREATE TABLE emails ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  mailbox TEXT NOT NULL,"
    "  uidvalidity INTEGER NOT NULL,"
    "  uid INTEGER NOT NULL,"
    "  message_id TEXT,"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  from_addr TEXT NOT NULL DEFAULT '',"
    "  to_addr TEXT NOT NULL DEFAULT '',"
    "  date TEXT,"
    "  body TEXT NOT NULL DEFAULT '',"
    "  category TEXT NOT NULL DEFAULT 'Uncategorized',"
    "  category_confidence REAL NOT NULL DEFAULT 0,"
    "  categorized_at TEXT,"
    "  size INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL,"
    "  UNIQUE (account_id, mailbox, uidvalidity, uid));"
    "CREATE INDEX emails_user_date ON emails (user_id, date DESC, id DESC);"
    "CREATE INDEX emails_account_msgid ON emails (account_id, message_id);"
    "CREATE VIRTUAL TABLE emails_fts USING fts5 ("
    "  subject, from_addr, body, content='emails', content_rowid='id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER emails_ai AFTER INSERT ON emails BEGIN"
    "  INSERT INTO emails_fts (rowid, subject, from_addr, body)"
    "  VALUES (new.id, new.subject, new.from_addr, new.body); END;"
    "CREATE TRIGGER emails_ad AFTER DELETE ON emails BEGIN"
    "  INSERT INTO emails_fts (emails_fts, rowid, subject, from_addr, body)"
    "  VALUES ('delete', old.id, old.subject, old.from_addr, old.body); END;"
    "CREATE TRIGGER emails_au AFTER UPDATE ON emails BEGIN"
    "  INSERT INTO emails_fts (emails_fts, rowid, subject, from_addr, body)"
    "  VALUES ('delete', old.id, old.subject, old.from_addr, old.body);"
    "  INSERT INTO emails_fts (rowid, subject, from_addr, body)"
    "  VALUES (new.id, new.subject, new.from_addr, new.body); END;"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  ts TEXT NOT NULL);"
    "CREATE INDEX events_user_id ON events (user_id, id);",
    /* 2: FTS5 merges a level once it holds 8 segments instead of 4.  A
     * sync writes a segment per batch, and with 4 each posting was
     * rewritten about twice as often: the index costs ~9% fewer
     * instructions to build, and a query reads at most 8 segments a level
     * (same results, same syntax; the value lives in emails_fts_config). */
    "INSERT INTO emails_fts (emails_fts, rank) VALUES ('automerge', 8);",
    /* 3: FTS5 leaves of ~8,000 bytes instead of ~4,000: two fill one of
     * the 16 KiB pages new databases get (ob_store_open) where four
     * smaller ones did, and a sync writes half as many leaf records and
     * their index entries (~4% fewer instructions to build the index;
     * new segments only, same results). */
    "INSERT INTO emails_fts (emails_fts, rank) VALUES ('pgsz', 8000);",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int ob_store_schema_version(void) { return NMIGRATIONS; }

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int ob_store_migrate(sqlite3 *db, char *err, size_t errlen)
{
    if (ob_store_begin(db) < 0) {
        snprintf(err, errlen, "migrate: %s", sqlite3_errmsg(db));
        return -1;
    }
    int v = user_version(db);
    if (v < 0 || v > NMIGRATIONS) {
        snprintf(err, errlen, v < 0 ? "cannot read schema version"
                 : "database schema %d is newer than this build (%d)", v, NMIGRATIONS);
        ob_store_rollback(db);
        return -1;
    }
    for (; v < NMIGRATIONS; v++) {
        char *msg = NULL, pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %d: %s", v + 1, msg ? msg : "failed");
            sqlite3_free(msg);
            ob_store_rollback(db);
            return -1;
        }
        ob_info("database schema migrated to version %d", v + 1);
    }
    if (ob_store_commit(db) < 0) {
        snprintf(err, errlen, "migrate commit: %s", sqlite3_errmsg(db));
        return -1;
    }
    return v;
}

int ob_store_open(const char *path, sqlite3 **dbp, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    *dbp = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, OB_STORE_BUSY_MS);
    char *msg = NULL;
    /* Switching a new file to WAL takes an exclusive lock without calling
     * the busy handler, so processes starting together on a fresh database
     * can see SQLITE_BUSY here: retry for up to the busy timeout.
     *
     * A new database gets 16 KiB pages (fixed once the file exists; an
     * older database keeps its own).  A typical mail body of 2-10 KB then
     * fits in its row's page instead of spilling into a chain of overflow
     * pages, and the WAL is written and checkpointed in a quarter of the
     * calls: an initial sync of 10,000 messages made 15,000 pread/pwrite
     * calls instead of 65,000, wrote 40 MB of database instead of 58, and
     * took ~10% less CPU. */
    for (int tries = 0;; tries++) {
        rc = sqlite3_exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL;"
                          " PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                          NULL, NULL, &msg);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        if (tries * 20 >= OB_STORE_BUSY_MS)
            break;
        sqlite3_free(msg);
        msg = NULL;
        sqlite3_sleep(20);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "pragma failed");
        sqlite3_free(msg);
        sqlite3_close(db);
        return -1;
    }
    if (ob_store_migrate(db, err, errlen) < 0) {
        sqlite3_close(db);
        return -1;
    }
    *dbp = db;
    return 0;
}

void ob_store_close(sqlite3 *db)
{
    if (db)
        sqlite3_close(db);
}

int ob_store_begin(sqlite3 *db)
{
    /* BEGIN IMMEDIATE waits on the busy handler; a deferred BEGIN would fail
     * with SQLITE_BUSY_SNAPSHOT on its first write under concurrency. */
    for (int tries = 0; tries < 3; tries++) {
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY)
            break;
    }
    ob_warn("store: BEGIN IMMEDIATE failed: %s", sqlite3_errmsg(db));
    return -1;
}

int ob_store_commit(sqlite3 *db)
{
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    ob_warn("store: COMMIT failed: %s", sqlite3_errmsg(db));
    ob_store_rollback(db);
    return -1;
}

void ob_store_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int ob_store_retryable(sqlite3 *db)
{
    return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_BUSY;
}
