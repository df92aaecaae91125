/* ob_rand: cryptographic random bytes (OpenSSL RAND_bytes) and random ids
 * such as "u_3f9a0c1d2e4b5a69" for users and connections. */
#ifndef OB_RAND_H
#define OB_RAND_H

#include <stddef.h>

/* Fills buf; returns 0, or -1 if the generator failed (never silently). */
int ob_rand_bytes(void *buf, size_t n);
/* Writes prefix + 16 hex digits (64 random bits); out needs strlen(prefix)+17
 * bytes.  Returns 0 or -1. */
int ob_rand_id(const char *prefix, char *out, size_t outlen);
/* A uniform double in [0,1) for jitter (not for secrets). */
double ob_rand_unit(void);

#endif
