/* ob_time: ISO 8601 UTC timestamps and a monotonic clock; see ob_time.h. */
#include "ob_time.h"

#include <stdio.h>
#include <string.h>

void ob_time_iso(time_t t, int ms, char out[OB_TIME_ISO_LEN])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, OB_TIME_ISO_LEN, "1970-01-01T00:00:00.000Z");
        return;
    }
    /* strftime for the calendar part keeps the length provably bounded. */
    size_t n = strftime(out, OB_TIME_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, OB_TIME_ISO_LEN - n, ".%03uZ",
             (unsigned)(ms < 0 || ms > 999 ? 0 : ms) % 1000u);
}

void ob_time_iso_now(char out[OB_TIME_ISO_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ob_time_iso(ts.tv_sec, (int)(ts.tv_nsec / 1000000), out);
}

int ob_time_iso_parse(const char *s, time_t *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s)
        return -1;
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    if (*end == '.') {
        end++;
        int digits = 0;
        while (*end >= '0' && *end <= '9' && digits < 9) {
            end++;
            digits++;
        }
        if (!digits)
            return -1;
    }
    if (*end != 'Z' || end[1] != '\0')
        return -1;
    *t = timegm(&tm);
    return 0;
}

int64_t ob_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
