/* workers: the small pool (cfg.sync_workers threads) that runs the blocking
 * part of IMAP sync — connect, login, select, fetch, decode, categorize,
 * store — one account step at a time (account_run).  Each worker has its own
 * SQLite connection and its own protocol-log buffers. */
#ifndef SYNC_WORKERS_H
#define SYNC_WORKERS_H

#include <stddef.h>

struct sync_ctx;
struct account;
struct workers;

/* Starts n threads.  NULL with a reason in err. */
struct workers *workers_new(struct sync_ctx *ctx, int n, char *err, size_t errlen);

/* Queues a for a step.  The caller has set a->holder = ACCOUNT_HELD_QUEUED
 * under a->mu (so an account is never queued twice).  Thread-safe. */
void workers_submit(struct workers *w, struct account *a);

/* Lets the workers finish the queue (at shutdown every queued account has
 * wanted=0, so each step is a quick tear-down) and joins them. */
void workers_stop(struct workers *w);
void workers_free(struct workers *w);

#endif
