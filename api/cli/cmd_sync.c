/* cmd_sync: `onebox sync start|stop|status|clients` — sync control through
 * the REST API.  `start --wait` follows the initial sync live over the
 * WebSocket (sync_progress: messages fetched of total) until the account is
 * idle or in error. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "onebox sync start [ADDRESS] [--wait]   start syncing one account (default: all)\n"
    "       onebox sync stop [ADDRESS]            stop one account (default: all)\n"
    "       onebox sync status [ADDRESS]          show the sync state\n"
    "       onebox sync clients                   active users and accounts (admin)\n"
    "  --wait shows the initial sync's progress and returns when it is done.";

static const char *const st_cols[] = { "email", "status", "lastSync", "error" };
static const char *const st_heads[] = { "EMAIL", "STATUS", "LAST SYNC", "ERROR" };
static const int st_widths[] = { 30, 8, 24, 40 };

static void print_status(const struct cli *c, json_t *data)
{
    if (c->json) {
        cli_print_json(data);
        return;
    }
    json_t *st = json_object_get(data, "status");
    if (json_is_array(st)) {
        cli_print_table(st, st_cols, st_heads, st_widths, 4);
    } else if (json_is_object(st)) {
        json_t *rows = json_pack("[O]", st);
        cli_print_table(rows, st_cols, st_heads, st_widths, 4);
        json_decref(rows);
    }
}

/* The account addresses to act on: argv[0], or every account of the user. */
static json_t *targets(struct cli *c, int argc, char **argv, int *rc)
{
    if (argc > 0 && argv[0][0] != '-')
        return json_pack("[s]", argv[0]);
    json_t *data = NULL, *out = json_array();
    *rc = cli_call(c, "GET", "/api/accounts", NULL, 1, &data);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(data, "accounts"), i, a) {
        json_t *e = json_object_get(a, "email");
        if (json_is_string(e))
            json_array_append(out, e);
    }
    json_decref(data);
    if (*rc == CLI_OK && json_array_size(out) == 0) {
        fprintf(stderr, "onebox: no accounts yet (run: onebox accounts add)\n");
        *rc = CLI_REFUSED;
    }
    return out;
}

/* POST /api/sync/start for each address in list; returns the statuses the
 * server answered (new reference) and sets *rc. */
static json_t *start_all(struct cli *c, json_t *list, int *rc)
{
    size_t i;
    json_t *e, *all = json_array();
    *rc = CLI_OK;
    json_array_foreach(list, i, e) {
        char esc[1024], uesc[200], path[1400];
        snprintf(path, sizeof path, "/api/sync/start/%s/%s", cli_escape(c->user_id, uesc, sizeof uesc),
                 cli_escape(json_string_value(e), esc, sizeof esc));
        json_t *data = NULL;
        int r = cli_call(c, "POST", path, NULL, 1, &data);
        if (r != CLI_OK)
            *rc = r;
        json_t *st = json_object_get(data, "status");
        if (json_is_array(st))
            json_array_extend(all, st);
        else if (json_is_object(st))
            json_array_append(all, st);
        json_decref(data);
    }
    return all;
}

struct progress {
    struct cli *c;
    json_t *pending;        /* addresses not yet idle or in error */
    int started, failed, rc;
};

/* Drops email from the pending list when status is final; reports it. */
static void settle(struct progress *p, const char *email, const char *status, const char *err)
{
    if (strcmp(status, "idle") != 0 && strcmp(status, "error") != 0)
        return;
    size_t i;
    json_t *e;
    json_array_foreach(p->pending, i, e) {
        if (strcmp(json_string_value(e), email) != 0)
            continue;
        fprintf(stderr, "\r%s: %s%s%s\n", email, status, err ? ": " : "", err ? err : "");
        p->failed |= strcmp(status, "error") == 0;
        json_array_remove(p->pending, i);
        return;
    }
}

/* The WebSocket is connected before sync starts, so no progress or status
 * event of a quick first sync can slip past; sync_progress shows
 * "fetched of total", and we stop once every account is idle or in error. */
static int on_progress(void *ctx, const json_t *msg)
{
    struct progress *p = ctx;
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type)
        return 0;
    if (strcmp(type, "connected") == 0 && !p->started) {
        p->started = 1;
        json_t *all = start_all(p->c, p->pending, &p->rc);
        json_t *out = json_pack("{s:O}", "status", all);
        print_status(p->c, out);
        json_decref(out);
        size_t i;
        json_t *st;
        json_array_foreach(all, i, st) {
            const char *email = json_string_value(json_object_get(st, "email"));
            const char *status = json_string_value(json_object_get(st, "status"));
            if (email && status)
                settle(p, email, status, json_string_value(json_object_get(st, "error")));
        }
        json_decref(all);
        return p->rc != CLI_OK || json_array_size(p->pending) == 0;
    }
    json_t *d = json_object_get(msg, "data");
    const char *email = json_string_value(json_object_get(d, "email"));
    if (!p->started || !email)
        return 0;
    if (strcmp(type, "sync_progress") == 0) {
        long long f = json_integer_value(json_object_get(d, "fetched"));
        long long t = json_integer_value(json_object_get(d, "total"));
        fprintf(stderr, "\r%s: %lld of %lld messages fetched", email, f, t);
        if (t > 0 && f >= t)
            fputc('\n', stderr);
    } else if (strcmp(type, "sync_status") == 0) {
        const char *status = json_string_value(json_object_get(d, "status"));
        if (status)
            settle(p, email, status, json_string_value(json_object_get(d, "error")));
    }
    return json_array_size(p->pending) == 0;
}

static int start(struct cli *c, int argc, char **argv)
{
    int rc = CLI_OK;
    json_t *list = targets(c, argc, argv, &rc);
    if (rc != CLI_OK) {
        json_decref(list);
        return rc;
    }
    if (cli_flag(argc, argv, "--wait")) {
        struct progress p = { .c = c, .pending = list, .rc = CLI_OK };
        int w = cli_ws_run(c, on_progress, &p, 3600);
        rc = w != CLI_OK ? w : p.rc != CLI_OK ? p.rc : p.failed ? CLI_REFUSED : CLI_OK;
    } else {
        json_t *out = json_pack("{s:o}", "status", start_all(c, list, &rc));
        print_status(c, out);
        json_decref(out);
    }
    json_decref(list);
    return rc;
}

static int stop(struct cli *c, int argc, char **argv)
{
    char uesc[200], path[400];
    snprintf(path, sizeof path, "/api/sync/stop/%s", cli_escape(c->user_id, uesc, sizeof uesc));
    json_t *body = argc > 0 && argv[0][0] != '-' ? json_pack("{s:s}", "email", argv[0]) : json_object();
    json_t *data = NULL;
    int rc = cli_call(c, "POST", path, body, 1, &data);
    json_decref(body);
    if (rc == CLI_OK)
        print_status(c, data);
    json_decref(data);
    return rc;
}

static int status(struct cli *c, int argc, char **argv)
{
    char uesc[200], esc[1024], path[1400];
    int n = snprintf(path, sizeof path, "/api/sync/status/%s", cli_escape(c->user_id, uesc, sizeof uesc));
    if (argc > 0 && argv[0][0] != '-')
        snprintf(path + n, sizeof path - (size_t)n, "?email=%s", cli_escape(argv[0], esc, sizeof esc));
    json_t *data = NULL;
    int rc = cli_call(c, "GET", path, NULL, 1, &data);
    if (rc == CLI_OK)
        print_status(c, data);
    json_decref(data);
    return rc;
}

static int clients(struct cli *c)
{
    json_t *data = NULL;
    int rc = cli_call(c, "GET", "/api/sync/clients", NULL, 1, &data);
    if (rc != CLI_OK)
        return rc;
    if (c->json) {
        cli_print_json(data);
    } else {
        printf("%lld users connected, %lld accounts syncing\n",
               (long long)json_integer_value(json_object_get(data, "clientCount")),
               (long long)json_integer_value(json_object_get(data, "emailAccountCount")));
        static const char *const cols[] = { "userId", "email" };
        static const char *const heads[] = { "USER", "EMAIL" };
        static const int widths[] = { 20, 40 };
        cli_print_table(json_object_get(data, "activeEmailAccounts"), cols, heads, widths, 2);
    }
    json_decref(data);
    return CLI_OK;
}

int cli_cmd_sync(struct cli *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        printf("usage: %s\n", usage);
        return argc < 1 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[0], "clients") == 0)
        return clients(c);
    if (strcmp(argv[0], "start") && strcmp(argv[0], "stop") && strcmp(argv[0], "status")) {
        fprintf(stderr, "onebox: unknown sync command '%s'\nusage: %s\n", argv[0], usage);
        return CLI_USAGE;
    }
    if (!c->token[0] || !c->user_id[0]) {
        fprintf(stderr, "onebox: not logged in (run: onebox login)\n");
        return CLI_NOLOGIN;
    }
    if (strcmp(argv[0], "start") == 0)
        return start(c, argc - 1, argv + 1);
    if (strcmp(argv[0], "stop") == 0)
        return stop(c, argc - 1, argv + 1);
    return status(c, argc - 1, argv + 1);
}
