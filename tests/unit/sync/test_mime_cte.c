/* test_mime_cte.c — tests of sync/mime_cte.c, the quoted-printable and
 * base64 body decoders: RFC 2045 and RFC 4648 vectors, soft line breaks,
 * stray "=" and garbage, joined base64 chunks, random round trips against
 * an encoder, and random garbage into buffers of exactly the input's size
 * (ASan sees any write past them).
 */
#include "../unit.h"
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../shared/ob_b64.h"
#include "../../../sync/mime_cte.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

/* Decodes s with f into a buffer of exactly strlen(s) bytes and checks the
 * result and the bad flag. */
static void check(size_t (*f)(const char *, size_t, char *, int *), const char *s,
                  const char *want, size_t want_len, int want_bad)
{
	size_t n = strlen(s);
	char *out = malloc(n ? n : 1);
	int bad = 0;
	CU_ASSERT_FATAL(out != NULL);
	size_t o = f(s, n, out, &bad);
	CU_ASSERT_EQUAL(o, want_len);
	if (o == want_len)
		CU_ASSERT(memcmp(out, want, o) == 0);
	CU_ASSERT_EQUAL(bad, want_bad);
	if (o != want_len || memcmp(out, want, want_len) != 0 || bad != want_bad)
		fprintf(stderr, "decoding [%s]: got %zu bytes [%.*s] bad=%d\n", s, o, (int)o, out, bad);
	free(out);
}

static void qp(const char *s, const char *want, int bad)
{
	check(mime_cte_qp, s, want, strlen(want), bad);
}

static void b64(const char *s, const char *want, int bad)
{
	check(mime_cte_b64, s, want, strlen(want), bad);
}

static void test_qp_vectors(void)
{
	qp("", "", 0);
	qp("plain text, no escapes\r\n", "plain text, no escapes\r\n", 0);
	qp("a=3Db", "a=b", 0);
	qp("caf=C3=A9 d=c3=a9j=C3=A0", "caf\xc3\xa9 d\xc3\xa9j\xc3\xa0", 0);
	check(mime_cte_qp, "=00=FF", "\x00\xff", 2, 0);
	/* Soft line breaks: CRLF, LF, blanks before the line end, at the end. */
	qp("long li=\r\nne", "long line", 0);
	qp("long li=\nne", "long line", 0);
	qp("long li= \t\r\nne", "long line", 0);
	qp("ends here=", "ends here", 0);
	qp("ends here=  ", "ends here", 0);
	qp("ends here=\r", "ends here", 0);
	/* Hard line ends stay. */
	qp("one\r\ntwo\nthree", "one\r\ntwo\nthree", 0);
	/* Stray "=" is kept, and flagged. */
	qp("a=Zb", "a=Zb", 1);
	qp("x = y", "x = y", 1);
	qp("tail=4", "tail=4", 1);
	qp("==41", "=A", 1);
}

static void test_b64_vectors(void)
{
	/* RFC 4648 §10. */
	b64("", "", 0);
	b64("Zg==", "f", 0);
	b64("Zm8=", "fo", 0);
	b64("Zm9v", "foo", 0);
	b64("Zm9vYg==", "foob", 0);
	b64("Zm9vYmE=", "fooba", 0);
	b64("Zm9vYmFy", "foobar", 0);
	/* Line breaks and blanks anywhere are skipped without a flag. */
	b64("Zm9v\r\nYmFy\r\n", "foobar", 0);
	b64(" Zm 9v\tYm\nFy ", "foobar", 0);
	/* Unpadded ends. */
	b64("Zm9vYg", "foob", 0);
	b64("Zm9vYmE", "fooba", 0);
	/* Joined chunks, each padded. */
	b64("Zg==Zm8=Zm9v", "ffofoo", 0);
	/* Garbage is skipped and flagged; a lone last character dropped. */
	b64("Zm9v!YmFy", "foobar", 1);
	b64("Zm9vY", "foo", 1);
}

/* Quoted-printable encoding of in[0..n) into out (room 3n + 3n/70 * 3 + 4),
 * with soft line breaks: what a mailer would send. */
static size_t qp_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = in[i];
		if (col >= 70) {
			memcpy(out + o, rnd() % 2 ? "=\r\n" : "=\n", 3);
			o += out[o + 1] == '\r' ? 3 : 2;
			col = 0;
		}
		if (c == '=' || c < 0x20 || c >= 0x7f) {
			out[o++] = '=';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
			col += 3;
		} else {
			out[o++] = (char)c;
			col++;
		}
	}
	return o;
}

static void test_round_trips(void)
{
	enum { MAXN = 3000 };
	unsigned char *src = malloc(MAXN);
	char *enc = malloc(MAXN * 4 + 64), *wrapped = malloc(MAXN * 4 + 64), *dec;
	CU_ASSERT_FATAL(src && enc && wrapped);
	for (int t = 0; t < 3000; t++) {
		size_t n = rnd() % MAXN;
		for (size_t i = 0; i < n; i++)
			src[i] = t % 3 ? (unsigned char)rnd() : (unsigned char)"ab =\r\n\xc3\xa9"[rnd() % 8];

		/* base64 as mail carries it: lines of 76 with CRLF. */
		long el = ob_b64_encode(src, n, enc, MAXN * 4 + 64);
		CU_ASSERT_FATAL(el >= 0);
		size_t wl = 0;
		for (long i = 0; i < el; i++) {
			if (i && i % 76 == 0) {
				wrapped[wl++] = '\r';
				wrapped[wl++] = '\n';
			}
			wrapped[wl++] = enc[i];
		}
		dec = malloc(wl + 1);
		CU_ASSERT_FATAL(dec != NULL);
		int bad = 0;
		size_t dl = mime_cte_b64(wrapped, wl, dec, &bad);
		CU_ASSERT(dl == n && memcmp(dec, src, n) == 0 && !bad);
		free(dec);

		size_t ql = qp_encode(src, n, enc);
		dec = malloc(ql + 1);
		CU_ASSERT_FATAL(dec != NULL);
		bad = 0;
		dl = mime_cte_qp(enc, ql, dec, &bad);
		CU_ASSERT(dl == n && memcmp(dec, src, n) == 0 && !bad);
		free(dec);
	}
	free(src);
	free(enc);
	free(wrapped);
}

/* Hostile input: any bytes, the output buffer exactly as long as the input
 * (the documented room); ASan reports a write past it. */
static void test_garbage_stays_in_bounds(void)
{
	const char *al = "=AZaz09+/\r\n \t!\x80\xff";
	size_t an = strlen(al);
	for (int t = 0; t < 50000; t++) {
		size_t n = rnd() % 40;
		char *in = malloc(n + 1), *out = malloc(n ? n : 1);
		CU_ASSERT_FATAL(in && out);
		for (size_t i = 0; i < n; i++)
			in[i] = t % 2 ? (char)rnd() : al[rnd() % an];
		int bad = 0;
		CU_ASSERT(mime_cte_qp(in, n, out, &bad) <= n);
		CU_ASSERT(mime_cte_b64(in, n, out, &bad) <= n);
		free(in);
		free(out);
	}
}

static const struct unit_case cases[] = {
	{ "quoted-printable vectors", test_qp_vectors },
	{ "base64 vectors", test_b64_vectors },
	{ "random round trips through an encoder", test_round_trips },
	{ "random garbage stays in bounds", test_garbage_stays_in_bounds },
	{ NULL, NULL },
};

UNIT_MAIN("sync mime_cte", cases)
