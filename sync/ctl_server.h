/* ctl_server: the sync.sock control server of onebox-syncd (DESIGN.md
 * "sync.sock"): one JSON request line -> one JSON reply line, ops start,
 * stop, status and clients.  Peers are checked with SO_PEERCRED; garbage
 * gets an error reply and a log line, never a crash.  It runs in the main
 * thread and never touches the network: starting or stopping an account
 * only hands it to the worker pool or the IDLE loop. */
#ifndef SYNC_CTL_SERVER_H
#define SYNC_CTL_SERVER_H

#include <sqlite3.h>
#include <stddef.h>

struct sync_ctx;
struct ctl_server;
struct account_db;

/* Listens on ctx->cfg->sync_sock (mode 0660).  db is the main thread's
 * connection; the server keeps its statements prepared on it until
 * ctl_server_free (call that before closing db).  NULL with a reason in err. */
struct ctl_server *ctl_server_new(struct sync_ctx *ctx, sqlite3 *db, char *err, size_t errlen);
void ctl_server_free(struct ctl_server *s);

/* Serves requests until stop_fd (e.g. a signalfd) becomes readable.
 * Returns 0, or -1 if the loop itself failed. */
int ctl_server_run(struct ctl_server *s, int stop_fd);

/* Answers one request line; returns the reply line (malloc'd, ending in
 * '\n') and its length.  *garbage (may be NULL) is set when the line was
 * not a valid request: the server then drops that peer after replying.
 * Exposed for unit tests. */
char *ctl_server_handle(struct sync_ctx *ctx, struct account_db *adb, const char *line, size_t len,
                        size_t *replylen, const char *who, int *garbage);

/* Starts every account with sync_wanted=1 (syncd start-up).  Returns the
 * number started, or -1. */
long ctl_server_resume(struct sync_ctx *ctx, sqlite3 *db);

#endif
