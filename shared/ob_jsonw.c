/* ob_jsonw: JSON text writer (RFC 8259); see ob_jsonw.h. */
#include "ob_jsonw.h"
#include "ob_utf8.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest buffer: the ceiling and its NUL (no overflow at SIZE_MAX). */
static size_t top(const struct ob_jsonw *w)
{
    return w->max == SIZE_MAX ? SIZE_MAX : w->max + 1;
}

void ob_jsonw_init(struct ob_jsonw *w, size_t cap, size_t max)
{
    w->len = 0;
    w->max = max;
    w->cap = cap ? cap : 256;
    if (w->cap > top(w))
        w->cap = top(w);
    w->buf = malloc(w->cap);
    w->failed = !w->buf;
}

static int reserve(struct ob_jsonw *w, size_t n)
{
    if (w->failed)
        return -1;
    size_t t = top(w);
    if (n >= t - w->len) {   /* past the ceiling */
        w->failed = 1;
        return -1;
    }
    if (w->len + n + 1 <= w->cap)
        return 0;
    size_t cap = w->cap;
    while (w->len + n + 1 > cap)
        cap = cap > t / 2 ? t : cap * 2;
    char *nb = realloc(w->buf, cap);
    if (!nb) {
        w->failed = 1;
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

void ob_jsonw_raw(struct ob_jsonw *w, const char *s, size_t n)
{
    if (reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void ob_jsonw_str(struct ob_jsonw *w, const char *str)
{
    static const char hex[] = "0123456789ABCDEF";   /* as jansson writes it */
    const unsigned char *s = (const unsigned char *)str, *run = s;
    ob_jsonw_raw(w, "\"", 1);
    while (*s) {
        unsigned char c = *s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            s++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = ob_utf8_seq(s, SIZE_MAX);   /* stops at the NUL */
            if (n) {
                s += n;
                continue;
            }
        }
        ob_jsonw_raw(w, (const char *)run, (size_t)(s - run));
        char esc[8] = "\\";
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x80) {
                memcpy(esc, "\\ufffd", 6);
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
            en = 6;
        }
        ob_jsonw_raw(w, esc, en);
        run = ++s;
    }
    ob_jsonw_raw(w, (const char *)run, (size_t)(s - run));
    ob_jsonw_raw(w, "\"", 1);
}

void ob_jsonw_int(struct ob_jsonw *w, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    ob_jsonw_raw(w, b, (size_t)n);
}

void ob_jsonw_real(struct ob_jsonw *w, double v)
{
    if (!isfinite(v)) {   /* JSON has no NaN or infinity */
        ob_jsonw_raw(w, "null", 4);
        return;
    }
    char b[40];
    int n = snprintf(b, sizeof b, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof b - 2) {
        w->failed = 1;
        return;
    }
    if (!strpbrk(b, ".eE")) {   /* still a real when read back */
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    /* jansson's form of the exponent: "1e300", "1e-7", not "1e+300" */
    char *e = strchr(b, 'e');
    if (e) {
        char *start = e + 1, *end = e + 1;
        if (*start == '-')
            start++, end++;
        if (*end == '+')
            end++;
        while (*end == '0' && end[1])
            end++;
        memmove(start, end, strlen(end) + 1);
        n = (int)strlen(b);
    }
    ob_jsonw_raw(w, b, (size_t)n);
}

char *ob_jsonw_finish(struct ob_jsonw *w, size_t *len)
{
    if (w->failed) {
        free(w->buf);
        w->buf = NULL;
        return NULL;
    }
    w->buf[w->len] = '\0';
    if (len)
        *len = w->len;
    char *s = w->buf;
    w->buf = NULL;
    return s;
}
