/* mail_store: mailboxes/emails SQL and the new_email outbox; see
 * mail_store.h. */
#include "mail_store.h"

#include "account.h"
#include "ob_event.h"
#include "ob_log.h"
#include "ob_outbox.h"
#include "ob_store.h"
#include "sync_ctx.h"
#include "wal_ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_TRIES 3
/* The full body is in the database; the event carries at most this much. */
#define EVENT_BODY_MAX (64 * 1024)

int mail_store_mbox_get(sqlite3 *db, long long account_id, const char *name, struct mail_mbox *m)
{
    memset(m, 0, sizeof *m);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(uidvalidity,0), coalesce(uidnext,0),"
                           " coalesce(highestmodseq,0), resets, last_sync IS NOT NULL"
                           " FROM mailboxes WHERE account_id = ?1 AND name = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        ob_warn("mailboxes: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);
        m->found = 1;
        m->uidvalidity = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
        m->uidnext = n > 0 && n <= UINT32_MAX ? (uint32_t)n : 0;
        sqlite3_int64 ms = sqlite3_column_int64(st, 2);
        m->modseq = ms > 0 ? (uint64_t)ms : 0;
        m->resets = sqlite3_column_int(st, 3);
        m->synced = sqlite3_column_int(st, 4);
    } else if (rc != SQLITE_DONE) {
        ob_warn("mailboxes: %s", sqlite3_errmsg(db));
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

/* Runs sql with ?1 = account id, ?2 = name, ?3..?5 = numbers (parameters
 * the statement does not use are ignored by SQLite). */
static int exec_bound(sqlite3 *db, const char *sql, long long account_id, const char *name,
                      sqlite3_int64 a3, sqlite3_int64 a4, sqlite3_int64 a5)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a3);
        sqlite3_bind_int64(st, 4, a4);
        sqlite3_bind_int64(st, 5, a5);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = 0;
    }
    if (rc < 0)
        ob_warn("mailboxes: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int mail_store_mbox_create(sqlite3 *db, long long account_id, const char *name,
                           uint32_t uidvalidity)
{
    return exec_bound(db, "INSERT INTO mailboxes (account_id, name, uidvalidity, uidnext, resets)"
                      " VALUES (?1, ?2, ?3, 0, 0) ON CONFLICT (account_id, name) DO UPDATE"
                      " SET uidvalidity = ?3, uidnext = 0, last_sync = NULL",
                      account_id, name, uidvalidity, 0, 0);
}

int mail_store_mbox_reset(sqlite3 *db, struct account *a, const char *name,
                          uint32_t old_uidv, uint32_t new_uidv, int resets)
{
    char ts[OB_TIME_ISO_LEN];
    ob_time_iso_now(ts);
    struct ob_event ev;
    json_t *data = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:I,s:I}}", "userId", a->user,
                             "status", "syncing", "email", a->email, "timestamp", ts,
                             "reset", "mailbox", name, "oldUidValidity", (json_int_t)old_uidv,
                             "newUidValidity", (json_int_t)new_uidv);
    if (!data || ob_event_init(&ev, OB_EV_SYNC_STATUS, a->user, data) < 0)
        return -1;
    int ok = 0;
    for (int tries = 0; tries < STORE_TRIES && !ok; tries++) {
        if (ob_store_begin(db) == 0 &&
            exec_bound(db, "UPDATE mailboxes SET uidvalidity = ?3, uidnext = 0, highestmodseq = NULL,"
                       " last_sync = NULL, resets = ?4 WHERE account_id = ?1 AND name = ?2",
                       a->id, name, new_uidv, resets, 0) == 0 &&
            ob_outbox_add(db, &ev) == 0 && ob_store_commit(db) == 0) {
            ok = 1;
            break;
        }
        ob_store_rollback(db);
        if (!ob_store_retryable(db))
            break;
    }
    if (ok && a->ctx->pub)
        ob_pub_event(a->ctx->pub, &ev);
    ob_event_clear(&ev);
    return ok ? 0 : -1;
}

int mail_store_mbox_synced(sqlite3 *db, long long account_id, const char *name,
                           uint32_t uidnext, uint64_t modseq, int clear_resets,
                           char iso[OB_TIME_ISO_LEN])
{
    ob_time_iso_now(iso);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "UPDATE mailboxes SET last_sync = ?3,"
                           " uidnext = max(coalesce(uidnext, 0), ?4),"
                           " highestmodseq = CASE WHEN ?5 > 0 THEN ?5 ELSE highestmodseq END,"
                           " resets = CASE WHEN ?6 THEN 0 ELSE resets END"
                           " WHERE account_id = ?1 AND name = ?2", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, iso, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, uidnext);
        sqlite3_bind_int64(st, 5, modseq > INT64_MAX ? 0 : (sqlite3_int64)modseq);
        sqlite3_bind_int(st, 6, clear_resets);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = 0;
    }
    if (rc < 0)
        ob_warn("mailboxes: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int mail_store_has_uid(sqlite3 *db, long long account_id, const char *mailbox,
                       uint32_t uidvalidity, uint32_t uid)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM emails WHERE account_id = ?1 AND mailbox = ?2"
                           " AND uidvalidity = ?3 AND uid = ?4", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, mailbox, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, uidvalidity);
    sqlite3_bind_int64(st, 4, uid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int mail_store_stored_uids(sqlite3 *db, long long account_id, const char *mailbox,
                           uint32_t uidvalidity, uint32_t from, uint32_t **uids, size_t *n)
{
    *uids = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT uid FROM emails WHERE account_id = ?1 AND mailbox = ?2"
                           " AND uidvalidity = ?3 AND uid >= ?4 ORDER BY uid",
                           -1, &st, NULL) != SQLITE_OK) {
        ob_warn("emails: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, mailbox, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, uidvalidity);
    sqlite3_bind_int64(st, 4, from);
    uint32_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 u = sqlite3_column_int64(st, 0);
        if (u <= 0 || u > UINT32_MAX)
            continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 256;
            uint32_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = SQLITE_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        v[cnt++] = (uint32_t)u;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        ob_warn("emails: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        free(v);
        return -1;
    }
    *uids = v;
    *n = cnt;
    return 0;
}

/* Largest prefix of s (at most max bytes) that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static const char *item_date(const struct mail_item *it)
{
    if (it->decoded && it->msg.date_iso && it->msg.date_iso[0])
        return it->msg.date_iso;
    return it->internaldate[0] ? it->internaldate : NULL;
}

json_t *mail_store_event_data(struct account *a, long long row_id, const char *mailbox,
                              const struct mail_item *it)
{
    const char *date = item_date(it);
    const char *body = it->msg.body ? it->msg.body : "";
    char ts[OB_TIME_ISO_LEN];
    ob_time_iso_now(ts);
    json_t *email = json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:o,s:s%,s:s,s:s,s:s,s:f,s:s}",
                              "id", (json_int_t)row_id, "userId", a->user,
                              "uid", (json_int_t)it->uid,
                              "subject", it->msg.subject ? it->msg.subject : "",
                              "from", it->msg.from ? it->msg.from : "",
                              "to", it->msg.to ? it->msg.to : "",
                              "date", date ? json_string(date) : json_null(),
                              "body", body, utf8_cut(body, EVENT_BODY_MAX),
                              "folder", mailbox, "email", a->email,
                              "category", it->category, "categoryConfidence", it->confidence,
                              "categorizedAt", it->categorized_at);
    if (!email)
        return NULL;
    return json_pack("{s:o,s:s,s:s}", "email", email, "userId", a->user, "timestamp", ts);
}

struct stmts {
    sqlite3_stmt *known, *rematch;
};

static void stmts_free(struct stmts *s)
{
    sqlite3_finalize(s->known);
    sqlite3_finalize(s->rematch);
    memset(s, 0, sizeof *s);
}

static int stmts_prepare(sqlite3 *db, struct stmts *s)
{
    memset(s, 0, sizeof *s);
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM emails WHERE account_id = ?1 AND message_id = ?2"
                           " LIMIT 1", -1, &s->known, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
            "UPDATE emails SET uidvalidity = ?4, uid = ?5 WHERE id = (SELECT id FROM emails"
            " WHERE account_id = ?1 AND mailbox = ?2 AND message_id = ?3 AND uidvalidity <> ?4"
            " ORDER BY id LIMIT 1)", -1, &s->rematch, NULL) != SQLITE_OK) {
        ob_warn("emails: %s", sqlite3_errmsg(db));
        stmts_free(s);
        return -1;
    }
    return 0;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* What save_tx() learns about one item. */
struct item_state {
    int insert;                     /* goes into the INSERT */
    int known_before;               /* its Message-ID was stored before this batch */
    int inserted;                   /* the INSERT added its row */
    long long row;
};

#define INS_COLS 16
#define INS_HEAD "INSERT OR IGNORE INTO emails (account_id, user_id, mailbox, uidvalidity, uid," \
                 " message_id, subject, from_addr, to_addr, date, body, category," \
                 " category_confidence, categorized_at, size, created_at) VALUES "
#define INS_ROW "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
#define INS_TAIL " RETURNING id, uid"

static const char *item_mid(const struct mail_item *it)
{
    return it->msg.message_id && it->msg.message_id[0] ? it->msg.message_id : NULL;
}

/* Inserts the items listed in idx[0..n) with ONE multi-row statement.  FTS5
 * writes its pending index data out at the start of every statement that
 * touches it (the emails_ai trigger), so a statement per message would add a
 * segment per message; one statement per batch adds one.  Marks the rows
 * RETURNING reports (the ones not ignored as already stored).  0 or -1. */
static sqlite3_stmt *insert_prepare(sqlite3 *db, size_t n)
{
    size_t hl = sizeof INS_HEAD - 1, rl = sizeof INS_ROW - 1, tl = sizeof INS_TAIL - 1;
    char *sql = malloc(hl + n * (rl + 1) + tl + 1), *p = sql;
    sqlite3_stmt *st = NULL;
    if (!sql)
        return NULL;
    memcpy(p, INS_HEAD, hl);
    p += hl;
    for (size_t k = 0; k < n; k++) {
        if (k)
            *p++ = ',';
        memcpy(p, INS_ROW, rl);
        p += rl;
    }
    memcpy(p, INS_TAIL, tl + 1);
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        st = NULL;
    free(sql);
    return st;
}

void mail_store_cache_clear(struct mail_store_cache *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->ins);
    memset(c, 0, sizeof *c);
}

/* The statement inserting n rows: c's when it has one of that size, else a
 * new one (kept in c, if any, in place of the old). */
static sqlite3_stmt *insert_stmt(sqlite3 *db, struct mail_store_cache *c, size_t n)
{
    if (c && c->ins && c->db == db && c->ins_rows == n)
        return c->ins;
    sqlite3_stmt *st = insert_prepare(db, n);
    if (st && c) {
        mail_store_cache_clear(c);
        c->db = db;
        c->ins = st;
        c->ins_rows = n;
    }
    return st;
}

static int insert_rows(sqlite3 *db, struct mail_store_cache *sc, struct account *a,
                       const char *mailbox, uint32_t uidv, struct mail_item *items,
                       struct item_state *is, const size_t *idx, size_t n, const char *now)
{
    sqlite3_stmt *st = insert_stmt(db, sc, n);
    int rc;
    if (!st)
        return -1;
    for (size_t k = 0; k < n; k++) {
        const struct mail_item *it = &items[idx[k]];
        const char *mid = item_mid(it), *date = item_date(it);
        int b = (int)(k * INS_COLS);
        sqlite3_bind_int64(st, b + 1, a->id);
        sqlite3_bind_text(st, b + 2, a->user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b + 3, mailbox, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, b + 4, uidv);
        sqlite3_bind_int64(st, b + 5, it->uid);
        if (mid)
            sqlite3_bind_text(st, b + 6, mid, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, b + 6);
        sqlite3_bind_text(st, b + 7, it->msg.subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b + 8, it->msg.from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b + 9, it->msg.to, -1, SQLITE_STATIC);
        if (date)
            sqlite3_bind_text(st, b + 10, date, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, b + 10);
        sqlite3_bind_text(st, b + 11, it->msg.body, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b + 12, it->category, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, b + 13, it->confidence);
        sqlite3_bind_text(st, b + 14, it->categorized_at, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, b + 15, it->size);
        sqlite3_bind_text(st, b + 16, now, -1, SQLITE_STATIC);
    }
    size_t c = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long row = sqlite3_column_int64(st, 0);
        sqlite3_int64 uid = sqlite3_column_int64(st, 1);
        /* Rows come back in VALUES order, so the search starts after the
         * last one found.  Of two items with one UID, the first is
         * inserted, the second ignored. */
        for (size_t t = 0; t < n; t++) {
            size_t k = (c + t) % n;
            struct item_state *s = &is[idx[k]];
            if (items[idx[k]].uid == uid && !s->inserted) {
                s->inserted = 1;
                s->row = row;
                c = k + 1;
                break;
            }
        }
    }
    if (sc && st == sc->ins) {
        /* Kept for the next batch, without pointers into this one's items. */
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The transaction body; fills evs[*nev].  0 or -1. */
static int save_tx(sqlite3 *db, struct mail_store_cache *c, struct stmts *s, struct account *a,
                   const char *mailbox, uint32_t uidv, struct mail_item *items, size_t n,
                   uint32_t uidnext, enum mail_store_mode mode, struct item_state *is,
                   size_t *idx, struct ob_event *evs, size_t *nev)
{
    char now[OB_TIME_ISO_LEN];
    ob_time_iso_now(now);
    size_t nins = 0;
    memset(is, 0, n * sizeof *is);
    for (size_t i = 0; i < n; i++) {
        struct mail_item *it = &items[i];
        if (!it->decoded)
            continue;
        const char *mid = item_mid(it);
        if (mode == MAIL_STORE_REBUILD && mid) {
            int have = mail_store_has_uid(db, a->id, mailbox, uidv, it->uid);
            if (have < 0)
                return -1;
            if (have)
                continue;
            sqlite3_bind_int64(s->rematch, 1, a->id);
            sqlite3_bind_text(s->rematch, 2, mailbox, -1, SQLITE_STATIC);
            sqlite3_bind_text(s->rematch, 3, mid, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s->rematch, 4, uidv);
            sqlite3_bind_int64(s->rematch, 5, it->uid);
            if (step_done(s->rematch) < 0)
                return -1;
            if (sqlite3_changes(db) == 1)
                continue;
        }
        /* Only an announced message needs to know whether its Message-ID is
         * already stored (a copy in another mailbox is not announced twice). */
        if (mid && it->announce && mode == MAIL_STORE_NORMAL) {
            sqlite3_bind_int64(s->known, 1, a->id);
            sqlite3_bind_text(s->known, 2, mid, -1, SQLITE_STATIC);
            int rc = sqlite3_step(s->known);
            sqlite3_reset(s->known);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return -1;
            is[i].known_before = rc == SQLITE_ROW;
        }
        is[i].insert = 1;
        idx[nins++] = i;
    }
    size_t per = (size_t)sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1) / INS_COLS;
    if (per == 0)
        per = 1;
    for (size_t k = 0; k < nins; k += per) {
        size_t m = nins - k < per ? nins - k : per;
        if (insert_rows(db, c, a, mailbox, uidv, items, is, idx + k, m, now) < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct mail_item *it = &items[i];
        if (!is[i].inserted || !it->announce || is[i].known_before || mode != MAIL_STORE_NORMAL)
            continue;
        /* Known also when an earlier message of this batch, inserted, has
         * the same Message-ID: what a lookup just before it would find. */
        const char *mid = item_mid(it);
        int known = 0;
        for (size_t j = 0; mid && j < i && !known; j++)
            known = is[j].inserted && item_mid(&items[j]) && strcmp(item_mid(&items[j]), mid) == 0;
        if (known)
            continue;
        json_t *data = mail_store_event_data(a, is[i].row, mailbox, it);
        if (!data || ob_event_init(&evs[*nev], OB_EV_NEW_EMAIL, a->user, data) < 0)
            return -1;
        (*nev)++;
        if (ob_outbox_add(db, &evs[*nev - 1]) < 0)
            return -1;
    }
    return exec_bound(db, "UPDATE mailboxes SET uidnext = max(coalesce(uidnext, 0), ?3)"
                      " WHERE account_id = ?1 AND name = ?2",
                      a->id, mailbox, uidnext, 0, 0);
}

int mail_store_save(sqlite3 *db, struct account *a, const char *mailbox, uint32_t uidvalidity,
                    struct mail_item *items, size_t n, uint32_t uidnext,
                    enum mail_store_mode mode)
{
    return mail_store_save_cached(db, NULL, a, mailbox, uidvalidity, items, n, uidnext, mode);
}

int mail_store_save_cached(sqlite3 *db, struct mail_store_cache *c, struct account *a,
                           const char *mailbox, uint32_t uidvalidity, struct mail_item *items,
                           size_t n, uint32_t uidnext, enum mail_store_mode mode)
{
    struct ob_event *evs = calloc(n ? n : 1, sizeof *evs);
    struct item_state *is = calloc(n ? n : 1, sizeof *is);
    size_t *idx = calloc(n ? n : 1, sizeof *idx);
    if (!evs || !is || !idx) {
        free(evs);
        free(is);
        free(idx);
        return -1;
    }
    size_t nev = 0;
    int ok = 0;
    for (int tries = 0; tries < STORE_TRIES && !ok; tries++) {
        struct stmts s;
        if (ob_store_begin(db) == 0 && stmts_prepare(db, &s) == 0) {
            int r = save_tx(db, c, &s, a, mailbox, uidvalidity, items, n, uidnext, mode, is,
                            idx, evs, &nev);
            if (r < 0)
                ob_warn("%s/%s: storing mail failed: %s", a->user, a->email, sqlite3_errmsg(db));
            stmts_free(&s);
            if (r == 0 && ob_store_commit(db) == 0) {
                ok = 1;
                break;
            }
        }
        ob_store_rollback(db);
        for (size_t i = 0; i < nev; i++)
            ob_event_clear(&evs[i]);
        nev = 0;
        if (!ob_store_retryable(db))
            break;
    }
    for (size_t i = 0; i < nev; i++) {
        if (a->ctx->pub)
            ob_pub_event(a->ctx->pub, &evs[i]);
        ob_event_clear(&evs[i]);
    }
    wal_ckpt_due(db);
    free(evs);
    free(is);
    free(idx);
    return ok ? (int)nev : -1;
}
