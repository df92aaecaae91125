/* test_cat_match.c — tests of sync/cat_match.c, the categorizer's
 * multi-pattern matcher: overlapping patterns, an occurrence whose
 * boundaries fail followed by one that passes, CJK, prefixes, texts across
 * the scan's internal blocks, empty texts, and a randomized comparison with
 * a plain memmem() search (what categorize.c did per rule before).
 */
#include "../unit.h"
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../sync/cat_match.h"

struct pat {
	const char *s;
	int rb;
};

/* Builds a matcher of pats (id = index, kinds 1), scans text with kind 1
 * into hit[]. Returns 0, or -1 if the matcher could not be built. */
static int scan(const struct pat *pats, size_t n, const char *text, uint8_t *hit)
{
	struct cat_match *m = cat_match_new();
	int rc = -1;

	memset(hit, 0, n);
	if (!m)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cat_match_add(m, pats[i].s, strlen(pats[i].s), pats[i].rb, (unsigned)i, 1) < 0)
			goto out;
	if (cat_match_build(m) < 0)
		goto out;
	cat_match_scan(m, text, strlen(text), 1, hit);
	rc = 0;
out:
	cat_match_free(m);
	return rc;
}

static void test_overlaps(void)
{
	/* CJK needs no boundary: every overlapping phrase is found. */
	static const struct pat cjk[] = { { "会议", 0 }, { "议时", 0 }, { "会议时间", 0 },
	                                  { "时间表", 0 } };
	uint8_t hit[8];

	CU_ASSERT_EQUAL(scan(cjk, 4, "明天的会议时间", hit), 0);
	CU_ASSERT(hit[0] && hit[1] && hit[2]);
	CU_ASSERT(!hit[3]);
	/* One pattern the prefix of another, both whole words. */
	static const struct pat words[] = { { "not", 1 }, { "not interested", 1 },
	                                     { "interested", 1 }, { "interest", 1 } };
	CU_ASSERT_EQUAL(scan(words, 4, "i am not interested.", hit), 0);
	CU_ASSERT(hit[0] && hit[1] && hit[2]);
	CU_ASSERT(!hit[3]);
	/* A pattern that overlaps itself. */
	static const struct pat self[] = { { "ha ha", 1 } };
	CU_ASSERT_EQUAL(scan(self, 1, "ha ha ha", hit), 0);
	CU_ASSERT(hit[0]);
}

static void test_boundaries(void)
{
	static const struct pat cat[] = { { "cat", 1 } };
	uint8_t hit[2];

	/* The first occurrence fails its left, then its right boundary; a
	 * later one that passes still counts. */
	CU_ASSERT_EQUAL(scan(cat, 1, "concat cat", hit), 0);
	CU_ASSERT(hit[0]);
	CU_ASSERT_EQUAL(scan(cat, 1, "cats, cat!", hit), 0);
	CU_ASSERT(hit[0]);
	CU_ASSERT_EQUAL(scan(cat, 1, "concat cats bobcat", hit), 0);
	CU_ASSERT(!hit[0]);
	/* Text edges are boundaries; invalid UTF-8 and punctuation too. */
	CU_ASSERT_EQUAL(scan(cat, 1, "cat", hit), 0);
	CU_ASSERT(hit[0]);
	CU_ASSERT_EQUAL(scan(cat, 1, "\xff" "cat-", hit), 0);
	CU_ASSERT(hit[0]);
	/* Non-ASCII letters are word code points. */
	CU_ASSERT_EQUAL(scan(cat, 1, "\xc3\xa9" "cat", hit), 0);
	CU_ASSERT(!hit[0]);
	static const struct pat da[] = { { "да", 1 } };
	CU_ASSERT_EQUAL(scan(da, 1, "когда", hit), 0);
	CU_ASSERT(!hit[0]);
	CU_ASSERT_EQUAL(scan(da, 1, "когда да", hit), 0);
	CU_ASSERT(hit[0]);
	/* A pattern starting with a non-word code point needs no left
	 * boundary; one starting with a space is found too. */
	static const struct pat pct[] = { { "% off", 1 }, { " ab", 1 } };
	CU_ASSERT_EQUAL(scan(pct, 2, "50% off, x ab", hit), 0);
	CU_ASSERT(hit[0] && hit[1]);
}

static void test_prefix(void)
{
	static const struct pat p[] = { { "win", 0 }, { "win", 1 }, { "winner", 1 } };
	uint8_t hit[3];

	CU_ASSERT_EQUAL(scan(p, 3, "you are a winner", hit), 0);
	CU_ASSERT(hit[0] && !hit[1] && hit[2]);
	CU_ASSERT_EQUAL(scan(p, 3, "twin winners", hit), 0);
	CU_ASSERT(hit[0] && !hit[1] && !hit[2]);
}

static void test_empty_and_kinds(void)
{
	struct cat_match *m = cat_match_new();
	uint8_t hit[4] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(cat_match_add(m, "a\0b", 3, 1, 0, 1), -1); /* NUL refused */
	CU_ASSERT_EQUAL(cat_match_add(m, "", 0, 1, 0, 1), -1);
	CU_ASSERT_EQUAL(cat_match_add(m, "hello", 5, 1, 0, 1), 0);
	CU_ASSERT_EQUAL(cat_match_add(m, "hello", 5, 1, 1, 2), 0);
	CU_ASSERT_EQUAL(cat_match_add(m, "world", 5, 1, 2, 3), 0);
	CU_ASSERT_EQUAL(cat_match_build(m), 0);
	CU_ASSERT(cat_match_bytes(m) > 0);
	cat_match_scan(m, "", 0, 1, hit);
	cat_match_scan(m, NULL, 0, 1, hit);
	CU_ASSERT(!hit[0] && !hit[1] && !hit[2]);
	/* A scan marks only the ids added with its kind, with its bit. */
	cat_match_scan(m, "hello world", 11, 1, hit);
	CU_ASSERT_EQUAL(hit[0], 1);
	CU_ASSERT_EQUAL(hit[1], 0);
	CU_ASSERT_EQUAL(hit[2], 1);
	cat_match_scan(m, "hello world", 11, 2, hit);
	CU_ASSERT_EQUAL(hit[1], 2);
	CU_ASSERT_EQUAL(hit[2], 3);
	cat_match_free(m);
	cat_match_free(NULL);
}

/* Past its 16-bit state ids the matcher refuses a pattern with E2BIG and
 * stays usable, so categorize.c can search for that one alone. */
static void test_too_many(void)
{
	struct cat_match *m = cat_match_new();
	char pat[16];
	unsigned n = 0;
	uint8_t hit[2] = { 0 };
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(cat_match_add(m, "first", 5, 1, 0, 1), 0);
	do {
		/* "z" and a counter in base 26, least significant letter
		 * first: each pattern parts from the others within a few
		 * bytes, so each takes some ten new nodes. */
		unsigned v = n++;
		pat[0] = 'z';
		for (int j = 1; j < 12; j++, v /= 26)
			pat[j] = (char)('a' + v % 26);
		pat[12] = '\0';
		rc = cat_match_add(m, pat, 12, 1, 1, 1);
	} while (rc == 0 && n < 100000);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(errno, E2BIG);
	CU_ASSERT(n > 4000);
	CU_ASSERT_EQUAL(cat_match_build(m), 0);
	CU_ASSERT_EQUAL(cat_match_add(m, "late", 4, 1, 1, 1), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	cat_match_scan(m, "the first one", 13, 1, hit);
	CU_ASSERT(hit[0] && !hit[1]);
	cat_match_free(m);
}

/* Occurrences at every offset of a long text: across the 64-byte chunks
 * and the blocks the scan sorts starts in, and more of them than it walks
 * at once. */
static void test_long_text(void)
{
	static const struct pat p[] = { { "meeting", 1 }, { "会议", 0 }, { "ok", 1 } };
	size_t n = 5000;
	char *t = malloc(n + 1);
	uint8_t hit[3];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t at = 0; at + 8 < n; at += 61) {
		memset(t, 'x', n);
		t[n] = '\0';
		t[at] = ' ';
		memcpy(t + at + 1, "meeting", 7);
		if (at + 9 < n)
			t[at + 8] = ' ';
		CU_ASSERT_EQUAL(scan(p, 3, t, hit), 0);
		CU_ASSERT(hit[0]);
		CU_ASSERT(!hit[1] && !hit[2]);
	}
	for (size_t i = 0; i < n; i++)
		t[i] = "ok "[i % 3];
	t[n] = '\0';
	CU_ASSERT_EQUAL(scan(p, 3, t, hit), 0);
	CU_ASSERT(hit[2] && !hit[0]);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Randomized: the matcher against one memmem() search per pattern. */

static int ref_match(const char *pat, int rb, const char *t, size_t tn)
{
	size_t plen = strlen(pat), k;
	const char *p = t, *end = t + tn;
	int lb = cat_match_is_word_cp(cat_match_u8_next((const unsigned char *)pat, plen, &k));

	while (p < end && (p = memmem(p, (size_t)(end - p), pat, plen)) != NULL) {
		if ((!lb || !cat_match_is_word_cp(cat_match_cp_before(t, p))) &&
		    (!rb || !cat_match_is_word_cp(cat_match_cp_at(p + plen, end))))
			return 1;
		p++;
	}
	return 0;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void test_random_against_memmem(void)
{
	/* The last TEXT_ONLY are not valid UTF-8, so only texts get them: a
	 * stray byte, and U+1000 (a word code point) spelt in four bytes. */
	enum { TEXT_ONLY = 2 };
	static const char *const alpha[] = {
		"a", "b", "a", "b", " ", "-", "%", "é", "会", "议", "и", "1", "'",
		"\xe2\xb0\x80", "\xe2\x80\x99", "\xe3\x81\x82", "\xf0\x9f\x98\x80",
		"\xff", "\xf0\x81\x80\x80",
	};
	char pats[40][64], text[2200];
	unsigned bad = 0, checked = 0;

	for (int set = 0; set < 300; set++) {
		struct cat_match *m = cat_match_new();
		int rb[40];
		unsigned np = 1 + rnd(40);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		for (unsigned i = 0; i < np; i++) {
			pats[i][0] = '\0';
			for (unsigned j = 1 + rnd(6); j > 0; j--)
				strcat(pats[i], alpha[rnd(sizeof alpha / sizeof alpha[0] - TEXT_ONLY)]);
			rb[i] = (int)rnd(2);
			CU_ASSERT_EQUAL(cat_match_add(m, pats[i], strlen(pats[i]), rb[i], i, 1), 0);
		}
		CU_ASSERT_EQUAL_FATAL(cat_match_build(m), 0);
		for (int msg = 0; msg < 30; msg++) {
			uint8_t hit[40] = { 0 };
			size_t tn = 0, want = rnd(8) == 0 ? 1500 + rnd(500) : rnd(150);
			while (tn < want) {
				const char *piece = rnd(3) == 0 ? pats[rnd(np)]
				                                : alpha[rnd(sizeof alpha / sizeof alpha[0])];
				size_t pl = strlen(piece);
				memcpy(text + tn, piece, pl);
				tn += pl;
			}
			text[tn] = '\0';
			cat_match_scan(m, text, tn, 1, hit);
			for (unsigned i = 0; i < np; i++) {
				checked++;
				if (!!hit[i] != ref_match(pats[i], rb[i], text, tn) && bad++ < 5)
					printf("\n  mismatch: pattern '%s' rb=%d in '%.80s'\n", pats[i],
					       rb[i], text);
			}
		}
		cat_match_free(m);
	}
	printf("\n  %u pattern/text pairs, %u mismatches\n", checked, bad);
	CU_ASSERT_EQUAL(bad, 0);
}

static const struct unit_case cases[] = {
	{ "overlapping patterns all found", test_overlaps },
	{ "a failed boundary does not hide a later occurrence", test_boundaries },
	{ "prefix patterns have no right boundary", test_prefix },
	{ "empty texts, NUL patterns refused, kinds", test_empty_and_kinds },
	{ "past 60000 trie nodes a pattern is refused, the rest works", test_too_many },
	{ "occurrences at every offset of a long text", test_long_text },
	{ "same hits as one memmem() search per pattern", test_random_against_memmem },
	{ NULL, NULL },
};

UNIT_MAIN("sync cat_match", cases)
