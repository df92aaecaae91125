/* mime_cte: quoted-printable and base64 body decoding; see mime_cte.h. */
#include "mime_cte.h"

#include <string.h>

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t mime_cte_qp(const char *in, size_t n, char *out, int *bad)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const char *eq = memchr(in + i, '=', n - i);
		size_t run = eq ? (size_t)(eq - (in + i)) : n - i;
		memcpy(out + o, in + i, run);
		o += run;
		i += run;
		if (i >= n)
			break;
		/* in[i] is '='. */
		if (i + 2 < n) {
			int h = hexval((unsigned char)in[i + 1]), l = hexval((unsigned char)in[i + 2]);
			if (h >= 0 && l >= 0) {
				out[o++] = (char)(h << 4 | l);
				i += 3;
				continue;
			}
		}
		size_t j = i + 1;
		while (j < n && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j == n) {
			i = n;
		} else if (in[j] == '\n') {
			i = j + 1;
		} else if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') {
			i = j + 2;
		} else if (in[j] == '\r' && j + 1 == n) {
			i = n;
		} else {
			out[o++] = '=';
			i++;
			*bad = 1;
		}
	}
	return o;
}

/* Sextet of each base64 character; 64: whitespace, 65: padding, 66:
 * anything else. */
static const unsigned char b64_val[256] = {
#define X 66
	X, X, X, X, X, X, X, X, X, 64, 64, 64, 64, 64, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	64, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, 65, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
#undef X
};

/* The bytes of a group cut short after k characters (acc holds them):
 * 2 give 1 byte, 3 give 2; 1 gives nothing and is flagged. */
static size_t b64_tail(char *out, unsigned acc, unsigned k, int *bad)
{
	if (k == 2) {
		out[0] = (char)(acc >> 4);
		return 1;
	}
	if (k == 3) {
		out[0] = (char)(acc >> 10);
		out[1] = (char)(acc >> 2);
		return 2;
	}
	if (k == 1)
		*bad = 1;
	return 0;
}

size_t mime_cte_b64(const char *in, size_t n, char *out, int *bad)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, o = 0;
	unsigned acc = 0, k = 0;

	while (i < n) {
		/* Four alphabet characters in a row, the usual case, at once. */
		if (k == 0 && i + 4 <= n) {
			unsigned a = b64_val[u[i]], b = b64_val[u[i + 1]], c = b64_val[u[i + 2]],
			         d = b64_val[u[i + 3]];
			if ((a | b | c | d) < 64) {
				acc = a << 18 | b << 12 | c << 6 | d;
				k = 4;
				i += 4;
			}
		}
		if (k < 4) {
			unsigned v = b64_val[u[i++]];
			if (v < 64) {
				acc = acc << 6 | v;
				k++;
			} else if (v == 65) {
				/* Padding ends a group; some mailers join encoded
				 * chunks, so decoding goes on after it. */
				o += b64_tail(out + o, acc, k, bad);
				acc = 0;
				k = 0;
			} else if (v == 66) {
				*bad = 1;
			}
		}
		if (k == 4) {
			out[o] = (char)(acc >> 16);
			out[o + 1] = (char)(acc >> 8);
			out[o + 2] = (char)acc;
			o += 3;
			acc = 0;
			k = 0;
		}
	}
	return o + b64_tail(out + o, acc, k, bad);
}
