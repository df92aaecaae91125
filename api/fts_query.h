/* fts_query: turns the q of GET /api/emails/search into an FTS5 MATCH
 * expression (https://sqlite.org/fts5.html §3).  Plain words are each
 * wrapped in double quotes, so punctuation and FTS5 operators in ordinary
 * text ("e-mail", "re: x", "a OR") are matched as text and every word must
 * occur.  A query that uses FTS5 syntax explicitly — a double quote,
 * parentheses, a '*' prefix marker, '^', braces, or AND/OR/NOT/NEAR in
 * capitals — is passed through as written, and a syntax error there is the
 * user's (400).  The expression is always bound as a parameter, never
 * spliced into SQL. */
#ifndef FTS_QUERY_H
#define FTS_QUERY_H

#include <stddef.h>

#define FTS_QUERY_MAX 256     /* bytes of q */
#define FTS_QUERY_TERMS 32    /* words of a plain query */

/* Writes the MATCH expression for q into out (cap bytes).  Returns 1 for an
 * explicit-syntax query (passed through), 0 for a plain one (quoted), -1 if
 * q is empty, too long, has too many words or control characters. */
int fts_query_build(const char *q, char *out, size_t cap);

#endif
