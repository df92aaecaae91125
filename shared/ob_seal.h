/* ob_seal: AES-256-GCM sealing of secrets stored in the database (IMAP
 * passwords, OAuth refresh tokens).
 *
 * Blob format: version(1)=0x01 | nonce(12) | ciphertext | tag(16).
 * The additional data binds a blob to its row and field
 * ("account:<id>|field:<name>"), so a blob copied to another row or field
 * does not open. */
#ifndef OB_SEAL_H
#define OB_SEAL_H

#include <stddef.h>

#define OB_SEAL_KEY_LEN 32
#define OB_SEAL_OVERHEAD (1 + 12 + 16)
#define OB_SEAL_MAX_PLAIN 65536

/* Writes the AAD for (account id, field) into buf; returns 0 or -1. */
int ob_seal_aad(char *buf, size_t cap, long long account_id, const char *field);

/* Seals pt; *out is malloc'd (caller frees), *outlen = ptlen + overhead.
 * Returns 0 or -1. */
int ob_seal(const unsigned char key[OB_SEAL_KEY_LEN], const char *aad,
            const void *pt, size_t ptlen, unsigned char **out, size_t *outlen);

/* Opens a blob; *pt is malloc'd with a NUL after *ptlen bytes (caller wipes
 * with OPENSSL_cleanse and frees).  Returns 0, or -1 if the blob was tampered
 * with, moved to another row/field, or sealed under another key. */
int ob_unseal(const unsigned char key[OB_SEAL_KEY_LEN], const char *aad,
              const unsigned char *blob, size_t bloblen,
              unsigned char **pt, size_t *ptlen);

#endif
