/* fts_query: plain words → quoted FTS5 phrases; see fts_query.h. */
#include "fts_query.h"

#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int word_is(const char *w, size_t n, const char *op)
{
    return n == strlen(op) && memcmp(w, op, n) == 0;
}

static int explicit_syntax(const char *q)
{
    if (strpbrk(q, "\"()*^{}"))
        return 1;
    const char *p = q;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *w = p;
        while (*p && !is_space(*p))
            p++;
        size_t n = (size_t)(p - w);
        if (word_is(w, n, "AND") || word_is(w, n, "OR") || word_is(w, n, "NOT") ||
            (n >= 4 && memcmp(w, "NEAR", 4) == 0 && (n == 4 || w[4] == '(')))
            return 1;
    }
    return 0;
}

int fts_query_build(const char *q, char *out, size_t cap)
{
    size_t qn = q ? strlen(q) : 0;
    if (qn == 0 || qn > FTS_QUERY_MAX || cap == 0)
        return -1;
    for (size_t i = 0; i < qn; i++)
        if ((unsigned char)q[i] < 0x20 && q[i] != '\t')
            return -1;
    if (explicit_syntax(q)) {
        if (qn + 1 > cap)
            return -1;
        memcpy(out, q, qn + 1);
        return 1;
    }
    size_t o = 0;
    int terms = 0;
    const char *p = q;
    while (*p) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !is_space(*p))
            p++;
        size_t n = (size_t)(p - w);
        /* no '"' can be inside w (explicit syntax otherwise), so quoting
         * needs no escaping */
        if (++terms > FTS_QUERY_TERMS || o + n + 4 > cap)
            return -1;
        if (o)
            out[o++] = ' ';
        out[o++] = '"';
        memcpy(out + o, w, n);
        o += n;
        out[o++] = '"';
    }
    if (terms == 0)
        return -1;
    out[o] = '\0';
    return 0;
}
