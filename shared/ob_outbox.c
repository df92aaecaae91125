/* ob_outbox: the events table; see ob_outbox.h. */
#include "ob_outbox.h"
#include "ob_json.h"
#include "ob_log.h"
#include "ob_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ob_outbox_add(sqlite3 *db, struct ob_event *ev)
{
    if (!ob_ev_durable(ev->type))
        return -1;
    char *payload = json_dumps(ev->data ? ev->data : json_object(), JSON_COMPACT);
    if (!payload)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "INSERT INTO events (user_id, type, topic, payload, ts)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, ev->room[0] ? ev->room : ev->user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ob_ev_name(ev->type), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ev->topic, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ev->ts, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) {
            ev->id = sqlite3_last_insert_rowid(db);
            rc = 0;
        }
    }
    if (rc < 0)
        ob_warn("outbox: insert failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    free(payload);
    return rc;
}

int ob_outbox_emit(sqlite3 *db, struct ob_pub *pub, struct ob_event *ev)
{
    if (ob_ev_durable(ev->type)) {
        int tries = 0;
        for (;;) {
            if (ob_store_begin(db) == 0 && ob_outbox_add(db, ev) == 0 &&
                ob_store_commit(db) == 0)
                break;
            ob_store_rollback(db);
            if (!ob_store_retryable(db) || ++tries >= 3)
                return -1;
        }
    }
    if (pub)
        ob_pub_event(pub, ev);
    return 0;
}

int ob_outbox_after(sqlite3 *db, const char *user, int include_admin,
                    long long after, int limit, ob_outbox_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, user_id, type, topic, payload, ts FROM events"
                           " WHERE (user_id = ?1 OR (?2 AND user_id = '*')) AND id > ?3"
                           " ORDER BY id LIMIT ?4", -1, &st, NULL) != SQLITE_OK) {
        ob_warn("outbox: query failed: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, include_admin ? 1 : 0);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int(st, 4, limit);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ob_event ev;
        memset(&ev, 0, sizeof ev);
        ev.id = sqlite3_column_int64(st, 0);
        const char *u = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        const char *topic = (const char *)sqlite3_column_text(st, 3);
        const char *payload = (const char *)sqlite3_column_text(st, 4);
        const char *ts = (const char *)sqlite3_column_text(st, 5);
        ev.type = ob_ev_from_name(type);
        char err[128];
        ev.data = payload ? ob_json_parse_object(payload, strlen(payload), OB_PROTO_MAX_LINE,
                                                 err, sizeof err) : NULL;
        if (ev.type == OB_EV_INVALID || !ev.data || !u || !topic || !ts) {
            ob_warn("outbox: skipping unreadable event %lld", ev.id);
            json_decref(ev.data);
            continue;
        }
        snprintf(ev.user, sizeof ev.user, "%s", u);
        snprintf(ev.topic, sizeof ev.topic, "%s", topic);
        snprintf(ev.ts, sizeof ev.ts, "%s", ts);
        int stop = cb(ctx, &ev);
        json_decref(ev.data);
        n++;
        if (stop)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ob_warn("outbox: read failed: %s", sqlite3_errmsg(db));
        n = -1;
    }
    sqlite3_finalize(st);
    return n;
}

long long ob_outbox_last_id(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long id = -1;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM events", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}
