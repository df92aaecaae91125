/* account_db: the SQL onebox-syncd runs on the accounts table — which
 * accounts a request names, the sync_wanted flag that makes a restarted
 * syncd resume, and the connection settings with the unsealed secret. */
#ifndef SYNC_ACCOUNT_DB_H
#define SYNC_ACCOUNT_DB_H

#include "ob_proto.h"
#include "ob_seal.h"
#include "ob_time.h"

#include <sqlite3.h>
#include <stddef.h>

struct account_row {
    long long id;
    char user[OB_PROTO_ID_MAX];
    char email[OB_PROTO_EMAIL_MAX];
    char last_sync[OB_TIME_ISO_LEN];   /* INBOX's, "" if never */
};

/* The list and sync_wanted SQL on one connection, each statement prepared
 * on first use and kept (sync.sock asks for status on every REST call).
 * Used by the thread that owns db; free it before closing db. */
struct account_db {
    sqlite3 *db;
    sqlite3_stmt *list[8];         /* by filter combination (user, email, wanted) */
    sqlite3_stmt *set_wanted;
};

/* NULL when out of memory; account_db_free(NULL) is fine. */
struct account_db *account_db_new(sqlite3 *db);
void account_db_free(struct account_db *adb);

/* Accounts matching user (NULL: all) and email (NULL or "": all of the
 * user's), only those with sync_wanted=1 when wanted_only, ordered by id, at
 * most max.  *rows is malloc'd (caller frees).  Returns the count or -1. */
long account_db_list(struct account_db *adb, const char *user, const char *email,
                     int wanted_only, size_t max, struct account_row **rows);

/* Sets accounts.sync_wanted; 0 or -1. */
int account_db_set_wanted(struct account_db *adb, long long id, int wanted);

enum account_security { ACCOUNT_SEC_TLS, ACCOUNT_SEC_STARTTLS, ACCOUNT_SEC_PLAIN };
enum account_auth { ACCOUNT_AUTH_PASSWORD, ACCOUNT_AUTH_XOAUTH2 };

/* What a connection needs.  secret is the unsealed plaintext: the password,
 * or for XOAUTH2 the JSON {"clientSecret":..,"refreshToken":..}. */
struct account_conf {
    char *host;
    int port;
    enum account_security security;
    char *username;
    enum account_auth auth;
    char *token_url, *client_id;       /* XOAUTH2 only, else NULL */
    unsigned char *secret;
    size_t secret_len;
};

/* Loads and unseals account id's settings.  Returns 0; 1 if the account no
 * longer exists; -1 with a reason in err (database error, bad row, secret
 * that does not open).  The reason never contains the secret. */
int account_db_load_conf(sqlite3 *db, const unsigned char key[OB_SEAL_KEY_LEN],
                         long long id, struct account_conf *c, char *err, size_t errlen);
/* Wipes the secret and frees every field; c may be zeroed or NULL. */
void account_conf_clear(struct account_conf *c);

#endif
