/* api_seed: puts rows into a onebox database the way onebox-syncd would,
 * and reads a sealed secret back, for the onebox-api integration tests
 * (which have no IMAP server: they test the REST side of stored mail).
 *
 *   api_seed email DB USER ACCOUNT FOLDER DATE CATEGORY SUBJECT FROM BODY
 *       inserts one email of USER's account ACCOUNT (an address); prints its id
 *   api_seed unseal DB SEALKEY USER ACCOUNT
 *       opens that account's sealed secret with the key file; prints it
 *
 * Exit 0, or 1 with the reason on stderr. */
#include "ob_keyfile.h"
#include "ob_seal.h"
#include "ob_store.h"
#include "ob_time.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long account_id(sqlite3 *db, const char *user, const char *email)
{
    sqlite3_stmt *st = NULL;
    long long id = -1;
    if (sqlite3_prepare_v2(db, "SELECT id FROM accounts WHERE user_id = ?1 AND email = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return id;
}

static int add_email(sqlite3 *db, char **a)
{
    long long acct = account_id(db, a[0], a[1]);
    if (acct < 0) {
        fprintf(stderr, "api_seed: no account %s for %s\n", a[1], a[0]);
        return 1;
    }
    char now[OB_TIME_ISO_LEN];
    ob_time_iso_now(now);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
        "INSERT INTO emails (account_id, user_id, mailbox, uidvalidity, uid, message_id,"
        " subject, from_addr, to_addr, date, body, category, category_confidence,"
        " categorized_at, size, created_at)"
        " VALUES (?1, ?2, ?3, 1, (SELECT coalesce(max(uid), 0) + 1 FROM emails"
        "  WHERE account_id = ?1 AND mailbox = ?3), NULL, ?4, ?5, ?6, ?7, ?8, ?9, 0.9, ?10,"
        "  length(?8), ?10)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, acct);
        sqlite3_bind_text(st, 2, a[0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a[2], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a[5], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a[6], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, a[1], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, a[3], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, a[7], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, a[4], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, now, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "api_seed: insert: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    printf("%lld\n", (long long)sqlite3_last_insert_rowid(db));
    return 0;
}

static int unseal(sqlite3 *db, char **a)
{
    unsigned char key[OB_SEAL_KEY_LEN], *pt = NULL;
    char err[256], aad[96];
    size_t ptlen = 0;
    if (ob_keyfile_load(a[0], key, sizeof key, err, sizeof err) < 0) {
        fprintf(stderr, "api_seed: %s\n", err);
        return 1;
    }
    long long acct = account_id(db, a[1], a[2]);
    sqlite3_stmt *st = NULL;
    int rc = 1;
    if (acct >= 0 &&
        sqlite3_prepare_v2(db, "SELECT secret FROM accounts WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, acct);
        if (sqlite3_step(st) == SQLITE_ROW && ob_seal_aad(aad, sizeof aad, acct, "secret") == 0 &&
            ob_unseal(key, aad, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                      &pt, &ptlen) == 0) {
            printf("%s\n", (char *)pt);
            OPENSSL_cleanse(pt, ptlen);
            free(pt);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    OPENSSL_cleanse(key, sizeof key);
    if (rc)
        fprintf(stderr, "api_seed: no sealed secret that opens for %s/%s\n", a[1], a[2]);
    return rc;
}

int main(int argc, char **argv)
{
    int is_email = argc == 11 && strcmp(argv[1], "email") == 0;
    int is_unseal = argc == 6 && strcmp(argv[1], "unseal") == 0;
    if (!is_email && !is_unseal) {
        fprintf(stderr, "usage: api_seed email DB USER ACCOUNT FOLDER DATE CATEGORY SUBJECT FROM BODY\n"
                        "       api_seed unseal DB SEALKEY USER ACCOUNT\n");
        return 2;
    }
    sqlite3 *db;
    char err[256];
    if (ob_store_open(argv[2], &db, err, sizeof err) < 0) {
        fprintf(stderr, "api_seed: %s\n", err);
        return 1;
    }
    int rc = is_email ? add_email(db, argv + 3) : unseal(db, argv + 3);
    ob_store_close(db);
    return rc;
}
