/* onebox-syncd: owns every IMAP connection of onebox.  It keeps each wanted
 * account's INBOX in IDLE, fetches new mail the moment the server says so,
 * decodes and categorizes it, stores it with its new_email event in one
 * transaction, and publishes sync_status / sync_progress / imap_log.
 *
 *   onebox-api ──┐ sync.sock: start/stop/status/clients        IMAP(S) IDLE
 *   onebox-      ├──────────────────────────► onebox-syncd ◄───────────────► IMAP servers
 *   realtime ────┘          (ctl_server.c)     │   │
 *                                              │   └── SQLite (accounts, mailboxes,
 *   onebox-realtime ◄── events.sock ───────────┘        emails, events outbox)
 *        new_email, sync_status, sync_progress, imap_log (ob_pub)
 *
 * Threads: this one (sync.sock + signals), one IDLE loop (imap_idle.c: epoll
 * over every idling connection plus timers), cfg.sync_workers workers
 * (workers.c: connect, login, fetch, decode, categorize, store), and while a
 * worker stores a run of new mail, a fetcher thread of that run which
 * FETCHes and decodes its next batches (imap_fetch.c).  A session belongs
 * to one thread at a time (account.h, enum account_holder; during a run the
 * worker lends it to its fetcher).
 *
 * Descriptors: those below FD_SETSIZE are kept for IMAP sockets, one per
 * session, since libetpan waits on them with select(2) (fd_reserve.h,
 * etpan_cancel.h); everything else the process opens lives above.
 *
 * Skeleton: config -> keys -> store -> sockets -> dispatchers -> loop ->
 * shutdown.  SIGTERM/SIGINT stop every account without waiting on dead
 * servers, free everything and exit 0. */
#include "account.h"
#include "categorize.h"
#include "ctl_server.h"
#include "fd_reserve.h"
#include "imap_idle.h"
#include "ob_config.h"
#include "ob_keyfile.h"
#include "ob_log.h"
#include "ob_pub.h"
#include "ob_store.h"
#include "registry.h"
#include "sync_ctx.h"
#include "tls_verify.h"
#include "workers.h"

#include <curl/curl.h>
#include <libetpan/libetpan.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define SYNC_PUB_FLUSH_MS 2000

/* Stops every account and joins every thread; see the ordering notes in
 * workers.h and imap_idle.h. */
static void shutdown_all(struct sync_ctx *ctx)
{
    atomic_store(&ctx->stopping, 1);
    size_t n = registry_count(ctx->reg);
    struct account **v = calloc(n ? n : 1, sizeof *v);
    if (v) {
        n = registry_list(ctx->reg, v, n);
        for (size_t i = 0; i < n; i++) {
            pthread_mutex_lock(&v[i]->mu);
            v[i]->wanted = 0;
            pthread_mutex_unlock(&v[i]->mu);
            account_interrupt(v[i]);
        }
        free(v);
    }
    /* Parked accounts go back to the workers, which tear them down. */
    imap_idle_stop(ctx->loop);
    workers_stop(ctx->workers);
}

int main(int argc, char **argv)
{
    /* config */
    struct ob_config cfg;
    char err[256];
    int arc = ob_config_from_args(&cfg, argc, argv, "onebox-syncd",
                                  "keeps IMAP accounts in IDLE and publishes new mail");
    if (arc != 0) {
        ob_config_free(&cfg);
        return arc > 0 ? 0 : 1;
    }
    int lvl = ob_log_level_parse(cfg.log_level);
    ob_log_init("onebox-syncd", lvl < 0 ? OB_LOG_INFO : (enum ob_log_level)lvl);
    /* Before anything else opens a descriptor: the ones below FD_SETSIZE
     * are kept for IMAP sockets (libetpan selects on them), the rest of the
     * process lives above. */
    if (fd_reserve_init(FD_SETSIZE, err, sizeof err) < 0)
        ob_warn("IMAP sessions take any free descriptor below %d: %s", FD_SETSIZE, err);
    else
        ob_info("%zu descriptors below %d kept for IMAP sessions", fd_reserve_available(),
                FD_SETSIZE);
    if (ob_config_make_dirs(&cfg, err, sizeof err) < 0)
        ob_fatal("%s", err);

    struct sync_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cfg = &cfg;

    /* keys */
    if (ob_keyfile_load(cfg.seal_key_file, ctx.seal_key, sizeof ctx.seal_key, err, sizeof err) < 0)
        ob_fatal("seal key: %s", err);

    /* store: a batch INSERT keeps the old content of the pages it changes
     * in a statement journal, which SQLite moves to a temp file past 64 KiB:
     * a 200-message batch always did (a file created, written and unlinked
     * per batch).  Held in memory up to 4 MiB instead; this must come before
     * SQLite initializes. */
    if (sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 4 << 20) != SQLITE_OK)
        ob_warn("SQLite was initialized early: statement journals spill at 64 KiB");
    sqlite3 *db = NULL;
    if (ob_store_open(cfg.db_path, &db, err, sizeof err) < 0)
        ob_fatal("database %s: %s", cfg.db_path, err);

    /* Global libetpan state is set before any thread starts (clibs §1.11). */
    mailstream_network_delay.tv_sec = cfg.imap_timeout;
    mailstream_network_delay.tv_usec = 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        ob_fatal("libcurl initialisation failed");
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);     /* threads inherit the mask */
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sfd < 0)
        ob_fatal("signalfd failed");

    ctx.tls = tls_verify_new(cfg.imap_ca_file, err, sizeof err);
    if (!ctx.tls)
        ob_fatal("TLS trust store: %s", err);
    ctx.rules = cat_rules_load(cfg.categories_file, err, sizeof err);
    if (ctx.rules)
        ob_info("categorizer: %zu rules from %s%s", cat_rules_count(ctx.rules),
                cfg.categories_file, cfg.llm_url[0] ? " (with the LLM backend)" : "");
    else
        ob_warn("categorizer: no rules (%s); mail is stored as Uncategorized", err);
    ctx.reg = registry_new();
    ctx.pub = ob_pub_new(cfg.events_sock, (size_t)cfg.pub_queue_max);
    if (!ctx.reg || !ctx.pub)
        ob_fatal("out of memory");

    /* sockets */
    struct ctl_server *ctl = ctl_server_new(&ctx, db, err, sizeof err);
    if (!ctl)
        ob_fatal("sync.sock: %s", err);

    /* dispatchers */
    ctx.workers = workers_new(&ctx, (int)cfg.sync_workers, err, sizeof err);
    if (!ctx.workers)
        ob_fatal("workers: %s", err);
    ctx.loop = imap_idle_new(&ctx, err, sizeof err);
    if (!ctx.loop)
        ob_fatal("IDLE loop: %s", err);
    ob_info("listening on %s (control); publishing to %s; %ld workers",
            cfg.sync_sock, cfg.events_sock, cfg.sync_workers);
    ctl_server_resume(&ctx, db);

    /* loop */
    int rc = ctl_server_run(ctl, sfd) == 0 ? 0 : 1;
    ob_info("shutting down");

    /* shutdown */
    ctl_server_free(ctl);
    shutdown_all(&ctx);
    imap_idle_free(ctx.loop);
    workers_free(ctx.workers);
    registry_free(ctx.reg);
    ob_pub_free(ctx.pub, SYNC_PUB_FLUSH_MS);
    tls_verify_free(ctx.tls);
    cat_rules_free(ctx.rules);
    ob_store_close(db);
    close(sfd);
    curl_global_cleanup();
    OPENSSL_cleanse(ctx.seal_key, sizeof ctx.seal_key);
    fd_reserve_free();
    ob_info("stopped");
    ob_config_free(&cfg);
    return rc;
}
