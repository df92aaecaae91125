/* ob_b64: base64 (RFC 4648 §4) and base64url without padding (§5, as JWT
 * needs, RFC 7515 §2).  Decoders are strict: wrong alphabet, whitespace,
 * bad padding or impossible lengths are errors. */
#ifndef OB_B64_H
#define OB_B64_H

#include <stddef.h>

/* Output size needed to encode n bytes, including the NUL. */
#define OB_B64_ENC_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode into out (cap bytes); returns the string length or -1. */
long ob_b64_encode(const void *in, size_t n, char *out, size_t cap);
long ob_b64url_encode(const void *in, size_t n, char *out, size_t cap);
/* Decode into out (cap bytes); returns the byte count or -1. */
long ob_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
long ob_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
