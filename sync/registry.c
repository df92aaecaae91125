/* registry: the accounts known to this process; see registry.h.
 * A growable array behind one mutex: lookups are rare (control requests),
 * and a thousand accounts scan in microseconds. */
#include "registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

struct registry {
    pthread_mutex_t mu;
    struct account **v;
    size_t n, cap;
};

struct registry *registry_new(void)
{
    struct registry *r = calloc(1, sizeof *r);
    if (r)
        pthread_mutex_init(&r->mu, NULL);
    return r;
}

void registry_free(struct registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        account_free(r->v[i]);
    free(r->v);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static struct account *find_locked(struct registry *r, const char *user, const char *email)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i]->user, user) == 0 && strcasecmp(r->v[i]->email, email) == 0)
            return r->v[i];
    return NULL;
}

struct account *registry_find(struct registry *r, const char *user, const char *email)
{
    pthread_mutex_lock(&r->mu);
    struct account *a = find_locked(r, user, email);
    pthread_mutex_unlock(&r->mu);
    return a;
}

struct account *registry_get(struct registry *r, struct sync_ctx *ctx, long long id,
                             const char *user, const char *email)
{
    pthread_mutex_lock(&r->mu);
    struct account *a = find_locked(r, user, email);
    if (a) {
        pthread_mutex_lock(&a->mu);
        if (a->id != id && a->holder == ACCOUNT_HELD_NONE)
            a->id = id;
        pthread_mutex_unlock(&a->mu);
    } else {
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 16;
            struct account **nv = realloc(r->v, nc * sizeof *nv);
            if (!nv)
                goto out;
            r->v = nv;
            r->cap = nc;
        }
        a = account_new(ctx, id, user, email);
        if (a)
            r->v[r->n++] = a;
    }
out:
    pthread_mutex_unlock(&r->mu);
    return a;
}

size_t registry_list(struct registry *r, struct account **out, size_t cap)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = r->v[i];
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t registry_count(struct registry *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}
