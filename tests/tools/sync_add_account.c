/* sync_add_account: creates (or updates) a user and one IMAP account in a
 * onebox database the way onebox-api would, with the secret sealed under the
 * seal key file (ob_seal, AAD "account:<id>|field:secret"), for the
 * onebox-syncd integration tests.
 *
 *   sync_add_account DB SEALKEY USER EMAIL HOST PORT SECURITY USERNAME password PASS
 *   sync_add_account DB SEALKEY USER EMAIL HOST PORT SECURITY USERNAME xoauth2 \
 *                    TOKENURL CLIENTID CLIENTSECRET REFRESHTOKEN
 *
 * SECURITY is tls|starttls|plain.  Prints the account id.  An existing
 * (USER, EMAIL) account gets the new settings and secret.  Exit 0, or 1 with
 * the reason on stderr. */
#include "ob_keyfile.h"
#include "ob_seal.h"
#include "ob_store.h"
#include "ob_time.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run(sqlite3 *db, const char *sql, const char **args, int n, long long id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    if (id >= 0)
        sqlite3_bind_int64(st, n + 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 11 || (strcmp(argv[9], "password") == 0 ? argc != 11
                      : strcmp(argv[9], "xoauth2") == 0 ? argc != 14 : 1)) {
        fprintf(stderr, "usage: sync_add_account DB SEALKEY USER EMAIL HOST PORT SECURITY USERNAME "
                        "password PASS | xoauth2 TOKENURL CLIENTID CLIENTSECRET REFRESHTOKEN\n");
        return 1;
    }
    const char *dbpath = argv[1], *keyfile = argv[2], *user = argv[3], *email = argv[4];
    int oauth = strcmp(argv[9], "xoauth2") == 0;
    unsigned char key[OB_SEAL_KEY_LEN];
    char err[256];
    if (ob_keyfile_load(keyfile, key, sizeof key, err, sizeof err) < 0) {
        fprintf(stderr, "seal key: %s\n", err);
        return 1;
    }
    sqlite3 *db = NULL;
    if (ob_store_open(dbpath, &db, err, sizeof err) < 0) {
        fprintf(stderr, "database: %s\n", err);
        return 1;
    }
    char now[OB_TIME_ISO_LEN], uemail[300];
    ob_time_iso_now(now);
    snprintf(uemail, sizeof uemail, "%s@users.test.invalid", user);
    const char *uargs[] = { user, uemail, now };
    const char *aargs[] = { user, email, argv[5], argv[6], argv[7], argv[8], argv[9],
                            oauth ? argv[10] : NULL, oauth ? argv[11] : NULL, now };
    int rc = 1;
    if (ob_store_begin(db) < 0 ||
        run(db, "INSERT OR IGNORE INTO users (id, email, password_hash, role, created_at)"
                " VALUES (?1, ?2, 'x', 'user', ?3)", uargs, 3, -1) < 0 ||
        run(db, "INSERT INTO accounts (user_id, email, imap_host, imap_port, security, username,"
                " auth, oauth_token_url, oauth_client_id, created_at)"
                " VALUES (?1, ?2, ?3, CAST(?4 AS INTEGER), ?5, ?6, ?7, ?8, ?9, ?10)"
                " ON CONFLICT (user_id, email) DO UPDATE SET imap_host = ?3,"
                " imap_port = CAST(?4 AS INTEGER), security = ?5, username = ?6, auth = ?7,"
                " oauth_token_url = ?8, oauth_client_id = ?9", aargs, 10, -1) < 0) {
        fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    long long id = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id FROM accounts WHERE user_id = ?1 AND email = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    char *plain = NULL;
    if (oauth) {
        json_t *o = json_pack("{s:s,s:s}", "clientSecret", argv[12], "refreshToken", argv[13]);
        plain = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    } else {
        plain = strdup(argv[10]);
    }
    char aad[128];
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    if (id < 0 || !plain || ob_seal_aad(aad, sizeof aad, id, "secret") < 0 ||
        ob_seal(key, aad, plain, strlen(plain), &blob, &bloblen) < 0) {
        fprintf(stderr, "cannot seal the secret\n");
        free(plain);
        goto out;
    }
    OPENSSL_cleanse(plain, strlen(plain));
    free(plain);
    if (sqlite3_prepare_v2(db, "UPDATE accounts SET secret = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK) {
        free(blob);
        goto out;
    }
    sqlite3_bind_blob(st, 1, blob, (int)bloblen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    free(blob);
    if (r != SQLITE_DONE || ob_store_commit(db) < 0) {
        fprintf(stderr, "update: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    printf("%lld\n", id);
    rc = 0;
out:
    if (rc)
        ob_store_rollback(db);
    ob_store_close(db);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}
