/* mime_decode.c — decode one raw Internet message into UTF-8 fields and a
 * readable body (RFC 5322, RFC 2045-2047, RFC 2046; signals of RFC 2369,
 * RFC 2919, RFC 3834).
 *
 * libetpan supplies the grammars: encoded words (mailmime_encoded_phrase_parse),
 * address lists (but for the plainest, which mime_addr.c reads), dates,
 * Content-Type values and iconv-based charset conversion (charconv_buffer).
 * Bodies in quoted-printable and base64 go through mime_cte.c, which does
 * in one pass what mailmime_part_parse() did at ~30 instructions a byte.
 * The message structure is walked here rather than by mailmime_parse(),
 * because mailmime_parse() has no cap on header count, part count or nesting
 * and allocates a node for every header line it meets; this walker counts
 * every field, part and level against struct mime_limits before it keeps it.
 *
 * Two phases: build a bounded tree of parts (slices of the raw buffer, no
 * copies), then pick and decode the text: in multipart/alternative the child
 * holding text/plain wins over one holding text/html; other multiparts
 * contribute every inline text part in order; embedded messages
 * (message/rfc822) are read only when nothing else gave text, because
 * auto-replies and bounces quote the original mail there.
 */
#include "mime_decode.h"

#include "ascii_run.h"
#include "mime_addr.h"
#include "mime_cte.h"

#include "ob_utf8.h"

#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIME_HARD_MAX_DEPTH   64
#define MIME_HARD_MAX_HEADERS 100000 /* bounds the per-section field tables */
#define MIME_HARD_MAX_PARTS   100000 /* bounds the part table */
#define MIME_MAX_BOUNDARY   200 /* RFC 2046 says 70; real mailers exceed it */
#define MIME_CHARSET_LEN    48

/* ------------------------------------------------------------------------ */
/* Bounded string builder: a growable buffer with a ceiling set at creation. */

struct sbuf {
	char *p;
	size_t len, cap, max;
	int trunc; /* something was cut at max */
	int oom;
};

static void sb_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

static int sb_reserve(struct sbuf *b, size_t n)
{
	size_t want, ncap;
	char *np;

	if (b->oom)
		return -1;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	np = realloc(b->p, ncap);
	if (!np) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

/* Appends s[0..n); past the ceiling the text is cut on a UTF-8 character
 * boundary and the buffer is marked truncated. */
static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->max) {
		n = b->max - b->len;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		b->trunc = 1;
	}
	if (n == 0 || sb_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_put(b, &c, 1);
}

static char sb_last(const struct sbuf *b)
{
	return b->len ? b->p[b->len - 1] : '\0';
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Hands the text over as a NUL-terminated string (never NULL unless out of
 * memory) and leaves the builder empty. */
static char *sb_take(struct sbuf *b)
{
	char *s;

	if (b->oom) {
		sb_free(b);
		return NULL;
	}
	s = b->p ? b->p : strdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

/* ------------------------------------------------------------------------ */
/* UTF-8 validation and sanitising. */

/* Length of the well-formed UTF-8 sequence at s[0..n) (ob_utf8_seq), or 0,
 * and its code point in *cp. */
static size_t u8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k = ob_utf8_seq(s, n);

	switch (k) {
	case 1:
		*cp = s[0];
		break;
	case 2:
		*cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		break;
	case 3:
		*cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		break;
	case 4:
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
		      ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		break;
	}
	return k;
}

static int has_8bit(const char *s, size_t n)
{
	return ascii_run(s, n) < n;
}

static int u8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = ascii_run(s, n); i < n;) {
		size_t k;
		if (u[i] < 0x80) {
			i += ascii_run(s + i, n - i);
			continue;
		}
		k = u8_seq(u + i, n - i, &cp);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Encodes cp (a valid scalar value) as UTF-8 into t; returns its length. */
static size_t u8_encode(uint32_t cp, char t[4])
{
	if (cp < 0x80) {
		t[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		t[0] = (char)(0xC0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		t[0] = (char)(0xE0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	t[0] = (char)(0xF0 | (cp >> 18));
	t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	t[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static void u8_put_cp(struct sbuf *b, uint32_t cp)
{
	char t[4];

	sb_put(b, t, u8_encode(cp, t));
}

enum san_mode {
	SAN_BODY, /* keep "\n" and "\t", CRLF and CR become "\n" */
	SAN_LINE  /* one line: controls become spaces, runs collapse, trimmed */
};

/* An ASCII byte u8_sanitize() copies unchanged in mode. */
static inline int san_plain(unsigned char c, enum san_mode mode)
{
	if (mode == SAN_LINE)
		return c > 0x20 && c < 0x7F;
	return (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t';
}

/* Appends s[0..n) to out as valid UTF-8: invalid bytes become U+FFFD (and
 * MIME_F_INVALID_UTF8), NUL, other C0/C1 controls, DEL and BOMs are dropped. */
static void u8_sanitize(struct sbuf *out, const char *s, size_t n, enum san_mode mode,
                        unsigned *flags)
{
	const unsigned char *u = (const unsigned char *)s;
	int started = 0, space = 0;

	for (size_t i = 0; i < n && !out->oom;) {
		uint32_t cp;
		size_t k;

		if (san_plain(u[i], mode)) {
			/* A run of characters kept as they are goes in one copy;
			 * printable ASCII is skipped eight bytes at a time. */
			size_t j = i + 1;
			uint64_t lo = (mode == SAN_LINE ? 0x21 : 0x20) * 0x0101010101010101ull;
			for (; j + 8 <= n; j += 8) {
				uint64_t w;
				memcpy(&w, u + j, 8);
				if (((w - lo) & ~w & 0x8080808080808080ull) ||
				    ((w + 0x0101010101010101ull) | w) & 0x8080808080808080ull)
					break;
			}
			while (j < n && san_plain(u[j], mode))
				j++;
			if (space) {
				sb_putc(out, ' ');
				space = 0;
			}
			started = 1;
			sb_put(out, s + i, j - i);
			/* The usual line end, as the CR case below writes it. */
			if (mode == SAN_BODY && j + 1 < n && u[j] == '\r' && u[j + 1] == '\n') {
				sb_putc(out, '\n');
				j += 2;
			}
			i = j;
			continue;
		}
		k = u8_seq(u + i, n - i, &cp);
		if (k == 0) {
			*flags |= MIME_F_INVALID_UTF8;
			cp = 0xFFFD;
			k = 1;
		}
		if (cp == '\r' && mode == SAN_BODY) {
			if (i + 1 < n && u[i + 1] == '\n')
				k = 2;
			cp = '\n';
		}
		if (mode == SAN_LINE && (cp < 0x20 || cp == ' ')) {
			space = started;
			i += k;
			continue;
		}
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp < 0xA0) ||
		    cp == 0xFEFF) {
			i += k;
			continue;
		}
		if (space) {
			sb_putc(out, ' ');
			space = 0;
		}
		started = 1;
		if ((cp == 0xFFFD && k == 1) || cp < 0x80)
			u8_put_cp(out, cp); /* replacement, or CR turned into LF */
		else
			sb_put(out, s + i, k);
		i += k;
	}
}

/* ------------------------------------------------------------------------ */
/* Charsets. */

/* windows-1252 0x80..0x9F; 0 marks the five undefined bytes. */
static const uint16_t cp1252_hi[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static void cp1252_decode(struct sbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && !out->oom; i++) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;

		if (c >= 0x80 && c < 0xA0)
			cp = cp1252_hi[c - 0x80] ? cp1252_hi[c - 0x80] : 0xFFFD;
		u8_put_cp(out, cp);
	}
}

/* Lowercases a charset label into out; "" when it holds characters no
 * charset name has (so it is never handed to iconv). */
static void cs_normalize(const char *in, size_t n, char *out, size_t outsz)
{
	size_t j = 0;

	while (n > 0 && (*in == ' ' || *in == '\t' || *in == '"' || *in == '\'')) {
		in++;
		n--;
	}
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t' || in[n - 1] == '"' ||
	                 in[n - 1] == '\'' || in[n - 1] == ';'))
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':') || j + 1 >= outsz) {
			out[0] = '\0';
			return;
		}
		out[j++] = c;
	}
	out[j] = '\0';
}

static int cs_in(const char *cs, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(cs, *list) == 0)
			return 1;
	return 0;
}

static const char *const cs_ascii[] = {
	"", "us-ascii", "ascii", "ansi_x3.4-1968", "us", "iso646-us", "unknown-8bit",
	"x-unknown", "unknown", "default", "x-user-defined", "charset", NULL,
};
static const char *const cs_utf8[] = { "utf-8", "utf8", "x-utf-8", NULL };
/* Mail labelled Latin-1 is windows-1252 in practice (WHATWG does the same). */
static const char *const cs_1252[] = {
	"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819",
	"windows-1252", "cp1252", "x-cp1252", "iso-8859-1:1987", NULL,
};

/* Labels iconv does not know under the name mailers use, or where a superset
 * decodes the mail that is really sent under that label. */
static const char *cs_alias(const char *cs)
{
	static const char *const map[][2] = {
		{ "ks_c_5601-1987", "cp949" }, { "ks_c_5601", "cp949" },
		{ "x-gbk", "gbk" },            { "gb2312", "gb18030" },
		{ "gbk", "gb18030" },          { "x-sjis", "cp932" },
		{ "shift_jis", "cp932" },      { "shift-jis", "cp932" },
		{ "sjis", "cp932" },           { "x-euc-jp", "euc-jp" },
		{ "unicode-1-1-utf-7", "utf-7" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(cs, map[i][0]) == 0)
			return map[i][1];
	return cs;
}

/* Bytes whose label says nothing useful: ASCII stays ASCII, valid UTF-8 is
 * taken as UTF-8, anything else is read as windows-1252. */
static void text_guess(struct sbuf *out, const char *s, size_t n, enum san_mode mode,
                       unsigned *flags)
{
	struct sbuf t;
	int high = has_8bit(s, n);

	if (!high || u8_valid(s, n)) {
		if (high)
			*flags |= MIME_F_CHARSET_FALLBACK;
		u8_sanitize(out, s, n, mode, flags);
		return;
	}
	*flags |= MIME_F_CHARSET_FALLBACK;
	sb_init(&t, n * 3 + 4);
	cp1252_decode(&t, s, n);
	if (t.oom)
		out->oom = 1;
	else if (t.len)
		u8_sanitize(out, t.p, t.len, mode, flags);
	sb_free(&t);
}

/* Appends s[0..n), in the charset labelled cs (normalised), to out as
 * sanitised UTF-8. */
static void text_to_utf8(struct sbuf *out, const char *cs, const char *s, size_t n,
                         enum san_mode mode, unsigned *flags)
{
	char *res = NULL;
	size_t rlen = 0;
	int r;

	if (n == 0)
		return;
	if (cs_in(cs, cs_ascii)) {
		text_guess(out, s, n, mode, flags);
		return;
	}
	if (cs_in(cs, cs_utf8)) {
		u8_sanitize(out, s, n, mode, flags);
		return;
	}
	if (cs_in(cs, cs_1252)) {
		struct sbuf t;
		sb_init(&t, n * 3 + 4);
		cp1252_decode(&t, s, n);
		if (t.oom)
			out->oom = 1;
		else if (t.len)
			u8_sanitize(out, t.p, t.len, mode, flags);
		sb_free(&t);
		return;
	}
	r = charconv_buffer("utf-8", cs_alias(cs), s, n, &res, &rlen);
	if (r == MAIL_CHARCONV_NO_ERROR) {
		u8_sanitize(out, res, rlen, mode, flags);
		charconv_buffer_free(res);
	} else if (r == MAIL_CHARCONV_ERROR_MEMORY) {
		out->oom = 1;
	} else {
		text_guess(out, s, n, mode, flags);
	}
}

/* ------------------------------------------------------------------------ */
/* Header sections. Fields point into the raw buffer; nothing is copied until
 * a value is needed. */

struct hfield {
	const char *name, *val;
	size_t nlen, vlen; /* vlen spans folded continuation lines */
};

struct hsection {
	struct hfield *f;
	size_t n, max;
};

/* Parses the header section at p[0..n) into hs (at most hs->max fields).
 * Returns the offset where the body starts. *nfields counts every field seen,
 * kept or not. A line that is neither a field nor a continuation ends the
 * section early (the body starts there) and marks the message malformed. */
static size_t hdr_parse(const char *p, size_t n, struct hsection *hs, size_t *nfields,
                        unsigned *flags)
{
	size_t i = 0;
	int in_field = 0;
	struct hfield *cur = NULL;

	hs->n = 0;
	*nfields = 0;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t lend = nl ? (size_t)(nl - p) : n, next = nl ? lend + 1 : n, cend = lend;
		size_t j, k;

		if (cend > i && p[cend - 1] == '\r')
			cend--;
		if (cend == i)
			return next;
		if (p[i] == ' ' || p[i] == '\t') {
			if (cur)
				cur->vlen = cend - (size_t)(cur->val - p);
			else if (!in_field)
				*flags |= MIME_F_MALFORMED;
			i = next;
			continue;
		}
		for (j = i; j < cend && p[j] > 32 && p[j] < 127 && p[j] != ':'; j++)
			;
		for (k = j; k < cend && (p[k] == ' ' || p[k] == '\t'); k++)
			;
		if (j == i || k >= cend || p[k] != ':') {
			*flags |= MIME_F_MALFORMED;
			return i;
		}
		(*nfields)++;
		in_field = 1;
		if (hs->n < hs->max) {
			cur = &hs->f[hs->n++];
			cur->name = p + i;
			cur->nlen = j - i;
			cur->val = p + k + 1;
			cur->vlen = cend - (k + 1);
		} else {
			cur = NULL;
			*flags |= MIME_F_HEADERS_TRUNCATED;
		}
		i = next;
	}
	return n;
}

static const struct hfield *hdr_get(const struct hsection *hs, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < hs->n; i++)
		if (hs->f[i].nlen == nl && strncasecmp(hs->f[i].name, name, nl) == 0)
			return &hs->f[i];
	return NULL;
}

/* The field's value unfolded (CR and LF removed, RFC 5322 §2.2.3; NUL too), trimmed,
 * at most max bytes. Returns a malloc'd NUL-terminated string or NULL when
 * out of memory. */
static char *hdr_unfold(const struct hfield *f, size_t max, size_t *olen, unsigned *flags)
{
	const char *v = f->val;
	size_t n = f->vlen, j = 0;
	char *o;

	while (n > 0 && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')) {
		v++;
		n--;
	}
	o = malloc((n < max ? n : max) + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
			continue; /* NUL too: libetpan's parsers stop at it */
		if (j >= max) {
			*flags |= MIME_F_HEADERS_TRUNCATED;
			break;
		}
		o[j++] = v[i];
	}
	while (j > 0 && (o[j - 1] == ' ' || o[j - 1] == '\t'))
		j--;
	o[j] = '\0';
	*olen = j;
	return o;
}

/* ------------------------------------------------------------------------ */
/* Header field decoders. */

/* One RFC 2047 encoded word "=?charset?E?text?=" found at s. */
struct eword {
	const char *cs, *text;
	size_t cslen, textlen, len; /* len: the whole word */
	char enc;                   /* 'B' or 'Q' */
};

static int eword_at(const char *s, const char *end, struct eword *w)
{
	const char *p = s + 2, *q;

	if (end - s < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (q = p; q < end && *q != '?' && *q > ' ' && *q < 127; q++)
		;
	if (q == p || q + 3 > end || *q != '?' || q[2] != '?')
		return 0;
	w->cs = p;
	w->cslen = (size_t)(q - p);
	w->enc = (char)(q[1] & ~0x20);
	if (w->enc != 'B' && w->enc != 'Q')
		return 0;
	w->text = q + 3;
	for (q = w->text; q + 1 < end && !(q[0] == '?' && q[1] == '='); q++)
		if (*q <= ' ' || *q >= 127)
			return 0;
	if (q + 1 >= end)
		return 0;
	w->textlen = (size_t)(q - w->text);
	w->len = (size_t)(q + 2 - s);
	return 1;
}

static int b64_val(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
	       : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Appends the bytes of base64 text t[0..n) to b (padding and junk skipped). */
static void b64_decode_to(struct sbuf *b, const char *t, size_t n)
{
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64_val(t[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_putc(b, (char)((acc >> bits) & 0xFF));
		}
	}
}

static void b64_encode_to(struct sbuf *b, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
		             (i + 2 < n ? s[i + 2] : 0);
		char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
		              i + 2 < n ? tab[v & 63] : '=' };
		sb_put(b, o, 4);
	}
}

/* Some mailers split one character over two encoded words, which RFC 2047
 * forbids and libetpan then decodes word by word into U+FFFD or '?'. Runs of
 * adjacent words (only whitespace between) with the same charset and
 * encoding are joined into one word first. Returns the rewritten phrase
 * (malloc'd) or NULL when nothing needed joining or memory ran out. */
static char *ewords_join(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	struct sbuf o, raw;
	int joined = 0;

	sb_init(&o, n * 2 + 16);
	sb_init(&raw, n + 16);
	while (p < end) {
		struct eword w, nx;
		const char *q;

		if (!eword_at(p, end, &w)) {
			sb_putc(&o, *p++);
			continue;
		}
		raw.len = 0;
		if (w.enc == 'B')
			b64_decode_to(&raw, w.text, w.textlen);
		else
			sb_put(&raw, w.text, w.textlen);
		p += w.len;
		for (;;) {
			for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
				;
			if (!eword_at(q, end, &nx) || nx.enc != w.enc || nx.cslen != w.cslen ||
			    strncasecmp(nx.cs, w.cs, w.cslen) != 0)
				break;
			if (w.enc == 'B')
				b64_decode_to(&raw, nx.text, nx.textlen);
			else
				sb_put(&raw, nx.text, nx.textlen);
			joined = 1;
			p = q + nx.len;
		}
		sb_put(&o, "=?", 2);
		sb_put(&o, w.cs, w.cslen);
		sb_put(&o, w.enc == 'B' ? "?B?" : "?Q?", 3);
		if (w.enc == 'B')
			b64_encode_to(&o, (const unsigned char *)(raw.p ? raw.p : ""), raw.len);
		else
			sb_put(&o, raw.p ? raw.p : "", raw.len);
		sb_put(&o, "?=", 2);
	}
	sb_free(&raw);
	if (!joined || o.oom || o.trunc) {
		sb_free(&o);
		return NULL;
	}
	return sb_take(&o);
}

/* Appends an RFC 2047 phrase as one line of UTF-8. Raw 8-bit text outside
 * encoded words is taken as UTF-8 when it is valid UTF-8, else windows-1252. */
static void dec_phrase(struct sbuf *out, const char *s, size_t n, unsigned *flags)
{
	const char *def = u8_valid(s, n) ? "utf-8" : "windows-1252";
	size_t idx = 0;
	char *res = NULL, *joined = NULL;

	if (n == 0)
		return;
	if (def[0] == 'u' && !memmem(s, n, "=?", 2)) {
		/* No encoded word in valid UTF-8: libetpan would only split it
		 * into words and join them with single spaces, which
		 * u8_sanitize's SAN_LINE does too, without an iconv per word. */
		u8_sanitize(out, s, n, SAN_LINE, flags);
		return;
	}
	if (memmem(s, n, "=?", 2) && (joined = ewords_join(s, n)) != NULL) {
		s = joined;
		n = strlen(joined);
	}
	if (mailmime_encoded_phrase_parse(def, s, n, &idx, "utf-8", &res) == MAILIMF_NO_ERROR &&
	    res) {
		u8_sanitize(out, res, strlen(res), SAN_LINE, flags);
		if (idx < n) {
			sb_putc(out, ' ');
			text_to_utf8(out, def, s + idx, n - idx, SAN_LINE, flags);
		}
	} else {
		text_to_utf8(out, def, s, n, SAN_LINE, flags);
	}
	free(res);
	free(joined);
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Appends "name <addr>" (or "addr" when name is NULL or empty); first, if
 * still empty, gets the address. */
static void put_mailbox_parts(struct sbuf *out, const char *name, size_t nlen, const char *addr,
                              size_t alen, struct sbuf *first, unsigned *flags)
{
	if (out->len)
		sb_put(out, ", ", 2);
	if (name && nlen) {
		dec_phrase(out, name, nlen, flags);
		sb_put(out, " <", 2);
		u8_sanitize(out, addr, alen, SAN_LINE, flags);
		sb_putc(out, '>');
	} else {
		u8_sanitize(out, addr, alen, SAN_LINE, flags);
	}
	if (first && first->len == 0)
		u8_sanitize(first, addr, alen, SAN_LINE, flags);
}

static void put_mailbox(struct sbuf *out, const struct mailimf_mailbox *mb, struct sbuf *first,
                        unsigned *flags)
{
	if (!mb || !mb->mb_addr_spec)
		return;
	const char *name = mb->mb_display_name;
	put_mailbox_parts(out, name, name ? strlen(name) : 0, mb->mb_addr_spec,
	                  strlen(mb->mb_addr_spec), first, flags);
}

/* Appends a decoded address list ("Name <addr>, addr"). When the list does
 * not parse, the whole value is decoded as a phrase and the first "<...@...>"
 * (or bare word with '@') becomes the first address. */
static void dec_addresses(struct sbuf *out, const char *s, size_t n, struct sbuf *first,
                          unsigned *flags)
{
	struct mailimf_address_list *al = NULL;
	size_t idx = 0;

	if (n == 0)
		return;
	struct mime_addr ma;
	if (mime_addr_simple(s, n, &ma)) {
		put_mailbox_parts(out, ma.name, ma.name_len, ma.addr, ma.addr_len, first, flags);
		return;
	}
	if (mailimf_address_list_parse(s, n, &idx, &al) == MAILIMF_NO_ERROR && al) {
		for (clistiter *it = clist_begin(al->ad_list); it; it = clist_next(it)) {
			const struct mailimf_address *ad = clist_content(it);
			if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
				put_mailbox(out, ad->ad_data.ad_mailbox, first, flags);
			} else if (ad->ad_type == MAILIMF_ADDRESS_GROUP && ad->ad_data.ad_group) {
				const struct mailimf_group *g = ad->ad_data.ad_group;
				if (g->grp_mb_list && clist_count(g->grp_mb_list->mb_list) > 0) {
					for (clistiter *j = clist_begin(g->grp_mb_list->mb_list); j;
					     j = clist_next(j))
						put_mailbox(out, clist_content(j), first, flags);
				} else if (g->grp_display_name) {
					if (out->len)
						sb_put(out, ", ", 2);
					dec_phrase(out, g->grp_display_name,
					           strlen(g->grp_display_name), flags);
					sb_put(out, ":;", 2);
				}
			}
		}
		mailimf_address_list_free(al);
		if (out->len)
			return;
	}
	dec_phrase(out, s, n, flags);
	if (first && first->len == 0) {
		const char *lt = memchr(s, '<', n), *gt = lt ? memchr(lt, '>', n - (size_t)(lt - s)) : NULL;
		if (lt && gt && memchr(lt, '@', (size_t)(gt - lt)))
			u8_sanitize(first, lt + 1, (size_t)(gt - lt - 1), SAN_LINE, flags);
		else if (memchr(s, '@', n) && !memchr(s, ' ', n))
			u8_sanitize(first, s, n, SAN_LINE, flags);
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* Writes the RFC 5322 date s[0..n) as UTC ISO 8601 into out[64].
 * Returns 0, or -1 when it does not parse or names an impossible time. */
static int dec_date(const char *s, size_t n, char out[64])
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0;
	int y, mo, d, h, mi, sec, z, zh, zm, rc = -1;
	int64_t t, days, rem;

	if (n == 0 || mailimf_date_time_parse(s, n, &idx, &dt) != MAILIMF_NO_ERROR || !dt)
		return -1;
	y = dt->dt_year;
	mo = dt->dt_month;
	d = dt->dt_day;
	h = dt->dt_hour;
	mi = dt->dt_min;
	sec = dt->dt_sec;
	z = dt->dt_zone;
	mailimf_date_time_free(dt);
	if (y >= 0 && y < 50) /* RFC 5322 §4.3 obsolete two- and three-digit years */
		y += 2000;
	else if (y >= 50 && y < 1000)
		y += 1900;
	zh = (z < 0 ? -z : z) / 100;
	zm = (z < 0 ? -z : z) % 100;
	if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || zh > 14 || zm > 59)
		return -1;
	if (sec == 60)
		sec = 59;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (z < 0 ? -1 : 1) * (int64_t)(zh * 3600 + zm * 60);
	days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	rem = t - days * 86400;
	civil_from_days(days, &y, &mo, &d);
	if (y >= 0 && y <= 9999) {
		snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", y, mo, d, (int)(rem / 3600),
		         (int)(rem / 60 % 60), (int)(rem % 60));
		rc = 0;
	}
	return rc;
}

/* Appends the first message id of s[0..n) without its angle brackets. */
static void dec_msgid(struct sbuf *out, const char *s, size_t n, unsigned *flags)
{
	const char *lt = memchr(s, '<', n), *b = s, *e = s + n;
	char *t;
	size_t j = 0;

	if (lt) {
		const char *gt = memchr(lt, '>', n - (size_t)(lt - s));
		b = lt + 1;
		e = gt ? gt : s + n;
	} else {
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		for (const char *q = b; q < e; q++)
			if (*q == ' ' || *q == '\t') {
				e = q;
				break;
			}
	}
	t = malloc((size_t)(e - b) + 1);
	if (!t) {
		out->oom = 1;
		return;
	}
	for (const char *q = b; q < e; q++)
		if ((unsigned char)*q > 32 && *q != 127 && *q != '<' && *q != '>')
			t[j++] = *q;
	u8_sanitize(out, t, j, SAN_LINE, flags);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* The part tree. */

struct part {
	char type[32];    /* lowercase: "text", "multipart", ... */
	char subtype[64]; /* lowercase: "plain", "alternative", ... */
	char charset[MIME_CHARSET_LEN];
	char boundary[MIME_MAX_BOUNDARY + 1];
	int cte;          /* MAILMIME_MECHANISM_* */
	int attachment;
	const char *body;
	size_t blen;
	struct part *child, *next;
};

struct ctx {
	const struct mime_limits *lim;
	struct part *parts;
	size_t nparts;
	struct hsection scratch;
	struct sbuf body;
	unsigned flags;
	int oom;
};

static void copy_lower(char *dst, size_t dsz, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < dsz; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

static int is(const struct part *pt, const char *type, const char *subtype)
{
	return strcmp(pt->type, type) == 0 && (!subtype || strcmp(pt->subtype, subtype) == 0);
}

static struct part *part_new(struct ctx *c)
{
	struct part *pt;

	if (c->nparts >= c->lim->max_parts) {
		c->flags |= MIME_F_PARTS_LIMIT;
		return NULL;
	}
	pt = &c->parts[c->nparts++];
	memset(pt, 0, sizeof *pt);
	return pt;
}

static void set_type_from(struct part *pt, const struct mailmime_content *ct)
{
	const struct mailmime_type *t = ct->ct_type;
	const char *name = "application";

	if (t && t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE && t->tp_data.tp_discrete_type) {
		switch (t->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: name = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: name = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: name = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: name = "video"; break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION: name = "application"; break;
		default:
			if (t->tp_data.tp_discrete_type->dt_extension)
				name = t->tp_data.tp_discrete_type->dt_extension;
			break;
		}
	} else if (t && t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type) {
		switch (t->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: name = "message"; break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART: name = "multipart"; break;
		default:
			if (t->tp_data.tp_composite_type->ct_token)
				name = t->tp_data.tp_composite_type->ct_token;
			break;
		}
	}
	copy_lower(pt->type, sizeof pt->type, name);
	copy_lower(pt->subtype, sizeof pt->subtype, ct->ct_subtype ? ct->ct_subtype : "");
	for (clistiter *it = ct->ct_parameters ? clist_begin(ct->ct_parameters) : NULL; it;
	     it = clist_next(it)) {
		const struct mailmime_parameter *pa = clist_content(it);
		size_t vl;
		if (!pa->pa_name || !pa->pa_value)
			continue;
		vl = strlen(pa->pa_value);
		if (strcasecmp(pa->pa_name, "charset") == 0)
			cs_normalize(pa->pa_value, vl, pt->charset, sizeof pt->charset);
		else if (strcasecmp(pa->pa_name, "boundary") == 0 && vl > 0 && vl <= MIME_MAX_BOUNDARY)
			memcpy(pt->boundary, pa->pa_value, vl + 1);
	}
}

/* Reads Content-Type, Content-Transfer-Encoding and Content-Disposition of a
 * part. A missing or unparsable Content-Type means text/plain (RFC 2045 §5.2),
 * or message/rfc822 inside multipart/digest (RFC 2046 §5.1.5). */
static void part_headers(struct ctx *c, struct part *pt, const struct hsection *hs,
                         int in_digest)
{
	const struct hfield *f;
	size_t len;
	char *v;

	strcpy(pt->type, in_digest ? "message" : "text");
	strcpy(pt->subtype, in_digest ? "rfc822" : "plain");
	pt->cte = MAILMIME_MECHANISM_8BIT;
	if ((f = hdr_get(hs, "content-type")) != NULL) {
		if (!(v = hdr_unfold(f, c->lim->max_header_len, &len, &c->flags))) {
			c->oom = 1;
			return;
		}
		struct mailmime_content *ct = NULL;
		size_t idx = 0;
		if (len > 0 && mailmime_content_parse(v, len, &idx, &ct) == MAILIMF_NO_ERROR && ct) {
			set_type_from(pt, ct);
			mailmime_content_free(ct);
		} else {
			c->flags |= MIME_F_MALFORMED;
		}
		free(v);
	}
	if ((f = hdr_get(hs, "content-transfer-encoding")) != NULL) {
		char tok[32];
		if (!(v = hdr_unfold(f, c->lim->max_header_len, &len, &c->flags))) {
			c->oom = 1;
			return;
		}
		cs_normalize(v, len, tok, sizeof tok);
		if (strcmp(tok, "base64") == 0)
			pt->cte = MAILMIME_MECHANISM_BASE64;
		else if (strcmp(tok, "quoted-printable") == 0)
			pt->cte = MAILMIME_MECHANISM_QUOTED_PRINTABLE;
		free(v);
	}
	if ((f = hdr_get(hs, "content-disposition")) != NULL) {
		if (!(v = hdr_unfold(f, c->lim->max_header_len, &len, &c->flags))) {
			c->oom = 1;
			return;
		}
		pt->attachment = strncasecmp(v, "attachment", 10) == 0;
		free(v);
	}
}

static void part_expand(struct ctx *c, struct part *pt, size_t depth);

/* Makes the slice p[0..n) (headers and body) a child of parent. */
static struct part *part_add_child(struct ctx *c, struct part *parent, struct part **tail,
                                   const char *p, size_t n, size_t depth)
{
	struct part *ch = part_new(c);
	size_t off, nf;

	if (!ch)
		return NULL;
	off = hdr_parse(p, n, &c->scratch, &nf, &c->flags);
	part_headers(c, ch, &c->scratch, is(parent, "multipart", "digest"));
	ch->body = p + off;
	ch->blen = n - off;
	if (*tail)
		(*tail)->next = ch;
	else
		parent->child = ch;
	*tail = ch;
	part_expand(c, ch, depth + 1);
	return ch;
}

/* If the line at p is a delimiter "--boundary" or "--boundary--" (RFC 2046
 * §5.1.1: only whitespace may follow), sets *close and *next (the start of the
 * following line) and returns 1. */
static int is_delim(const char *p, const char *end, const char *b, size_t bl, int *close,
                    const char **next)
{
	const char *q;

	if ((size_t)(end - p) < 2 + bl || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl) != 0)
		return 0;
	q = p + 2 + bl;
	*close = 0;
	if (end - q >= 2 && q[0] == '-' && q[1] == '-') {
		*close = 1;
		q += 2;
	}
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	if (q < end && *q != '\n')
		return 0;
	*next = q < end ? q + 1 : end;
	return 1;
}

static void multipart_split(struct ctx *c, struct part *pt, size_t depth)
{
	const char *p = pt->body, *end = pt->body + pt->blen, *start = NULL, *ls = p;
	size_t bl = strlen(pt->boundary);
	struct part *tail = NULL;
	int closed = 0, any = 0;

	while (ls < end && !c->oom) {
		const char *nl, *next;
		int close;

		if (*ls == '-' && is_delim(ls, end, pt->boundary, bl, &close, &next)) {
			if (start) {
				const char *ce = ls;
				if (ce > start && ce[-1] == '\n')
					ce--;
				if (ce > start && ce[-1] == '\r')
					ce--;
				if (!part_add_child(c, pt, &tail, start, (size_t)(ce - start), depth))
					return;
			}
			any = 1;
			if (close) {
				closed = 1;
				break;
			}
			start = ls = next;
			continue;
		}
		nl = memchr(ls, '\n', (size_t)(end - ls));
		if (!nl)
			break;
		ls = nl + 1;
	}
	if (!any) {
		/* No delimiter at all: show the body as text rather than nothing. */
		c->flags |= MIME_F_MALFORMED;
		strcpy(pt->type, "text");
		strcpy(pt->subtype, "plain");
		return;
	}
	if (!closed) {
		c->flags |= MIME_F_MALFORMED;
		if (start && start < end)
			part_add_child(c, pt, &tail, start, (size_t)(end - start), depth);
	}
}

/* Builds the children of pt: the parts of a multipart, or the message inside
 * message/rfc822 (and message/global, RFC 6532). */
static void part_expand(struct ctx *c, struct part *pt, size_t depth)
{
	if (c->oom)
		return;
	if (is(pt, "multipart", NULL)) {
		if (!pt->boundary[0]) {
			c->flags |= MIME_F_MALFORMED;
			strcpy(pt->type, "text");
			strcpy(pt->subtype, "plain");
			return;
		}
		if (depth >= c->lim->max_depth) {
			c->flags |= MIME_F_DEPTH_LIMIT;
			return;
		}
		multipart_split(c, pt, depth);
	} else if ((is(pt, "message", "rfc822") || is(pt, "message", "global")) &&
	           pt->cte == MAILMIME_MECHANISM_8BIT) {
		struct part *tail = NULL;
		if (depth >= c->lim->max_depth) {
			c->flags |= MIME_F_DEPTH_LIMIT;
			return;
		}
		part_add_child(c, pt, &tail, pt->body, pt->blen, depth);
	}
}

/* ------------------------------------------------------------------------ */
/* HTML to text: drops tags, comments, <script>, <style>, <head> and <title>
 * content, turns block elements into line breaks, collapses whitespace the
 * way a browser does and decodes character references. */

static const struct {
	const char *name;
	uint16_t cp;
} html_ents[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "copy", 0xA9 }, { "reg", 0xAE }, { "trade", 0x2122 },
	{ "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201A }, { "ldquo", 0x201C }, { "rdquo", 0x201D },
	{ "bdquo", 0x201E }, { "laquo", 0xAB }, { "raquo", 0xBB }, { "bull", 0x2022 },
	{ "middot", 0xB7 }, { "euro", 0x20AC }, { "pound", 0xA3 }, { "yen", 0xA5 },
	{ "cent", 0xA2 }, { "sect", 0xA7 }, { "deg", 0xB0 }, { "plusmn", 0xB1 },
	{ "times", 0xD7 }, { "divide", 0xF7 }, { "iexcl", 0xA1 }, { "iquest", 0xBF },
	{ "ordf", 0xAA }, { "ordm", 0xBA }, { "para", 0xB6 }, { "shy", 0 }, { "zwnj", 0 },
	{ "zwj", 0 }, { "thinsp", ' ' }, { "ensp", ' ' }, { "emsp", ' ' },
	{ "Agrave", 0xC0 }, { "Aacute", 0xC1 }, { "Acirc", 0xC2 }, { "Atilde", 0xC3 },
	{ "Auml", 0xC4 }, { "Aring", 0xC5 }, { "AElig", 0xC6 }, { "Ccedil", 0xC7 },
	{ "Egrave", 0xC8 }, { "Eacute", 0xC9 }, { "Ecirc", 0xCA }, { "Euml", 0xCB },
	{ "Igrave", 0xCC }, { "Iacute", 0xCD }, { "Icirc", 0xCE }, { "Iuml", 0xCF },
	{ "Ntilde", 0xD1 }, { "Ograve", 0xD2 }, { "Oacute", 0xD3 }, { "Ocirc", 0xD4 },
	{ "Otilde", 0xD5 }, { "Ouml", 0xD6 }, { "Oslash", 0xD8 }, { "Ugrave", 0xD9 },
	{ "Uacute", 0xDA }, { "Ucirc", 0xDB }, { "Uuml", 0xDC }, { "Yacute", 0xDD },
	{ "szlig", 0xDF }, { "agrave", 0xE0 }, { "aacute", 0xE1 }, { "acirc", 0xE2 },
	{ "atilde", 0xE3 }, { "auml", 0xE4 }, { "aring", 0xE5 }, { "aelig", 0xE6 },
	{ "ccedil", 0xE7 }, { "egrave", 0xE8 }, { "eacute", 0xE9 }, { "ecirc", 0xEA },
	{ "euml", 0xEB }, { "igrave", 0xEC }, { "iacute", 0xED }, { "icirc", 0xEE },
	{ "iuml", 0xEF }, { "ntilde", 0xF1 }, { "ograve", 0xF2 }, { "oacute", 0xF3 },
	{ "ocirc", 0xF4 }, { "otilde", 0xF5 }, { "ouml", 0xF6 }, { "oslash", 0xF8 },
	{ "ugrave", 0xF9 }, { "uacute", 0xFA }, { "ucirc", 0xFB }, { "uuml", 0xFC },
	{ "yacute", 0xFD }, { "yuml", 0xFF }, { "OElig", 0x152 }, { "oelig", 0x153 },
};

struct html_out {
	struct sbuf *b;
	int space; /* a collapsed space is pending */
	int nl;    /* line breaks emitted in a row */
};

static void ho_break(struct html_out *o)
{
	o->space = 0;
	if (o->b->len == 0 || o->nl >= 2)
		return;
	while (o->b->len > 0 && o->b->p[o->b->len - 1] == ' ')
		o->b->p[--o->b->len] = '\0';
	sb_putc(o->b, '\n');
	o->nl++;
}

static void ho_text(struct html_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
			o->space = 1;
			continue;
		}
		if (o->space && o->b->len > 0 && o->nl == 0)
			sb_putc(o->b, ' ');
		o->space = 0;
		o->nl = 0;
		sb_put(o->b, s + i, 1);
	}
}

static void ho_cp(struct html_out *o, uint32_t cp)
{
	char t[4];

	if (cp == ' ') {
		o->space = 1;
		return;
	}
	ho_text(o, t, u8_encode(cp, t));
}

/* Decodes the character reference at s[0..n) (s[0] == '&'); returns the bytes
 * consumed, or 0 when it is not one (the '&' is then literal text). */
static size_t html_entity(const char *s, size_t n, uint32_t *cp)
{
	size_t i = 1;

	if (n > 2 && s[1] == '#') {
		uint32_t v = 0;
		int hex = (s[2] == 'x' || s[2] == 'X'), digits = 0;
		for (i = hex ? 3 : 2; i < n && digits < 8; i++, digits++) {
			char ch = s[i];
			int d = (ch >= '0' && ch <= '9') ? ch - '0'
			        : (hex && ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
			        : (hex && ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
			if (d < 0)
				break;
			v = v * (hex ? 16 : 10) + (uint32_t)d;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		else if (v >= 0x80 && v < 0xA0 && cp1252_hi[v - 0x80])
			v = cp1252_hi[v - 0x80]; /* HTML reads &#150; as windows-1252 */
		*cp = v;
		return i;
	}
	while (i < n && i < 10 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	                           (s[i] >= '0' && s[i] <= '9')))
		i++;
	if (i == 1 || i >= n || s[i] != ';')
		return 0;
	for (size_t k = 0; k < sizeof html_ents / sizeof html_ents[0]; k++)
		if (strlen(html_ents[k].name) == i - 1 && memcmp(html_ents[k].name, s + 1, i - 1) == 0) {
			*cp = html_ents[k].cp;
			return i + 1;
		}
	return 0;
}

static const char *memcasemem(const char *h, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);

	for (size_t i = 0; nn <= hn && i <= hn - nn; i++)
		if (strncasecmp(h + i, needle, nn) == 0)
			return h + i;
	return NULL;
}

static int tag_index(const char *name, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return i;
	return -1;
}

static void html_strip(struct sbuf *out, const char *s, size_t n)
{
	static const char *const skip[] = { "script", "style", "head", "title", "template", NULL };
	static const char *const block[] = {
		"br", "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "hr", "section", "article", "header", "footer", "dd", "dt", "dl", "pre",
		"form", "address", "center", "main", "nav", "tbody", "thead", NULL,
	};
	struct html_out o = { out, 0, 0 };
	unsigned no_end = 0; /* skip[] tags whose end tag is known to be absent */
	size_t i = 0;

	for (size_t k = out->len; k > 0 && out->p[k - 1] == '\n' && o.nl < 2; k--)
		o.nl++;

	/* Next '<' and '&' at or after i, cached so that text with none left
	 * is not rescanned to the end for every tag (n when there is none). */
	size_t next_lt = 0, next_amp = 0;
	int first = 1;

	while (i < n && !out->oom && !out->trunc) {
		size_t stop;

		if (next_lt < i || first) {
			const char *q = memchr(s + i, '<', n - i);
			next_lt = q ? (size_t)(q - s) : n;
		}
		if (next_amp < i || first) {
			const char *q = memchr(s + i, '&', n - i);
			next_amp = q ? (size_t)(q - s) : n;
		}
		first = 0;
		stop = next_lt;
		if (next_amp < stop) {
			uint32_t cp = 0;
			size_t a = next_amp, k;
			ho_text(&o, s + i, a - i);
			k = html_entity(s + a, n - a, &cp);
			if (k == 0) {
				ho_text(&o, "&", 1);
				i = a + 1;
			} else {
				if (cp)
					ho_cp(&o, cp);
				i = a + k;
			}
			continue;
		}
		ho_text(&o, s + i, stop - i);
		i = stop;
		if (i >= n)
			break;
		/* s[i] == '<' */
		if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = memcasemem(s + i + 4, n - i - 4, "-->");
			i = e ? (size_t)(e - s) + 3 : n;
			continue;
		}
		if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
			const char *e = memchr(s + i, '>', n - i);
			i = e ? (size_t)(e - s) + 1 : n;
			continue;
		}
		{
			size_t j = i + 1, k = 0;
			int closing = 0;
			char name[16];
			char q = 0;

			if (j < n && s[j] == '/') {
				closing = 1;
				j++;
			}
			if (j >= n || !((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z'))) {
				ho_text(&o, "<", 1);
				i++;
				continue;
			}
			while (j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
			                 (s[j] >= '0' && s[j] <= '9'))) {
				if (k + 1 < sizeof name)
					name[k++] = (char)(s[j] | 0x20);
				j++;
			}
			name[k] = '\0';
			for (; j < n; j++) {
				if (q) {
					if (s[j] == q)
						q = 0;
				} else if ((s[j] == '"' || s[j] == '\'') && s[j - 1] == '=') {
					q = s[j]; /* only attribute values are quoted */
				} else if (s[j] == '>') {
					break;
				}
			}
			i = j < n ? j + 1 : n;
			int si = closing ? -1 : tag_index(name, skip);
			if (si >= 0 && !(j > 0 && j < n && s[j - 1] == '/') && !(no_end & (1u << si))) {
				char endtag[24];
				const char *e;
				snprintf(endtag, sizeof endtag, "</%s", name);
				e = memcasemem(s + i, n - i, endtag);
				if (e) {
					const char *gt = memchr(e, '>', (size_t)(s + n - e));
					i = gt ? (size_t)(gt - s) + 1 : n;
				} else if (si < 2) {
					i = n; /* unterminated script or style: the rest is code */
				} else {
					no_end |= 1u << si;
				}
			} else if (tag_index(name, block) >= 0) {
				ho_break(&o);
			} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0 ||
			           strcmp(name, "img") == 0) {
				o.space = 1;
			}
		}
	}
}

/* The charset named by a <meta> tag near the top of an HTML part. */
static void html_meta_charset(const char *s, size_t n, char *cs, size_t cssz)
{
	const char *p = memcasemem(s, n < 4096 ? n : 4096, "charset=");
	const char *e, *lim = s + (n < 4096 ? n : 4096);

	cs[0] = '\0';
	if (!p)
		return;
	p += 8;
	while (p < lim && (*p == '"' || *p == '\'' || *p == ' '))
		p++;
	for (e = p; e < lim && *e != '"' && *e != '\'' && *e != ' ' && *e != ';' && *e != '>' &&
	            *e != '/';
	     e++)
		;
	cs_normalize(p, (size_t)(e - p), cs, cssz);
}

/* ------------------------------------------------------------------------ */
/* Text selection. */

/* 2 when pt is or holds inline text/plain, 1 when inline text/html, else 0. */
static int text_kind(const struct part *pt)
{
	int best = 0;

	if (is(pt, "multipart", NULL)) {
		for (const struct part *ch = pt->child; ch; ch = ch->next) {
			int k = text_kind(ch);
			if (k > best)
				best = k;
		}
		return best;
	}
	if (pt->attachment)
		return 0;
	return is(pt, "text", "plain") ? 2 : is(pt, "text", "html") ? 1 : 0;
}

static void decode_leaf(struct ctx *c, const struct part *pt, int html)
{
	const struct mime_limits *lim = c->lim;
	size_t room = lim->max_body - c->body.len, in_cap, n, dlen;
	const char *src = pt->body;
	char *dec = NULL, cs[MIME_CHARSET_LEN];
	struct sbuf u;

	if (room == 0) {
		c->flags |= MIME_F_BODY_TRUNCATED;
		return;
	}
	/* Encoded text is at most ~3x its decoded size (quoted-printable), and
	 * HTML shrinks a lot when stripped, so reading a few times the room
	 * left is enough; the rest of a huge part is never decoded. */
	in_cap = (html ? lim->max_body : room) * 4 + 16;
	n = pt->blen < in_cap ? pt->blen : in_cap;
	if (pt->blen > in_cap)
		c->flags |= MIME_F_BODY_TRUNCATED;
	if (pt->cte == MAILMIME_MECHANISM_BASE64 || pt->cte == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		int bad = 0;
		if (!(dec = malloc(n + 1))) {
			c->oom = 1;
			return;
		}
		dlen = pt->cte == MAILMIME_MECHANISM_BASE64 ? mime_cte_b64(src, n, dec, &bad)
		                                            : mime_cte_qp(src, n, dec, &bad);
		if (bad)
			c->flags |= MIME_F_MALFORMED;
		src = dec;
		n = dlen;
	}
	memcpy(cs, pt->charset, sizeof cs);
	if (html && !cs[0])
		html_meta_charset(src, n, cs, sizeof cs);
	sb_init(&u, html ? lim->max_body * 4 : room);
	/* Sized for the usual case (decoding rarely grows text) at once,
	 * instead of by doubling from 64 bytes. */
	sb_reserve(&u, n < u.max ? n : u.max);
	text_to_utf8(&u, cs, src, n, SAN_BODY, &c->flags);
	free(dec);
	if (u.oom) {
		c->oom = 1;
		sb_free(&u);
		return;
	}
	if (u.trunc)
		c->flags |= MIME_F_BODY_TRUNCATED;
	if (u.len == 0) {
		sb_free(&u);
		return;
	}
	if (c->body.len > 0 && sb_last(&c->body) != '\n')
		sb_putc(&c->body, '\n');
	if (c->body.len > 0)
		sb_putc(&c->body, '\n');
	if (html) {
		c->flags |= MIME_F_BODY_FROM_HTML;
		html_strip(&c->body, u.p, u.len);
	} else if (c->body.len == 0) {
		/* The first text is the body as it is (u.len <= room, the
		 * body's whole room): no copy. */
		free(c->body.p);
		c->body.p = u.p;
		c->body.len = u.len;
		c->body.cap = u.cap;
		return;
	} else {
		sb_put(&c->body, u.p, u.len);
	}
	sb_free(&u);
	if (c->body.oom)
		c->oom = 1;
}

static void collect(struct ctx *c, const struct part *pt, int embedded)
{
	if (c->oom || c->body.len >= c->lim->max_body)
		return;
	if (is(pt, "multipart", "alternative")) {
		const struct part *best = NULL;
		int bk = 0;
		for (const struct part *ch = pt->child; ch; ch = ch->next) {
			int k = text_kind(ch);
			if (k > bk) {
				best = ch;
				bk = k;
			}
		}
		if (best)
			collect(c, best, embedded);
	} else if (is(pt, "multipart", NULL)) {
		for (const struct part *ch = pt->child; ch; ch = ch->next)
			collect(c, ch, embedded);
	} else if (is(pt, "message", NULL)) {
		if (embedded && pt->child)
			collect(c, pt->child, embedded);
	} else if (!pt->attachment && is(pt, "text", "plain")) {
		decode_leaf(c, pt, 0);
	} else if (!pt->attachment && is(pt, "text", "html")) {
		decode_leaf(c, pt, 1);
	}
}

/* ------------------------------------------------------------------------ */
/* Public API. */

static const char *const hdr_names[MIME_H_COUNT] = {
	[MIME_H_AUTO_SUBMITTED] = "Auto-Submitted",
	[MIME_H_X_AUTOREPLY] = "X-Autoreply",
	[MIME_H_X_AUTORESPOND] = "X-Autorespond",
	[MIME_H_X_AUTOGENERATED] = "X-Autogenerated",
	[MIME_H_X_AUTO_RESPONSE_SUPPRESS] = "X-Auto-Response-Suppress",
	[MIME_H_PRECEDENCE] = "Precedence",
	[MIME_H_LIST_ID] = "List-Id",
	[MIME_H_LIST_UNSUBSCRIBE] = "List-Unsubscribe",
	[MIME_H_LIST_UNSUBSCRIBE_POST] = "List-Unsubscribe-Post",
	[MIME_H_FEEDBACK_ID] = "Feedback-ID",
	[MIME_H_X_SPAM_FLAG] = "X-Spam-Flag",
	[MIME_H_X_SPAM_STATUS] = "X-Spam-Status",
	[MIME_H_REPLY_TO] = "Reply-To",
	[MIME_H_RETURN_PATH] = "Return-Path",
	[MIME_H_IN_REPLY_TO] = "In-Reply-To",
	[MIME_H_REFERENCES] = "References",
	[MIME_H_X_MAILER] = "X-Mailer",
	[MIME_H_CONTENT_TYPE] = "Content-Type",
};

const char *mime_hdr_name(enum mime_hdr h)
{
	return (unsigned)h < MIME_H_COUNT ? hdr_names[h] : NULL;
}

int mime_hdr_lookup(const char *name)
{
	for (int i = 0; name && i < MIME_H_COUNT; i++)
		if (strcasecmp(name, hdr_names[i]) == 0)
			return i;
	return -1;
}

void mime_limits_default(struct mime_limits *lim)
{
	lim->max_raw = 16u << 20;
	lim->max_headers = 300;
	lim->max_header_len = 16u << 10;
	lim->max_body = 256u << 10;
	lim->max_parts = 128;
	lim->max_depth = 16;
}

void mime_msg_free(struct mime_msg *m)
{
	if (!m)
		return;
	free(m->subject);
	free(m->from);
	free(m->from_addr);
	free(m->to);
	free(m->cc);
	free(m->date_iso);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->body);
	for (int i = 0; i < MIME_H_COUNT; i++)
		free(m->hdr[i]);
	memset(m, 0, sizeof *m);
}

enum fkind { FK_PHRASE, FK_ADDR, FK_MSGID };

/* Decodes header name of hs into a new string; NULL into *dst when absent
 * and want_empty is 0. Returns -1 only when out of memory. */
static int field(struct ctx *c, const struct hsection *hs, const char *name, enum fkind kind,
                 int want_empty, char **dst, struct sbuf *first)
{
	const struct hfield *f = hdr_get(hs, name);
	struct sbuf b;
	size_t len;
	char *v;

	*dst = NULL;
	if (!f) {
		if (!want_empty)
			return 0;
		return (*dst = strdup("")) ? 0 : -1;
	}
	if (!(v = hdr_unfold(f, c->lim->max_header_len, &len, &c->flags)))
		return -1;
	sb_init(&b, c->lim->max_header_len);
	if (kind == FK_ADDR)
		dec_addresses(&b, v, len, first, &c->flags);
	else if (kind == FK_MSGID)
		dec_msgid(&b, v, len, &c->flags);
	else
		dec_phrase(&b, v, len, &c->flags);
	free(v);
	if (b.trunc)
		c->flags |= MIME_F_HEADERS_TRUNCATED;
	*dst = sb_take(&b);
	return *dst ? 0 : -1;
}

static int fill_headers(struct ctx *c, const struct hsection *hs, struct mime_msg *out)
{
	const struct hfield *f;
	struct sbuf first;
	char date[64] = "";

	sb_init(&first, c->lim->max_header_len);
	if (field(c, hs, "subject", FK_PHRASE, 1, &out->subject, NULL) < 0 ||
	    field(c, hs, "from", FK_ADDR, 1, &out->from, &first) < 0 ||
	    field(c, hs, "to", FK_ADDR, 1, &out->to, NULL) < 0 ||
	    field(c, hs, "cc", FK_ADDR, 1, &out->cc, NULL) < 0 ||
	    field(c, hs, "message-id", FK_MSGID, 1, &out->message_id, NULL) < 0 ||
	    field(c, hs, "in-reply-to", FK_MSGID, 1, &out->in_reply_to, NULL) < 0) {
		sb_free(&first);
		return -1;
	}
	if (!(out->from_addr = sb_take(&first)))
		return -1;
	lower_ascii(out->from_addr);
	if ((f = hdr_get(hs, "date")) != NULL) {
		size_t len;
		char *v = hdr_unfold(f, c->lim->max_header_len, &len, &c->flags);
		if (!v)
			return -1;
		if (dec_date(v, len, date) < 0)
			date[0] = '\0';
		free(v);
	}
	if (!(out->date_iso = strdup(date)))
		return -1;
	for (int i = 0; i < MIME_H_COUNT; i++)
		if (field(c, hs, hdr_names[i], FK_PHRASE, 0, &out->hdr[i], NULL) < 0)
			return -1;
	return 0;
}

static void trim_body(char *s)
{
	size_t n = strlen(s), b = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
		n--;
	while (b < n && s[b] == '\n')
		b++;
	memmove(s, s + b, n - b);
	s[n - b] = '\0';
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

int mime_decode(const char *raw, size_t len, const struct mime_limits *lim_in,
                struct mime_msg *out, char *err, size_t errlen)
{
	struct mime_limits lim;
	struct ctx c;
	struct hsection root;
	struct part *top;
	size_t off, nfields = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	if (!raw || len == 0)
		return fail(err, errlen, "empty message");
	mime_limits_default(&lim);
	if (lim_in) {
		lim.max_raw = lim_in->max_raw ? lim_in->max_raw : lim.max_raw;
		lim.max_headers = lim_in->max_headers ? lim_in->max_headers : lim.max_headers;
		lim.max_header_len = lim_in->max_header_len ? lim_in->max_header_len
		                                            : lim.max_header_len;
		lim.max_body = lim_in->max_body ? lim_in->max_body : lim.max_body;
		lim.max_parts = lim_in->max_parts ? lim_in->max_parts : lim.max_parts;
		lim.max_depth = lim_in->max_depth ? lim_in->max_depth : lim.max_depth;
	}
	if (lim.max_depth > MIME_HARD_MAX_DEPTH)
		lim.max_depth = MIME_HARD_MAX_DEPTH;
	if (lim.max_headers > MIME_HARD_MAX_HEADERS)
		lim.max_headers = MIME_HARD_MAX_HEADERS;
	if (lim.max_parts > MIME_HARD_MAX_PARTS)
		lim.max_parts = MIME_HARD_MAX_PARTS;

	memset(&c, 0, sizeof c);
	c.lim = &lim;
	if (len > lim.max_raw) {
		len = lim.max_raw;
		c.flags |= MIME_F_RAW_TRUNCATED;
	}
	/* An mbox "From " separator line is not a header field. */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);
		size_t skip = nl ? (size_t)(nl - raw) + 1 : len;
		raw += skip;
		len -= skip;
	}
	/* Not zeroed: hdr_parse() and part_new() initialise each entry they
	 * hand out, and only those are read (clearing ~45 KB per message cost
	 * more than decoding a small one).  The hard ceilings above bound the
	 * products. */
	root.max = lim.max_headers;
	root.f = malloc(lim.max_headers * sizeof *root.f);
	c.scratch.max = lim.max_headers;
	c.scratch.f = malloc(lim.max_headers * sizeof *c.scratch.f);
	c.parts = malloc(lim.max_parts * sizeof *c.parts);
	sb_init(&c.body, lim.max_body);
	if (!root.f || !c.scratch.f || !c.parts) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	off = len ? hdr_parse(raw, len, &root, &nfields, &c.flags) : 0;
	if (nfields == 0 && off == 0) {
		fail(err, errlen, "not an RFC 5322 message: no header section");
		goto out;
	}
	if (!(top = part_new(&c))) {
		fail(err, errlen, "max_parts is zero");
		goto out;
	}
	part_headers(&c, top, &root, 0);
	top->body = raw + off;
	top->blen = len - off;
	part_expand(&c, top, 0);

	for (size_t i = 0; i < c.nparts; i++) {
		const struct part *pt = &c.parts[i];
		if (pt->attachment)
			c.flags |= MIME_F_HAS_ATTACHMENT;
		if (is(pt, "text", "calendar") || is(pt, "application", "ics"))
			c.flags |= MIME_F_HAS_CALENDAR;
	}
	collect(&c, top, 0);
	if (c.body.len == 0)
		collect(&c, top, 1);
	if (c.body.trunc)
		c.flags |= MIME_F_BODY_TRUNCATED;
	if (c.oom || fill_headers(&c, &root, out) < 0 || !(out->body = sb_take(&c.body))) {
		mime_msg_free(out);
		fail(err, errlen, "out of memory");
		goto out;
	}
	trim_body(out->body);
	out->flags = c.flags;
	out->nparts = (unsigned)c.nparts;
	rc = 0;
out:
	sb_free(&c.body);
	free(root.f);
	free(c.scratch.f);
	free(c.parts);
	return rc;
}
