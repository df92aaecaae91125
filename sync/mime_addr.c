/* mime_addr: the simple one-mailbox address fields; see mime_addr.h. */
#include "mime_addr.h"

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Length of the dot-separated run at s[0..n) whose parts are non-empty
 * runs of alnum or of extra (a string of allowed punctuation); 0 if there
 * is none or a part is empty. */
static size_t dot_run(const char *s, size_t n, const char *extra)
{
	size_t i = 0, part = 0;

	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (part == 0)
				return 0;
			part = 0;
			continue;
		}
		int ok = is_alnum(c);
		for (const char *e = extra; !ok && *e; e++)
			ok = c == (unsigned char)*e;
		if (!ok)
			break;
		part++;
	}
	return part == 0 ? 0 : i;
}

/* Length of "local@domain" at s[0..n), or 0. */
static size_t addr_spec(const char *s, size_t n)
{
	size_t l = dot_run(s, n, "_+-");
	if (l == 0 || l >= n || s[l] != '@')
		return 0;
	size_t d = dot_run(s + l + 1, n - l - 1, "-");
	return d == 0 ? 0 : l + 1 + d;
}

int mime_addr_simple(const char *s, size_t n, struct mime_addr *out)
{
	size_t i = 0, e = n;

	while (i < e && is_blank(s[i]))
		i++;
	while (e > i && is_blank(s[e - 1]))
		e--;
	if (i == e)
		return 0;
	size_t a = addr_spec(s + i, e - i);
	if (a == e - i) {
		*out = (struct mime_addr){ NULL, 0, s + i, a };
		return 1;
	}
	/* One quoted string or words, each followed by one space, then
	 * "<addr>". */
	size_t w = i;
	if (s[w] == '"') {
		size_t q = w + 1;
		/* libetpan keeps the quotes of what looks like an encoded
		 * word and squeezes runs of blanks: neither is taken. */
		while (q < e && s[q] != '"' && s[q] != '\\' && s[q] != '=' && s[q] >= 0x20 &&
		       s[q] < 0x7f && !(s[q] == ' ' && s[q - 1] == ' '))
			q++;
		if (q == w + 1 || q + 2 >= e || s[q] != '"' || s[q + 1] != ' ' || s[q + 2] != '<')
			return 0;
		a = addr_spec(s + q + 3, e - q - 3);
		if (a == 0 || a != e - q - 4 || s[e - 1] != '>')
			return 0;
		*out = (struct mime_addr){ s + w + 1, q - w - 1, s + q + 3, a };
		return 1;
	}
	while (w < e && s[w] != '<') {
		size_t k = w;
		while (k < e && (is_alnum((unsigned char)s[k]) || s[k] == '-' || s[k] == '_' ||
		                 s[k] == '\''))
			k++;
		if (k == w || k >= e || s[k] != ' ')
			return 0;
		w = k + 1;
	}
	if (w == i || w >= e || s[e - 1] != '>')
		return 0;
	a = addr_spec(s + w + 1, e - w - 2);
	if (a == 0 || a != e - w - 2)
		return 0;
	*out = (struct mime_addr){ s + i, w - 1 - i, s + w + 1, a };
	return 1;
}
