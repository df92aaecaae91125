/* seed: puts the benchmark's fixtures straight into a onebox database, the
 * way onebox-api would store them, without going through the API's
 * password hashing (scrypt at ~80 ms a user would dominate setting up
 * 1,000 accounts):
 *
 *   seed accounts --db DB --seal-key FILE --count N [--first K]
 *                 --user-fmt 'u_acct%04d' --login-fmt 'acct%04d'
 *                 --imap-port P --password PW [--wanted]
 *       N users, each with one IMAP account on 127.0.0.1:P (plain IMAP, the
 *       password sealed with ob_seal as the API does); --wanted marks them
 *       sync_wanted so onebox-syncd syncs them from its start.
 *   seed emails --db DB --user U --count N
 *       N stored messages for U's first account (what GET /api/emails lists).
 *   seed token --jwt-key FILE --user U [--role user|admin]
 *       prints a JWT for U (ob_jwt_sign, one hour).
 *
 * Users get an unusable password hash: they never log in. */
#include "ob_jwt.h"
#include "ob_keyfile.h"
#include "ob_seal.h"
#include "ob_store.h"
#include "ob_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
    const char *db, *seal_key, *jwt_key, *user_fmt, *login_fmt, *password, *user, *role;
    int count, first, port, wanted;
} o = { .user_fmt = "u_acct%04d", .login_fmt = "acct%04d", .role = "user", .first = 1 };

static int die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "seed: %s: %s\n", what, db ? sqlite3_errmsg(db) : "failed");
    return 1;
}

/* A name format must hold exactly one %d and nothing else with a '%'. */
static int fmt_ok(const char *f)
{
    const char *p = strchr(f, '%');
    if (!p)
        return 0;
    p++;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == 'd' && !strchr(p, '%');
}

static int seed_accounts(void)
{
    unsigned char key[OB_SEAL_KEY_LEN];
    char err[256], now[OB_TIME_ISO_LEN];
    sqlite3 *db;
    if (!o.db || !o.seal_key || !o.password || o.count < 1 || o.port < 1) {
        fprintf(stderr, "seed accounts: --db, --seal-key, --password, --count, --imap-port\n");
        return 2;
    }
    if (!fmt_ok(o.user_fmt) || !fmt_ok(o.login_fmt)) {
        fprintf(stderr, "seed accounts: --user-fmt/--login-fmt need exactly one %%d\n");
        return 2;
    }
    if (ob_keyfile_load(o.seal_key, key, sizeof key, err, sizeof err) < 0 ||
        ob_store_open(o.db, &db, err, sizeof err) < 0) {
        fprintf(stderr, "seed: %s\n", err);
        return 1;
    }
    ob_time_iso_now(now);
    sqlite3_stmt *u = NULL, *a = NULL, *s = NULL;
    int rc = 1;
    if (sqlite3_prepare_v2(db, "INSERT INTO users (id, email, password_hash, role, created_at)"
                               " VALUES (?1, ?2, '!bench', 'user', ?3)", -1, &u, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO accounts (user_id, email, imap_host, imap_port, security,"
                               " username, auth, sync_wanted, created_at)"
                               " VALUES (?1, ?2, '127.0.0.1', ?3, 'plain', ?4, 'password', ?5, ?6)",
                           -1, &a, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE accounts SET secret = ?1 WHERE id = ?2", -1, &s, NULL) != SQLITE_OK) {
        rc = die("prepare", db);
        goto out;
    }
    if (ob_store_begin(db) < 0) {
        rc = die("begin", db);
        goto out;
    }
    for (int i = o.first; i < o.first + o.count; i++) {
        char uid[64], login[64], email[128], aad[128];
        snprintf(uid, sizeof uid, o.user_fmt, i);
        snprintf(login, sizeof login, o.login_fmt, i);
        snprintf(email, sizeof email, "%s@bench.invalid", login);
        sqlite3_bind_text(u, 1, uid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 2, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 3, now, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(u) != SQLITE_DONE) {
            rc = die("insert user", db);
            ob_store_rollback(db);
            goto out;
        }
        sqlite3_reset(u);
        sqlite3_bind_text(a, 1, uid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(a, 2, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(a, 3, o.port);
        sqlite3_bind_text(a, 4, login, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(a, 5, o.wanted);
        sqlite3_bind_text(a, 6, now, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(a) != SQLITE_DONE) {
            rc = die("insert account", db);
            ob_store_rollback(db);
            goto out;
        }
        sqlite3_reset(a);
        long long id = sqlite3_last_insert_rowid(db);
        unsigned char *blob = NULL;
        size_t bl = 0;
        if (ob_seal_aad(aad, sizeof aad, id, "secret") < 0 ||
            ob_seal(key, aad, o.password, strlen(o.password), &blob, &bl) < 0) {
            rc = die("seal", NULL);
            ob_store_rollback(db);
            goto out;
        }
        sqlite3_bind_blob(s, 1, blob, (int)bl, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, id);
        free(blob);
        if (sqlite3_step(s) != SQLITE_DONE) {
            rc = die("store secret", db);
            ob_store_rollback(db);
            goto out;
        }
        sqlite3_reset(s);
    }
    rc = ob_store_commit(db) < 0 ? die("commit", db) : 0;
out:
    sqlite3_finalize(u);
    sqlite3_finalize(a);
    sqlite3_finalize(s);
    ob_store_close(db);
    return rc;
}

static int seed_emails(void)
{
    char err[256], now[OB_TIME_ISO_LEN];
    sqlite3 *db;
    if (!o.db || !o.user || o.count < 1) {
        fprintf(stderr, "seed emails: --db, --user, --count\n");
        return 2;
    }
    if (ob_store_open(o.db, &db, err, sizeof err) < 0) {
        fprintf(stderr, "seed: %s\n", err);
        return 1;
    }
    static const char *const cats[] = { "Interested", "Meeting Booked", "Not Interested",
                                        "Spam", "Out of Office", "Uncategorized" };
    ob_time_iso_now(now);
    sqlite3_stmt *st = NULL;
    int rc = 1;
    if (sqlite3_prepare_v2(db,
            "INSERT INTO emails (account_id, user_id, mailbox, uidvalidity, uid, message_id,"
            " subject, from_addr, to_addr, date, body, category, category_confidence,"
            " categorized_at, size, created_at)"
            " SELECT id, user_id, 'INBOX', 1, ?2, ?3, ?4, ?5, email, ?6, ?7, ?8, 0.8, ?9, ?10, ?9"
            " FROM accounts WHERE user_id = ?1 ORDER BY id LIMIT 1", -1, &st, NULL) != SQLITE_OK ||
        ob_store_begin(db) < 0) {
        rc = die("prepare", db);
        goto out;
    }
    for (int i = 1; i <= o.count; i++) {
        char mid[64], subj[96], from[64], date[OB_TIME_ISO_LEN], body[600];
        snprintf(mid, sizeof mid, "<bench-%d@bench.invalid>", i);
        snprintf(subj, sizeof subj, "Re: proposal %d for the quarterly review", i);
        snprintf(from, sizeof from, "sender%d@example.org", i % 37);
        ob_time_iso(time(NULL) - (time_t)(o.count - i) * 600, 0, date);
        snprintf(body, sizeof body,
                 "Hello,\n\nthanks for message %d. We looked at the numbers and would like to "
                 "talk next week; Tuesday or Thursday afternoon both work for us. Please send "
                 "the updated figures and the draft agreement before then.\n\nBest regards,\n"
                 "Sender %d\n", i, i % 37);
        sqlite3_bind_text(st, 1, o.user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_text(st, 3, mid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, subj, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, from, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, date, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, body, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, cats[i % 6], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, now, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 10, (int)strlen(body) + 400);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
            rc = die("insert email (does the user have an account?)", db);
            ob_store_rollback(db);
            goto out;
        }
        sqlite3_reset(st);
    }
    rc = ob_store_commit(db) < 0 ? die("commit", db) : 0;
out:
    sqlite3_finalize(st);
    ob_store_close(db);
    return rc;
}

static int seed_token(void)
{
    unsigned char key[OB_JWT_KEY_LEN];
    char err[256];
    if (!o.jwt_key || !o.user) {
        fprintf(stderr, "seed token: --jwt-key, --user\n");
        return 2;
    }
    if (ob_keyfile_load(o.jwt_key, key, sizeof key, err, sizeof err) < 0) {
        fprintf(stderr, "seed: %s\n", err);
        return 1;
    }
    char *t = ob_jwt_sign(key, sizeof key, o.user, o.role, time(NULL), 3600);
    if (!t)
        return die("jwt", NULL);
    printf("%s\n", t);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "db", 1, 0, 'd' }, { "seal-key", 1, 0, 's' }, { "jwt-key", 1, 0, 'j' },
        { "count", 1, 0, 'n' }, { "first", 1, 0, 'f' }, { "user-fmt", 1, 0, 'U' },
        { "login-fmt", 1, 0, 'L' }, { "imap-port", 1, 0, 'p' }, { "password", 1, 0, 'P' },
        { "wanted", 0, 0, 'w' }, { "user", 1, 0, 'u' }, { "role", 1, 0, 'r' }, { 0, 0, 0, 0 }
    };
    if (argc < 2) {
        fprintf(stderr, "usage: seed accounts|emails|token [options] (see seed.c)\n");
        return 2;
    }
    const char *cmd = argv[1];
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd': o.db = optarg; break;
        case 's': o.seal_key = optarg; break;
        case 'j': o.jwt_key = optarg; break;
        case 'n': o.count = atoi(optarg); break;
        case 'f': o.first = atoi(optarg); break;
        case 'U': o.user_fmt = optarg; break;
        case 'L': o.login_fmt = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 'P': o.password = optarg; break;
        case 'w': o.wanted = 1; break;
        case 'u': o.user = optarg; break;
        case 'r': o.role = optarg; break;
        default: return 2;
        }
    }
    if (!strcmp(cmd, "accounts"))
        return seed_accounts();
    if (!strcmp(cmd, "emails"))
        return seed_emails();
    if (!strcmp(cmd, "token"))
        return seed_token();
    fprintf(stderr, "seed: unknown command '%s'\n", cmd);
    return 2;
}
