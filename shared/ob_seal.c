/* ob_seal: AES-256-GCM sealed secrets bound to their row; see ob_seal.h. */
#include "ob_seal.h"
#include "ob_rand.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 0x01
#define NONCE 12
#define TAG 16

int ob_seal_aad(char *buf, size_t cap, long long account_id, const char *field)
{
    int n = snprintf(buf, cap, "account:%lld|field:%s", account_id, field);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int ob_seal(const unsigned char key[OB_SEAL_KEY_LEN], const char *aad,
            const void *pt, size_t ptlen, unsigned char **out, size_t *outlen)
{
    if (ptlen > OB_SEAL_MAX_PLAIN || !aad)
        return -1;
    unsigned char *b = malloc(ptlen + OB_SEAL_OVERHEAD);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, len2 = 0, ok = b && c;
    if (ok) {
        b[0] = VERSION;
        ok = ob_rand_bytes(b + 1, NONCE) == 0 &&
             EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), key, b + 1, NULL) == 1 &&
             EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_EncryptUpdate(c, b + 1 + NONCE, &len, pt, (int)ptlen) == 1 &&
             EVP_EncryptFinal_ex(c, b + 1 + NONCE + len, &len2) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, b + 1 + NONCE + ptlen) == 1;
    }
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        free(b);
        return -1;
    }
    *out = b;
    *outlen = ptlen + OB_SEAL_OVERHEAD;
    return 0;
}

int ob_unseal(const unsigned char key[OB_SEAL_KEY_LEN], const char *aad,
              const unsigned char *blob, size_t bloblen,
              unsigned char **pt, size_t *ptlen)
{
    if (!blob || !aad || bloblen < OB_SEAL_OVERHEAD ||
        bloblen > OB_SEAL_MAX_PLAIN + OB_SEAL_OVERHEAD || blob[0] != VERSION)
        return -1;
    size_t n = bloblen - OB_SEAL_OVERHEAD;
    unsigned char *p = malloc(n + 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, len2 = 0, ok = p && c;
    if (ok)
        ok = EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), key, blob + 1, NULL) == 1 &&
             EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_DecryptUpdate(c, p, &len, blob + 1 + NONCE, (int)n) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG,
                                 (void *)(blob + 1 + NONCE + n)) == 1 &&
             EVP_DecryptFinal_ex(c, p + len, &len2) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        if (p) {
            OPENSSL_cleanse(p, n + 1);
            free(p);
        }
        return -1;
    }
    p[n] = '\0';
    *pt = p;
    *ptlen = n;
    return 0;
}
