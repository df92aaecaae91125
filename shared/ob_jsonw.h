/* ob_jsonw: a JSON text writer (RFC 8259) for answers too big or too
 * frequent to build as a jansson tree first — a page of emails is fifty
 * objects with their bodies, syncd's status reply and the sync.sock request
 * line go out on every status call, and the tree, its string copies and the
 * dump cost more than the work around them.
 *
 * Strings are escaped as jansson's dump escapes them; bytes that are not
 * UTF-8 (RFC 3629) become U+FFFD instead of failing the whole text, so what
 * is written always parses.  The buffer grows up to a ceiling set at
 * creation.  A writer that ran out of memory or passed its ceiling
 * remembers it (failed; a caller may set it too, for a part it could not
 * produce): ob_jsonw_finish then returns NULL. */
#ifndef OB_JSONW_H
#define OB_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ob_jsonw {
    char *buf;
    size_t len, cap, max;
    int failed;
};

/* Starts an empty text with room for cap bytes; it grows as needed up to
 * max bytes (SIZE_MAX: no ceiling but memory). */
void ob_jsonw_init(struct ob_jsonw *w, size_t cap, size_t max);
/* Appends text as it is (JSON syntax the caller wrote). */
void ob_jsonw_raw(struct ob_jsonw *w, const char *s, size_t n);
/* Inline so that a literal's length is known when compiling (no strlen). */
static inline void ob_jsonw_lit(struct ob_jsonw *w, const char *s)
{
    ob_jsonw_raw(w, s, strlen(s));
}
/* Appends s as a JSON string, quotes included. */
void ob_jsonw_str(struct ob_jsonw *w, const char *s);
/* Appends a number: an integer, or a real as jansson prints it (%.17g). */
void ob_jsonw_int(struct ob_jsonw *w, long long v);
void ob_jsonw_real(struct ob_jsonw *w, double v);
/* The NUL-terminated text (caller frees) and its length in *len (len may
 * be NULL), or NULL if anything failed (the buffer is freed either way). */
char *ob_jsonw_finish(struct ob_jsonw *w, size_t *len);

#endif
