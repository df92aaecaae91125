/* cmd_health: `onebox health` — asks GET /api/health and prints the answer. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int cli_cmd_health(struct cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    json_t *resp = NULL;
    char err[512];
    long st = cli_http(c, "GET", "/api/health", NULL, &resp, err, sizeof err);
    if (st == 0) {
        fprintf(stderr, "onebox: %s\n", err);
        return CLI_UNREACHABLE;
    }
    char *s = resp ? json_dumps(resp, JSON_INDENT(2)) : NULL;
    printf("%s\n", s ? s : "(no JSON body)");
    free(s);
    json_decref(resp);
    return st == 200 ? CLI_OK : CLI_REFUSED;
}
