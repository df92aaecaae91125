/* ob_passwd: scrypt password hashes; see ob_passwd.h. */
#include "ob_passwd.h"
#include "ob_b64.h"
#include "ob_rand.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define MAX_PASSWORD 1024

static int scrypt(const char *pw, const unsigned char *salt, size_t saltlen,
                  int ln, unsigned char *out)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (!kdf)
        return -1;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!kctx)
        return -1;
    uint64_t n = (uint64_t)1 << ln, maxmem = (uint64_t)1 << 30;
    uint32_t r = 8, p = 1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, strlen(pw)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    int rc = EVP_KDF_derive(kctx, out, HASH_LEN, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(kctx);
    return rc;
}

char *ob_passwd_hash(const char *password, int ln)
{
    if (!password || ln < 10 || ln > 20 || strlen(password) > MAX_PASSWORD)
        return NULL;
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char s64[OB_B64_ENC_LEN(SALT_LEN)], h64[OB_B64_ENC_LEN(HASH_LEN)];
    if (ob_rand_bytes(salt, sizeof salt) < 0 || scrypt(password, salt, SALT_LEN, ln, hash) < 0)
        return NULL;
    ob_b64_encode(salt, SALT_LEN, s64, sizeof s64);
    ob_b64_encode(hash, HASH_LEN, h64, sizeof h64);
    OPENSSL_cleanse(hash, sizeof hash);
    size_t n = strlen(s64) + strlen(h64) + 40;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "$scrypt$ln=%d,r=8,p=1$%s$%s", ln, s64, h64);
    return out;
}

int ob_passwd_verify(const char *password, const char *stored)
{
    int ln;
    char s64[64], h64[64];
    if (!password || !stored || strlen(stored) > 200)
        return -1;
    if (sscanf(stored, "$scrypt$ln=%d,r=8,p=1$%63[A-Za-z0-9+/=]$%63[A-Za-z0-9+/=]",
               &ln, s64, h64) != 3 || ln < 10 || ln > 20)
        return -1;
    unsigned char salt[48], want[48], got[HASH_LEN];
    long sl = ob_b64_decode(s64, strlen(s64), salt, sizeof salt);
    long hl = ob_b64_decode(h64, strlen(h64), want, sizeof want);
    if (sl < 8 || hl != HASH_LEN)
        return -1;
    if (strlen(password) > MAX_PASSWORD)
        return 0;
    if (scrypt(password, salt, (size_t)sl, ln, got) < 0)
        return -1;
    int ok = CRYPTO_memcmp(got, want, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}
