/* registry: every account onebox-syncd has been asked about, found by
 * (user, email) or walked in order.  An account enters on its first start
 * and stays until shutdown (so other threads may keep pointers to it); a
 * stopped one costs a few hundred bytes and no socket. */
#ifndef SYNC_REGISTRY_H
#define SYNC_REGISTRY_H

#include "account.h"

#include <stddef.h>

struct registry;

struct registry *registry_new(void);
/* Frees the registry and every account in it (all threads joined). */
void registry_free(struct registry *r);

/* The account for (user, email) (email compared case-insensitively, as the
 * accounts table does), or NULL. */
struct account *registry_find(struct registry *r, const char *user, const char *email);

/* Returns the account for (user, email), adding a new stopped one with id if
 * there is none; an existing one whose database id changed (the account was
 * deleted and added again) gets the new id if it is stopped.  NULL on
 * allocation failure. */
struct account *registry_get(struct registry *r, struct sync_ctx *ctx, long long id,
                             const char *user, const char *email);

/* Copies up to cap account pointers into out, in insertion order; returns
 * how many there are in all (which may exceed cap). */
size_t registry_list(struct registry *r, struct account **out, size_t cap);

size_t registry_count(struct registry *r);

#endif
