/* onebox: the command-line client of onebox.  It speaks only the public
 * interfaces a browser uses — the REST API through the web server (libcurl)
 * and the WebSocket for `watch` (libwebsockets) — and never opens onebox's
 * database or internal sockets.
 *
 *   onebox [--url URL] [--json] COMMAND [ARGS]
 *
 * URL: --url, else $ONEBOX_URL, else the one saved at login, else
 * http://127.0.0.1:8080 (what `make run` serves).  The login token lives in
 * $XDG_CONFIG_HOME/onebox/cli.json (0600).  The command table is
 * `commands` below; exit codes are in cli.h. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_help(struct cli *c, int argc, char **argv);

static const struct cli_command commands[] = {
    { "register", "--email ADDRESS|--phone +N", "create a user (password asked without echo)", cli_cmd_register },
    { "login", "--email ADDRESS|--phone +N", "log in and keep the token", cli_cmd_login },
    { "logout", "", "forget the token", cli_cmd_logout },
    { "whoami", "", "show the logged-in user", cli_cmd_whoami },
    { "accounts", "add|list|remove ...", "your IMAP accounts", cli_cmd_accounts },
    { "sync", "start|stop|status|clients ...", "control sync (start --wait shows progress)", cli_cmd_sync },
    { "emails", "list|search|show ...", "stored, categorized mail", cli_cmd_emails },
    { "watch", "[--json] [--types T,...]", "live events, one line each", cli_cmd_watch },
    { "demo", "send [--subject S]", "drop a message into the `make run` demo mailbox", cli_cmd_demo },
    { "health", "", "whether the API answers", cli_cmd_health },
    { "help", "", "this list", cmd_help },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int cmd_help(struct cli *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    printf("usage: onebox [--url URL] [--json] COMMAND [ARGS]    (COMMAND --help for details)\n\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-9s %-30s %s\n", commands[i].name, commands[i].args, commands[i].help);
    printf("\noptions:\n"
           "  --url URL   the onebox web address (default $ONEBOX_URL, the saved one,\n"
           "              or http://127.0.0.1:8080)\n"
           "  --json      print the server's JSON instead of tables (for scripts)\n"
           "\nexit codes: 0 ok, 1 refused by the server (its message on stderr),\n"
           "            2 usage error, 3 server unreachable, 4 not logged in\n");
    return CLI_OK;
}

int main(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    const char *url = getenv("ONEBOX_URL"), *ws = getenv("ONEBOX_WS_URL");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            c.json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return cmd_help(&c, 0, NULL);
        else {
            fprintf(stderr, "onebox: unknown option %s (try: onebox help)\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        cmd_help(&c, 0, NULL);
        return CLI_USAGE;
    }
    if (url && *url)
        snprintf(c.url, sizeof c.url, "%s", url);
    if (ws && *ws)
        snprintf(c.ws_url, sizeof c.ws_url, "%s", ws);
    if (cli_store_load(&c) < 0)
        fprintf(stderr, "onebox: ignoring an unreadable %s\n", c.config_path);
    if (!c.url[0])
        snprintf(c.url, sizeof c.url, "http://127.0.0.1:8080");
    size_t n = strlen(c.url);
    while (n > 0 && c.url[n - 1] == '/')
        c.url[--n] = '\0';
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (strcmp(commands[k].name, argv[i]) == 0) {
            cli_http_init();
            int rc = commands[k].run(&c, argc - i - 1, argv + i + 1);
            cli_http_cleanup();
            return rc;
        }
    fprintf(stderr, "onebox: unknown command '%s' (try: onebox help)\n", argv[i]);
    return CLI_USAGE;
}
