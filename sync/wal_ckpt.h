/* wal_ckpt: WAL checkpoints after new mail is announced, not inside the
 * COMMIT that stored it.
 *
 * SQLite's automatic checkpoint runs in the COMMIT that takes the WAL past
 * 1,000 pages, on the committing thread: for syncd that was between storing
 * a message and publishing its new_email, so one announcement in ~80
 * waited for up to 16 MB of pages to be copied (10-20 ms).  A connection
 * with wal_ckpt_attach() skips that; the caller runs wal_ckpt_due() once
 * its events are out.  Same threshold, same work, later in the same thread. */
#ifndef ONEBOX_WAL_CKPT_H
#define ONEBOX_WAL_CKPT_H

#include <sqlite3.h>

/* WAL pages that make a checkpoint due (SQLite's own default). */
#define WAL_CKPT_PAGES 1000

/* Replaces db's automatic checkpoint with a note of the WAL's size, kept
 * for the thread that commits (one connection per thread in syncd). */
void wal_ckpt_attach(sqlite3 *db);

/* A passive checkpoint of db when the calling thread's last commit left the
 * WAL at WAL_CKPT_PAGES or more; nothing otherwise. */
void wal_ckpt_due(sqlite3 *db);

#endif
