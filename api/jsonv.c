/* jsonv: JSON well-formedness check; see jsonv.h. */
#include "jsonv.h"

#include "ob_utf8.h"

#include <string.h>

struct scan {
    const unsigned char *p, *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int string(struct scan *s)
{
    s->p++;   /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (s->end - s->p < 2)
                return 0;
            unsigned char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6 || !is_hex(s->p[2]) || !is_hex(s->p[3]) ||
                    !is_hex(s->p[4]) || !is_hex(s->p[5]))
                    return 0;
                s->p += 6;
            } else if (e && strchr("\"\\/bfnrt", e)) {
                s->p += 2;
            } else {
                return 0;
            }
            continue;
        }
        if (c >= 0x80) {
            size_t n = ob_utf8_seq(s->p, (size_t)(s->end - s->p));
            if (!n)
                return 0;
            s->p += n;
            continue;
        }
        s->p++;
    }
    return 0;
}

static int digits(struct scan *s)
{
    const unsigned char *start = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > start;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int number(struct scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!digits(s))
        return 0;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!digits(s))
            return 0;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return 0;
    }
    return 1;
}

static int literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return 0;
    s->p += n;
    return 1;
}

static int value(struct scan *s, int depth);

/* An array or object after its opening bracket: members until close. */
static int members(struct scan *s, int depth, int object, unsigned char close)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 1;
    }
    for (;;) {
        if (object) {
            if (s->p >= s->end || *s->p != '"' || !string(s))
                return 0;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return 0;
            s->p++;
        }
        if (!value(s, depth + 1))
            return 0;
        skip_ws(s);
        if (s->p >= s->end)
            return 0;
        if (*s->p == close) {
            s->p++;
            return 1;
        }
        if (*s->p != ',')
            return 0;
        s->p++;
        skip_ws(s);
    }
}

static int value(struct scan *s, int depth)
{
    skip_ws(s);
    if (s->p >= s->end || depth > JSONV_DEPTH_MAX)
        return 0;
    switch (*s->p) {
    case '{':
        return members(s, depth, 1, '}');
    case '[':
        return members(s, depth, 0, ']');
    case '"':
        return string(s);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        return (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) && number(s);
    }
}

int jsonv_valid(const char *text, size_t n)
{
    struct scan s = { (const unsigned char *)text, (const unsigned char *)text + n };
    if (!value(&s, 0))
        return 0;
    skip_ws(&s);
    return s.p == s.end;
}
