/* ws_users: the per-user index — user id -> the user's live connections,
 * plus what outlives them for a while (a pending auto-stop, the IMAP log
 * ring).  Fan-out to a user is one hash lookup and a walk of their list. */
#ifndef WS_USERS_H
#define WS_USERS_H

#include "rt.h"

/* The user's record; with create, makes it (NULL only when out of memory or
 * id is invalid).  Without create, NULL when unknown. */
struct ws_user *ws_users_get(struct rt *rt, const char *id, int create);

/* Links an authenticated connection to its user (the caller checked the
 * per-user limit) and tells autosync when it is the user's first. */
void ws_users_attach(struct rt *rt, struct ws_user *u, struct ws_conn *c);
/* Unlinks c from its user (no-op when not attached); when it was the last,
 * autosync schedules the stop.  The user may be freed. */
void ws_users_detach(struct rt *rt, struct ws_conn *c);

/* Frees u when nothing keeps it: no connections, no autosync work, no logs. */
void ws_users_release(struct rt *rt, struct ws_user *u);

/* At shutdown: frees every user record (connections are gone by then). */
void ws_users_free_all(struct rt *rt);

#endif
