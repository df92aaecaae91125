/* api_json: reads one JSON document (a REST response body) from a file and
 * answers questions about it for the integration tests, so shell scripts
 * check status codes *and* bodies precisely without jq.
 *
 *   api_json get FILE PATH       print the value (strings raw, else compact JSON)
 *   api_json type FILE PATH      print object|array|string|integer|real|true|false|null
 *   api_json keys FILE PATH      print the object's keys, sorted, space-separated
 *   api_json len FILE PATH       print the array's (or object's) size
 *   api_json envelope FILE       check the DESIGN.md envelope exactly: print
 *                                "ok" for {success:true,data:{..}} or
 *                                "error CODE" for {success:false,error:{code,message}}
 *
 * PATH: "." for the root, else ".a.b[2].c".  Exit status: 0, 1 when the
 * path is absent or the check fails (reason on stderr), 2 on bad usage. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *walk(json_t *v, const char *path)
{
    const char *p = path;
    if (*p == '.')
        p++;
    while (v && *p) {
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || !json_is_array(v))
                return NULL;
            v = json_array_get(v, (size_t)i);
            p = end + 1;
        } else {
            size_t n = strcspn(p, ".[");
            char key[256];
            if (n == 0 || n >= sizeof key || !json_is_object(v))
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            p += n;
        }
        if (*p == '.')
            p++;
    }
    return v;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "?";
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int envelope(json_t *root)
{
    json_t *s = json_object_get(root, "success");
    if (!json_is_object(root) || !json_is_boolean(s) || json_object_size(root) != 2) {
        fprintf(stderr, "api_json: not an envelope (want exactly success + data|error)\n");
        return 1;
    }
    if (json_is_true(s)) {
        if (!json_is_object(json_object_get(root, "data"))) {
            fprintf(stderr, "api_json: success without a data object\n");
            return 1;
        }
        printf("ok\n");
        return 0;
    }
    json_t *e = json_object_get(root, "error");
    json_t *c = json_object_get(e, "code"), *m = json_object_get(e, "message");
    if (!json_is_object(e) || json_object_size(e) != 2 || !json_is_string(c) || !json_is_string(m)) {
        fprintf(stderr, "api_json: error without exactly {code, message} strings\n");
        return 1;
    }
    printf("error %s\n", json_string_value(c));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "envelope") != 0 && argc < 4)) {
        fprintf(stderr, "usage: api_json get|type|keys|len FILE PATH | api_json envelope FILE\n");
        return 2;
    }
    json_error_t je;
    json_t *root = json_load_file(argv[2], JSON_DECODE_ANY, &je);
    if (!root) {
        fprintf(stderr, "api_json: %s: %s (line %d)\n", argv[2], je.text, je.line);
        return 1;
    }
    int rc = 0;
    if (strcmp(argv[1], "envelope") == 0) {
        rc = envelope(root);
        json_decref(root);
        return rc;
    }
    json_t *v = walk(root, argv[3]);
    if (!v) {
        fprintf(stderr, "api_json: %s: no %s\n", argv[2], argv[3]);
        json_decref(root);
        return 1;
    }
    if (strcmp(argv[1], "get") == 0) {
        if (json_is_string(v)) {
            printf("%s\n", json_string_value(v));
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%s\n", s ? s : "");
            free(s);
        }
    } else if (strcmp(argv[1], "type") == 0) {
        printf("%s\n", type_name(v));
    } else if (strcmp(argv[1], "len") == 0) {
        printf("%zu\n", json_is_array(v) ? json_array_size(v) : json_object_size(v));
    } else if (strcmp(argv[1], "keys") == 0 && json_is_object(v)) {
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
            keys[i++] = k;
        qsort(keys, n, sizeof *keys, cmp);
        for (i = 0; i < n; i++)
            printf("%s%s", i ? " " : "", keys[i]);
        printf("\n");
        free(keys);
    } else {
        fprintf(stderr, "api_json: cannot %s at %s\n", argv[1], argv[3]);
        rc = 1;
    }
    json_decref(root);
    return rc;
}
