/* ws_imaplogs: /ws/imap-logs (seed 000) — the IMAP protocol log of a user's
 * accounts, fed by imap_log events from onebox-syncd.
 *
 * Each user has an in-memory ring of their last WS_IMAPLOGS_KEEP entries
 * (kept while they are offline too, so the page shows recent history).  All
 * rings together hold at most WS_IMAPLOGS_BUDGET bytes: past it the oldest
 * entries of the least recently logging user go first.  An entry larger than
 * WS_IMAPLOGS_ENTRY_MAX is dropped with a logged reason.
 *
 * Server -> client: initial-logs [entries] on connect, log {entry},
 * logs [entries] (answer to get-logs), logs-cleared, pong, error.
 * Client -> server: ping, get-logs {limit 1..100, default 100}, clear-logs.
 * Entries are shown as published; onebox-syncd redacts credentials before
 * it publishes (LOGIN and AUTHENTICATE lines never carry secrets). */
#ifndef WS_IMAPLOGS_H
#define WS_IMAPLOGS_H

#include "rt.h"

#include "ob_event.h"

#include <jansson.h>

#define WS_IMAPLOGS_KEEP 100
#define WS_IMAPLOGS_ENTRY_MAX (64 * 1024)
#define WS_IMAPLOGS_BUDGET (32u * 1024 * 1024)

struct ws_imaplog_budget *ws_imaplogs_budget_new(void);
void ws_imaplogs_budget_free(struct ws_imaplog_budget *b);

/* Records an imap_log event in its user's ring and sends `log` to the
 * user's /ws/imap-logs connections. */
void ws_imaplogs_add(struct rt *rt, const struct ob_event *ev);

/* 1 if u holds log entries. */
int ws_imaplogs_has(const struct ws_user *u);
/* Frees u's ring (shutdown, or budget eviction). */
void ws_imaplogs_drop(struct rt *rt, struct ws_user *u);

/* Sends initial-logs to a newly authenticated /ws/imap-logs connection. */
void ws_imaplogs_send_initial(struct rt *rt, struct ws_conn *c);

/* get-logs {limit} -> logs; clear-logs -> logs-cleared.  Return 0. */
int ws_imaplogs_get(struct rt *rt, struct ws_conn *c, json_t *limit);
int ws_imaplogs_clear(struct rt *rt, struct ws_conn *c);

#endif
