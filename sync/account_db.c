/* account_db: SQL on the accounts table; see account_db.h. */
#include "account_db.h"

#include "ob_log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNT_DB_FIELD_MAX 1024

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", s ? (const char *)s : "");
}

/* One statement per combination of filters, so each case gets its own
 * plan: a catch-all "?1 IS NULL OR user_id = ?1" makes SQLite scan the
 * whole table instead of using the (user_id, email) index. */
enum { F_USER = 1, F_EMAIL = 2, F_WANTED = 4 };

static sqlite3_stmt *list_stmt(struct account_db *adb, int filters)
{
    sqlite3_stmt **slot = &adb->list[filters];
    if (*slot)
        return *slot;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT a.id, a.user_id, a.email, coalesce(m.last_sync, '')"
             " FROM accounts a LEFT JOIN mailboxes m ON m.account_id = a.id AND m.name = 'INBOX'"
             " WHERE 1%s%s%s ORDER BY a.id LIMIT ?4",
             filters & F_USER ? " AND a.user_id = ?1" : "",
             filters & F_EMAIL ? " AND a.email = ?2" : "",
             filters & F_WANTED ? " AND a.sync_wanted = 1" : "");
    if (sqlite3_prepare_v3(adb->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        ob_warn("accounts: query failed: %s", sqlite3_errmsg(adb->db));
        sqlite3_finalize(*slot);
        *slot = NULL;
    }
    return *slot;
}

struct account_db *account_db_new(sqlite3 *db)
{
    struct account_db *adb = calloc(1, sizeof *adb);
    if (adb)
        adb->db = db;
    return adb;
}

void account_db_free(struct account_db *adb)
{
    if (!adb)
        return;
    for (size_t i = 0; i < sizeof adb->list / sizeof adb->list[0]; i++)
        sqlite3_finalize(adb->list[i]);
    sqlite3_finalize(adb->set_wanted);
    free(adb);
}

long account_db_list(struct account_db *adb, const char *user, const char *email, int wanted_only,
                     size_t max, struct account_row **rows)
{
    *rows = NULL;
    int filters = (user ? F_USER : 0) | (email && email[0] ? F_EMAIL : 0) |
                  (wanted_only ? F_WANTED : 0);
    sqlite3_stmt *st = list_stmt(adb, filters);
    if (!st)
        return -1;
    if (user)
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    if (filters & F_EMAIL)
        sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
    size_t n = 0, cap = 0;
    struct account_row *v = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            struct account_row *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = SQLITE_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        struct account_row *r = &v[n];
        r->id = sqlite3_column_int64(st, 0);
        copy_text(r->user, sizeof r->user, st, 1);
        copy_text(r->email, sizeof r->email, st, 2);
        copy_text(r->last_sync, sizeof r->last_sync, st, 3);
        if (ob_proto_valid_id(r->user, 0) && r->email[0])
            n++;
    }
    if (rc != SQLITE_DONE)
        ob_warn("accounts: read failed: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(adb->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return -1;
    }
    *rows = v;
    return (long)n;
}

int account_db_set_wanted(struct account_db *adb, long long id, int wanted)
{
    int rc = -1;
    if (!adb->set_wanted &&
        sqlite3_prepare_v3(adb->db, "UPDATE accounts SET sync_wanted = ?1 WHERE id = ?2", -1,
                           SQLITE_PREPARE_PERSISTENT, &adb->set_wanted, NULL) != SQLITE_OK) {
        sqlite3_finalize(adb->set_wanted);
        adb->set_wanted = NULL;
    }
    sqlite3_stmt *st = adb->set_wanted;
    if (st) {
        sqlite3_bind_int(st, 1, wanted ? 1 : 0);
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = 0;
    }
    if (rc < 0)
        ob_warn("accounts: cannot set sync_wanted of %lld: %s", id, sqlite3_errmsg(adb->db));
    if (st)
        sqlite3_reset(st);
    return rc;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    if (!s)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (n > ACCOUNT_DB_FIELD_MAX || memchr(s, '\0', n))
        return NULL;
    return strndup((const char *)s, n);
}

int account_db_load_conf(sqlite3 *db, const unsigned char key[OB_SEAL_KEY_LEN],
                         long long id, struct account_conf *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "SELECT imap_host, imap_port, security, username, auth, secret,"
            "       oauth_token_url, oauth_client_id FROM accounts WHERE id = ?1",
            -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "database: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "database: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    int ret = -1;
    c->host = dup_col(st, 0);
    c->port = sqlite3_column_int(st, 1);
    const char *sec = (const char *)sqlite3_column_text(st, 2);
    c->username = dup_col(st, 3);
    const char *auth = (const char *)sqlite3_column_text(st, 4);
    if (!c->host || !c->host[0] || !c->username || !c->username[0] || c->port < 1 || c->port > 65535) {
        snprintf(err, errlen, "account settings incomplete (host, port or username)");
        goto out;
    }
    if (sec && strcmp(sec, "tls") == 0)
        c->security = ACCOUNT_SEC_TLS;
    else if (sec && strcmp(sec, "starttls") == 0)
        c->security = ACCOUNT_SEC_STARTTLS;
    else if (sec && strcmp(sec, "plain") == 0)
        c->security = ACCOUNT_SEC_PLAIN;
    else {
        snprintf(err, errlen, "unknown security setting");
        goto out;
    }
    if (auth && strcmp(auth, "password") == 0)
        c->auth = ACCOUNT_AUTH_PASSWORD;
    else if (auth && strcmp(auth, "xoauth2") == 0)
        c->auth = ACCOUNT_AUTH_XOAUTH2;
    else {
        snprintf(err, errlen, "unknown auth setting");
        goto out;
    }
    if (c->auth == ACCOUNT_AUTH_XOAUTH2) {
        c->token_url = dup_col(st, 6);
        c->client_id = dup_col(st, 7);
        if (!c->token_url || !c->token_url[0] || !c->client_id || !c->client_id[0]) {
            snprintf(err, errlen, "OAuth2 account without token URL or client id");
            goto out;
        }
    }
    const void *blob = sqlite3_column_blob(st, 5);
    int bloblen = sqlite3_column_bytes(st, 5);
    if (!blob || bloblen <= 0) {
        snprintf(err, errlen, "account has no stored secret");
        goto out;
    }
    char aad[128];
    if (ob_seal_aad(aad, sizeof aad, id, "secret") < 0 ||
        ob_unseal(key, aad, blob, (size_t)bloblen, &c->secret, &c->secret_len) < 0) {
        snprintf(err, errlen, "stored secret does not open (wrong key or tampered row)");
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(st);
    if (ret < 0)
        account_conf_clear(c);
    return ret;
}

void account_conf_clear(struct account_conf *c)
{
    if (!c)
        return;
    if (c->secret) {
        OPENSSL_cleanse(c->secret, c->secret_len);
        free(c->secret);
    }
    free(c->host);
    free(c->username);
    free(c->token_url);
    free(c->client_id);
    memset(c, 0, sizeof *c);
}
