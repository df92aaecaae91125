/* test_mime.c — data-driven tests of sync/mime_decode.c.
 *
 * Every tests/data/mime/NAME.eml is decoded and checked against
 * NAME.expect, one "key: value" per line ("\n", "\t" and "\\" escapes):
 *   proves: what the case shows (required)
 *   limit FIELD: N            override one struct mime_limits field
 *   rc: 0|-1                  return code
 *   error~: TEXT              the error contains TEXT
 *   FIELD: TEXT               subject from from_addr to cc date message_id
 *                             in_reply_to body equal TEXT exactly
 *   FIELD~: TEXT / FIELD!~:   FIELD contains / does not contain TEXT
 *   len FIELD<=: N            strlen(FIELD) <= N
 *   hdr NAME: TEXT            kept header equals TEXT ("(absent)": not present)
 *   flags+: F ... / flags-:   MIME_F_* names (without prefix) set / not set
 *   nparts: N
 * Every successful decode must also give valid UTF-8 in every field and no
 * control characters in one-line fields. A second test mutates each sample
 * (truncations, byte flips, inserted delimiters) to shake out crashes under
 * ASan. Run from the repo root or set ONEBOX_SRC.
 */
#include "../unit.h"
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../sync/mime_decode.h"

static char data_dir[4096];


static int utf8_ok(const char *s, int one_line)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		unsigned char c = *u;
		int k = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
		        : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
		if (k == 0)
			return 0;
		if (k == 1 && (c == 0x7F || (c < 0x20 && (one_line || (c != '\n' && c != '\t')))))
			return 0;
		for (int i = 1; i < k; i++)
			if ((u[i] & 0xC0) != 0x80)
				return 0;
		if (k == 3 && ((c == 0xE0 && u[1] < 0xA0) || (c == 0xED && u[1] > 0x9F)))
			return 0;
		if (k == 4 && ((c == 0xF0 && u[1] < 0x90) || (c == 0xF4 && u[1] > 0x8F)))
			return 0;
		u += k;
	}
	return 1;
}

/* Checks the invariants every successful decode must hold; returns the
 * number of violations (printed). */
static int check_invariants(const char *name, const struct mime_msg *m)
{
	const char *one[] = { m->subject, m->from, m->from_addr, m->to, m->cc,
	                      m->date_iso, m->message_id, m->in_reply_to };
	int bad = 0;

	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
		if (!one[i] || !utf8_ok(one[i], 1)) {
			printf("  %s: one-line field %zu missing or not clean UTF-8\n", name, i);
			bad++;
		}
	if (!m->body || !utf8_ok(m->body, 0)) {
		printf("  %s: body missing or not valid UTF-8\n", name);
		bad++;
	}
	for (int h = 0; h < MIME_H_COUNT; h++)
		if (m->hdr[h] && !utf8_ok(m->hdr[h], 1)) {
			printf("  %s: header %s not clean UTF-8\n", name, mime_hdr_name(h));
			bad++;
		}
	return bad;
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static const char *field_of(const struct mime_msg *m, const char *name)
{
	static const char *names[] = { "subject", "from", "from_addr", "to", "cc", "date",
	                               "message_id", "in_reply_to", "body" };
	const char *vals[] = { m->subject, m->from, m->from_addr, m->to, m->cc, m->date_iso,
	                       m->message_id, m->in_reply_to, m->body };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return vals[i];
	return NULL;
}

static const struct {
	const char *name;
	unsigned bit;
} flag_names[] = {
	{ "RAW_TRUNCATED", MIME_F_RAW_TRUNCATED }, { "HEADERS_TRUNCATED", MIME_F_HEADERS_TRUNCATED },
	{ "BODY_TRUNCATED", MIME_F_BODY_TRUNCATED }, { "PARTS_LIMIT", MIME_F_PARTS_LIMIT },
	{ "DEPTH_LIMIT", MIME_F_DEPTH_LIMIT }, { "MALFORMED", MIME_F_MALFORMED },
	{ "CHARSET_FALLBACK", MIME_F_CHARSET_FALLBACK }, { "INVALID_UTF8", MIME_F_INVALID_UTF8 },
	{ "BODY_FROM_HTML", MIME_F_BODY_FROM_HTML }, { "HAS_ATTACHMENT", MIME_F_HAS_ATTACHMENT },
	{ "HAS_CALENDAR", MIME_F_HAS_CALENDAR },
};

static int flag_bit(const char *name, unsigned *bit)
{
	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
		if (strcmp(name, flag_names[i].name) == 0) {
			*bit = flag_names[i].bit;
			return 0;
		}
	return -1;
}

static int set_limit(struct mime_limits *lim, const char *name, const char *val)
{
	size_t v = strtoul(val, NULL, 10);

	if (strcmp(name, "max_raw") == 0) lim->max_raw = v;
	else if (strcmp(name, "max_headers") == 0) lim->max_headers = v;
	else if (strcmp(name, "max_header_len") == 0) lim->max_header_len = v;
	else if (strcmp(name, "max_body") == 0) lim->max_body = v;
	else if (strcmp(name, "max_parts") == 0) lim->max_parts = v;
	else if (strcmp(name, "max_depth") == 0) lim->max_depth = v;
	else return -1;
	return 0;
}

/* Splits "key: value" (or "key:" for an empty value). */
static int split_line(char *line, char **key, char **val)
{
	char *c = strstr(line, ": ");

	if (c) {
		*c = '\0';
		*val = c + 2;
	} else if (line[0] && line[strlen(line) - 1] == ':') {
		line[strlen(line) - 1] = '\0';
		*val = line + strlen(line);
	} else {
		return -1;
	}
	*key = line;
	unescape(*val);
	return 0;
}

/* Runs one case; returns the number of failed checks (each printed). */
static int run_case(const char *name)
{
	char path[4200], err[256];
	char *raw, *exp, *save = NULL;
	size_t rawlen = 0, explen = 0;
	struct mime_limits lim;
	struct mime_msg m;
	int fails = 0, rc, proves = 0;

	snprintf(path, sizeof path, "%s/%s.expect", data_dir, name);
	if (!(exp = unit_read_file(path, &explen))) {
		printf("  %s: missing .expect\n", name);
		return 1;
	}
	snprintf(path, sizeof path, "%s/%s.eml", data_dir, name);
	if (!(raw = unit_read_file(path, &rawlen))) {
		printf("  %s: cannot read .eml\n", name);
		free(exp);
		return 1;
	}
	mime_limits_default(&lim);
	/* First pass: limits, which must be known before decoding. */
	{
		char *copy = strdup(exp), *sv = NULL;
		for (char *l = strtok_r(copy, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
			char *k, *v;
			if (strncmp(l, "limit ", 6) == 0 && split_line(l + 6, &k, &v) == 0 &&
			    set_limit(&lim, k, v) < 0) {
				printf("  %s: unknown limit %s\n", name, k);
				fails++;
			}
		}
		free(copy);
	}
	rc = mime_decode(raw, rawlen, &lim, &m, err, sizeof err);
	if (rc == 0)
		fails += check_invariants(name, &m);
	for (char *l = strtok_r(exp, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *k, *v;
		unsigned bit;

		if (l[0] == '#' || strncmp(l, "limit ", 6) == 0)
			continue;
		if (split_line(l, &k, &v) < 0) {
			printf("  %s: bad expect line: %s\n", name, l);
			fails++;
			continue;
		}
		if (strcmp(k, "proves") == 0) {
			printf("  %-28s %s\n", name, v);
			proves = 1;
		} else if (strcmp(k, "rc") == 0) {
			if (rc != atoi(v)) {
				printf("  %s: rc %d, want %s (err: %s)\n", name, rc, v, err);
				fails++;
			}
		} else if (strcmp(k, "error~") == 0) {
			if (!strstr(err, v)) {
				printf("  %s: error \"%s\" lacks \"%s\"\n", name, err, v);
				fails++;
			}
		} else if (rc != 0) {
			printf("  %s: check %s needs a successful decode\n", name, k);
			fails++;
		} else if (strcmp(k, "flags+") == 0 || strcmp(k, "flags-") == 0) {
			char *sv2 = NULL;
			for (char *f = strtok_r(v, " ", &sv2); f; f = strtok_r(NULL, " ", &sv2)) {
				if (flag_bit(f, &bit) < 0) {
					printf("  %s: unknown flag %s\n", name, f);
					fails++;
				} else if (!!(m.flags & bit) != (k[5] == '+')) {
					printf("  %s: flag %s %s (flags 0x%x)\n", name, f,
					       k[5] == '+' ? "not set" : "set", m.flags);
					fails++;
				}
			}
		} else if (strcmp(k, "nparts") == 0) {
			if (m.nparts != (unsigned)atoi(v)) {
				printf("  %s: nparts %u, want %s\n", name, m.nparts, v);
				fails++;
			}
		} else if (strncmp(k, "hdr ", 4) == 0) {
			int h = mime_hdr_lookup(k + 4);
			const char *got = h >= 0 ? m.hdr[h] : NULL;
			int absent = strcmp(v, "(absent)") == 0;
			if (h < 0 || (absent ? got != NULL : (!got || strcmp(got, v) != 0))) {
				printf("  %s: %s = \"%s\", want \"%s\"\n", name, k, got ? got : "(absent)", v);
				fails++;
			}
		} else if (strncmp(k, "len ", 4) == 0) {
			size_t kl = strlen(k);
			const char *got;
			if (kl < 7 || strcmp(k + kl - 2, "<=") != 0) {
				printf("  %s: bad len key %s\n", name, k);
				fails++;
				continue;
			}
			k[kl - 2] = '\0';
			got = field_of(&m, k + 4);
			if (!got || strlen(got) > strtoul(v, NULL, 10)) {
				printf("  %s: len %s = %zu > %s\n", name, k + 4, got ? strlen(got) : 0, v);
				fails++;
			}
		} else {
			size_t kl = strlen(k);
			int mode = 0; /* 0 equal, 1 contains, 2 lacks */
			const char *got;
			if (kl > 2 && strcmp(k + kl - 2, "!~") == 0) {
				mode = 2;
				k[kl - 2] = '\0';
			} else if (kl > 1 && k[kl - 1] == '~') {
				mode = 1;
				k[kl - 1] = '\0';
			}
			got = field_of(&m, k);
			if (!got) {
				printf("  %s: unknown key %s\n", name, k);
				fails++;
			} else if ((mode == 0 && strcmp(got, v) != 0) || (mode == 1 && !strstr(got, v)) ||
			           (mode == 2 && strstr(got, v))) {
				printf("  %s: %s%s \"%s\"\n      got \"%s\"\n", name, k,
				       mode == 0 ? " !=" : mode == 1 ? " lacks" : " has", v, got);
				fails++;
			}
		}
	}
	if (!proves) {
		printf("  %s: .expect has no proves: line\n", name);
		fails++;
	}
	if (rc == 0)
		mime_msg_free(&m);
	free(raw);
	free(exp);
	return fails;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names (without .eml) of the samples; returns the count. */
static size_t list_cases(char ***out)
{
	DIR *d = opendir(data_dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;

	*out = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".eml") == 0) {
			char **nv = realloc(v, (n + 1) * sizeof *v);
			if (!nv)
				break;
			v = nv;
			v[n++] = strndup(e->d_name, l - 4);
		}
	}
	closedir(d);
	qsort(v, n, sizeof *v, cmp_str);
	*out = v;
	return n;
}

static void test_cases(void)
{
	char **names;
	size_t n = list_cases(&names);
	int fails = 0;

	printf("\n");
	CU_ASSERT_FATAL(n >= 20);
	for (size_t i = 0; i < n; i++) {
		fails += run_case(names[i]);
		free(names[i]);
	}
	free(names);
	CU_ASSERT_EQUAL(fails, 0);
}

/* Mutates every sample many ways with a fixed seed and decodes each result
 * under tight limits: nothing may crash, every success must be clean UTF-8. */
static void test_mutations(void)
{
	static const char inserts[] = { '\n', '\r', '-', '=', '<', '>', '&', ':', ' ', '\0',
	                                (char)0xff, (char)0xc3, '?' };
	char **names;
	size_t n = list_cases(&names);
	uint32_t seed = 12345;
	struct mime_limits lim;
	int bad = 0;
	unsigned runs = 0;

	mime_limits_default(&lim);
	lim.max_body = 2048;
	lim.max_header_len = 512;
	lim.max_parts = 16;
	lim.max_depth = 4;
	lim.max_headers = 40;
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		size_t len = 0;
		char *raw;

		snprintf(path, sizeof path, "%s/%s.eml", data_dir, names[i]);
		raw = unit_read_file(path, &len);
		if (!raw || len == 0) {
			free(raw);
			free(names[i]);
			continue;
		}
		for (int k = 0; k < 60; k++) {
			char *mut = malloc(len + 8);
			size_t ml = len;
			struct mime_msg m;
			char err[128];

			memcpy(mut, raw, len);
			for (int j = 0; j < 1 + k % 4; j++) {
				seed = seed * 1103515245u + 12345u;
				size_t pos = (seed >> 8) % ml;
				switch (k % 3) {
				case 0: /* truncate */
					ml = pos + 1;
					break;
				case 1: /* overwrite */
					mut[pos] = inserts[(seed >> 4) % sizeof inserts];
					break;
				default: /* duplicate a delimiter-ish run */
					memmove(mut + pos + 2, mut + pos, ml - pos);
					mut[pos] = '-';
					mut[pos + 1] = '-';
					ml += 2; /* at most 4 times: fits the 8 spare bytes */
					break;
				}
			}
			if (mime_decode(mut, ml, &lim, &m, err, sizeof err) == 0) {
				bad += check_invariants(names[i], &m);
				mime_msg_free(&m);
			}
			runs++;
			free(mut);
		}
		free(raw);
		free(names[i]);
	}
	free(names);
	printf("\n  %u mutated messages decoded\n", runs);
	CU_ASSERT(runs > 500);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_api_edges(void)
{
	struct mime_msg m;
	char err[64];
	const char *msg = "Subject: x\r\n\r\nhello";

	/* NULL input and zero length fail cleanly and leave nothing to free. */
	CU_ASSERT_EQUAL(mime_decode(NULL, 5, NULL, &m, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(m.body);
	CU_ASSERT_EQUAL(mime_decode(msg, 0, NULL, &m, NULL, 0), -1);
	/* NULL limits mean the defaults; free twice is harmless. */
	CU_ASSERT_EQUAL(mime_decode(msg, strlen(msg), NULL, &m, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(m.body, "hello");
	mime_msg_free(&m);
	mime_msg_free(&m);
	mime_msg_free(NULL);
	/* max_raw cuts the input and says so. */
	{
		struct mime_limits lim;
		mime_limits_default(&lim);
		lim.max_raw = strlen(msg) - 2;
		CU_ASSERT_EQUAL(mime_decode(msg, strlen(msg), &lim, &m, err, sizeof err), 0);
		CU_ASSERT_STRING_EQUAL(m.body, "hel");
		CU_ASSERT(m.flags & MIME_F_RAW_TRUNCATED);
		mime_msg_free(&m);
	}
	/* max_body cuts on a character boundary. */
	{
		const char *u = "Content-Type: text/plain; charset=utf-8\n\n\xc3\xa9\xc3\xa9\xc3\xa9";
		struct mime_limits lim;
		mime_limits_default(&lim);
		lim.max_body = 3;
		CU_ASSERT_EQUAL(mime_decode(u, strlen(u), &lim, &m, err, sizeof err), 0);
		CU_ASSERT_STRING_EQUAL(m.body, "\xc3\xa9");
		CU_ASSERT(m.flags & MIME_F_BODY_TRUNCATED);
		mime_msg_free(&m);
	}
	/* Header names round-trip. */
	for (int h = 0; h < MIME_H_COUNT; h++)
		CU_ASSERT_EQUAL(mime_hdr_lookup(mime_hdr_name(h)), h);
	CU_ASSERT_EQUAL(mime_hdr_lookup("list-unsubscribe"), MIME_H_LIST_UNSUBSCRIBE);
	CU_ASSERT_EQUAL(mime_hdr_lookup("X-Nope"), -1);
	CU_ASSERT_PTR_NULL(mime_hdr_name(MIME_H_COUNT));
}

static const struct unit_case cases[] = {
	{ "sample messages (tests/data/mime)", test_cases },
	{ "mutated samples never crash", test_mutations },
	{ "API edges", test_api_edges },
	{ NULL, NULL },
};

int main(void)
{
	const char *root = getenv("ONEBOX_SRC");

	snprintf(data_dir, sizeof data_dir, "%s/tests/data/mime", root && *root ? root : ".");
	return unit_run("mime_decode", cases);
}
