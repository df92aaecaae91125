/* mail_store: the SQL onebox-syncd runs on mailboxes and emails, and the
 * outbox rule for new_email: each batch of messages, their new_email events
 * and the mailbox's new UIDNEXT go in ONE transaction (BEGIN IMMEDIATE), so
 * a kill -9 at any point neither loses nor duplicates mail; events are
 * published only after COMMIT, and only for rows actually inserted
 * (UNIQUE(account_id, mailbox, uidvalidity, uid) makes re-fetching a no-op). */
#ifndef SYNC_MAIL_STORE_H
#define SYNC_MAIL_STORE_H

#include "mime_decode.h"
#include "ob_time.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct account;

/* A mailbox row (see ob_store.c).  synced: last_sync is set, i.e. the first
 * sync (or the rebuild after a UIDVALIDITY change) finished. */
struct mail_mbox {
    int found;
    uint32_t uidvalidity, uidnext;
    uint64_t modseq;
    int resets;
    int synced;
};

/* Reads (account, name); m->found = 0 when there is no row.  0 or -1. */
int mail_store_mbox_get(sqlite3 *db, long long account_id, const char *name, struct mail_mbox *m);

/* Creates the row for a first sync (uidnext 0, not synced).  0 or -1. */
int mail_store_mbox_create(sqlite3 *db, long long account_id, const char *name,
                           uint32_t uidvalidity);

/* UIDVALIDITY changed: in one transaction, points the row at the new
 * UIDVALIDITY (uidnext 0, not synced, resets + 1) and stores one sync_status
 * event {.., reset:{mailbox,oldUidValidity,newUidValidity}}, published
 * after COMMIT.  0 or -1. */
int mail_store_mbox_reset(sqlite3 *db, struct account *a, const char *name,
                          uint32_t old_uidv, uint32_t new_uidv, int resets);

/* Marks a sync finished: last_sync = now, uidnext = max(uidnext, uidnext
 * given), highestmodseq (when modseq > 0); clear_resets zeroes the reset
 * counter (UIDVALIDITY was stable).  Copies the time to iso.  0 or -1. */
int mail_store_mbox_synced(sqlite3 *db, long long account_id, const char *name,
                           uint32_t uidnext, uint64_t modseq, int clear_resets,
                           char iso[OB_TIME_ISO_LEN]);

/* 1 if (account, mailbox, uidvalidity, uid) is stored, 0 if not, -1. */
int mail_store_has_uid(sqlite3 *db, long long account_id, const char *mailbox,
                       uint32_t uidvalidity, uint32_t uid);

/* The UIDs >= from stored under (account, mailbox, uidvalidity), ascending,
 * in a new array *uids (free() it; NULL when *n is 0).  One query where
 * mail_store_has_uid() per UID would be one per message.  0 or -1. */
int mail_store_stored_uids(sqlite3 *db, long long account_id, const char *mailbox,
                           uint32_t uidvalidity, uint32_t from, uint32_t **uids, size_t *n);

/* One fetched message, decoded and categorized. */
struct mail_item {
    uint32_t uid;
    uint32_t size;                  /* RFC822.SIZE */
    char internaldate[OB_TIME_ISO_LEN];
    struct mime_msg msg;            /* owned; valid when decoded */
    int decoded;                    /* 0: skipped (reason logged) */
    char category[48];
    double confidence;
    char categorized_at[OB_TIME_ISO_LEN];
    int announce;                   /* eligible for new_email */
};

enum mail_store_mode {
    MAIL_STORE_NORMAL,              /* insert; announce where item->announce */
    MAIL_STORE_REBUILD              /* re-match by Message-ID first; never announce */
};

/* Stores items[0..n) of mailbox under uidvalidity for account a, with their
 * new_email events, and moves the mailbox's uidnext to at least uidnext — all
 * in one transaction, retried on SQLITE_BUSY.  Then publishes the events.
 * Returns the number of new_email events, or -1 (nothing stored). */
int mail_store_save(sqlite3 *db, struct account *a, const char *mailbox, uint32_t uidvalidity,
                    struct mail_item *items, size_t n, uint32_t uidnext,
                    enum mail_store_mode mode);

/* Statements kept across mail_store_save_cached() calls on one connection
 * (the batches of one sync pass), so the INSERT of a full batch — 16
 * parameters a row — is parsed once instead of once a batch.  Start it
 * zeroed; mail_store_cache_clear() finalizes what it holds (before the
 * connection is closed) and zeroes it again. */
struct mail_store_cache {
    sqlite3 *db;
    sqlite3_stmt *ins;              /* INSERT of ins_rows rows */
    size_t ins_rows;
};
void mail_store_cache_clear(struct mail_store_cache *c);
/* mail_store_save() with c's statements (c may be NULL). */
int mail_store_save_cached(sqlite3 *db, struct mail_store_cache *c, struct account *a,
                           const char *mailbox, uint32_t uidvalidity, struct mail_item *items,
                           size_t n, uint32_t uidnext, enum mail_store_mode mode);
/* The new_email event body for a stored row (exposed for tests). */
json_t *mail_store_event_data(struct account *a, long long row_id, const char *mailbox,
                              const struct mail_item *it);

#endif
