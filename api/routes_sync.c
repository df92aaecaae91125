/* routes_sync: sync control (seed 001) — start/stop/status/clients, each
 * forwarded to onebox-syncd as one sync.sock request (syncctl.c: a short
 * timeout, 503 when syncd is away).
 *
 * A start or stop through the API publishes sync_status for each account it
 * touched (durable: outbox row, then events.sock, never blocking), so
 * browsers see the change even before syncd reports its next state. */
#include "auth.h"
#include "jsonv.h"
#include "ob_json.h"
#include "ob_jsonw.h"
#include "ob_log.h"
#include "ob_outbox.h"
#include "ob_store.h"
#include "ob_time.h"
#include "req.h"
#include "routes.h"
#include "syncctl.h"
#include "valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EVENTS 256   /* statuses published per call; more are in syncd's own events */

/* 1 if user has the account, 0 if not, -1 after answering 500. */
static int account_exists(struct api_req *r, const char *user, const char *email)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "SELECT 1 FROM accounts WHERE user_id = ?1 AND email = ?2",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        req_reply_err(r, 404, "no account %s for user %s", email, user);
        return 0;
    }
    req_reply_err(r, 500, "could not read the accounts");
    return -1;
}

static int valid_state(const char *s)
{
    return s && (!strcmp(s, "idle") || !strcmp(s, "syncing") || !strcmp(s, "error") ||
                 !strcmp(s, "stopped"));
}

/* Publishes sync_status for each entry of statuses (a JSON array from
 * syncd) that belongs to user: one transaction for every outbox row, then
 * the pushes.  fallback is the state used when an entry has none. */
static void publish_statuses(struct api_req *r, const char *user, json_t *statuses,
                             const char *fallback)
{
    struct ob_event evs[MAX_EVENTS];
    int n = 0;
    size_t i;
    json_t *s;
    json_array_foreach(statuses, i, s) {
        const char *u = json_string_value(json_object_get(s, "userId"));
        const char *email = json_string_value(json_object_get(s, "email"));
        const char *state = json_string_value(json_object_get(s, "status"));
        const char *error = json_string_value(json_object_get(s, "error"));
        if (n == MAX_EVENTS || !email || (u && strcmp(u, user) != 0))
            continue;
        char now[OB_TIME_ISO_LEN];
        ob_time_iso_now(now);
        json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "userId", user,
                              "status", valid_state(state) ? state : fallback,
                              "email", email, "timestamp", now);
        if (d && error)
            json_object_set_new(d, "error", json_string(error));
        if (ob_event_init(&evs[n], OB_EV_SYNC_STATUS, user, d) == 0)
            n++;
    }
    int stored = 0;
    for (int tries = 0; n > 0 && !stored && tries < 3; tries++) {
        if (ob_store_begin(r->db) < 0)
            continue;
        int k = 0;
        while (k < n && ob_outbox_add(r->db, &evs[k]) == 0)
            k++;
        if (k == n && ob_store_commit(r->db) == 0)
            stored = 1;
        else
            ob_store_rollback(r->db);
    }
    for (int k = 0; k < n; k++) {
        if (stored)
            ob_pub_event(r->srv->pub, &evs[k]);
        ob_event_clear(&evs[k]);
    }
    if (n > 0 && !stored)
        ob_warn("sync_status for %s: could not store %d event(s)", user, n);
}

/* The reply's status array, or NULL when syncd sent none. */
static json_t *status_array(json_t *data)
{
    json_t *a = json_object_get(data, "status");
    return json_is_array(a) ? a : NULL;
}

/* The entry of statuses for email (case-insensitive, as the column). */
static json_t *find_entry(json_t *statuses, const char *email)
{
    size_t i;
    json_t *s;
    json_array_foreach(statuses, i, s) {
        const char *e = json_string_value(json_object_get(s, "email"));
        if (e && strcasecmp(e, email) == 0)
            return s;
    }
    return NULL;
}

/* Answers {status: entry-for-email | array, isArray}. */
static void reply_status(struct api_req *r, json_t *statuses, const char *user,
                         const char *email, const char *fallback)
{
    if (!email) {
        /* the envelope around syncd's array, written once: no second tree */
        char *arr = statuses ? json_dumps(statuses, JSON_COMPACT) : NULL;
        struct ob_jsonw w;
        ob_jsonw_init(&w, 256, SIZE_MAX);
        ob_jsonw_lit(&w, "{\"success\":true,\"data\":{\"status\":");
        ob_jsonw_lit(&w, arr ? arr : "[]");
        ob_jsonw_lit(&w, ",\"isArray\":true}}");
        if (statuses && !arr)
            w.failed = 1;
        free(arr);
        req_reply_json(r, 200, ob_jsonw_finish(&w, NULL));
        return;
    }
    json_t *e = statuses ? find_entry(statuses, email) : NULL;
    if (e) {
        req_reply_ok(r, 200, json_pack("{s:O,s:b}", "status", e, "isArray", 0));
    } else if (fallback) {
        req_reply_ok(r, 200, json_pack("{s:{s:s,s:s,s:s,s:n},s:b}", "status", "userId", user,
                                       "email", email, "status", fallback, "lastSync",
                                       "isArray", 0));
    } else {
        req_reply_err(r, 404, "no account %s for user %s", email, user);
    }
}

/* Answers {status: [..], isArray: true} around the array of syncd's reply
 * line {"ok":true,"data":{"status":[..]}} as it came, once the array is
 * checked to be well-formed JSON: the answer asked for on every page load
 * needs no parse tree and no dump.  -1 (nothing answered) when the line
 * has another shape; the caller then takes the general path. */
static int reply_status_raw(struct api_req *r, const char *raw, size_t len)
{
    static const char head[] = "{\"ok\":true,\"data\":{\"status\":";
    size_t hn = sizeof head - 1;
    if (len < hn + 4 || memcmp(raw, head, hn) != 0 || memcmp(raw + len - 2, "}}", 2) != 0 ||
        raw[hn] != '[' || !jsonv_valid(raw + hn, len - hn - 2))
        return -1;
    struct ob_jsonw w;
    ob_jsonw_init(&w, len + 64, SIZE_MAX);
    ob_jsonw_lit(&w, "{\"success\":true,\"data\":{\"status\":");
    ob_jsonw_raw(&w, raw + hn, len - hn - 2);
    ob_jsonw_lit(&w, ",\"isArray\":true}}");
    req_reply_json(r, 200, ob_jsonw_finish(&w, NULL));
    return 0;
}

void routes_sync_start(struct api_req *r)
{
    const char *user = r->params[0], *email = r->params[1];
    if (req_may_act_for(r, user) < 0 || account_exists(r, user, email) <= 0)
        return;
    json_t *data;
    if (syncctl_call(r, OB_CTL_START, user, email, &data) < 0)
        return;
    json_t *st = status_array(data);
    json_t *one = st ? find_entry(st, email) : NULL;
    json_t *pubs = json_array();
    if (one)
        json_array_append(pubs, one);
    else
        json_array_append_new(pubs, json_pack("{s:s,s:s}", "userId", user, "email", email));
    publish_statuses(r, user, pubs, "syncing");
    json_decref(pubs);
    reply_status(r, st, user, email, "syncing");
    json_decref(data);
}

void routes_sync_stop(struct api_req *r)
{
    const char *user = r->params[0], *email = NULL;
    char err[256];
    if (req_may_act_for(r, user) < 0)
        return;
    json_t *body = req_body_json(r, 1);
    if (!body)
        return;
    if (ob_json_get_str(body, "email", 0, VALID_EMAIL_MAX, &email, err, sizeof err) < 0) {
        req_reply_err(r, 400, "%s", err);
        goto out;
    }
    if (email && !valid_email(email)) {
        req_reply_err(r, 400, "field 'email' must be an email address");
        goto out;
    }
    if (email && account_exists(r, user, email) <= 0)
        goto out;
    json_t *data;
    if (syncctl_call(r, OB_CTL_STOP, user, email, &data) < 0)
        goto out;
    json_t *st = status_array(data);
    if (st) {
        json_t *pubs = json_array();
        size_t i;
        json_t *s;
        json_array_foreach(st, i, s) {
            const char *e = json_string_value(json_object_get(s, "email"));
            if (e && (!email || strcasecmp(e, email) == 0))
                json_array_append_new(pubs, json_pack("{s:s,s:s}", "userId", user, "email", e));
        }
        publish_statuses(r, user, pubs, "stopped");
        json_decref(pubs);
    } else if (email) {
        json_t *pubs = json_pack("[{s:s,s:s}]", "userId", user, "email", email);
        publish_statuses(r, user, pubs, "stopped");
        json_decref(pubs);
    }
    reply_status(r, st, user, email, email ? "stopped" : NULL);
    json_decref(data);
out:
    json_decref(body);
}

void routes_sync_status(struct api_req *r)
{
    const char *user = r->params[0];
    char email[VALID_EMAIL_MAX + 1];
    if (req_may_act_for(r, user) < 0)
        return;
    int has = req_query_str(r, "email", email, sizeof email);
    if (has < 0)
        return;
    if (has && !valid_email(email)) {
        req_reply_err(r, 400, "query parameter 'email' must be an email address");
        return;
    }
    json_t *data = NULL;
    if (has) {
        if (syncctl_call(r, OB_CTL_STATUS, user, email, &data) < 0)
            return;
    } else {
        char *raw = NULL;
        size_t rawlen = 0;
        if (syncctl_call_raw(r, OB_CTL_STATUS, user, NULL, &raw, &rawlen, &data) < 0)
            return;
        int done = raw && reply_status_raw(r, raw, rawlen) == 0;
        int bad = raw && !done && syncctl_parse_raw(r, OB_CTL_STATUS, raw, rawlen, &data) < 0;
        free(raw);
        if (done || bad)
            return;
    }
    reply_status(r, status_array(data), user, has ? email : NULL, NULL);
    json_decref(data);
}

void routes_sync_clients(struct api_req *r)
{
    json_t *data;
    if (syncctl_call(r, OB_CTL_CLIENTS, NULL, NULL, &data) < 0)
        return;
    req_reply_ok(r, 200, data);
}
