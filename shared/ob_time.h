/* ob_time: the one timestamp format of onebox (ISO 8601 UTC with
 * milliseconds, "2026-01-01T00:00:00.000Z"), used in logs, events and API
 * responses, and a monotonic clock for timeouts. */
#ifndef OB_TIME_H
#define OB_TIME_H

#include <stdint.h>
#include <time.h>

#define OB_TIME_ISO_LEN 32

/* Writes the current time; out must hold OB_TIME_ISO_LEN bytes. */
void ob_time_iso_now(char out[OB_TIME_ISO_LEN]);
/* Formats seconds since the epoch plus milliseconds. */
void ob_time_iso(time_t t, int ms, char out[OB_TIME_ISO_LEN]);
/* Parses the format above (".mmm" optional); returns 0 and sets *t, or -1. */
int ob_time_iso_parse(const char *s, time_t *t);
/* Milliseconds on a monotonic clock. */
int64_t ob_time_mono_ms(void);

#endif
