/* jsonw: JSON text writer; see jsonw.h. */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w, size_t cap)
{
    w->len = 0;
    w->cap = cap ? cap : 256;
    w->buf = malloc(w->cap);
    w->failed = !w->buf;
}

static int reserve(struct jsonw *w, size_t n)
{
    if (w->failed)
        return -1;
    if (w->len + n + 1 <= w->cap)
        return 0;
    size_t cap = w->cap;
    while (w->len + n + 1 > cap)
        cap *= 2;
    char *nb = realloc(w->buf, cap);
    if (!nb) {
        w->failed = 1;
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
    if (reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void jsonw_str(struct jsonw *w, const char *str)
{
    static const char hex[] = "0123456789ABCDEF";   /* as jansson writes it */
    const unsigned char *s = (const unsigned char *)str, *run = s;
    jsonw_raw(w, "\"", 1);
    while (*s) {
        unsigned char c = *s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            s++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_len(s);   /* stops at the NUL: continuation checks fail on it */
            if (n) {
                s += n;
                continue;
            }
        }
        jsonw_raw(w, (const char *)run, (size_t)(s - run));
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
        jsonw_raw(w, esc, en);
        run = ++s;
    }
    jsonw_raw(w, (const char *)run, (size_t)(s - run));
    jsonw_raw(w, "\"", 1);
}

void jsonw_int(struct jsonw *w, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    jsonw_raw(w, b, (size_t)n);
}

void jsonw_real(struct jsonw *w, double v)
{
    if (!isfinite(v)) {   /* JSON has no NaN or infinity */
        jsonw_raw(w, "null", 4);
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
    jsonw_raw(w, b, (size_t)n);
}

char *jsonw_finish(struct jsonw *w)
{
    if (w->failed) {
        free(w->buf);
        w->buf = NULL;
        return NULL;
    }
    w->buf[w->len] = '\0';
    char *s = w->buf;
    w->buf = NULL;
    return s;
}
