/* cli.h: what the onebox CLI's files share: the session, the command table
 * entry, exit codes, the REST client and output helpers.
 *
 * Exit codes (documented in `onebox help`):
 *   0 ok · 1 the server refused (its message on stderr) · 2 usage error ·
 *   3 the server could not be reached · 4 not logged in */
#ifndef ONEBOX_CLI_H
#define ONEBOX_CLI_H

#include <jansson.h>
#include <stddef.h>

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2, CLI_UNREACHABLE = 3, CLI_NOLOGIN = 4 };

struct cli {
    char url[512];         /* base URL of the REST API, no trailing slash */
    char ws_url[512];      /* WebSocket URL ("" = derived from url + /ws) */
    char token[4096];      /* bearer token, "" when logged out */
    char user_id[64];      /* the logged-in user's id */
    char config_path[1024];
    int json;              /* --json: raw JSON out, for scripts */
};

struct cli_command {
    const char *name, *args, *help;
    int (*run)(struct cli *c, int argc, char **argv);
};

/* cli_store.c: the CLI's own file, $XDG_CONFIG_HOME/onebox/cli.json (else
 * ~/.config/onebox/cli.json), mode 0600: url, token, userId. */
int cli_store_load(struct cli *c);
int cli_store_save(const struct cli *c);

/* cli_http.c */
void cli_http_init(void);
void cli_http_cleanup(void);
/* One REST call: returns the HTTP status (0 when unreachable, reason in
 * err) and *resp, the parsed body (new reference or NULL). */
long cli_http(const struct cli *c, const char *method, const char *path,
              const json_t *body, json_t **resp, char *err, size_t errlen);
/* A call that expects the success envelope: on success returns CLI_OK and
 * *data (new reference to the envelope's "data"); otherwise prints the
 * server's error (or the transport error) on stderr and returns the exit
 * code.  needs_login: refuse early without a token. */
int cli_call(const struct cli *c, const char *method, const char *path,
             const json_t *body, int needs_login, json_t **data);
/* URL-escapes s into out; returns out. */
char *cli_escape(const char *s, char *out, size_t cap);

/* cli_out.c */
void cli_print_json(const json_t *v);
/* A table: cols are JSON keys of each row object, heads their titles,
 * widths the maximum widths (longer cells are cut with an ellipsis). */
void cli_print_table(const json_t *rows, const char *const *cols,
                     const char *const *heads, const int *widths, int ncols);
/* A one-line text for a string/number/bool/null JSON value. */
const char *cli_text(const json_t *v, char *buf, size_t cap);

/* Reads a secret from the terminal without echo (or a line from stdin when
 * it is not a terminal).  Returns 0 or -1. */
int cli_read_secret(const char *prompt, char *out, size_t cap);

/* Option parsing shared by the commands: finds "--name VALUE" in argv,
 * returns VALUE or NULL; cli_flag finds "--name". */
const char *cli_opt(int argc, char **argv, const char *name);
int cli_flag(int argc, char **argv, const char *name);
/* 1 if argv holds --help or -h (the command then prints its usage). */
int cli_wants_help(int argc, char **argv);

/* commands */
int cli_cmd_health(struct cli *c, int argc, char **argv);
int cli_cmd_register(struct cli *c, int argc, char **argv);
int cli_cmd_login(struct cli *c, int argc, char **argv);
int cli_cmd_logout(struct cli *c, int argc, char **argv);
int cli_cmd_whoami(struct cli *c, int argc, char **argv);
int cli_cmd_accounts(struct cli *c, int argc, char **argv);
int cli_cmd_sync(struct cli *c, int argc, char **argv);
int cli_cmd_emails(struct cli *c, int argc, char **argv);
int cli_cmd_watch(struct cli *c, int argc, char **argv);
int cli_cmd_demo(struct cli *c, int argc, char **argv);

/* cmd_watch.c: runs a WebSocket session printing events until stop_after
 * (a predicate on each event; NULL = forever) returns non-zero.  Used by
 * `watch` and by `sync start --wait` for the progress display. */
typedef int (*cli_event_fn)(void *ctx, const json_t *msg);
int cli_ws_run(struct cli *c, cli_event_fn on_event, void *ctx, int timeout_s);

#endif
