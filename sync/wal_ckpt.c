/* wal_ckpt: deferred WAL checkpoints; see wal_ckpt.h. */
#include "wal_ckpt.h"

#include "ob_log.h"

#include <stddef.h>

/* The WAL's size after this thread's last commit: the hook runs in the
 * committing thread, and wal_ckpt_due() follows that commit on it. */
static _Thread_local int wal_pages;

static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)arg;
    (void)db;
    (void)name;
    wal_pages = pages;
    return SQLITE_OK;
}

void wal_ckpt_attach(sqlite3 *db)
{
    sqlite3_wal_hook(db, on_commit, NULL);
}

void wal_ckpt_due(sqlite3 *db)
{
    if (wal_pages < WAL_CKPT_PAGES)
        return;
    wal_pages = 0;
    /* PASSIVE: copies what no reader still needs and never waits for one;
     * what is left goes at a later checkpoint. */
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        ob_warn("WAL checkpoint: %s", sqlite3_errmsg(db));
}
