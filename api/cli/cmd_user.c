/* cmd_user: `onebox register`, `login`, `logout`, `whoami` — the user's own
 * identity.  The login token is kept in the CLI's 0600 file (cli_store). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds {email|phoneNumber, password} from --email/--phone and a password
 * read without echo (or --password-stdin). */
static json_t *credentials(int argc, char **argv, const char *usage)
{
    const char *email = cli_opt(argc, argv, "--email");
    const char *phone = cli_opt(argc, argv, "--phone");
    if (!email && !phone && argc > 0 && argv[0][0] != '-') {
        if (strchr(argv[0], '@'))
            email = argv[0];
        else
            phone = argv[0];
    }
    if (!email && !phone) {
        fprintf(stderr, "usage: %s\n", usage);
        return NULL;
    }
    char pw[1100];
    if (cli_read_secret("Password: ", pw, sizeof pw) < 0) {
        fprintf(stderr, "onebox: no password given\n");
        return NULL;
    }
    json_t *o = json_pack("{s:s}", "password", pw);
    memset(pw, 0, sizeof pw);
    json_object_set_new(o, email ? "email" : "phoneNumber", json_string(email ? email : phone));
    return o;
}

static void print_user(const json_t *u)
{
    char b[256];
    printf("id:        %s\n", cli_text(json_object_get(u, "id"), b, sizeof b));
    if (json_object_get(u, "email"))
        printf("email:     %s\n", cli_text(json_object_get(u, "email"), b, sizeof b));
    if (json_object_get(u, "phoneNumber"))
        printf("phone:     %s\n", cli_text(json_object_get(u, "phoneNumber"), b, sizeof b));
    printf("role:      %s\n", cli_text(json_object_get(u, "role"), b, sizeof b));
    printf("created:   %s\n", cli_text(json_object_get(u, "createdAt"), b, sizeof b));
}

/* register and login alike: --help, the credentials, one POST.  Returns the
 * exit code; *data is the answer's data on CLI_OK (caller decrefs). */
static int post_credentials(struct cli *c, int argc, char **argv, const char *usage,
                            const char *path, json_t **data)
{
    *data = NULL;
    if (cli_wants_help(argc, argv)) {
        printf("usage: %s\n", usage);
        return -1;
    }
    json_t *body = credentials(argc, argv, usage);
    if (!body)
        return CLI_USAGE;
    int rc = cli_call(c, "POST", path, body, 0, data);
    json_decref(body);
    return rc;
}

int cli_cmd_register(struct cli *c, int argc, char **argv)
{
    static const char *usage = "onebox register (--email ADDRESS | --phone +NUMBER) [< password]\n"
                               "  Creates a user; the password (8+ characters) is asked without echo.";
    json_t *data;
    int rc = post_credentials(c, argc, argv, usage, "/api/user/register", &data);
    if (rc < 0)
        return CLI_OK;              /* --help */
    if (rc == CLI_OK) {
        if (c->json)
            cli_print_json(data);
        else {
            printf("registered\n");
            print_user(json_object_get(data, "user"));
        }
    }
    json_decref(data);
    return rc;
}

int cli_cmd_login(struct cli *c, int argc, char **argv)
{
    static const char *usage = "onebox login (--email ADDRESS | --phone +NUMBER) [< password]\n"
                               "  Logs in and keeps the token in ~/.config/onebox/cli.json (0600).";
    json_t *data;
    int rc = post_credentials(c, argc, argv, usage, "/api/user/login", &data);
    if (rc < 0)
        return CLI_OK;              /* --help */
    if (rc != CLI_OK)
        return rc;
    const char *tok = json_string_value(json_object_get(data, "token"));
    const char *uid = json_string_value(json_object_get(json_object_get(data, "user"), "id"));
    if (!tok || !uid || strlen(tok) >= sizeof c->token || strlen(uid) >= sizeof c->user_id) {
        fprintf(stderr, "onebox: the server's login answer has no usable token\n");
        json_decref(data);
        return CLI_REFUSED;
    }
    snprintf(c->token, sizeof c->token, "%s", tok);
    snprintf(c->user_id, sizeof c->user_id, "%s", uid);
    if (cli_store_save(c) < 0) {
        fprintf(stderr, "onebox: could not save the token to %s\n", c->config_path);
        json_decref(data);
        return CLI_REFUSED;
    }
    if (c->json) {
        json_object_del(data, "token");      /* scripts get it from the file */
        cli_print_json(data);
    } else {
        printf("logged in as %s (token valid for %lld s)\n", uid,
               (long long)json_integer_value(json_object_get(data, "expiresIn")));
    }
    json_decref(data);
    return CLI_OK;
}

int cli_cmd_logout(struct cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: onebox logout\n  Forgets the saved token.\n");
        return CLI_OK;
    }
    c->token[0] = '\0';
    c->user_id[0] = '\0';
    if (cli_store_save(c) < 0) {
        fprintf(stderr, "onebox: could not update %s\n", c->config_path);
        return CLI_REFUSED;
    }
    printf("logged out\n");
    return CLI_OK;
}

int cli_cmd_whoami(struct cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: onebox whoami\n  Shows the logged-in user (GET /api/user/me).\n");
        return CLI_OK;
    }
    json_t *data = NULL;
    int rc = cli_call(c, "GET", "/api/user/me", NULL, 1, &data);
    if (rc == CLI_OK) {
        if (c->json)
            cli_print_json(data);
        else
            print_user(json_object_get(data, "user"));
    }
    json_decref(data);
    return rc;
}
