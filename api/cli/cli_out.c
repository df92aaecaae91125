/* cli_out: how the CLI shows things to people (aligned tables, cut to
 * width) and to scripts (--json), and how it asks for secrets. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void cli_print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2));
    printf("%s\n", s ? s : "null");
    free(s);
}

const char *cli_text(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.2f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
    else
        snprintf(buf, cap, "-");
    for (char *p = buf; *p; p++)          /* one line per row */
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    return buf;
}

/* Prints s in exactly `width` terminal columns, counting UTF-8 code points
 * (not bytes) and cutting with "…". */
static void print_cell(const char *s, int width, int last)
{
    int cols = 0;
    size_t i = 0, n = strlen(s);
    size_t cut = n;
    int total = 0;
    for (size_t k = 0; k < n; k++)
        if (((unsigned char)s[k] & 0xC0) != 0x80)
            total++;
    int limit = total > width ? width - 1 : width;
    for (; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cols == limit) {
                cut = i;
                break;
            }
            cols++;
        }
    }
    fwrite(s, 1, cut, stdout);
    if (total > width)
        fputs("\xe2\x80\xa6", stdout), cols++;
    if (!last)
        for (; cols < width + 2; cols++)
            putchar(' ');
}

void cli_print_table(const json_t *rows, const char *const *cols,
                     const char *const *heads, const int *widths, int ncols)
{
    for (int i = 0; i < ncols; i++)
        print_cell(heads[i], widths[i], i == ncols - 1);
    putchar('\n');
    size_t k;
    json_t *row;
    char buf[4096];
    json_array_foreach(rows, k, row) {
        for (int i = 0; i < ncols; i++)
            print_cell(cli_text(json_object_get(row, cols[i]), buf, sizeof buf), widths[i],
                       i == ncols - 1);
        putchar('\n');
    }
    if (json_array_size(rows) == 0)
        printf("(none)\n");
}

int cli_read_secret(const char *prompt, char *out, size_t cap)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *r = fgets(out, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!r)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

const char *cli_opt(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
    }
    return NULL;
}

int cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int cli_wants_help(int argc, char **argv)
{
    return cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h");
}
