/* ascii_run: the length of the leading run of ASCII bytes of a text, eight
 * bytes a step — the fast path of the text walkers that only need to stop
 * at a byte >= 0x80 (categorize's fold, mime_decode's UTF-8 checks). */
#ifndef ASCII_RUN_H
#define ASCII_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length of the leading run of ASCII bytes of p[0..n). */
static inline size_t ascii_run(const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, u + i, 8);   /* an unaligned load without UB */
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < n && u[i] < 0x80)
		i++;
	return i;
}

#endif
