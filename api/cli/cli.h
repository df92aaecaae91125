/* cli.h: what the onebox CLI's files share: the session, the command table
 * entry, exit codes, and the HTTP client. */
#ifndef ONEBOX_CLI_H
#define ONEBOX_CLI_H

#include <jansson.h>

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2, CLI_UNREACHABLE = 3 };

struct cli {
    char url[512];        /* base URL of the REST API, no trailing slash */
    char token[4096];     /* bearer token, "" when logged out */
};

struct cli_command {
    const char *name, *help;
    int (*run)(struct cli *c, int argc, char **argv);
};

/* One REST call.  body may be NULL.  Returns the HTTP status (0 when the
 * server could not be reached, with the reason in err) and *resp, the parsed
 * JSON body (new reference, or NULL). */
void cli_http_init(void);
void cli_http_cleanup(void);
long cli_http(const struct cli *c, const char *method, const char *path,
              const json_t *body, json_t **resp, char *err, size_t errlen);

int cli_cmd_health(struct cli *c, int argc, char **argv);

#endif
