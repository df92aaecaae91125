/* mime_cte: the body decoders of RFC 2045 §6.7 (quoted-printable) and
 * §6.8 (base64), as lenient as mail needs and in one pass each.
 *
 * They replace libetpan's mailmime_part_parse() for bodies: it appended
 * to a growing string per line and per escape, ~100,000 instructions for a
 * 3 KB part, the largest single cost of decoding such mail.
 *
 * Both never fail: what does not decode is kept (quoted-printable) or
 * skipped (base64), as mail readers do, and reported with a return flag.
 * out must have room for n bytes (neither decoding ever grows). */
#ifndef ONEBOX_MIME_CTE_H
#define ONEBOX_MIME_CTE_H

#include <stddef.h>

/* Quoted-printable: "=XX" (either case) is the byte 0xXX; "=" then
 * optional blanks then a line end (CRLF or LF) or the end of input is a
 * soft line break and goes; any other "=" is kept as it is.  Everything
 * else, line ends included, is copied.  Returns the decoded length; *bad
 * is set to 1 when a stray "=" was kept, else left alone. */
size_t mime_cte_qp(const char *in, size_t n, char *out, int *bad);

/* Base64: the alphabet's characters are decoded in fours; whitespace and
 * other characters outside it are skipped.  "=" ends a group early (and
 * decoding goes on after it, for joined chunks): a group of 2 or 3
 * characters gives 1 or 2 bytes, a lone character is dropped, as is one
 * at the end.  Returns the decoded length; *bad is set to 1 when something
 * other than whitespace was skipped or dropped, else left alone. */
size_t mime_cte_b64(const char *in, size_t n, char *out, int *bad);

#endif
