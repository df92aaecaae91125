/* ws_users: the per-user index; see ws_users.h. */
#include "ws_users.h"
#include "autosync.h"
#include "ws_imaplogs.h"

#include "ob_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ws_user *ws_users_get(struct rt *rt, const char *id, int create)
{
    struct ws_hash_node *n = ws_hash_find(rt->users, id);
    if (n)
        return (struct ws_user *)n;
    if (!create || !ob_proto_valid_id(id, 0))
        return NULL;
    struct ws_user *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    snprintf(u->id, sizeof u->id, "%s", id);
    u->hn.key = u->id;
    ws_hash_add(rt->users, &u->hn);
    rt->nusers++;
    return u;
}

void ws_users_attach(struct rt *rt, struct ws_user *u, struct ws_conn *c)
{
    c->user = u;
    c->u_prev = NULL;
    c->u_next = u->conns;
    if (u->conns)
        u->conns->u_prev = c;
    u->conns = c;
    if (++u->nconns == 1) {
        rt->nonline++;
        autosync_user_active(rt, u);
    }
}

void ws_users_detach(struct rt *rt, struct ws_conn *c)
{
    struct ws_user *u = c->user;
    if (!u)
        return;
    if (c->u_prev)
        c->u_prev->u_next = c->u_next;
    else
        u->conns = c->u_next;
    if (c->u_next)
        c->u_next->u_prev = c->u_prev;
    c->u_prev = c->u_next = NULL;
    c->user = NULL;
    if (--u->nconns == 0) {
        rt->nonline--;
        autosync_user_idle(rt, u);
    }
    ws_users_release(rt, u);
}

void ws_users_release(struct rt *rt, struct ws_user *u)
{
    if (u->nconns || u->job || autosync_user_busy(u) || ws_imaplogs_has(u))
        return;
    ws_hash_del(rt->users, &u->hn);
    rt->nusers--;
    free(u);
}

void ws_users_free_all(struct rt *rt)
{
    if (!rt->users)
        return;
    struct ws_hash_iter it = { 0 };
    struct ws_hash_node *n;
    while ((n = ws_hash_next(rt->users, &it))) {
        struct ws_user *u = (struct ws_user *)n;
        ws_imaplogs_drop(rt, u);
        ws_hash_del(rt->users, n);
        free(u);
    }
    rt->nusers = 0;
}
