/* onebox: the command-line client of onebox.  It speaks only the public REST
 * API (through nginx, like a browser) with libcurl; it never opens onebox's
 * database or internal sockets.
 *
 *   onebox [--url URL] COMMAND [ARGS]      (URL default http://127.0.0.1:8080,
 *                                          or $ONEBOX_URL)
 * Commands are in the table `commands` below; `onebox help` lists them.
 * Exit codes: 0 ok, 1 the server refused (error message on stderr),
 * 2 usage error, 3 the server could not be reached. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_help(struct cli *c, int argc, char **argv);

static const struct cli_command commands[] = {
    { "health", "show whether the API answers", cli_cmd_health },
    { "help", "list the commands", cmd_help },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int cmd_help(struct cli *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    printf("usage: onebox [--url URL] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].help);
    printf("\nexit codes: 0 ok, 1 refused by the server, 2 usage, 3 server unreachable\n");
    return CLI_OK;
}

int main(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    const char *url = getenv("ONEBOX_URL");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return cmd_help(&c, 0, NULL);
        else {
            fprintf(stderr, "onebox: unknown option %s (try onebox help)\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        cmd_help(&c, 0, NULL);
        return CLI_USAGE;
    }
    snprintf(c.url, sizeof c.url, "%s", url && *url ? url : "http://127.0.0.1:8080");
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (strcmp(commands[k].name, argv[i]) == 0) {
            cli_http_init();
            int rc = commands[k].run(&c, argc - i - 1, argv + i + 1);
            cli_http_cleanup();
            return rc;
        }
    fprintf(stderr, "onebox: unknown command '%s' (try onebox help)\n", argv[i]);
    return CLI_USAGE;
}
