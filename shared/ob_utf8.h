/* ob_utf8: the length of one well-formed UTF-8 sequence (RFC 3629 §4: no
 * overlong forms, no surrogates, nothing past U+10FFFF).  Inline: the JSON
 * writer, the API's JSON check and syncd's MIME decoder call it per
 * non-ASCII character. */
#ifndef OB_UTF8_H
#define OB_UTF8_H

#include <stddef.h>

/* The length (1-4) of the sequence at s, of which n bytes may be read, or 0
 * when it is not well-formed.  On a NUL-terminated string n may be
 * SIZE_MAX: no check accepts a NUL as a continuation byte, so the reading
 * stops at it. */
static inline size_t ob_utf8_seq(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
               (s[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

#endif
