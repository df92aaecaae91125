/* cat_match.h — the categorizer's multi-pattern matcher: one pass over a
 * folded text finds every occurrence of every rule pattern that starts and
 * ends on a word boundary, so scoring costs one walk of the text instead of
 * one search per rule.
 *
 * Word boundaries are those of categorize.c (the inline helpers below are
 * the one definition both use): a pattern whose first code point is a word
 * code point must not follow one; a pattern with a right boundary must not
 * be followed by one. Code points that are not word code points (CJK,
 * punctuation) need no boundary, which is how CJK phrases match inside
 * unspaced text.
 *
 * A pattern may occur several times: an occurrence whose boundaries fail
 * does not hide a later one that passes.
 */
#ifndef ONEBOX_CAT_MATCH_H
#define ONEBOX_CAT_MATCH_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at s (n bytes readable, n >= 1) and sets *k to
 * its length; an invalid or truncated sequence is U+FFFD of length 1. */
static inline uint32_t cat_match_u8_next(const unsigned char *s, size_t n, size_t *k)
{
	unsigned char c = s[0];
	uint32_t cp;
	size_t need;

	if (c < 0x80) {
		*k = 1;
		return c;
	}
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
	if (need == 0 || need > n) {
		*k = 1;
		return 0xFFFD;
	}
	cp = c & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*k = 1;
			return 0xFFFD;
		}
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*k = need;
	return cp;
}

/* A letter or digit of a script that separates words with spaces. */
static inline int cat_match_is_word_cp(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
	if (cp < 0xC0 || (cp >= 0x2000 && cp <= 0x2BFF))
		return 0; /* Latin-1 punctuation, general punctuation, symbols */
	return cp < 0x2E80;
}

/* The code point that ends right before p in base[..p); ' ' at the start. */
static inline uint32_t cat_match_cp_before(const char *base, const char *p)
{
	const char *q = p;
	size_t k;

	if (q == base)
		return ' ';
	do
		q--;
	while (q > base && ((unsigned char)*q & 0xC0) == 0x80);
	return cat_match_u8_next((const unsigned char *)q, (size_t)(p - q), &k);
}

/* The code point at p of a text ending at end; ' ' at the end. */
static inline uint32_t cat_match_cp_at(const char *p, const char *end)
{
	size_t k;

	if (p >= end)
		return ' ';
	return cat_match_u8_next((const unsigned char *)p, (size_t)(end - p), &k);
}

struct cat_match;

/* An empty matcher to add patterns to. NULL when out of memory. */
struct cat_match *cat_match_new(void);

/* Adds pat[0..plen) (valid UTF-8 without NUL, plen >= 1). A hit sets bit
 * kind of hit[id] in cat_match_scan() for each kind in kinds (a bit mask of
 * at most 8 bits); rb asks for a word boundary after the pattern. The left
 * boundary follows from the first code point (see above). Several patterns
 * may share an id, and one pattern may be added under several ids.
 * Returns 0, or -1 with errno: ENOMEM, EINVAL (a NUL in pat, or after
 * cat_match_build()), or E2BIG when the pattern would take the trie past
 * 60000 nodes (16-bit state ids): the matcher is then as it was, and the
 * caller can search for that pattern some other way. */
int cat_match_add(struct cat_match *m, const char *pat, size_t plen, int rb, unsigned id,
                  unsigned kinds);

/* Compiles the added patterns; no cat_match_add() afterwards. Returns 0,
 * or -1 with errno ENOMEM, or E2BIG in the unlikely case that placing the
 * nodes needs more than 65534 state ids. */
int cat_match_build(struct cat_match *m);

/* Scans t[0..tn) once and, for every pattern added with kind among its
 * kinds that occurs with its boundaries, ORs kind into hit[id]. t[tn] must
 * be a NUL (the walks stop on it instead of testing the length at every
 * byte); hit must have room for the largest id. A built matcher is
 * read-only: any number of threads may scan with it at once. */
void cat_match_scan(const struct cat_match *m, const char *t, size_t tn, unsigned kind,
                    uint8_t *hit);

/* Bytes of the compiled automaton that a scan reads. */
size_t cat_match_bytes(const struct cat_match *m);

/* Accepts NULL. */
void cat_match_free(struct cat_match *m);

#endif
