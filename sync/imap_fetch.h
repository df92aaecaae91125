/* imap_fetch: getting INBOX in step with the server (RFC 3501 SELECT and
 * UID FETCH, RFC 7162 CONDSTORE), following notes/imap-sync.md:
 *   - first sync: the newest cfg.sync_initial_window messages are stored,
 *     only the newest cfg.sync_announce_window of them announced, with
 *     sync_progress events on the way;
 *   - every (re)connect: catch up from the stored UIDNEXT (UID FETCH n:*,
 *     filtered on uid >= n since "*" always matches the last message);
 *   - UIDVALIDITY changed: one sync_status event with the reset, a silent
 *     rebuild that re-matches stored mail by Message-ID, and a stop after
 *     IMAP_FETCH_MAX_RESETS resets in a row;
 *   - RFC822.SIZE first, then bodies in small batches; messages larger than
 *     cfg.imap_max_message are fetched partially (BODY.PEEK[]<0.max>); a
 *     message that cannot be fetched or decoded is skipped with a logged
 *     reason and never blocks the account. */
#ifndef SYNC_IMAP_FETCH_H
#define SYNC_IMAP_FETCH_H

#include <sqlite3.h>
#include <stddef.h>

struct account;

#define IMAP_FETCH_MAX_RESETS 3

/* SELECT INBOX and sync it as above.  Returns 0; -1 on a connection or
 * database failure (try again later); -2 when the account must stop
 * (UIDVALIDITY loop). */
int imap_fetch_open_inbox(struct account *a, sqlite3 *db, char *err, size_t errlen);

/* After a wake-up: fetch and store what arrived since the stored UIDNEXT.
 * Returns the number of messages stored, or -1. */
int imap_fetch_new(struct account *a, sqlite3 *db, char *err, size_t errlen);

#endif
