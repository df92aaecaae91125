/* cmd_emails: `onebox emails list|search|show` — stored, categorized mail. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "onebox emails list [--account ADDRESS] [--folder NAME] [--category NAME]\n"
    "                          [--since ISO-8601] [--limit N] [--offset N]\n"
    "       onebox emails search QUERY [--limit N] [--offset N]\n"
    "       onebox emails show ID\n"
    "  Categories: Interested, \"Meeting Booked\", \"Not Interested\", Spam,\n"
    "  \"Out of Office\", Uncategorized.";

static const char *const cols[] = { "id", "date", "category", "from", "subject" };
static const char *const heads[] = { "ID", "DATE", "CATEGORY", "FROM", "SUBJECT" };
static const int widths[] = { 6, 24, 14, 28, 50 };

/* Appends "&name=escaped(value)" for each option present. */
static void add_query(char *q, size_t cap, int argc, char **argv, const char *const *opts,
                      const char *const *names)
{
    for (int i = 0; opts[i]; i++) {
        const char *v = cli_opt(argc, argv, opts[i]);
        if (!v)
            continue;
        char esc[1024];
        size_t n = strlen(q);
        snprintf(q + n, cap - n, "%s%s=%s", strchr(q, '?') ? "&" : "?", names[i],
                 cli_escape(v, esc, sizeof esc));
    }
}

static int page(struct cli *c, const char *path)
{
    json_t *data = NULL;
    int rc = cli_call(c, "GET", path, NULL, 1, &data);
    if (rc != CLI_OK)
        return rc;
    if (c->json) {
        cli_print_json(data);
    } else {
        cli_print_table(json_object_get(data, "emails"), cols, heads, widths, 5);
        json_t *next = json_object_get(data, "nextOffset");
        if (json_is_integer(next))
            printf("more: --offset %lld\n", (long long)json_integer_value(next));
    }
    json_decref(data);
    return CLI_OK;
}

static int show(struct cli *c, const char *id)
{
    char *end;
    long long n = strtoll(id, &end, 10);
    if (*end || n < 1) {
        fprintf(stderr, "onebox: ID must be a positive number\n");
        return CLI_USAGE;
    }
    char path[64];
    snprintf(path, sizeof path, "/api/emails/%lld", n);
    json_t *data = NULL;
    int rc = cli_call(c, "GET", path, NULL, 1, &data);
    if (rc != CLI_OK)
        return rc;
    json_t *e = json_object_get(data, "email");
    if (c->json) {
        cli_print_json(data);
    } else {
        char b[4096];
        static const char *const f[][2] = { { "From", "from" }, { "To", "to" }, { "Date", "date" },
                                            { "Subject", "subject" }, { "Account", "email" },
                                            { "Folder", "folder" }, { "Category", "category" } };
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
            printf("%-10s %s\n", f[i][0], cli_text(json_object_get(e, f[i][1]), b, sizeof b));
        printf("%-10s %.2f\n\n", "Confidence", json_number_value(json_object_get(e, "categoryConfidence")));
        const char *body = json_string_value(json_object_get(e, "body"));
        printf("%s\n", body ? body : "");
    }
    json_decref(data);
    return CLI_OK;
}

int cli_cmd_emails(struct cli *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        printf("usage: %s\n", usage);
        return argc < 1 ? CLI_USAGE : CLI_OK;
    }
    char path[4096];
    if (strcmp(argv[0], "list") == 0) {
        static const char *const opts[] = { "--account", "--folder", "--category", "--since",
                                            "--limit", "--offset", NULL };
        static const char *const names[] = { "account", "folder", "category", "since", "limit", "offset" };
        snprintf(path, sizeof path, "/api/emails");
        add_query(path, sizeof path, argc - 1, argv + 1, opts, names);
        return page(c, path);
    }
    if (strcmp(argv[0], "search") == 0 && argc >= 2) {
        char esc[2048];
        snprintf(path, sizeof path, "/api/emails/search?q=%s", cli_escape(argv[1], esc, sizeof esc));
        static const char *const opts[] = { "--limit", "--offset", NULL };
        static const char *const names[] = { "limit", "offset" };
        add_query(path, sizeof path, argc - 2, argv + 2, opts, names);
        return page(c, path);
    }
    if (strcmp(argv[0], "show") == 0 && argc >= 2)
        return show(c, argv[1]);
    fprintf(stderr, "usage: %s\n", usage);
    return CLI_USAGE;
}
