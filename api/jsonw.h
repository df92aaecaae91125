/* jsonw: a JSON text writer (RFC 8259) for answers too big to build as a
 * jansson tree first — a page of emails is fifty objects with their bodies,
 * and the tree, its string copies and the dump cost more than the query.
 * Strings are escaped as jansson's dump escapes them; bytes that are not
 * UTF-8 become U+FFFD instead of failing the whole answer.  A writer that
 * ran out of memory remembers it: jsonw_finish then returns NULL. */
#ifndef JSONW_H
#define JSONW_H

#include <stddef.h>
#include <string.h>

struct jsonw {
    char *buf;
    size_t len, cap;
    int failed;
};

/* Starts an empty text with room for cap bytes (grows as needed). */
void jsonw_init(struct jsonw *w, size_t cap);
/* Appends text as it is (JSON syntax the caller wrote). */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);
/* Inline so that a literal's length is known when compiling (no strlen). */
static inline void jsonw_lit(struct jsonw *w, const char *s)
{
    jsonw_raw(w, s, strlen(s));
}
/* Appends s as a JSON string, quotes included. */
void jsonw_str(struct jsonw *w, const char *s);
/* Appends a number: an integer, or a real as jansson prints it (%.17g). */
void jsonw_int(struct jsonw *w, long long v);
void jsonw_real(struct jsonw *w, double v);
/* The NUL-terminated text (caller frees), or NULL if anything failed. */
char *jsonw_finish(struct jsonw *w);

#endif
