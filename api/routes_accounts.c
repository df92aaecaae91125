/* routes_accounts: the caller's IMAP accounts — create, list, delete.
 *
 * The secret (the IMAP password, or for XOAUTH2 the JSON
 * {"clientSecret","refreshToken"}) is sealed with AES-256-GCM (ob_seal)
 * under the seal key, with AAD binding it to its row and field, before it
 * is stored; it is never returned, logged or published.  Creating and
 * deleting publish account_added / account_removed, durable: the outbox row
 * is written in the same transaction as the account (DESIGN.md "outbox
 * rule") and pushed on events.sock after COMMIT, never blocking. */
#include "ob_json.h"
#include "ob_log.h"
#include "ob_outbox.h"
#include "ob_store.h"
#include "ob_time.h"
#include "req.h"
#include "routes.h"
#include "syncctl.h"
#include "valid.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERNAME_MAX 320
#define SECRET_MAX 1024
#define CLIENT_ID_MAX 1024
#define REFRESH_MAX 4096
#define TX_TRIES 3

#define ACCOUNT_COLS "email, imap_host, imap_port, security, username, auth," \
                     " oauth_token_url, oauth_client_id, created_at"

/* The Account object of contrib/openapi.yaml, from ACCOUNT_COLS. */
static json_t *account_json(sqlite3_stmt *st)
{
    const char *auth = (const char *)sqlite3_column_text(st, 5);
    json_t *a = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s}",
                          "email", (const char *)sqlite3_column_text(st, 0),
                          "imapHost", (const char *)sqlite3_column_text(st, 1),
                          "imapPort", sqlite3_column_int(st, 2),
                          "security", (const char *)sqlite3_column_text(st, 3),
                          "username", (const char *)sqlite3_column_text(st, 4),
                          "auth", auth,
                          "createdAt", (const char *)sqlite3_column_text(st, 8));
    if (a && auth && strcmp(auth, "xoauth2") == 0 && sqlite3_column_text(st, 6))
        json_object_set_new(a, "oauth2", json_pack("{s:s,s:s}",
                            "tokenUrl", (const char *)sqlite3_column_text(st, 6),
                            "clientId", sqlite3_column_text(st, 7)
                                        ? (const char *)sqlite3_column_text(st, 7) : ""));
    return a;
}

struct account_in {
    const char *email, *host, *security, *username;
    long long port;
    const char *password;                       /* auth=password */
    const char *token_url, *client_id;          /* auth=xoauth2 */
    char *oauth_secret;                         /* malloc'd JSON, wiped */
};

static int field_err(struct api_req *r, const char *err)
{
    req_reply_err(r, 400, "%s", err);
    return -1;
}

static int read_account(struct api_req *r, json_t *b, struct account_in *in)
{
    char err[256];
    memset(in, 0, sizeof *in);
    if (ob_json_get_str(b, "email", 1, VALID_EMAIL_MAX, &in->email, err, sizeof err) < 0)
        return field_err(r, err);
    if (!valid_email(in->email))
        return field_err(r, "field 'email' must be an email address");
    if (ob_json_get_str(b, "imapHost", 1, VALID_HOST_MAX, &in->host, err, sizeof err) < 0)
        return field_err(r, err);
    if (!valid_host(in->host))
        return field_err(r, "field 'imapHost' must be a host name or an IP address");
    if (ob_json_get_int(b, "imapPort", 1, 1, 65535, &in->port, err, sizeof err) < 0)
        return field_err(r, err);
    if (ob_json_get_str(b, "security", 1, 16, &in->security, err, sizeof err) < 0)
        return field_err(r, err);
    if (strcmp(in->security, "tls") && strcmp(in->security, "starttls") &&
        strcmp(in->security, "plain"))
        return field_err(r, "field 'security' must be \"tls\", \"starttls\" or \"plain\"");
    if (ob_json_get_str(b, "username", 0, USERNAME_MAX, &in->username, err, sizeof err) < 0)
        return field_err(r, err);
    if (!in->username)
        in->username = in->email;
    if (!valid_text(in->username, USERNAME_MAX))
        return field_err(r, "field 'username' must not contain control characters");
    if (ob_json_get_str(b, "password", 0, SECRET_MAX, &in->password, err, sizeof err) < 0)
        return field_err(r, err);
    if (in->password && (strchr(in->password, '\r') || strchr(in->password, '\n')))
        return field_err(r, "field 'password' must not contain line breaks");

    json_t *o = json_object_get(b, "oauth2");
    if (o && !json_is_null(o)) {
        if (!json_is_object(o))
            return field_err(r, "field 'oauth2' must be an object");
        const char *secret = NULL, *refresh = NULL;
        if (ob_json_get_str(o, "tokenUrl", 1, VALID_URL_MAX, &in->token_url, err, sizeof err) < 0 ||
            ob_json_get_str(o, "clientId", 1, CLIENT_ID_MAX, &in->client_id, err, sizeof err) < 0 ||
            ob_json_get_str(o, "clientSecret", 1, SECRET_MAX, &secret, err, sizeof err) < 0 ||
            ob_json_get_str(o, "refreshToken", 1, REFRESH_MAX, &refresh, err, sizeof err) < 0) {
            char msg[300];
            /* "field 'x' ..." -> "field 'oauth2.x' ..." */
            const char *q = strchr(err, '\'');
            snprintf(msg, sizeof msg, "field 'oauth2.%s", q ? q + 1 : err);
            return field_err(r, msg);
        }
        if (!valid_token_url(in->token_url))
            return field_err(r, "field 'oauth2.tokenUrl' must be an https:// URL");
        if (!valid_text(in->client_id, CLIENT_ID_MAX))
            return field_err(r, "field 'oauth2.clientId' must not contain control characters");
        json_t *sj = json_pack("{s:s,s:s}", "clientSecret", secret, "refreshToken", refresh);
        in->oauth_secret = sj ? json_dumps(sj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(sj);
        if (!in->oauth_secret) {
            req_reply_err(r, 500, "out of memory");
            return -1;
        }
    }
    if (!!in->password == !!in->oauth_secret)
        return field_err(r, "give exactly one of field 'password' or field 'oauth2'");
    return 0;
}

static void account_in_clear(struct account_in *in)
{
    if (in->oauth_secret) {
        OPENSSL_cleanse(in->oauth_secret, strlen(in->oauth_secret));
        free(in->oauth_secret);
    }
    in->oauth_secret = NULL;
}

/* One attempt at the create transaction.  Returns 0 (answered 201), 1 to
 * retry (busy), -1 after answering an error. */
static int create_tx(struct api_req *r, const struct account_in *in, const char *user,
                     struct ob_event *ev)
{
    sqlite3 *db = r->db;
    sqlite3_stmt *st = NULL;
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    char now[OB_TIME_ISO_LEN], aad[96];
    int rc = -1;
    ob_time_iso_now(now);
    if (ob_store_begin(db) < 0)
        return ob_store_retryable(db) ? 1 : (req_reply_err(r, 500, "database busy"), -1);
    if (sqlite3_prepare_v2(db, "INSERT INTO accounts (user_id, email, imap_host, imap_port,"
                           " security, username, auth, oauth_token_url, oauth_client_id,"
                           " created_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, in->port);
    sqlite3_bind_text(st, 5, in->security, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, in->password ? "password" : "xoauth2", -1, SQLITE_STATIC);
    if (in->token_url) {
        sqlite3_bind_text(st, 8, in->token_url, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, in->client_id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 10, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE) {
            ob_store_rollback(db);
            sqlite3_finalize(st);
            req_reply_err(r, 409, "account %s is already added", in->email);
            return -1;
        }
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    long long id = sqlite3_last_insert_rowid(db);
    const char *secret = in->password ? in->password : in->oauth_secret;
    if (ob_seal_aad(aad, sizeof aad, id, "secret") < 0 ||
        ob_seal(r->srv->seal_key, aad, secret, strlen(secret), &blob, &bloblen) < 0) {
        ob_store_rollback(db);
        req_reply_err(r, 500, "could not seal the credentials");
        return -1;
    }
    if (sqlite3_prepare_v2(db, "UPDATE accounts SET secret = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_blob(st, 1, blob, (int)bloblen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (ob_outbox_add(db, ev) < 0 || ob_store_commit(db) < 0)
        goto fail;
    rc = 0;
    if (sqlite3_prepare_v2(db, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            req_reply_ok(r, 201, json_pack("{s:o}", "account", account_json(st)));
    }
    if (!r->out)
        req_reply_err(r, 500, "the account was added but could not be read back");
    sqlite3_finalize(st);
    free(blob);
    return rc;
fail:
    sqlite3_finalize(st);
    free(blob);
    int retry = ob_store_retryable(db);
    if (!retry)
        ob_warn("add account: %s", sqlite3_errmsg(db));
    ob_store_rollback(db);
    if (retry)
        return 1;
    req_reply_err(r, 500, "could not add the account");
    return -1;
}

static int account_event(struct ob_event *ev, enum ob_ev_type type, const char *user,
                         const char *email)
{
    return ob_event_init(ev, type, user, json_pack("{s:s,s:s}", "userId", user, "email", email));
}

void routes_accounts_create(struct api_req *r)
{
    json_t *body = req_body_json(r, 0);
    if (!body)
        return;
    struct account_in in;
    struct ob_event ev;
    memset(&ev, 0, sizeof ev);
    const char *user = r->auth.claims.sub;
    if (read_account(r, body, &in) < 0)
        goto out;
    if (account_event(&ev, OB_EV_ACCOUNT_ADDED, user, in.email) < 0) {
        req_reply_err(r, 500, "could not build the event");
        goto out;
    }
    int rc = 1;
    for (int tries = 0; rc == 1 && tries < TX_TRIES; tries++)
        rc = create_tx(r, &in, user, &ev);
    if (rc == 1)
        req_reply_err(r, 503, "the database is busy; try again");
    if (rc == 0) {
        ob_info("user %s added an IMAP account (%s)", user, in.password ? "password" : "xoauth2");
        ob_pub_event(r->srv->pub, &ev);
    }
out:
    ob_event_clear(&ev);
    account_in_clear(&in);
    json_decref(body);
}

void routes_accounts_list(struct api_req *r)
{
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    int rc = sqlite3_prepare_v2(r->db, "SELECT " ACCOUNT_COLS " FROM accounts WHERE user_id = ?1"
                                " ORDER BY id", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->auth.claims.sub, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(arr, account_json(st));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        req_reply_err(r, 500, "could not list the accounts");
        return;
    }
    req_reply_ok(r, 200, json_pack("{s:o}", "accounts", arr));
}

/* One attempt at the delete transaction: 0 deleted, 1 retry, -1 answered. */
static int delete_tx(struct api_req *r, const char *user, const char *email, struct ob_event *ev)
{
    sqlite3 *db = r->db;
    sqlite3_stmt *st = NULL;
    if (ob_store_begin(db) < 0)
        return ob_store_retryable(db) ? 1 : (req_reply_err(r, 500, "database busy"), -1);
    if (sqlite3_prepare_v2(db, "DELETE FROM accounts WHERE user_id = ?1 AND email = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    if (sqlite3_changes(db) == 0) {
        ob_store_rollback(db);
        req_reply_err(r, 404, "no account %s", email);
        return -1;
    }
    if (ob_outbox_add(db, ev) < 0 || ob_store_commit(db) < 0)
        goto fail_nost;
    return 0;
fail:
    sqlite3_finalize(st);
fail_nost:;
    int retry = ob_store_retryable(db);
    if (!retry)
        ob_warn("delete account: %s", sqlite3_errmsg(db));
    ob_store_rollback(db);
    if (retry)
        return 1;
    req_reply_err(r, 500, "could not delete the account");
    return -1;
}

void routes_accounts_delete(struct api_req *r)
{
    const char *user = r->auth.claims.sub, *email = r->params[0];
    struct ob_event ev;
    if (account_event(&ev, OB_EV_ACCOUNT_REMOVED, user, email) < 0) {
        req_reply_err(r, 500, "could not build the event");
        return;
    }
    /* Stop first, so syncd is not mid-fetch into an account that is gone;
     * when syncd is away it drops the account on its next database look. */
    syncctl_try(r->srv->sync, OB_CTL_STOP, user, email);
    int rc = 1;
    for (int tries = 0; rc == 1 && tries < TX_TRIES; tries++)
        rc = delete_tx(r, user, email, &ev);
    if (rc == 1)
        req_reply_err(r, 503, "the database is busy; try again");
    if (rc == 0) {
        ob_pub_event(r->srv->pub, &ev);
        req_reply_ok(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "email", email));
    }
    ob_event_clear(&ev);
}
