/* ws_hash: intrusive string-keyed hash table (FNV-1a, chained, doubling at
 * load 1); see ws_hash.h. */
#include "ws_hash.h"

#include <stdlib.h>
#include <string.h>

struct ws_hash {
    struct ws_hash_node **b;
    size_t nb, n;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct ws_hash *ws_hash_new(void)
{
    struct ws_hash *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->nb = 64;
    h->b = calloc(h->nb, sizeof *h->b);
    if (!h->b) {
        free(h);
        return NULL;
    }
    return h;
}

void ws_hash_free(struct ws_hash *h)
{
    if (!h)
        return;
    free(h->b);
    free(h);
}

struct ws_hash_node *ws_hash_find(const struct ws_hash *h, const char *key)
{
    uint32_t hv = hash_str(key);
    for (struct ws_hash_node *n = h->b[hv & (h->nb - 1)]; n; n = n->next)
        if (n->hash == hv && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static void grow(struct ws_hash *h)
{
    size_t nb = h->nb * 2;
    struct ws_hash_node **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < h->nb; i++) {
        struct ws_hash_node *n = h->b[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(h->b);
    h->b = b;
    h->nb = nb;
}

void ws_hash_add(struct ws_hash *h, struct ws_hash_node *n)
{
    if (h->n + 1 > h->nb)
        grow(h);
    n->hash = hash_str(n->key);
    struct ws_hash_node **slot = &h->b[n->hash & (h->nb - 1)];
    n->next = *slot;
    *slot = n;
    h->n++;
}

void ws_hash_del(struct ws_hash *h, struct ws_hash_node *n)
{
    for (struct ws_hash_node **p = &h->b[n->hash & (h->nb - 1)]; *p; p = &(*p)->next) {
        if (*p == n) {
            *p = n->next;
            n->next = NULL;
            h->n--;
            return;
        }
    }
}

size_t ws_hash_count(const struct ws_hash *h)
{
    return h ? h->n : 0;
}

struct ws_hash_node *ws_hash_next(const struct ws_hash *h, struct ws_hash_iter *it)
{
    struct ws_hash_node *n;
    if (!it->started) {
        it->started = 1;
        it->bucket = 0;
        it->next = h->b[0];
    }
    while (!it->next) {
        if (++it->bucket >= h->nb)
            return NULL;
        it->next = h->b[it->bucket];
    }
    n = it->next;
    it->next = n->next;
    return n;
}
