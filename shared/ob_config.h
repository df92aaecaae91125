/* ob_config: onebox's configuration — one file, environment overrides, and
 * defaults that work on a fresh machine with no file at all.
 *
 * Precedence: built-in default < config file < environment.  The file is
 * "key = value" lines ('#' starts a comment); it is found at --config PATH,
 * else $ONEBOX_CONFIG, else nowhere (defaults only).  Every key has an
 * environment variable ONEBOX_<KEY in upper case>, e.g. ONEBOX_WS_PORT.
 * `ob_config_dump` prints every key with its default and its meaning; the
 * README's configuration table is made from it. */
#ifndef OB_CONFIG_H
#define OB_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct ob_config {
    /* paths */
    char *data_dir, *run_dir, *db_path, *jwt_key_file, *seal_key_file;
    char *events_sock, *sync_sock;
    char *log_level;
    /* onebox-api */
    char *api_listen;
    long api_threads, api_body_max, jwt_ttl;
    char *admin_email;
    long login_max_failures, login_window;
    /* nginx under `make run` */
    char *http_listen;
    /* onebox-realtime */
    char *ws_host, *ws_origins;
    long ws_port, ws_max_conns_per_user, ws_max_rooms, ws_rate_per_min;
    long ws_max_frame, ws_send_queue_max, ws_heartbeat, ws_auth_timeout;
    long ws_max_fds, ws_conn_per_ip_per_min, ws_replay_max, sync_grace;
    /* onebox-syncd */
    long sync_workers, sync_initial_window, sync_announce_window;
    long imap_timeout, imap_max_message, imap_idle_restart;
    char *imap_ca_file, *categories_file;
    char *llm_url, *llm_key, *llm_model;
    long llm_timeout_ms;
    /* events.sock publisher */
    long pub_queue_max;
};

/* Loads defaults, then `path` (NULL: $ONEBOX_CONFIG if set), then the
 * environment, then derives the path defaults (db_path under data_dir, ...).
 * Returns 0, or -1 with a reason in err (unknown key, bad number, unreadable
 * file).  On -1 the struct still holds valid strings; free it either way. */
int ob_config_load(struct ob_config *c, const char *path, char *err, size_t errlen);
void ob_config_free(struct ob_config *c);

/* Sets one key from text, as the file and environment do; 0 or -1 + err. */
int ob_config_set(struct ob_config *c, const char *key, const char *value,
                  char *err, size_t errlen);

/* Prints every key: "key = value  # meaning (env ONEBOX_KEY)".  Values of
 * secret keys (llm_key) are shown as "(set)". */
void ob_config_dump(const struct ob_config *c, FILE *out);

/* Makes data_dir and run_dir (mode 0750); 0 or -1 + err. */
int ob_config_make_dirs(const struct ob_config *c, char *err, size_t errlen);

/* Scans argv for "--config PATH"/"--config=PATH"; returns PATH or NULL. */
const char *ob_config_path_from_args(int argc, char **argv);

/* The command line every daemon shares: --config PATH, --help,
 * --print-config.  Loads the config into c.  Returns 0 to go on, 1 when the
 * caller should exit 0 (help or config printed), -1 on a bad option or
 * config (reason printed on stderr).  `about` is the daemon's one-line
 * description for --help.  Free c in every case. */
int ob_config_from_args(struct ob_config *c, int argc, char **argv,
                        const char *proc, const char *about);

#endif
