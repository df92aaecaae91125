/* ob_config: configuration file, environment overrides and defaults; see
 * ob_config.h.  The key table below is the single source of truth for names,
 * defaults and documentation. */
#include "ob_config.h"
#include "ob_log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum key_type { K_STR, K_INT };

struct key {
    const char *name;
    enum key_type type;
    size_t off;
    const char *def;    /* "" = derived or unset */
    long min, max;      /* K_INT bounds */
    int secret;
    const char *doc;
};

#define S(f) K_STR, offsetof(struct ob_config, f)
#define I(f) K_INT, offsetof(struct ob_config, f)

static const struct key keys[] = {
    { "data_dir", S(data_dir), "./var", 0, 0, 0, "directory for the database and key files" },
    { "run_dir", S(run_dir), "", 0, 0, 0, "directory for Unix sockets (default: <data_dir>/run)" },
    { "db_path", S(db_path), "", 0, 0, 0, "SQLite database file (default: <data_dir>/onebox.db)" },
    { "jwt_key_file", S(jwt_key_file), "", 0, 0, 0, "HS256 key, created 0600 on first start (default: <data_dir>/jwt.key)" },
    { "seal_key_file", S(seal_key_file), "", 0, 0, 0, "AES-256-GCM key sealing stored IMAP secrets (default: <data_dir>/seal.key)" },
    { "events_sock", S(events_sock), "", 0, 0, 0, "publishers -> realtime event socket (default: <run_dir>/events.sock)" },
    { "sync_sock", S(sync_sock), "", 0, 0, 0, "control socket of onebox-syncd (default: <run_dir>/sync.sock)" },
    { "log_level", S(log_level), "info", 0, 0, 0, "debug, info, warn or error" },
    { "api_listen", S(api_listen), "", 0, 0, 0, "FastCGI socket: a Unix path or 127.0.0.1:PORT (default: <run_dir>/api.sock; '-' = fd 0 from spawn-fcgi)" },
    { "api_threads", I(api_threads), "4", 1, 256, 0, "FastCGI worker threads" },
    { "api_body_max", I(api_body_max), "65536", 1024, 16777216, 0, "largest accepted request body in bytes (413 above)" },
    { "jwt_ttl", I(jwt_ttl), "86400", 60, 31536000, 0, "lifetime of login tokens in seconds" },
    { "admin_email", S(admin_email), "", 0, 0, 0, "a user registering with this email becomes admin (bootstrap)" },
    { "login_max_failures", I(login_max_failures), "5", 1, 1000, 0, "failed logins per account or client address before 429" },
    { "login_window", I(login_window), "300", 1, 86400, 0, "seconds over which failed logins are counted" },
    { "http_listen", S(http_listen), "127.0.0.1:8080", 0, 0, 0, "where nginx listens under `make run`" },
    { "ws_host", S(ws_host), "127.0.0.1", 0, 0, 0, "WebSocket listen address" },
    { "ws_port", I(ws_port), "5001", 1, 65535, 0, "WebSocket listen port" },
    { "ws_origins", S(ws_origins), "", 0, 0, 0, "comma-separated Origin allow-list (empty: any origin)" },
    { "ws_max_conns_per_user", I(ws_max_conns_per_user), "5", 1, 10000, 0, "WebSocket connections per user" },
    { "ws_max_rooms", I(ws_max_rooms), "10", 1, 1000, 0, "rooms per connection" },
    { "ws_rate_per_min", I(ws_rate_per_min), "60", 1, 100000, 0, "client messages per minute per connection" },
    { "ws_max_frame", I(ws_max_frame), "65536", 128, 16777216, 0, "largest client frame in bytes" },
    { "ws_send_queue_max", I(ws_send_queue_max), "1048576", 4096, 268435456, 0, "bytes queued to one slow client before it is closed (1008)" },
    { "ws_heartbeat", I(ws_heartbeat), "30", 1, 3600, 0, "seconds between pings; dead peers are dropped" },
    { "ws_auth_timeout", I(ws_auth_timeout), "10", 1, 300, 0, "seconds a connection has to send an auth message" },
    { "ws_max_fds", I(ws_max_fds), "0", 0, 1048576, 0, "stop accepting above this many fds (0: 90% of RLIMIT_NOFILE)" },
    { "ws_conn_per_ip_per_min", I(ws_conn_per_ip_per_min), "120", 1, 1000000, 0, "connection attempts per client address per minute" },
    { "ws_replay_max", I(ws_replay_max), "1000", 1, 1000000, 0, "most events replayed on resume (more: replay marked incomplete)" },
    { "sync_grace", I(sync_grace), "30", 0, 86400, 0, "seconds after a user's last connection before their sync stops" },
    { "sync_workers", I(sync_workers), "4", 1, 64, 0, "threads that fetch, decode and store mail" },
    { "sync_initial_window", I(sync_initial_window), "500", 0, 10000000, 0, "newest messages fetched on an account's first sync (0: all)" },
    { "sync_announce_window", I(sync_announce_window), "5", 0, 1000, 0, "of those, how many are announced as new_email" },
    { "imap_timeout", I(imap_timeout), "30", 1, 600, 0, "IMAP network timeout in seconds" },
    { "imap_max_message", I(imap_max_message), "26214400", 1024, 1073741824, 0, "largest message fetched in full (bytes); larger ones are truncated" },
    { "imap_idle_restart", I(imap_idle_restart), "1740", 10, 1740, 0, "seconds before IDLE is left and re-entered (servers drop it at 30 min)" },
    { "imap_ca_file", S(imap_ca_file), "", 0, 0, 0, "extra CA bundle for IMAP servers with private certificates" },
    { "categories_file", S(categories_file), "contrib/categories.rules", 0, 0, 0, "keyword rules of the local classifier" },
    { "llm_url", S(llm_url), "", 0, 0, 0, "OpenAI-compatible chat completions URL (empty: local classifier only)" },
    { "llm_key", S(llm_key), "", 0, 0, 1, "API key for llm_url" },
    { "llm_model", S(llm_model), "gpt-4o-mini", 0, 0, 0, "model name sent to llm_url" },
    { "llm_timeout_ms", I(llm_timeout_ms), "5000", 100, 120000, 0, "LLM request timeout; the local result is used past it" },
    { "pub_queue_max", I(pub_queue_max), "4194304", 65536, 1073741824, 0, "bytes of events a publisher queues while the sidecar is away" },
};
#define NKEYS (sizeof keys / sizeof keys[0])

static char **str_at(struct ob_config *c, const struct key *k)
{
    return (char **)((char *)c + k->off);
}

static long *int_at(struct ob_config *c, const struct key *k)
{
    return (long *)((char *)c + k->off);
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int set_key(struct ob_config *c, const struct key *k, const char *value,
                   char *err, size_t errlen)
{
    if (k->type == K_STR) {
        char *dup = strdup(value);
        if (!dup) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(*str_at(c, k));
        *str_at(c, k) = dup;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < k->min || v > k->max) {
        snprintf(err, errlen, "%s: '%s' is not a whole number from %ld to %ld",
                 k->name, value, k->min, k->max);
        return -1;
    }
    *int_at(c, k) = v;
    return 0;
}

int ob_config_set(struct ob_config *c, const char *key, const char *value,
                  char *err, size_t errlen)
{
    const struct key *k = find_key(key);
    if (!k) {
        snprintf(err, errlen, "unknown configuration key '%s'", key);
        return -1;
    }
    return set_key(c, k, value, err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int load_file(struct ob_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], kerr[256];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        if (ob_config_set(c, key, val, kerr, sizeof kerr) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, kerr);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int derive(char **field, const char *dir, const char *name)
{
    if (*field && **field)
        return 0;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        return -1;
    snprintf(p, n, "%s/%s", dir, name);
    free(*field);
    *field = p;
    return 0;
}

int ob_config_load(struct ob_config *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++)
        if (set_key(c, &keys[i], keys[i].def, err, errlen) < 0)
            return -1;
    if (!path || !*path)
        path = getenv("ONEBOX_CONFIG");
    if (path && *path && load_file(c, path, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < NKEYS; i++) {
        char env[64] = "ONEBOX_";
        size_t n = strlen(env);
        for (const char *p = keys[i].name; *p && n < sizeof env - 1; p++)
            env[n++] = (char)toupper((unsigned char)*p);
        env[n] = '\0';
        const char *v = getenv(env);
        if (v && set_key(c, &keys[i], v, err, errlen) < 0)
            return -1;
    }
    if (derive(&c->run_dir, c->data_dir, "run") < 0 ||
        derive(&c->db_path, c->data_dir, "onebox.db") < 0 ||
        derive(&c->jwt_key_file, c->data_dir, "jwt.key") < 0 ||
        derive(&c->seal_key_file, c->data_dir, "seal.key") < 0 ||
        derive(&c->events_sock, c->run_dir, "events.sock") < 0 ||
        derive(&c->sync_sock, c->run_dir, "sync.sock") < 0 ||
        derive(&c->api_listen, c->run_dir, "api.sock") < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ob_log_level_parse(c->log_level) < 0) {
        snprintf(err, errlen, "log_level: '%s' is not debug, info, warn or error", c->log_level);
        return -1;
    }
    return 0;
}

void ob_config_free(struct ob_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].type == K_STR) {
            free(*str_at(c, &keys[i]));
            *str_at(c, &keys[i]) = NULL;
        }
}

void ob_config_dump(const struct ob_config *c, FILE *out)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        char env[64] = "ONEBOX_";
        size_t n = strlen(env);
        for (const char *p = k->name; *p && n < sizeof env - 1; p++)
            env[n++] = (char)toupper((unsigned char)*p);
        env[n] = '\0';
        struct ob_config *mc = (struct ob_config *)c;
        if (k->type == K_STR) {
            const char *v = *str_at(mc, k);
            if (k->secret && v && *v)
                v = "(set)";
            fprintf(out, "%-24s = %-28s # %s (%s)\n", k->name, v ? v : "", k->doc, env);
        } else {
            fprintf(out, "%-24s = %-28ld # %s (%s)\n", k->name, *int_at(mc, k), k->doc, env);
        }
    }
}

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int ob_config_make_dirs(const struct ob_config *c, char *err, size_t errlen)
{
    const char *dirs[] = { c->data_dir, c->run_dir };
    for (size_t i = 0; i < 2; i++)
        if (mkdir_p(dirs[i], 0750) < 0) {
            snprintf(err, errlen, "mkdir %s: %s", dirs[i], strerror(errno));
            return -1;
        }
    return 0;
}

const char *ob_config_path_from_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

int ob_config_from_args(struct ob_config *c, int argc, char **argv,
                        const char *proc, const char *about)
{
    int print = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s: %s\n\nusage: %s [--config PATH] [--print-config]\n\n"
                   "Settings come from the config file (--config, else $ONEBOX_CONFIG),\n"
                   "then ONEBOX_<KEY> environment variables; --print-config lists them all.\n",
                   proc, about, proc);
            memset(c, 0, sizeof *c);
            return 1;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print = 1;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            i++;
        } else if (strncmp(argv[i], "--config=", 9) != 0) {
            fprintf(stderr, "%s: unknown option '%s' (try --help)\n", proc, argv[i]);
            memset(c, 0, sizeof *c);
            return -1;
        }
    }
    char err[512];
    if (ob_config_load(c, ob_config_path_from_args(argc, argv), err, sizeof err) < 0) {
        fprintf(stderr, "%s: configuration: %s\n", proc, err);
        return -1;
    }
    if (print) {
        ob_config_dump(c, stdout);
        return 1;
    }
    return 0;
}
