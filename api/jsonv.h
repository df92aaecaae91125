/* jsonv: checks that a text is exactly one well-formed JSON value (RFC 8259:
 * the grammar of §2-§7, strings in UTF-8 per RFC 3629) without building
 * anything, so that a peer's JSON can be passed on as it is — syncd's
 * status array goes into the REST answer without a parse tree and a dump. */
#ifndef JSONV_H
#define JSONV_H

#include <stddef.h>

#define JSONV_DEPTH_MAX 32   /* deeper nesting is refused, not recursed into */

/* 1 if s[0..n) is one JSON value with optional surrounding whitespace,
 * else 0.  s need not be NUL-terminated. */
int jsonv_valid(const char *s, size_t n);

#endif
