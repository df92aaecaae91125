/* ob_store: the one SQLite database all onebox processes share (WAL mode).
 *
 * Opening applies the pragmas every connection needs (WAL, busy timeout,
 * foreign keys) and the versioned migrations below (PRAGMA user_version).
 * Rules every caller follows (notes/clibs.md §5):
 *   - one connection per thread;
 *   - every transaction that may write starts with ob_store_begin()
 *     (BEGIN IMMEDIATE), is short, and never spans network I/O;
 *   - on SQLITE_BUSY the whole transaction is retried (ob_store_retryable).
 *
 * Tables: users, accounts, mailboxes, emails (+ emails_fts, FTS5), events
 * (the outbox; see ob_outbox.h). */
#ifndef OB_STORE_H
#define OB_STORE_H

#include <sqlite3.h>
#include <stddef.h>

#define OB_STORE_BUSY_MS 5000

/* Opens (creating if needed) and migrates.  Returns 0 and *db, or -1 with a
 * reason in err (*db is NULL then). */
int ob_store_open(const char *path, sqlite3 **db, char *err, size_t errlen);
void ob_store_close(sqlite3 *db);

/* Applies any migrations not yet applied; safe to run again (a no-op).
 * Returns the schema version now in force, or -1 with err. */
int ob_store_migrate(sqlite3 *db, char *err, size_t errlen);
/* The newest schema version this build knows. */
int ob_store_schema_version(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 or -1 (logged). */
int ob_store_begin(sqlite3 *db);
int ob_store_commit(sqlite3 *db);
void ob_store_rollback(sqlite3 *db);
/* 1 if the last error on db means "retry the whole transaction". */
int ob_store_retryable(sqlite3 *db);

#endif
