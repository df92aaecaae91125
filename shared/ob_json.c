/* ob_json: envelopes and checked field readers; see ob_json.h. */
#include "ob_json.h"
#include "ob_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *ob_json_parse_object(const char *buf, size_t len, size_t maxlen,
                             char *err, size_t errlen)
{
    if (!buf || len == 0) {
        snprintf(err, errlen, "empty body: expected a JSON object");
        return NULL;
    }
    if (len > maxlen) {
        snprintf(err, errlen, "JSON of %zu bytes exceeds the limit of %zu", len, maxlen);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        snprintf(err, errlen, "invalid JSON at position %d: %s", je.position, je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(err, errlen, "expected a JSON object");
        return NULL;
    }
    return v;
}

char *ob_json_dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT) : NULL;
}

char *ob_json_line(json_t *o, size_t maxlen, size_t *len)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *line = n + 1 <= maxlen ? realloc(s, n + 2) : NULL;
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

char *ob_json_ok(json_t *data)
{
    json_t *env = json_pack("{s:b,s:o}", "success", 1, "data", data ? data : json_object());
    char *s = ob_json_dump(env);
    json_decref(env);
    return s;
}

json_t *ob_json_err_obj(const char *code, const char *message)
{
    return json_pack("{s:s,s:s}", "code", code ? code : "error",
                     "message", message ? message : "");
}

char *ob_json_err(const char *code, const char *message)
{
    json_t *env = json_pack("{s:b,s:o}", "success", 0, "error",
                            ob_json_err_obj(code, message));
    char *s = ob_json_dump(env);
    json_decref(env);
    return s;
}

json_t *ob_json_ws(const char *type, json_t *data, long long id, const char *ts)
{
    char now[OB_TIME_ISO_LEN];
    if (!ts) {
        ob_time_iso_now(now);
        ts = now;
    }
    json_t *m = json_pack("{s:s,s:o,s:s}", "type", type, "data",
                          data ? data : json_object(), "timestamp", ts);
    if (m && id > 0)
        json_object_set_new(m, "id", json_integer(id));
    return m;
}

/* Looks key up: 1 with *v set when present, 0 when absent (or null) and
 * optional, -1 with the reason in err when absent and required. */
static int field(const json_t *obj, const char *key, int required, json_t **v,
                 char *err, size_t errlen)
{
    *v = json_object_get(obj, key);
    if (*v && !json_is_null(*v))
        return 1;
    if (!required)
        return 0;
    snprintf(err, errlen, "field '%s' is required", key);
    return -1;
}

int ob_json_get_str(const json_t *obj, const char *key, int required,
                    size_t maxlen, const char **out, char *err, size_t errlen)
{
    json_t *v;
    int present = field(obj, key, required, &v, err, errlen);
    if (present <= 0)
        return present;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "field '%s' must be a string", key);
        return -1;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0) {
        snprintf(err, errlen, "field '%s' must not be empty", key);
        return -1;
    }
    if (n > maxlen) {
        snprintf(err, errlen, "field '%s' is longer than %zu bytes", key, maxlen);
        return -1;
    }
    if (strlen(s) != n) {
        snprintf(err, errlen, "field '%s' contains a NUL character", key);
        return -1;
    }
    *out = s;
    return 0;
}

int ob_json_get_int(const json_t *obj, const char *key, int required,
                    long long min, long long max, long long *out,
                    char *err, size_t errlen)
{
    json_t *v;
    int present = field(obj, key, required, &v, err, errlen);
    if (present <= 0)
        return present;
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "field '%s' must be an integer", key);
        return -1;
    }
    long long n = json_integer_value(v);
    if (n < min || n > max) {
        snprintf(err, errlen, "field '%s' must be from %lld to %lld", key, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int ob_json_get_bool(const json_t *obj, const char *key, int required,
                     int *out, char *err, size_t errlen)
{
    json_t *v;
    int present = field(obj, key, required, &v, err, errlen);
    if (present <= 0)
        return present;
    if (!json_is_boolean(v)) {
        snprintf(err, errlen, "field '%s' must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}
