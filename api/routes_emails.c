/* routes_emails: the caller's stored mail — a filtered, paginated list
 * (account, folder, category, since; limit/offset, newest first), one email
 * by id, and full-text search over subject, from and body on the FTS5 index
 * emails_fts (query built by fts_query.c; an FTS5 syntax error is a 400).
 *
 * Every filter value is validated and bound as an SQL parameter; nothing
 * from the request is ever spliced into SQL text. */
#include "auth.h"
#include "fts_query.h"
#include "ob_jsonw.h"
#include "ob_log.h"
#include "ob_time.h"
#include "req.h"
#include "routes.h"
#include "valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 200
#define OFFSET_MAX 2147483647L
#define FOLDER_MAX 255

#define EMAIL_COLS "e.id, e.user_id, e.uid, e.subject, e.from_addr, e.to_addr, e.date," \
                   " e.body, e.mailbox, a.email, e.category, e.category_confidence," \
                   " e.categorized_at"
#define EMAIL_FROM " FROM emails e JOIN accounts a ON a.id = e.account_id"
#define EMAIL_FILTERS " e.user_id = :user" \
    " AND (:account IS NULL OR a.email = :account)" \
    " AND (:folder IS NULL OR e.mailbox = :folder" \
    "      OR (upper(:folder) = 'INBOX' AND upper(e.mailbox) = 'INBOX'))" \
    " AND (:category IS NULL OR e.category = :category)" \
    " AND (:since IS NULL OR e.date >= :since)"

static const char *const categories[] = {
    "Interested", "Meeting Booked", "Not Interested", "Spam", "Out of Office", "Uncategorized",
};

static const char *col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

/* The Email object of contrib/openapi.yaml (seed 001 fields) from EMAIL_COLS. */
static json_t *email_json(sqlite3_stmt *st)
{
    json_t *e = json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f}",
                          "id", (json_int_t)sqlite3_column_int64(st, 0),
                          "userId", col(st, 1),
                          "uid", (json_int_t)sqlite3_column_int64(st, 2),
                          "subject", col(st, 3),
                          "from", col(st, 4),
                          "to", col(st, 5),
                          "date", col(st, 6),
                          "body", col(st, 7),
                          "folder", col(st, 8),
                          "email", col(st, 9),
                          "category", col(st, 10),
                          "categoryConfidence", sqlite3_column_double(st, 11));
    if (e)
        json_object_set_new(e, "categorizedAt", sqlite3_column_type(st, 12) == SQLITE_NULL
                            ? json_null() : json_string(col(st, 12)));
    return e;
}

/* The same object as email_json, written straight into a page's text. */
static void email_write(struct ob_jsonw *w, sqlite3_stmt *st)
{
    static const char *const keys[] = { NULL, "userId", NULL, "subject", "from", "to", "date",
                                        "body", "folder", "email", "category" };
    ob_jsonw_lit(w, "{\"id\":");
    ob_jsonw_int(w, sqlite3_column_int64(st, 0));
    for (int i = 1; i <= 10; i++) {
        ob_jsonw_lit(w, ",\"");
        ob_jsonw_lit(w, i == 2 ? "uid" : keys[i]);
        ob_jsonw_lit(w, "\":");
        if (i == 2)
            ob_jsonw_int(w, sqlite3_column_int64(st, 2));
        else
            ob_jsonw_str(w, col(st, i));
    }
    ob_jsonw_lit(w, ",\"categoryConfidence\":");
    ob_jsonw_real(w, sqlite3_column_double(st, 11));
    ob_jsonw_lit(w, ",\"categorizedAt\":");
    if (sqlite3_column_type(st, 12) == SQLITE_NULL)
        ob_jsonw_lit(w, "null");
    else
        ob_jsonw_str(w, col(st, 12));
    ob_jsonw_lit(w, "}");
}

struct filters {
    char account[VALID_EMAIL_MAX + 1], folder[FOLDER_MAX + 1], category[32], since[OB_TIME_ISO_LEN];
    int has_account, has_folder, has_category, has_since;
    long limit, offset;
};

/* Reads the shared query parameters; -1 after answering 400. */
static int read_filters(struct api_req *r, struct filters *f, int with_since)
{
    memset(f, 0, sizeof *f);
    f->limit = LIMIT_DEFAULT;
    if ((f->has_account = req_query_str(r, "account", f->account, sizeof f->account)) < 0 ||
        (f->has_folder = req_query_str(r, "folder", f->folder, sizeof f->folder)) < 0 ||
        (f->has_category = req_query_str(r, "category", f->category, sizeof f->category)) < 0 ||
        req_query_long(r, "limit", 1, LIMIT_MAX, &f->limit) < 0 ||
        req_query_long(r, "offset", 0, OFFSET_MAX, &f->offset) < 0)
        return -1;
    if (f->has_account && !valid_email(f->account)) {
        req_reply_err(r, 400, "query parameter 'account' must be an email address");
        return -1;
    }
    if (f->has_folder && !valid_text(f->folder, FOLDER_MAX)) {
        req_reply_err(r, 400, "query parameter 'folder' must be a folder name");
        return -1;
    }
    if (f->has_category) {
        int ok = 0;
        for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
            ok |= strcmp(f->category, categories[i]) == 0;
        if (!ok) {
            req_reply_err(r, 400, "query parameter 'category' must be one of Interested, "
                          "Meeting Booked, Not Interested, Spam, Out of Office, Uncategorized");
            return -1;
        }
    }
    if (with_since) {
        char raw[64];
        time_t t;
        f->has_since = req_query_str(r, "since", raw, sizeof raw);
        if (f->has_since < 0)
            return -1;
        if (f->has_since) {
            if (ob_time_iso_parse(raw, &t) < 0) {
                req_reply_err(r, 400, "query parameter 'since' must be a time such as "
                              "2026-01-01T00:00:00Z");
                return -1;
            }
            /* stored dates use the same fixed-width form, so text order is time order */
            ob_time_iso(t, 0, f->since);
        }
    }
    return 0;
}

static void bind_named(sqlite3_stmt *st, const char *name, const char *v, int present)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0 && present)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_filters(sqlite3_stmt *st, const struct api_req *r, const struct filters *f)
{
    bind_named(st, ":user", r->auth.claims.sub, 1);
    bind_named(st, ":account", f->account, f->has_account);
    bind_named(st, ":folder", f->folder, f->has_folder);
    bind_named(st, ":category", f->category, f->has_category);
    bind_named(st, ":since", f->since, f->has_since);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), f->limit + 1);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":offset"), f->offset);
}

/* Steps st into a page {emails, limit, offset, nextOffset}.  Returns 0, or
 * the failing sqlite code (st was asked for limit + 1 rows, so one extra
 * row means there is a next page). */
static int reply_page(struct api_req *r, sqlite3_stmt *st, const struct filters *f)
{
    struct ob_jsonw w;
    ob_jsonw_init(&w, 16384, SIZE_MAX);   /* at most LIMIT_MAX rows */
    ob_jsonw_lit(&w, "{\"success\":true,\"data\":{\"emails\":[");
    int rc, more = 0;
    long n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == f->limit) {
            more = 1;
            break;
        }
        if (n++)
            ob_jsonw_lit(&w, ",");
        email_write(&w, st);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(ob_jsonw_finish(&w, NULL));
        return rc;
    }
    ob_jsonw_lit(&w, "],\"limit\":");
    ob_jsonw_int(&w, f->limit);
    ob_jsonw_lit(&w, ",\"offset\":");
    ob_jsonw_int(&w, f->offset);
    ob_jsonw_lit(&w, ",\"nextOffset\":");
    if (more)
        ob_jsonw_int(&w, f->offset + f->limit);
    else
        ob_jsonw_lit(&w, "null");
    ob_jsonw_lit(&w, "}}");
    req_reply_json(r, 200, ob_jsonw_finish(&w, NULL));
    return 0;
}

void routes_emails_list(struct api_req *r)
{
    struct filters f;
    if (read_filters(r, &f, 1) < 0)
        return;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "SELECT " EMAIL_COLS EMAIL_FROM " WHERE" EMAIL_FILTERS
                                " ORDER BY e.date DESC, e.id DESC LIMIT :limit OFFSET :offset",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_filters(st, r, &f);
        rc = reply_page(r, st, &f);
    }
    if (rc != SQLITE_OK) {
        ob_warn("emails list: %s", sqlite3_errmsg(r->db));
        req_reply_err(r, 500, "could not list the emails");
    }
    sqlite3_finalize(st);
}

void routes_emails_get(struct api_req *r)
{
    long long id = 0;
    valid_row_id(r->params[0], &id);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "SELECT " EMAIL_COLS EMAIL_FROM
                                " WHERE e.id = ?1 AND (e.user_id = ?2 OR ?3)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, r->auth.claims.sub, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, auth_is_admin(r));
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW)
        req_reply_ok(r, 200, json_pack("{s:o}", "email", email_json(st)));
    else if (rc == SQLITE_DONE)
        req_reply_err(r, 404, "no email %lld", id);   /* also another user's: not revealed */
    else
        req_reply_err(r, 500, "could not read the email");
    sqlite3_finalize(st);
}

void routes_emails_search(struct api_req *r)
{
    char q[FTS_QUERY_MAX + 1], match[FTS_QUERY_MAX * 3 + 8];
    int has = req_query_str(r, "q", q, sizeof q);
    if (has < 0)
        return;
    if (!has || !q[0]) {
        req_reply_err(r, 400, "query parameter 'q' is required");
        return;
    }
    int explicit = fts_query_build(q, match, sizeof match);
    if (explicit < 0) {
        req_reply_err(r, 400, "query parameter 'q' must be 1 to %d bytes of text with at most %d words",
                      FTS_QUERY_MAX, FTS_QUERY_TERMS);
        return;
    }
    struct filters f;
    if (read_filters(r, &f, 0) < 0)
        return;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "SELECT " EMAIL_COLS " FROM emails_fts"
                                " JOIN emails e ON e.id = emails_fts.rowid"
                                " JOIN accounts a ON a.id = e.account_id"
                                " WHERE emails_fts MATCH :q AND" EMAIL_FILTERS
                                " ORDER BY emails_fts.rank, e.date DESC, e.id DESC"
                                " LIMIT :limit OFFSET :offset", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_filters(st, r, &f);
        bind_named(st, ":q", match, 1);
        rc = reply_page(r, st, &f);
    }
    if (rc != SQLITE_OK) {
        /* SQLITE_ERROR from MATCH is the query's fault (fts5 syntax error,
         * unknown column filter); anything else is ours. */
        if (rc == SQLITE_ERROR && sqlite3_errcode(r->db) == SQLITE_ERROR && explicit)
            req_reply_err(r, 400, "query parameter 'q' is not a valid search: %s",
                          sqlite3_errmsg(r->db));
        else {
            ob_warn("emails search: %s", sqlite3_errmsg(r->db));
            req_reply_err(r, 500, "could not search the emails");
        }
    }
    sqlite3_finalize(st);
}
