/* ob_json: the JSON envelopes of DESIGN.md on jansson, and field readers that
 * check every type and bound every length (all JSON is hostile input).
 *
 *   REST:      {"success":true,"data":{...}}
 *              {"success":false,"error":{"code":"...","message":"..."}}
 *   WebSocket: {"type":"...","data":{...},"timestamp":"...Z","id":N} */
#ifndef OB_JSON_H
#define OB_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Parses exactly one JSON object of at most maxlen bytes, rejecting
 * duplicate keys and trailing data.  Returns a new reference, or NULL with a
 * reason in err. */
json_t *ob_json_parse_object(const char *buf, size_t len, size_t maxlen,
                             char *err, size_t errlen);

/* Serializes compactly; returns a malloc'd string (caller frees) or NULL. */
char *ob_json_dump(const json_t *v);

/* Serializes o (stolen) as one line ending in '\n'; malloc'd, *len set.
 * NULL if it fails or the line would exceed maxlen bytes. */
char *ob_json_line(json_t *o, size_t maxlen, size_t *len);

/* REST envelopes.  `data` is stolen (may be NULL: `{}`); result malloc'd. */
char *ob_json_ok(json_t *data);
char *ob_json_err(const char *code, const char *message);
/* The error object alone, for embedding: {"code":..,"message":..}. New ref. */
json_t *ob_json_err_obj(const char *code, const char *message);

/* WebSocket envelope; `data` stolen; id <= 0 means no "id" field.
 * ts NULL = now.  Returns a new reference. */
json_t *ob_json_ws(const char *type, json_t *data, long long id, const char *ts);

/* Field readers.  Each returns 0 on success (for an absent optional field
 * too, leaving *out untouched), or -1 with "field 'name' must be ..." in err.
 * Strings must be non-empty UTF-8 (jansson guarantees UTF-8) of at most
 * maxlen bytes with no NUL; *out borrows from obj. */
int ob_json_get_str(const json_t *obj, const char *key, int required,
                    size_t maxlen, const char **out, char *err, size_t errlen);
int ob_json_get_int(const json_t *obj, const char *key, int required,
                    long long min, long long max, long long *out,
                    char *err, size_t errlen);
int ob_json_get_bool(const json_t *obj, const char *key, int required,
                     int *out, char *err, size_t errlen);

#endif
