/* ob_log: levelled logging to stderr; see ob_log.h. */
#include "ob_log.h"
#include "ob_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char log_proc[32] = "onebox";
static enum ob_log_level log_min = OB_LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void ob_log_init(const char *proc, enum ob_log_level min)
{
    snprintf(log_proc, sizeof log_proc, "%s", proc ? proc : "onebox");
    log_min = min;
}

int ob_log_level_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void ob_log_set_level(enum ob_log_level min) { log_min = min; }

int ob_log_enabled(enum ob_log_level lvl) { return lvl >= log_min; }

void ob_vlog(enum ob_log_level lvl, const char *fmt, va_list ap)
{
    if (lvl < log_min || lvl > OB_LOG_ERROR)
        return;
    char line[2048], ts[32];
    ob_time_iso_now(ts);
    int n = snprintf(line, sizeof line, "%s %s[%d] %s: ", ts, log_proc,
                     (int)getpid(), level_names[lvl]);
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;           /* truncated: still one line */
    /* Control characters from hostile input must not forge log lines. */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = '?';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void ob_log(enum ob_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ob_vlog(lvl, fmt, ap);
    va_end(ap);
}

void ob_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ob_vlog(OB_LOG_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}
