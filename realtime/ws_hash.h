/* ws_hash: an intrusive hash table keyed by short strings (user ids, room
 * names, client addresses).  Nodes live inside the caller's structs; the
 * table only links them, so adding never allocates a node and the caller
 * frees its own structs. */
#ifndef WS_HASH_H
#define WS_HASH_H

#include <stddef.h>
#include <stdint.h>

struct ws_hash_node {
    struct ws_hash_node *next;
    uint32_t hash;
    const char *key;           /* points into the caller's struct */
};

struct ws_hash;

/* Returns an empty table, or NULL when out of memory. */
struct ws_hash *ws_hash_new(void);
/* Frees the table, not the nodes; NULL is fine. */
void ws_hash_free(struct ws_hash *h);

struct ws_hash_node *ws_hash_find(const struct ws_hash *h, const char *key);
/* Links n (n->key set, not already present); grows the table when it can
 * (a failed grow only makes chains longer). */
void ws_hash_add(struct ws_hash *h, struct ws_hash_node *n);
/* Unlinks n, which must be in h. */
void ws_hash_del(struct ws_hash *h, struct ws_hash_node *n);
size_t ws_hash_count(const struct ws_hash *h);

/* Iteration that tolerates deleting the node just returned:
 *   struct ws_hash_iter it = {0}; while ((n = ws_hash_next(h, &it))) ... */
struct ws_hash_iter {
    size_t bucket;
    struct ws_hash_node *next;
    int started;
};
struct ws_hash_node *ws_hash_next(const struct ws_hash *h, struct ws_hash_iter *it);

#endif
