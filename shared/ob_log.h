/* ob_log: levelled logging to stderr for every onebox process.
 *
 * One line per call: "2026-01-01T00:00:00.000Z onebox-api[123] warn: text".
 * Lines are written with a single write(2), so threads do not interleave.
 * Never pass a secret (password, token, key) to these functions: callers log
 * sizes or redacted forms instead. */
#ifndef OB_LOG_H
#define OB_LOG_H

#include <stdarg.h>

enum ob_log_level { OB_LOG_DEBUG = 0, OB_LOG_INFO, OB_LOG_WARN, OB_LOG_ERROR };

/* Sets the process name shown on every line and the minimum level. */
void ob_log_init(const char *proc, enum ob_log_level min);
/* Parses "debug"|"info"|"warn"|"error"; returns the level or -1. */
int ob_log_level_parse(const char *name);
void ob_log_set_level(enum ob_log_level min);
int ob_log_enabled(enum ob_log_level lvl);

void ob_log(enum ob_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ob_vlog(enum ob_log_level lvl, const char *fmt, va_list ap);

#define ob_debug(...) ob_log(OB_LOG_DEBUG, __VA_ARGS__)
#define ob_info(...)  ob_log(OB_LOG_INFO, __VA_ARGS__)
#define ob_warn(...)  ob_log(OB_LOG_WARN, __VA_ARGS__)
#define ob_error(...) ob_log(OB_LOG_ERROR, __VA_ARGS__)

/* Start-up failures and broken invariants only: logs and exits(1). */
void ob_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
