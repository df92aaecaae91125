/* routes_user: users — register (seed 001: phoneNumber and/or email plus a
 * password under the policy of valid.c; 409 for a taken phone or email),
 * login (→ {token, expiresIn, user}; failures throttled per account and per
 * client address, 429 with Retry-After) and me.
 *
 * Passwords are hashed with scrypt through hashgate (bounded concurrency)
 * and never logged.  An unknown login still costs one scrypt verification
 * against a dummy hash, so timing does not reveal who is registered; both
 * cases answer the same 401.  The user registering with cfg.admin_email gets
 * role admin — the documented way to make the first admin. */
#include "auth.h"
#include "hashgate.h"
#include "ob_json.h"
#include "ob_log.h"
#include "ob_rand.h"
#include "ob_time.h"
#include "req.h"
#include "routes.h"
#include "throttle.h"
#include "valid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOGIN_PASSWORD_MAX 1024

/* The user object of the API: {id, phoneNumber?, email?, role, createdAt}
 * from columns id, phone, email, role, created_at starting at col. */
static json_t *user_json(sqlite3_stmt *st, int col)
{
    json_t *u = json_object();
    const char *id = (const char *)sqlite3_column_text(st, col);
    const char *phone = (const char *)sqlite3_column_text(st, col + 1);
    const char *email = (const char *)sqlite3_column_text(st, col + 2);
    const char *role = (const char *)sqlite3_column_text(st, col + 3);
    const char *created = (const char *)sqlite3_column_text(st, col + 4);
    json_object_set_new(u, "id", json_string(id ? id : ""));
    if (phone)
        json_object_set_new(u, "phoneNumber", json_string(phone));
    if (email)
        json_object_set_new(u, "email", json_string(email));
    json_object_set_new(u, "role", json_string(role ? role : "user"));
    json_object_set_new(u, "createdAt", json_string(created ? created : ""));
    return u;
}

/* Phone numbers are stored in one form, "+" then digits, so "+1234567"
 * and "1234567" are the same login. */
static void phone_canon(const char *in, char out[VALID_PHONE_MAX + 1])
{
    snprintf(out, VALID_PHONE_MAX + 1, "+%s", in[0] == '+' ? in + 1 : in);
}

/* Reads phoneNumber/email; at least one (register) or exactly one (login). */
static int read_identity(struct api_req *r, json_t *body, int exactly_one,
                         const char **email, char phone[VALID_PHONE_MAX + 1])
{
    char err[256];
    const char *p = NULL;
    *email = NULL;
    phone[0] = '\0';
    if (ob_json_get_str(body, "phoneNumber", 0, 32, &p, err, sizeof err) < 0 ||
        ob_json_get_str(body, "email", 0, VALID_EMAIL_MAX, email, err, sizeof err) < 0) {
        req_reply_err(r, 400, "%s", err);
        return -1;
    }
    if (!p && !*email) {
        req_reply_err(r, 400, "field 'phoneNumber' or 'email' is required");
        return -1;
    }
    if (exactly_one && p && *email) {
        req_reply_err(r, 400, "give either field 'phoneNumber' or field 'email', not both");
        return -1;
    }
    if (p && !valid_phone(p)) {
        req_reply_err(r, 400, "field 'phoneNumber' must be an E.164 number such as +1234567890");
        return -1;
    }
    if (*email && !valid_email(*email)) {
        req_reply_err(r, 400, "field 'email' must be an email address");
        return -1;
    }
    if (p)
        phone_canon(p, phone);
    return 0;
}

void routes_user_register(struct api_req *r)
{
    json_t *body = req_body_json(r, 0);
    if (!body)
        return;
    const char *email, *pw = NULL;
    char phone[VALID_PHONE_MAX + 1], err[256];
    if (read_identity(r, body, 0, &email, phone) < 0)
        goto out;
    if (ob_json_get_str(body, "password", 1, LOGIN_PASSWORD_MAX, &pw, err, sizeof err) < 0) {
        req_reply_err(r, 400, "%s", err);
        goto out;
    }
    if (!valid_password(pw, email ? email : phone, err, sizeof err)) {
        req_reply_err(r, 400, "%s", err);
        goto out;
    }
    char id[32], now[OB_TIME_ISO_LEN];
    const char *admin = r->srv->cfg->admin_email;
    const char *role = email && admin && *admin && strcasecmp(email, admin) == 0 ? "admin" : "user";
    char *hash = hashgate_hash(r->srv->gate, pw);
    if (!hash || ob_rand_id("u_", id, sizeof id) < 0) {
        free(hash);
        req_reply_err(r, 500, "could not create the user");
        goto out;
    }
    ob_time_iso_now(now);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db,
                                "INSERT INTO users (id, phone, email, password_hash, role, created_at)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                                " RETURNING id, phone, email, role, created_at",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (phone[0])
            sqlite3_bind_text(st, 2, phone, -1, SQLITE_STATIC);
        if (email)
            sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, role, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        json_t *u = user_json(st, 0);
        ob_info("registered user %s (role %s)", id, role);
        req_reply_ok(r, 201, json_pack("{s:o}", "user", u));
    } else if (sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_UNIQUE) {
        req_reply_err(r, 409, "a user with this %s is already registered",
                      email && phone[0] ? "phone number or email" : email ? "email" : "phone number");
    } else {
        ob_warn("register: %s", sqlite3_errmsg(r->db));
        req_reply_err(r, 500, "could not create the user");
    }
    sqlite3_finalize(st);
    free(hash);
out:
    json_decref(body);
}

void routes_user_login(struct api_req *r)
{
    json_t *body = req_body_json(r, 0);
    if (!body)
        return;
    const char *email, *pw = NULL;
    char phone[VALID_PHONE_MAX + 1], err[256];
    if (read_identity(r, body, 1, &email, phone) < 0)
        goto out;
    if (ob_json_get_str(body, "password", 1, LOGIN_PASSWORD_MAX, &pw, err, sizeof err) < 0) {
        req_reply_err(r, 400, "%s", err);
        goto out;
    }

    /* Throttle keys: the account (case-folded, as the column compares) and
     * the client address as the web server saw it. */
    char akey[VALID_EMAIL_MAX + 8], ikey[96];
    size_t k = (size_t)snprintf(akey, sizeof akey, "acct:%s", email ? email : phone);
    for (size_t i = 5; i < k && i < sizeof akey; i++)
        akey[i] = (char)tolower((unsigned char)akey[i]);
    snprintf(ikey, sizeof ikey, "addr:%s", r->remote_addr);
    time_t now = time(NULL);
    long wa = throttle_wait(r->srv->throttle, akey, now);
    long wi = throttle_wait(r->srv->throttle, ikey, now);
    if (wa > 0 || wi > 0) {
        req_reply_err(r, 429, "too many failed logins; try again later");
        r->retry_after = wa > wi ? wa : wi;
        goto out;
    }

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, email
                                ? "SELECT password_hash, id, phone, email, role, created_at FROM users WHERE email = ?1"
                                : "SELECT password_hash, id, phone, email, role, created_at FROM users WHERE phone = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, email ? email : phone, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ob_warn("login: %s", sqlite3_errmsg(r->db));
        req_reply_err(r, 500, "could not check the credentials");
        sqlite3_finalize(st);
        goto out;
    }
    const char *stored = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = hashgate_verify(r->srv->gate, pw, stored ? stored : r->srv->dummy_hash) == 1 &&
             stored != NULL;
    if (!ok) {
        throttle_fail(r->srv->throttle, akey, now);
        throttle_fail(r->srv->throttle, ikey, now);
        ob_info("login failed from %s", r->remote_addr[0] ? r->remote_addr : "?");
        req_reply_err(r, 401, "wrong phone number, email or password");
        sqlite3_finalize(st);
        goto out;
    }
    throttle_reset(r->srv->throttle, akey);
    json_t *u = user_json(st, 1);
    char *token = auth_issue(r->srv, json_string_value(json_object_get(u, "id")),
                             json_string_value(json_object_get(u, "role")));
    sqlite3_finalize(st);
    if (!token) {
        json_decref(u);
        req_reply_err(r, 500, "could not issue a token");
        goto out;
    }
    req_reply_ok(r, 200, json_pack("{s:s,s:I,s:o}", "token", token, "expiresIn",
                                   (json_int_t)r->srv->cfg->jwt_ttl, "user", u));
    free(token);
out:
    json_decref(body);
}

void routes_user_me(struct api_req *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "SELECT id, phone, email, role, created_at FROM users WHERE id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->auth.claims.sub, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW)
        req_reply_ok(r, 200, json_pack("{s:o}", "user", user_json(st, 0)));
    else if (rc == SQLITE_DONE) {
        req_reply_err(r, 401, "the user of this token no longer exists");
        r->www_authenticate = 2;
    }
    else
        req_reply_err(r, 500, "could not read the user");
    sqlite3_finalize(st);
}
