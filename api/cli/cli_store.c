/* cli_store: the CLI's settings and login token in the user's config
 * directory, written 0600 (the token is a credential). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int config_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/onebox", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.config/onebox", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int cli_store_load(struct cli *c)
{
    char dir[900];
    if (config_dir(dir, sizeof dir) < 0)
        return -1;
    snprintf(c->config_path, sizeof c->config_path, "%s/cli.json", dir);
    json_error_t je;
    json_t *o = json_load_file(c->config_path, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return errno == ENOENT ? 0 : -1;
    const char *url = json_string_value(json_object_get(o, "url"));
    const char *tok = json_string_value(json_object_get(o, "token"));
    const char *uid = json_string_value(json_object_get(o, "userId"));
    if (url && !c->url[0])
        snprintf(c->url, sizeof c->url, "%s", url);
    if (tok)
        snprintf(c->token, sizeof c->token, "%s", tok);
    if (uid)
        snprintf(c->user_id, sizeof c->user_id, "%s", uid);
    json_decref(o);
    return 0;
}

int cli_store_save(const struct cli *c)
{
    char dir[900], tmp[1100];
    if (config_dir(dir, sizeof dir) < 0)
        return -1;
    char parent[900];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        mkdir(parent, 0700);
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    json_t *o = json_pack("{s:s,s:s,s:s}", "url", c->url, "token", c->token, "userId", c->user_id);
    snprintf(tmp, sizeof tmp, "%s/cli.json.tmp", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd >= 0) {
        fchmod(fd, 0600);
        char *s = json_dumps(o, JSON_INDENT(2));
        if (s && write(fd, s, strlen(s)) == (ssize_t)strlen(s) && fsync(fd) == 0)
            rc = 0;
        free(s);
        close(fd);
    }
    json_decref(o);
    if (rc == 0 && rename(tmp, c->config_path) < 0)
        rc = -1;
    if (rc < 0)
        unlink(tmp);
    return rc;
}
