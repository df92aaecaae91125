/* categorize.c — local rule-based classifier: loads contrib/categories.rules
 * and scores a decoded message against it (headers per RFC 3834 and
 * RFC 2369 come through struct mime_msg).
 *
 * Text is matched after folding: lowercase, Latin diacritics removed
 * (é→e, ß→ss), typographic quotes and dashes made ASCII, full-width forms made
 * ASCII, whitespace collapsed. Patterns are folded the same way when loaded,
 * so "Réponse automatique" in the rules matches "REPONSE AUTOMATIQUE" in mail.
 * A phrase must start and end on word boundaries (unless it ends in "*");
 * CJK characters have no spaces between words, so no boundary is required
 * next to them.
 *
 * Only the fresh part of the body counts: lines quoted with ">" are skipped
 * and reading stops at the first @cut line (reply attribution, forwarded
 * header block, signature separator), because replies quote the very
 * outreach mail whose words would otherwise vote.
 *
 * Every subject, body and text rule is found by one scan of the subject and
 * one of the body (cat_match.c) rather than one search per rule.
 *
 * Each rule counts at most once. The category with the highest total wins if
 * it reaches the threshold, else the message is Uncategorized.
 */
#include "categorize.h"

#include "ascii_run.h"
#include "cat_match.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAT_MAX_FILE     (1u << 20)
#define CAT_MAX_LINE     4096
#define CAT_MAX_RULES    20000
#define CAT_MAX_CUTS     200
#define CAT_MAX_PATTERN  256
#define CAT_MAX_WEIGHT   100.0
#define CAT_BODY_MAX     (16u << 10) /* folded body bytes looked at */
#define CAT_FIELD_MAX    1024        /* folded subject/from/header bytes */
#define CAT_CUT_LINE_MAX 512

enum where { W_SUBJECT, W_BODY, W_TEXT, W_FROM, W_HEADER, W_FLAG };
/* The kinds of cat_match scan: of the subject, of the body. */
enum { SCAN_SUBJECT = 1, SCAN_BODY = 2 };
enum flag { FL_CALENDAR, FL_ATTACHMENT, FL_HTML, FL_REPLY, FL_COUNT };

static const char *const flag_names[FL_COUNT] = { "calendar", "attachment", "html", "reply" };

struct cat_rule {
	enum where where;
	int arg;      /* enum mime_hdr for W_HEADER, enum flag for W_FLAG */
	int cat;
	double weight;
	char *pat;    /* folded pattern; NULL: presence of the header or flag */
	size_t plen;
	int prefix;   /* pattern ended in '*' */
	int lb, rb;   /* word boundary required on the left / right */
	unsigned line;
};

/* A @cut glob, with the literal text before its first '*' and after its
 * last one: a line must start and end with those to match, a cheap test
 * that spares glob_match() on almost every line. */
struct cat_cut {
	char *pat;
	size_t len, pre, suf;
};

struct cat_rules {
	struct cat_rule *r;
	size_t n, cap;
	struct cat_cut *cuts;
	size_t ncuts;
	/* Once loaded, cuts are sorted: first those starting with '*'
	 * (cuts[0..nwild)), then by first byte, b's in cuts[cut_at[b]..
	 * cut_at[b + 1]): a line is only tried against the cuts that can
	 * start it. */
	size_t nwild;
	uint16_t cut_at[257];
	/* wild_end[b]: some cut that starts with '*' can end a line whose
	 * last byte is b (one with no literal tail can end any line). */
	uint8_t wild_end[256];
	double threshold;
	/* The subject, body and text rules are found by one scan of each
	 * text (cat_match.h); only the others are tried one by one. */
	struct cat_match *match;
	uint32_t *other;      /* indices of the rules the scans do not find */
	size_t nother;
};

static const char *const cat_names[CAT_ID_COUNT] = {
	CAT_INTERESTED, CAT_MEETING_BOOKED, CAT_NOT_INTERESTED,
	CAT_SPAM,       CAT_OUT_OF_OFFICE,  CAT_UNCATEGORIZED,
};

/* Who wins a tie: auto-replies and bookings are the most specific. */
static const int tie_order[CAT_ID_COUNT] = {
	CAT_ID_OUT_OF_OFFICE, CAT_ID_MEETING_BOOKED, CAT_ID_NOT_INTERESTED,
	CAT_ID_INTERESTED,    CAT_ID_SPAM,           CAT_ID_UNCATEGORIZED,
};

const char *cat_name(enum cat_id id)
{
	return (unsigned)id < CAT_ID_COUNT ? cat_names[id] : NULL;
}

int cat_lookup(const char *name)
{
	size_t n;

	if (!name)
		return -1;
	while (*name == ' ' || *name == '\t')
		name++;
	n = strlen(name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	for (int i = 0; i < CAT_ID_COUNT; i++)
		if (strlen(cat_names[i]) == n && strncasecmp(name, cat_names[i], n) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Folding. */

struct fbuf {
	char *p;
	size_t len, cap, max;
	int oom;
	int full; /* an append did not fit: later ones are refused too, so the
	             text never has holes */
};

/* Room for n more bytes and the NUL: 0, or -1 (full or out of memory, and
 * then marked so). */
static int fb_room(struct fbuf *b, size_t n)
{
	if (b->oom || b->full)
		return -1;
	if (b->len + n > b->max) {
		b->full = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		char *np;
		while (nc < b->len + n + 1)
			nc *= 2;
		if (!(np = realloc(b->p, nc))) {
			b->oom = 1;
			return -1;
		}
		b->p = np;
		b->cap = nc;
	}
	return 0;
}

static void fb_put(struct fbuf *b, const char *s, size_t n)
{
	if (fb_room(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* fb_put() of one byte, the common case of folding. */
static inline void fb_put1(struct fbuf *b, char c)
{
	if (b->len + 2 > b->cap || b->len + 1 > b->max || b->oom || b->full) {
		fb_put(b, &c, 1);
		return;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void fb_cp(struct fbuf *b, uint32_t cp)
{
	char t[4];
	size_t n;

	if (cp < 0x80) {
		t[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xC0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xE0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		t[0] = (char)(0xF0 | (cp >> 18));
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	fb_put(b, t, n);
}

/* Base letters of U+00C0..U+017F; '?' marks the ones handled in fold_cp(). */
static const char latin_base[] =
	"aaaaaa?ceeeeiiii?nooooo??uuuuy??aaaaaa?ceeeeiiii?nooooo??uuuuy?y"
	"aaaaaaccccccccdd??eeeeeeeeeegggggggghh??iiiiiiiii???jjkk?llllll?"
	"???nnnnnn???oooooo??rrrrrrsssssssstttt??uuuuuuuuuuuuwwyyyzzzzzz?";

static int is_space_cp(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
	       cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
	       cp == 0x3000;
}

/* Appends the folded form of cp (spaces are handled by the caller). */
static void fold_cp(struct fbuf *b, uint32_t cp)
{
	const char *s = NULL;

	if (cp >= 'A' && cp <= 'Z')
		cp += 32;
	else if (cp >= 0xFF01 && cp <= 0xFF5E) {
		cp -= 0xFEE0; /* full-width ASCII */
		if (cp >= 'A' && cp <= 'Z')
			cp += 32;
	} else if (cp >= 0xC0 && cp <= 0x17F && latin_base[cp - 0xC0] != '?') {
		cp = (unsigned char)latin_base[cp - 0xC0];
	} else if (cp >= 0xC0 && cp <= 0x17F) {
		switch (cp) {
		case 0xC6: case 0xE6: s = "ae"; break;
		case 0xD0: case 0xF0: case 0x110: case 0x111: s = "d"; break;
		case 0xD8: case 0xF8: s = "o"; break;
		case 0xDE: case 0xFE: s = "th"; break;
		case 0xDF: s = "ss"; break;
		case 0x126: case 0x127: s = "h"; break;
		case 0x131: s = "i"; break;
		case 0x132: case 0x133: s = "ij"; break;
		case 0x138: s = "k"; break;
		case 0x13F: case 0x140: case 0x141: case 0x142: s = "l"; break;
		case 0x149: case 0x14A: case 0x14B: s = "n"; break;
		case 0x152: case 0x153: s = "oe"; break;
		case 0x166: case 0x167: s = "t"; break;
		case 0x17F: s = "s"; break;
		default: break; /* × ÷ stay */
		}
	} else if (cp == 0x2018 || cp == 0x2019 || cp == 0x201B || cp == 0x02BC || cp == 0xB4 ||
	           cp == '`') {
		cp = '\'';
	} else if (cp == 0x201C || cp == 0x201D || cp == 0x201E || cp == 0xAB || cp == 0xBB) {
		cp = '"';
	} else if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212) {
		cp = '-';
	} else if ((cp >= 0x391 && cp <= 0x3A9) || (cp >= 0x410 && cp <= 0x42F)) {
		cp += 32; /* Greek and Cyrillic capitals */
	} else if (cp >= 0x400 && cp <= 0x40F) {
		cp += 80;
	} else if ((cp >= 0x200B && cp <= 0x200D) || cp == 0xFEFF || cp == 0xAD) {
		return; /* invisible */
	}
	if (s)
		fb_put(b, s, strlen(s));
	else
		fb_cp(b, cp);
}

/* What fold() writes for an ASCII byte: lowercase for capitals, an
 * apostrophe for the backtick, ' ' for every whitespace byte (a run of
 * them becomes one space), the byte itself otherwise. */
static const unsigned char fold_ascii[128] = {
#define FA4(c) (c), (c) + 1, (c) + 2, (c) + 3
#define FA16(c) FA4(c), FA4((c) + 4), FA4((c) + 8), FA4((c) + 12)
	0, 1, 2, 3, 4, 5, 6, 7, 8, ' ', ' ', ' ', ' ', ' ', 14, 15,
	FA16(16), FA16(32), FA16(48),
	64, FA4('a'), FA4('e'), FA4('i'), FA4('m'), FA4('q'), FA4('u'), 'y', 'z',
	91, 92, 93, 94, 95,
	'\'', FA4(97), FA4(101), FA4(105), FA4(109), FA4(113), FA4(117), 121, 122,
	123, 124, 125, 126, 127,
#undef FA16
#undef FA4
};

/* fold_ascii[] of eight ASCII bytes at once, in a little-endian word;
 * *ws gets bit 0 of each byte that was whitespace. */
static inline uint64_t fold8(uint64_t v, uint64_t *ws)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones << 7;
	/* Per byte, on 7 bits (ASCII) so no sum carries into the next one:
	 * bit 7 of v + (0x80 - c) is set when the byte is >= c, and bit 7 of
	 * (v ^ c) + 0x7F when it is not c. */
#define GE(c) ((v + (0x80 - (c)) * ones) & high)
#define EQ(c) (~((v ^ (c) * ones) + 0x7F * ones) & high)
	uint64_t up = GE('A') & ~GE('Z' + 1);
	uint64_t sp = (GE('\t') & ~GE('\r' + 1)) | EQ(' ');
	uint64_t bt = EQ('`');
#undef GE
#undef EQ
	uint64_t spb = (sp >> 7) * 0xFF;
	v += up >> 2;                  /* 'A'..'Z' + 0x20 */
	v -= (bt >> 7) * ('`' - '\''); /* '`' -> '\'' */
	v = (v & ~spb) | (spb & ' ' * ones);
	*ws = sp >> 7;
	return v;
}

/* The ASCII bytes u[0..n) folded to *o, without branches (text alternates
 * words and spaces): every byte is stored, and the pointer moves on unless
 * it is a space after a space (*prev: the last byte written is a space, or
 * nothing is written yet). */
static inline void fold_run(const unsigned char *u, size_t n, char **o, unsigned *prev)
{
	char *w = *o;
	unsigned p = *prev;
	for (size_t t = 0; t < n; t++) {
		unsigned char y = fold_ascii[u[t]];
		unsigned sp = y == ' ';
		*w = (char)y;
		w += !(sp & p);
		p = sp;
	}
	*o = w;
	*prev = p;
}

/* Appends the folded form of s[0..n) to b; whitespace runs become one space
 * and no space is written at the start of b or after another space. */
static void fold(struct fbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	/* Once full or out of memory, every later append is refused anyway. */
	for (size_t i = 0; i < n && !b->oom && !b->full;) {
		size_t k;
		unsigned char c = u[i];
		if (c < 0x80) {
			/* A run of ASCII: what fold_cp() and the space rule do,
			 * written in place when the whole run fits (it never grows
			 * when folded); else byte by byte below, which fills up to
			 * the ceiling. */
			size_t j = i + ascii_run(u + i, n - i);
			if (b->len + (j - i) <= b->max && fb_room(b, j - i) == 0) {
				char *o = b->p + b->len;
				unsigned prev = o == b->p || o[-1] == ' ';
				size_t t = i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* Eight at a time: whole when no space follows a
				 * space in them, else byte by byte. */
				for (; t + 8 <= j; t += 8) {
					uint64_t v, ws;
					memcpy(&v, u + t, 8);
					v = fold8(v, &ws);
					if (ws & (ws << 8 | prev)) {
						fold_run(u + t, 8, &o, &prev);
						continue;
					}
					memcpy(o, &v, 8);
					o += 8;
					prev = (unsigned)(ws >> 56);
				}
#endif
				fold_run(u + t, j - t, &o, &prev);
				b->len = (size_t)(o - b->p);
				b->p[b->len] = '\0';
				i = j;
				continue;
			}
		}
		if (c < 0x80) {
			/* ASCII: what fold_cp() and is_space_cp() do, inline. */
			i++;
			if (c == ' ' || (c >= '\t' && c <= '\r')) {
				if (b->len > 0 && b->p[b->len - 1] != ' ')
					fb_put1(b, ' ');
			} else {
				fb_put1(b, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c == '`' ? '\'' : (char)c);
			}
			continue;
		}
		uint32_t cp = cat_match_u8_next(u + i, n - i, &k);
		i += k;
		if (is_space_cp(cp)) {
			if (b->len > 0 && b->p[b->len - 1] != ' ')
				fb_put(b, " ", 1);
			continue;
		}
		fold_cp(b, cp);
	}
}

static void fb_trim(struct fbuf *b)
{
	while (b->len > 0 && b->p[b->len - 1] == ' ')
		b->p[--b->len] = '\0';
}

static int rule_matches_text(const struct cat_rule *r, const char *t, size_t tn)
{
	const char *p = t, *end = t + tn;

	if (!r->pat)
		return tn > 0;
	while (p < end && (p = memmem(p, (size_t)(end - p), r->pat, r->plen)) != NULL) {
		if ((!r->lb || !cat_match_is_word_cp(cat_match_cp_before(t, p))) &&
		    (!r->rb || !cat_match_is_word_cp(cat_match_cp_at(p + r->plen, end))))
			return 1;
		p++;
	}
	return 0;
}

/* Glob with '*' over a whole folded line. */
static int glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *ss = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			ss = s;
		} else if (*pat && *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++ss;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* ------------------------------------------------------------------------ */
/* Loading. */

static int perr(char *err, size_t errlen, const char *name, unsigned line, const char *fmt,
                const char *arg)
{
	char msg[256];

	if (!err || errlen == 0)
		return -1;
	snprintf(msg, sizeof msg, fmt, arg ? arg : "");
	if (line)
		snprintf(err, errlen, "%s:%u: %s", name, line, msg);
	else
		snprintf(err, errlen, "%s: %s", name, msg);
	return -1;
}

static int valid_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k;
		uint32_t cp = cat_match_u8_next(u + i, n - i, &k);
		if (cp == 0xFFFD && !(k == 3 && u[i] == 0xEF))
			return 0;
		if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k;
	}
	return 1;
}

/* Reads a pattern token at *pp: "quoted with \" and \\ escapes" or a bare
 * word. Returns 1 with the raw text in out, 0 when there is none, -1 on
 * error (message in *why). */
static int read_pattern(const char **pp, char *out, size_t outsz, const char **why)
{
	const char *p = *pp;
	size_t j = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#') {
		*pp = p;
		return 0;
	}
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if (j + 1 >= outsz) {
				*why = "pattern longer than 256 bytes";
				return -1;
			}
			out[j++] = *p;
		}
		if (*p != '"') {
			*why = "unterminated quoted pattern";
			return -1;
		}
		p++;
	} else {
		for (; *p && *p != ' ' && *p != '\t'; p++) {
			if (*p == '"') {
				*why = "stray '\"' in a bare pattern (quote the whole phrase)";
				return -1;
			}
			if (j + 1 >= outsz) {
				*why = "pattern longer than 256 bytes";
				return -1;
			}
			out[j++] = *p;
		}
	}
	out[j] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != '#') {
		*why = "unexpected text after the pattern (quote phrases with spaces)";
		return -1;
	}
	*pp = p;
	return 1;
}

/* Folds raw into a malloc'd string; NULL when it folds to nothing or on OOM. */
static char *fold_dup(const char *raw, size_t *olen)
{
	struct fbuf b = { NULL, 0, 0, CAT_MAX_PATTERN * 4, 0, 0 };

	fold(&b, raw, strlen(raw));
	fb_trim(&b);
	if (b.oom || b.len == 0) {
		free(b.p);
		return NULL;
	}
	*olen = b.len;
	return b.p;
}

static int parse_where(const char *w, struct cat_rule *r, const char **why)
{
	if (strcasecmp(w, "subject") == 0)
		r->where = W_SUBJECT;
	else if (strcasecmp(w, "body") == 0)
		r->where = W_BODY;
	else if (strcasecmp(w, "text") == 0)
		r->where = W_TEXT;
	else if (strcasecmp(w, "from") == 0)
		r->where = W_FROM;
	else if (strncasecmp(w, "header:", 7) == 0) {
		r->where = W_HEADER;
		if ((r->arg = mime_hdr_lookup(w + 7)) < 0) {
			*why = "header '%s' is not one the decoder keeps (see sync/mime_decode.h)";
			return -1;
		}
	} else if (strncasecmp(w, "flag:", 5) == 0) {
		r->where = W_FLAG;
		for (r->arg = 0; r->arg < FL_COUNT; r->arg++)
			if (strcasecmp(w + 5, flag_names[r->arg]) == 0)
				break;
		if (r->arg == FL_COUNT) {
			*why = "unknown flag '%s' (calendar, attachment, html, reply)";
			return -1;
		}
	} else {
		*why = "unknown place '%s' (subject, body, text, from, header:NAME, flag:NAME)";
		return -1;
	}
	return 0;
}

static int add_rule(struct cat_rules *rs, const struct cat_rule *r)
{
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 64;
		struct cat_rule *nr = realloc(rs->r, nc * sizeof *nr);
		if (!nr)
			return -1;
		rs->r = nr;
		rs->cap = nc;
	}
	rs->r[rs->n++] = *r;
	return 0;
}

/* Parses one rule line "WEIGHT WHERE [PATTERN]". Returns 0, or -1 with a
 * printf format for the reason in *why and its argument in arg. */
static int parse_rule(struct cat_rules *rs, const char *line, int cat, unsigned lineno,
                      const char **why, char *arg, size_t argsz)
{
	struct cat_rule r;
	char *end, where[64], raw[CAT_MAX_PATTERN + 1];
	const char *p;
	size_t wl = 0;
	int got;

	memset(&r, 0, sizeof r);
	r.cat = cat;
	r.line = lineno;
	errno = 0;
	r.weight = strtod(line, &end);
	if (end == line || errno != 0 || !isfinite(r.weight) || (*end != ' ' && *end != '\t')) {
		*why = "expected a weight (a number), got '%s'";
		snprintf(arg, argsz, "%.40s", line);
		return -1;
	}
	if (r.weight == 0 || fabs(r.weight) > CAT_MAX_WEIGHT) {
		*why = "weight %s is zero or beyond +/-100";
		snprintf(arg, argsz, "%.40s", line);
		return -1;
	}
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	while (p[wl] && p[wl] != ' ' && p[wl] != '\t')
		wl++;
	if (wl == 0 || wl >= sizeof where) {
		*why = "expected where to look after the weight%s";
		return -1;
	}
	memcpy(where, p, wl);
	where[wl] = '\0';
	snprintf(arg, argsz, "%s", strchr(where, ':') ? strchr(where, ':') + 1 : where);
	if (parse_where(where, &r, why) < 0)
		return -1;
	p += wl;
	got = read_pattern(&p, raw, sizeof raw, why);
	if (got < 0)
		return -1;
	if (got == 0 || strcmp(raw, "*") == 0) {
		if (r.where != W_HEADER && r.where != W_FLAG) {
			*why = "a pattern is required for '%s'";
			snprintf(arg, argsz, "%s", where);
			return -1;
		}
	} else {
		size_t rl = strlen(raw);
		uint32_t first, last;
		size_t k;
		if (rl > 1 && raw[rl - 1] == '*') {
			r.prefix = 1;
			raw[rl - 1] = '\0';
		}
		if (!(r.pat = fold_dup(raw, &r.plen))) {
			*why = "pattern '%s' is empty once folded";
			snprintf(arg, argsz, "%.60s", raw);
			return -1;
		}
		first = cat_match_u8_next((const unsigned char *)r.pat, r.plen, &k);
		last = cat_match_cp_before(r.pat, r.pat + r.plen);
		r.lb = cat_match_is_word_cp(first);
		r.rb = !r.prefix && cat_match_is_word_cp(last);
	}
	if (rs->n >= CAT_MAX_RULES) {
		free(r.pat);
		*why = "more than 20000 rules%s";
		return -1;
	}
	if (add_rule(rs, &r) < 0) {
		free(r.pat);
		*why = "out of memory%s";
		return -1;
	}
	return 0;
}

static int parse_directive(struct cat_rules *rs, const char *line, const char **why, char *arg,
                           size_t argsz)
{
	const char *p = line + 1;
	size_t wl = 0;

	while (p[wl] && p[wl] != ' ' && p[wl] != '\t')
		wl++;
	if (wl == 9 && strncmp(p, "threshold", 9) == 0) {
		char *end;
		double v;
		errno = 0;
		v = strtod(p + 9, &end);
		while (*end == ' ' || *end == '\t')
			end++;
		if (end == p + 9 || errno || !isfinite(v) || v <= 0 || v > 1000 ||
		    (*end && *end != '#')) {
			*why = "@threshold needs a number in (0, 1000]%s";
			return -1;
		}
		rs->threshold = v;
		return 0;
	}
	if (wl == 3 && strncmp(p, "cut", 3) == 0) {
		char raw[CAT_MAX_PATTERN + 1], *f;
		struct cat_cut *nc;
		const char *q = p + 3;
		size_t fl;
		int got = read_pattern(&q, raw, sizeof raw, why);
		if (got <= 0) {
			if (got == 0)
				*why = "@cut needs a pattern%s";
			return -1;
		}
		if (rs->ncuts >= CAT_MAX_CUTS) {
			*why = "more than 200 @cut lines%s";
			return -1;
		}
		if (!(f = fold_dup(raw, &fl))) {
			*why = "@cut pattern '%s' is empty once folded";
			snprintf(arg, argsz, "%.60s", raw);
			return -1;
		}
		if (!(nc = realloc(rs->cuts, (rs->ncuts + 1) * sizeof *nc))) {
			free(f);
			*why = "out of memory%s";
			return -1;
		}
		rs->cuts = nc;
		nc = &rs->cuts[rs->ncuts++];
		nc->pat = f;
		nc->len = fl;
		nc->pre = strcspn(f, "*");
		nc->suf = 0;
		while (nc->suf < fl && f[fl - 1 - nc->suf] != '*')
			nc->suf++;
		return 0;
	}
	*why = "unknown directive '@%s' (@threshold, @cut)";
	snprintf(arg, argsz, "%.*s", (int)(wl < 40 ? wl : 40), p);
	return -1;
}

static int cut_key(const struct cat_cut *c)
{
	return c->pre ? 1 + (unsigned char)c->pat[0] : 0;
}

static int cut_cmp(const void *x, const void *y)
{
	return cut_key(x) - cut_key(y);
}

static void cuts_index(struct cat_rules *rs)
{
	size_t k = 0;

	if (rs->ncuts)
		qsort(rs->cuts, rs->ncuts, sizeof *rs->cuts, cut_cmp);
	while (k < rs->ncuts && cut_key(&rs->cuts[k]) == 0)
		k++;
	rs->nwild = k;
	for (int b = 0; b < 256; b++) {
		rs->cut_at[b] = (uint16_t)k;
		while (k < rs->ncuts && cut_key(&rs->cuts[k]) == b + 1)
			k++;
	}
	rs->cut_at[256] = (uint16_t)k;
	memset(rs->wild_end, 0, sizeof rs->wild_end);
	for (size_t i = 0; i < rs->nwild; i++) {
		const struct cat_cut *c = &rs->cuts[i];
		if (c->suf)
			rs->wild_end[(unsigned char)c->pat[c->len - 1]] = 1;
		else
			memset(rs->wild_end, 1, sizeof rs->wild_end);
	}
}

void cat_rules_free(struct cat_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i].pat);
	for (size_t i = 0; i < rs->ncuts; i++)
		free(rs->cuts[i].pat);
	free(rs->r);
	free(rs->cuts);
	cat_match_free(rs->match);
	free(rs->other);
	free(rs);
}

/* The scans that find a rule of place w; 0 for the places not scanned. */
static unsigned where_kinds(enum where w)
{
	return w == W_SUBJECT ? SCAN_SUBJECT
	       : w == W_BODY  ? SCAN_BODY
	       : w == W_TEXT  ? SCAN_SUBJECT | SCAN_BODY
	                      : 0u;
}

/* Builds rs->match and rs->other.  0, or -1 with errno (see
 * cat_match_build()). */
static int rules_match(struct cat_rules *rs)
{
	if (!(rs->match = cat_match_new()) || !(rs->other = calloc(rs->n, sizeof *rs->other)))
		return -1;
	for (size_t i = 0; i < rs->n; i++) {
		const struct cat_rule *r = &rs->r[i];
		unsigned kinds = where_kinds(r->where);
		if (kinds && cat_match_add(rs->match, r->pat, r->plen, r->rb, (unsigned)i, kinds) == 0)
			continue;
		/* A rule past what the matcher holds (60,000 trie nodes,
		 * some 6,000 phrases) is searched for alone, as a from or
		 * header rule is. */
		if (kinds && errno != E2BIG)
			return -1;
		rs->other[rs->nother++] = (uint32_t)i;
	}
	return cat_match_build(rs->match);
}

size_t cat_rules_count(const struct cat_rules *rs)
{
	return rs ? rs->n : 0;
}

struct cat_rules *cat_rules_parse(const char *text, size_t len, const char *name, char *err,
                                  size_t errlen)
{
	struct cat_rules *rs;
	char line[CAT_MAX_LINE + 1], arg[128];
	unsigned lineno = 0;
	int cat = -1;
	size_t i = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "rules";
	if (!text) {
		perr(err, errlen, name, 0, "no rules text%s", NULL);
		return NULL;
	}
	if (len > CAT_MAX_FILE) {
		perr(err, errlen, name, 0, "larger than 1 MiB%s", NULL);
		return NULL;
	}
	if (!(rs = calloc(1, sizeof *rs))) {
		perr(err, errlen, name, 0, "out of memory%s", NULL);
		return NULL;
	}
	rs->threshold = 2.0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i), *p, *why = NULL;
		size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;

		lineno++;
		arg[0] = '\0';
		if (ll > CAT_MAX_LINE) {
			perr(err, errlen, name, lineno, "line longer than 4096 bytes%s", NULL);
			goto fail;
		}
		memcpy(line, text + i, ll);
		line[ll] = '\0';
		i += ll + (nl ? 1 : 0);
		if (memchr(line, '\0', ll)) {
			perr(err, errlen, name, lineno, "NUL byte in line%s", NULL);
			goto fail;
		}
		if (!valid_utf8(line, ll)) {
			perr(err, errlen, name, lineno, "not valid UTF-8%s", NULL);
			goto fail;
		}
		while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
			line[--ll] = '\0';
		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '[') {
			const char *e = strchr(p, ']');
			char cname[64];
			if (!e || e[1] != '\0' || (size_t)(e - p - 1) >= sizeof cname) {
				perr(err, errlen, name, lineno, "malformed section header%s", NULL);
				goto fail;
			}
			memcpy(cname, p + 1, (size_t)(e - p - 1));
			cname[e - p - 1] = '\0';
			if ((cat = cat_lookup(cname)) < 0) {
				perr(err, errlen, name, lineno,
				     "unknown category '%s' (Interested, Meeting Booked, Not Interested, "
				     "Spam, Out of Office, Uncategorized)", cname);
				goto fail;
			}
			continue;
		}
		if (*p == '@') {
			if (parse_directive(rs, p, &why, arg, sizeof arg) < 0) {
				perr(err, errlen, name, lineno, why, arg);
				goto fail;
			}
			continue;
		}
		if (cat < 0) {
			perr(err, errlen, name, lineno, "rule before any [Category] section%s", NULL);
			goto fail;
		}
		if (parse_rule(rs, p, cat, lineno, &why, arg, sizeof arg) < 0) {
			perr(err, errlen, name, lineno, why, arg);
			goto fail;
		}
	}
	if (rs->n == 0) {
		perr(err, errlen, name, 0, "no rules%s", NULL);
		goto fail;
	}
	cuts_index(rs);
	if (rules_match(rs) < 0) {
		perr(err, errlen, name, 0,
		     errno == E2BIG ? "patterns too many for the matcher%s" : "out of memory%s", NULL);
		goto fail;
	}
	return rs;
fail:
	cat_rules_free(rs);
	return NULL;
}

struct cat_rules *cat_rules_load(const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;
	struct cat_rules *rs;

	if (!path) {
		perr(err, errlen, "rules", 0, "no path%s", NULL);
		return NULL;
	}
	if (!(f = fopen(path, "rb"))) {
		perr(err, errlen, path, 0, "%s", strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(CAT_MAX_FILE + 1))) {
		fclose(f);
		perr(err, errlen, path, 0, "out of memory%s", NULL);
		return NULL;
	}
	n = fread(buf, 1, CAT_MAX_FILE + 1, f);
	if (ferror(f)) {
		perr(err, errlen, path, 0, "read error%s", NULL);
		rs = NULL;
	} else {
		rs = cat_rules_parse(buf, n, path, err, errlen);
	}
	fclose(f);
	free(buf);
	return rs;
}

/* ------------------------------------------------------------------------ */
/* Scoring. */

struct view {
	struct fbuf subject, body, from;
	struct fbuf hdr[MIME_H_COUNT];
	int flag[FL_COUNT];
};

static void fold_field(struct fbuf *b, const char *s)
{
	b->max = CAT_FIELD_MAX;
	if (s) {
		fold(b, s, strnlen(s, CAT_FIELD_MAX * 4));
		fb_trim(b);
	}
}

static int cut_matches(const struct cat_cut *c, const char *l, size_t n)
{
	if (c->pre > n || c->suf > n || (c->suf && l[n - 1] != c->pat[c->len - 1]) ||
	    memcmp(l, c->pat, c->pre) != 0 ||
	    memcmp(l + n - c->suf, c->pat + c->len - c->suf, c->suf) != 0)
		return 0;
	return glob_match(c->pat, l);
}

static int line_is_cut(const struct cat_rules *rs, const char *l, size_t n)
{
	if (n > 0 ? rs->wild_end[(unsigned char)l[n - 1]] : rs->nwild > 0)
		for (size_t i = 0; i < rs->nwild; i++)
			if (cut_matches(&rs->cuts[i], l, n))
				return 1;
	if (n == 0)
		return 0;
	unsigned char b = (unsigned char)l[0];
	for (size_t i = rs->cut_at[b]; i < rs->cut_at[b + 1]; i++)
		if (cut_matches(&rs->cuts[i], l, n))
			return 1;
	return 0;
}

/* Whether cur and nxt joined (cur, cur_raw - cur.len spaces, " ", nxt,
 * trimmed, as fold_body() writes them into a buffer of two_max bytes) can
 * be a cut line, now that cur alone is not: 0 only when no cut can match
 * it, judged by the literal head of the cuts for cur's first byte (the
 * join starts with cur) and the literal tail of the cuts that start with
 * '*' (the join ends with nxt).  Building the join and trying every cut on
 * it cost more than folding the line did. */
static int two_may_cut(const struct cat_rules *rs, const struct fbuf *cur, size_t cur_raw,
                       const struct fbuf *nxt, size_t two_max)
{
	/* An empty nxt leaves the join equal to cur; one cut short by the
	 * buffer's ceiling does not end with nxt. */
	if (nxt->len == 0)
		return 0;
	if (cur_raw + 1 + nxt->len > two_max)
		return 1;
	unsigned char b = (unsigned char)cur->p[0];
	for (size_t i = rs->cut_at[b]; i < rs->cut_at[b + 1]; i++) {
		const struct cat_cut *c = &rs->cuts[i];
		if (c->pre > cur->len || memcmp(cur->p, c->pat, c->pre) == 0)
			return 1;
	}
	for (size_t i = 0; i < rs->nwild; i++) {
		const struct cat_cut *c = &rs->cuts[i];
		if (c->suf > nxt->len ||
		    memcmp(nxt->p + nxt->len - c->suf, c->pat + c->len - c->suf, c->suf) == 0)
			return 1;
	}
	return 0;
}

/* Folds the fresh part of the body: quoted lines skipped, everything from
 * the first @cut line (alone or joined with the next line, since clients
 * wrap long attribution lines) dropped. */
static void fold_body(const struct cat_rules *rs, struct fbuf *out, const char *body)
{
	const char *p = body, *nxt_for = NULL;
	struct fbuf cur = { NULL, 0, 0, CAT_CUT_LINE_MAX * 4, 0, 0 };
	struct fbuf nxt = { NULL, 0, 0, CAT_CUT_LINE_MAX * 4, 0, 0 };
	struct fbuf two = { NULL, 0, 0, CAT_CUT_LINE_MAX * 8, 0, 0 };
	size_t cur_raw = 0, nxt_raw = 0;

	out->max = CAT_BODY_MAX;
	while (p && *p && !out->full && !out->oom) {
		const char *nl = strchr(p, '\n'), *q = p, *next = nl ? nl + 1 : p + strlen(p);
		size_t ll = (size_t)(next - p) - (nl ? 1 : 0);
		size_t head = ll < CAT_CUT_LINE_MAX ? ll : CAT_CUT_LINE_MAX;

		while (q < p + ll && (*q == ' ' || *q == '\t'))
			q++;
		if (q < p + ll && *q == '>') {
			p = next;
			continue;
		}
		/* Cut markers are short: the head of the line is enough.  The
		 * previous line's join already folded this one's head: reuse it.
		 * cur_raw is the length before trimming (at most one trailing
		 * space, as fold() never writes two in a row). */
		if (nxt_for == p) {
			struct fbuf t = cur;
			cur = nxt;
			nxt = t;
			cur_raw = nxt_raw;
		} else {
			cur.len = 0;
			cur.full = 0;
			fold(&cur, p, head);
			cur_raw = cur.len;
			fb_trim(&cur);
		}
		nxt_for = NULL;
		if (cur.len > 0 && rs->ncuts) {
			if (line_is_cut(rs, cur.p, cur.len))
				break;
			if (*next) {
				/* This line and the next joined, as fold() would
				 * write them: head, untrimmed, " ", next head. */
				const char *nl2 = strchr(next, '\n');
				size_t l2 = nl2 ? (size_t)(nl2 - next) : strlen(next);
				nxt.len = 0;
				nxt.full = 0;
				fold(&nxt, next, l2 < CAT_CUT_LINE_MAX ? l2 : CAT_CUT_LINE_MAX);
				nxt_raw = nxt.len;
				fb_trim(&nxt);
				nxt_for = next;
			}
			if (*next && two_may_cut(rs, &cur, cur_raw, &nxt, two.max)) {
				two.len = 0;
				two.full = 0;
				fb_put(&two, cur.p, cur.len);
				for (size_t k = cur.len; k < cur_raw; k++)
					fb_put(&two, " ", 1);
				fb_put(&two, " ", 1);
				fb_put(&two, nxt.p ? nxt.p : "", nxt.len);
				fb_trim(&two);
				if (two.p && line_is_cut(rs, two.p, two.len))
					break;
			}
		}
		if (cur.len > 0) {
			size_t sep = out->len > 0;
			if (ll == head && !out->full && out->len + sep + cur_raw <= out->max) {
				/* The whole line fits: its fold is cur. */
				if (sep)
					fb_put1(out, ' ');
				fb_put(out, cur.p, cur.len);
			} else {
				if (sep)
					fb_put(out, " ", 1);
				fold(out, p, ll);
				fb_trim(out);
			}
		}
		p = next;
	}
	if (cur.oom || nxt.oom || two.oom)
		out->oom = 1;
	free(cur.p);
	free(nxt.p);
	free(two.p);
}

static void view_build(const struct cat_rules *rs, const struct mime_msg *m, struct view *v)
{
	memset(v, 0, sizeof *v);
	fold_field(&v->subject, m->subject);
	fold_field(&v->from, m->from);
	for (int i = 0; i < MIME_H_COUNT; i++)
		fold_field(&v->hdr[i], m->hdr[i]);
	fold_body(rs, &v->body, m->body);
	v->flag[FL_CALENDAR] = !!(m->flags & MIME_F_HAS_CALENDAR);
	v->flag[FL_ATTACHMENT] = !!(m->flags & MIME_F_HAS_ATTACHMENT);
	v->flag[FL_HTML] = !!(m->flags & MIME_F_BODY_FROM_HTML);
	v->flag[FL_REPLY] = m->in_reply_to && m->in_reply_to[0];
}

static int view_oom(const struct view *v)
{
	int oom = v->subject.oom || v->body.oom || v->from.oom;

	for (int i = 0; i < MIME_H_COUNT; i++)
		oom |= v->hdr[i].oom;
	return oom;
}

static void view_free(struct view *v)
{
	free(v->subject.p);
	free(v->body.p);
	free(v->from.p);
	for (int i = 0; i < MIME_H_COUNT; i++)
		free(v->hdr[i].p);
}

/* Whether r, a rule the scans do not find (see rules_match()), fires. */
static int other_fires(const struct cat_rule *r, const struct mime_msg *m, const struct view *v)
{
	switch (r->where) {
	case W_SUBJECT:
		return rule_matches_text(r, v->subject.p, v->subject.len);
	case W_BODY:
		return rule_matches_text(r, v->body.p, v->body.len);
	case W_TEXT:
		return rule_matches_text(r, v->subject.p, v->subject.len) ||
		       rule_matches_text(r, v->body.p, v->body.len);
	case W_FROM:
		return rule_matches_text(r, v->from.p, v->from.len);
	case W_HEADER:
		if (!m->hdr[r->arg])
			return 0;
		return r->pat ? rule_matches_text(r, v->hdr[r->arg].p, v->hdr[r->arg].len) : 1;
	case W_FLAG:
		return v->flag[r->arg];
	default:
		return 0;
	}
}

static const char *where_name(const struct cat_rule *r)
{
	static const char *const names[] = { "subject", "body", "text", "from", "header", "flag" };
	return names[r->where];
}

static void explain_add(char *buf, size_t buflen, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void explain_add(char *buf, size_t buflen, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!buf || *used + 1 >= buflen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, buflen - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < buflen ? *used + (size_t)n : buflen - 1;
}

static double round2(double x)
{
	return floor(x * 100.0 + 0.5) / 100.0;
}

int categorize_explain(const struct cat_rules *rs, const struct mime_msg *m,
                       struct cat_result *out, char *buf, size_t buflen)
{
	double score[CAT_ID_COUNT] = { 0 };
	struct view v;
	uint8_t *hit;
	size_t used = 0;
	int best = -1;
	double s1 = 0, s2 = 0, conf;

	if (buf && buflen)
		buf[0] = '\0';
	if (out) {
		snprintf(out->category, sizeof out->category, "%s", CAT_UNCATEGORIZED);
		out->confidence = 0;
	}
	if (!rs || !m || !out)
		return -1;
	view_build(rs, m, &v);
	if (view_oom(&v) || !(hit = calloc(rs->n, 1))) {
		view_free(&v);
		return -1;
	}
	cat_match_scan(rs->match, v.subject.p, v.subject.len, SCAN_SUBJECT, hit);
	cat_match_scan(rs->match, v.body.p, v.body.len, SCAN_BODY, hit);
	for (size_t k = 0; k < rs->nother; k++)
		hit[rs->other[k]] = (uint8_t)other_fires(&rs->r[rs->other[k]], m, &v);
	/* In rule order, so the explanation lists them as the file does; a
	 * message fires a few rules of hundreds, so eight clear ones are
	 * skipped at a time. */
	for (size_t i = 0; i < rs->n; i++) {
		uint64_t w;
		if (i + 8 <= rs->n && (memcpy(&w, hit + i, 8), w == 0)) {
			i += 7;
			continue;
		}
		if (!hit[i])
			continue;
		const struct cat_rule *r = &rs->r[i];
		score[r->cat] += r->weight;
		explain_add(buf, buflen, &used, "  %+.1f %-14s line %u: %s%s%s", r->weight,
		            cat_names[r->cat], r->line, where_name(r),
		            r->where == W_HEADER || r->where == W_FLAG ? ":" : "",
		            r->where == W_HEADER ? mime_hdr_name(r->arg)
		            : r->where == W_FLAG ? flag_names[r->arg] : "");
		if (r->pat)
			explain_add(buf, buflen, &used, " \"%s%s\"", r->pat, r->prefix ? "*" : "");
		explain_add(buf, buflen, &used, "\n");
	}
	free(hit);
	view_free(&v);
	for (int k = 0; k < CAT_ID_COUNT; k++) {
		int c = tie_order[k];
		if (best < 0 || score[c] > score[best])
			best = c;
	}
	s1 = score[best];
	for (int c = 0; c < CAT_ID_COUNT; c++)
		if (c != best && score[c] > s2)
			s2 = score[c];
	if (s1 < rs->threshold) {
		double lead = s1 > 0 ? s1 : 0;
		best = CAT_ID_UNCATEGORIZED;
		conf = 0.5 + 0.4 * (1.0 - lead / rs->threshold);
	} else {
		/* Strength grows with the winning score, and is shared out by
		 * the margin over the runner-up: 6 vs 0 gives ~0.82, 6 vs 5
		 * gives ~0.43. */
		double strength = 1.0 - exp(-s1 / 4.0);
		conf = 0.35 + 0.6 * strength * ((s1 - s2) / s1);
	}
	if (!(conf >= 0.05))
		conf = 0.05;
	if (conf > 0.99)
		conf = 0.99;
	snprintf(out->category, sizeof out->category, "%s", cat_names[best]);
	out->confidence = round2(conf);
	explain_add(buf, buflen, &used, "  scores:");
	for (int c = 0; c < CAT_ID_COUNT; c++)
		explain_add(buf, buflen, &used, " %s=%.1f", cat_names[c], score[c]);
	explain_add(buf, buflen, &used, " (threshold %.1f)\n", rs->threshold);
	return 0;
}

int categorize_local(const struct cat_rules *rs, const struct mime_msg *m, struct cat_result *out)
{
	return categorize_explain(rs, m, out, NULL, 0);
}
