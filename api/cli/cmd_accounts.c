/* cmd_accounts: `onebox accounts add|list|remove` — the user's IMAP
 * accounts.  Passwords are read without echo (or from stdin) and never
 * printed; the server seals them at rest and never returns them. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "onebox accounts list\n"
    "       onebox accounts add ADDRESS --host HOST [--port N] [--security tls|starttls|plain]\n"
    "                           [--username NAME] [< password]\n"
    "       onebox accounts add ADDRESS --host HOST --oauth2-token-url URL --oauth2-client-id ID\n"
    "                           --oauth2-client-secret SECRET [< refresh-token]\n"
    "       onebox accounts remove ADDRESS\n"
    "  The password (or OAuth refresh token) is asked without echo, or read from stdin.\n"
    "  --port defaults to 993 for tls, 143 for starttls and plain.";

static int list(struct cli *c)
{
    json_t *data = NULL;
    int rc = cli_call(c, "GET", "/api/accounts", NULL, 1, &data);
    if (rc != CLI_OK)
        return rc;
    if (c->json) {
        cli_print_json(data);
    } else {
        static const char *const cols[] = { "email", "imapHost", "imapPort", "security", "auth", "createdAt" };
        static const char *const heads[] = { "EMAIL", "HOST", "PORT", "SECURITY", "AUTH", "ADDED" };
        static const int widths[] = { 30, 24, 5, 8, 8, 24 };
        cli_print_table(json_object_get(data, "accounts"), cols, heads, widths, 6);
    }
    json_decref(data);
    return CLI_OK;
}

static int add(struct cli *c, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-' || !cli_opt(argc, argv, "--host")) {
        fprintf(stderr, "usage: %s\n", usage);
        return CLI_USAGE;
    }
    const char *email = argv[0], *host = cli_opt(argc, argv, "--host");
    const char *sec = cli_opt(argc, argv, "--security");
    const char *port_s = cli_opt(argc, argv, "--port");
    const char *user = cli_opt(argc, argv, "--username");
    const char *tok_url = cli_opt(argc, argv, "--oauth2-token-url");
    if (!sec)
        sec = "tls";
    if (strcmp(sec, "tls") && strcmp(sec, "starttls") && strcmp(sec, "plain")) {
        fprintf(stderr, "onebox: --security must be tls, starttls or plain\n");
        return CLI_USAGE;
    }
    long port = strcmp(sec, "tls") == 0 ? 993 : 143;
    if (port_s) {
        char *end;
        port = strtol(port_s, &end, 10);
        if (*end || port < 1 || port > 65535) {
            fprintf(stderr, "onebox: --port must be a number from 1 to 65535\n");
            return CLI_USAGE;
        }
    }
    json_t *body = json_pack("{s:s,s:s,s:I,s:s,s:s}", "email", email, "imapHost", host,
                             "imapPort", (json_int_t)port, "security", sec,
                             "username", user ? user : email);
    char secret[4096];
    if (tok_url) {
        const char *cid = cli_opt(argc, argv, "--oauth2-client-id");
        const char *csec = cli_opt(argc, argv, "--oauth2-client-secret");
        if (!cid || !csec) {
            fprintf(stderr, "usage: %s\n", usage);
            json_decref(body);
            return CLI_USAGE;
        }
        if (cli_read_secret("OAuth2 refresh token: ", secret, sizeof secret) < 0) {
            fprintf(stderr, "onebox: no refresh token given\n");
            json_decref(body);
            return CLI_USAGE;
        }
        json_object_set_new(body, "oauth2", json_pack("{s:s,s:s,s:s,s:s}", "tokenUrl", tok_url,
                                                      "clientId", cid, "clientSecret", csec,
                                                      "refreshToken", secret));
    } else {
        if (cli_read_secret("IMAP password: ", secret, sizeof secret) < 0) {
            fprintf(stderr, "onebox: no password given\n");
            json_decref(body);
            return CLI_USAGE;
        }
        json_object_set_new(body, "password", json_string(secret));
    }
    memset(secret, 0, sizeof secret);
    json_t *data = NULL;
    int rc = cli_call(c, "POST", "/api/accounts", body, 1, &data);
    json_decref(body);
    if (rc == CLI_OK) {
        if (c->json)
            cli_print_json(data);
        else
            printf("added %s; start syncing it with: onebox sync start %s\n", email, email);
    }
    json_decref(data);
    return rc;
}

static int removal(struct cli *c, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: %s\n", usage);
        return CLI_USAGE;
    }
    char esc[1024], path[1200];
    snprintf(path, sizeof path, "/api/accounts/%s", cli_escape(argv[0], esc, sizeof esc));
    json_t *data = NULL;
    int rc = cli_call(c, "DELETE", path, NULL, 1, &data);
    if (rc == CLI_OK) {
        if (c->json)
            cli_print_json(data);
        else
            printf("removed %s and its stored mail\n", argv[0]);
    }
    json_decref(data);
    return rc;
}

int cli_cmd_accounts(struct cli *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        printf("usage: %s\n", usage);
        return argc < 1 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[0], "list") == 0)
        return list(c);
    if (strcmp(argv[0], "add") == 0)
        return add(c, argc - 1, argv + 1);
    if (strcmp(argv[0], "remove") == 0)
        return removal(c, argc - 1, argv + 1);
    fprintf(stderr, "onebox: unknown accounts command '%s'\nusage: %s\n", argv[0], usage);
    return CLI_USAGE;
}
