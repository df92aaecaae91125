/* test_wal_ckpt: a connection with wal_ckpt_attach() leaves the WAL alone
 * at COMMIT and checkpoints it in wal_ckpt_due() once it is past
 * WAL_CKPT_PAGES; without it, SQLite checkpoints inside the COMMIT (the
 * behaviour the module exists to move).  The database file's size tells
 * whether pages were copied out of the WAL. */
#include "../unit.h"

#include "../../../sync/wal_ckpt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

static char dir[256];
static char path[300];

static sqlite3 *open_db(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ob-walckpt.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    sqlite3 *db = NULL;
    CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
    CU_ASSERT_FATAL(sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL;"
                                 " CREATE TABLE t (b BLOB);", NULL, NULL, NULL) == SQLITE_OK);
    return db;
}

static void close_db(sqlite3 *db)
{
    char f[320];
    sqlite3_close(db);
    unlink(path);
    snprintf(f, sizeof f, "%s-wal", path);
    unlink(f);
    snprintf(f, sizeof f, "%s-shm", path);
    unlink(f);
    rmdir(dir);
}

/* Commits `pages` pages' worth of rows in one transaction. */
static void write_pages(sqlite3 *db, int pages)
{
    sqlite3_stmt *st = NULL;
    CU_ASSERT_FATAL(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CU_ASSERT_FATAL(sqlite3_prepare_v2(db, "INSERT INTO t (b) VALUES (zeroblob(?1))", -1, &st,
                                       NULL) == SQLITE_OK);
    for (int i = 0; i < pages; i++) {
        sqlite3_bind_int(st, 1, PAGE - 200);
        CU_ASSERT(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    CU_ASSERT_FATAL(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
}

static long db_pages(void)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)(sb.st_size / PAGE) : -1;
}

static void test_default_checkpoints_in_commit(void)
{
    sqlite3 *db = open_db();
    write_pages(db, WAL_CKPT_PAGES + 100);
    CU_ASSERT(db_pages() >= WAL_CKPT_PAGES);
    close_db(db);
}

static void test_attached_checkpoints_when_due(void)
{
    sqlite3 *db = open_db();
    wal_ckpt_attach(db);
    write_pages(db, WAL_CKPT_PAGES + 100);
    CU_ASSERT(db_pages() < 10);           /* the COMMIT copied nothing */
    wal_ckpt_due(db);
    CU_ASSERT(db_pages() >= WAL_CKPT_PAGES);
    close_db(db);
}

static void test_attached_small_wal_waits(void)
{
    sqlite3 *db = open_db();
    wal_ckpt_attach(db);
    write_pages(db, 20);
    long before = db_pages();
    wal_ckpt_due(db);
    CU_ASSERT(db_pages() == before);     /* below the threshold: nothing */
    CU_ASSERT(before < 10);
    close_db(db);
}

static const struct unit_case cases[] = {
    { "SQLite's own checkpoint runs inside the COMMIT", test_default_checkpoints_in_commit },
    { "attached: COMMIT leaves the WAL, wal_ckpt_due checkpoints", test_attached_checkpoints_when_due },
    { "attached: a small WAL is left for later", test_attached_small_wal_waits },
    { NULL, NULL }
};

UNIT_MAIN("sync wal_ckpt", cases)
