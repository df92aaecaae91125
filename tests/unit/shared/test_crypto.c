/* test_crypto: JWT HS256, scrypt passwords, AES-GCM sealing, base64 and key
 * files — each with the bad input the foundation issue names. */
#include "../unit.h"
#include "ob_b64.h"
#include "ob_jwt.h"
#include "ob_keyfile.h"
#include "ob_passwd.h"
#include "ob_seal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const time_t now = 1800000000;

/* RFC 7515 A.1 signing input and key give the published signature. */
static void test_hs256_rfc7515_vector(void)
{
    static const char *k64 = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    static const char *input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    unsigned char k[128], mac[32];
    unsigned int maclen;
    long kl = ob_b64url_decode(k64, strlen(k64), k, sizeof k);
    CU_ASSERT_EQUAL(kl, 64);
    HMAC(EVP_sha256(), k, (int)kl, (const unsigned char *)input, strlen(input), mac, &maclen);
    char out[64];
    ob_b64url_encode(mac, 32, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

static void test_jwt_roundtrip(void)
{
    char *t = ob_jwt_sign(key, 32, "u_0123456789abcdef", "admin", now, 3600);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    struct ob_jwt_claims c;
    char err[128];
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, t, now + 10, &c, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.sub, "u_0123456789abcdef");
    CU_ASSERT_STRING_EQUAL(c.role, "admin");
    CU_ASSERT_EQUAL(c.exp, now + 3600);
    free(t);
}

static void test_jwt_wrong_signature(void)
{
    char *t = ob_jwt_sign(key, 32, "u_a", "user", now, 3600);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    struct ob_jwt_claims c;
    char err[128];
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';      /* flip signature bits */
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, t, now, &c, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "bad signature");
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    unsigned char other[32];
    memset(other, 7, sizeof other);
    CU_ASSERT_EQUAL(ob_jwt_verify(other, 32, t, now, &c, err, sizeof err), -1);
    free(t);
}

static void test_jwt_alg_none_and_others(void)
{
    struct ob_jwt_claims c;
    char err[128], tok[512], h[128], p[256];
    const char *algs[] = { "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"HS512\"}",
                           "{\"alg\":\"hs256\"}", "{\"typ\":\"JWT\"}", "{\"alg\":1}" };
    const char *pl = "{\"sub\":\"u_a\",\"role\":\"admin\",\"exp\":1900000000}";
    ob_b64url_encode(pl, strlen(pl), p, sizeof p);
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        ob_b64url_encode(algs[i], strlen(algs[i]), h, sizeof h);
        snprintf(tok, sizeof tok, "%s.%s.", h, p);
        CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), -1);
        CU_ASSERT_STRING_EQUAL(err, "unsupported alg");
    }
}

static void test_jwt_expired(void)
{
    char *t = ob_jwt_sign(key, 32, "u_a", "user", now, 60);
    struct ob_jwt_claims c;
    char err[128];
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, t, now + 60 + OB_JWT_LEEWAY + 1, &c, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "token expired");
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, t, now + 60, &c, err, sizeof err), 0);
    free(t);
}

/* Builds a correctly signed token from raw header and payload text. */
static void sign_raw(const char *hdr, const char *pl, char *out, size_t cap)
{
    char h[512], p[1024];
    ob_b64url_encode(hdr, strlen(hdr), h, sizeof h);
    ob_b64url_encode(pl, strlen(pl), p, sizeof p);
    int n = snprintf(out, cap, "%s.%s", h, p);
    unsigned char mac[32];
    unsigned int ml;
    HMAC(EVP_sha256(), key, 32, (unsigned char *)out, (size_t)n, mac, &ml);
    out[n++] = '.';
    ob_b64url_encode(mac, 32, out + n, cap - (size_t)n);
}

static void test_jwt_malformed(void)
{
    struct ob_jwt_claims c;
    char err[128], tok[2048];
    const char *bad[] = { "", "a", "a.b", "a.b.c.d", "!!!.e30.AAAA", "e30.e30.***",
                          "eyJhbGciOiJIUzI1NiJ9..", NULL };
    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, bad[i], now, &c, err, sizeof err), -1);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, NULL, now, &c, err, sizeof err), -1);
    /* Signed correctly but the payload is not JSON, or lacks claims. */
    sign_raw("{\"alg\":\"HS256\"}", "not json", tok, sizeof tok);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), -1);
    sign_raw("{\"alg\":\"HS256\"}", "{\"sub\":\"u_a\",\"role\":\"user\"}", tok, sizeof tok);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "token has no exp");
    sign_raw("{\"alg\":\"HS256\"}", "{\"sub\":\"u_a\",\"role\":\"root\",\"exp\":1900000000}", tok, sizeof tok);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), -1);
    sign_raw("{\"alg\":\"HS256\",\"alg\":\"none\"}", "{\"sub\":\"u_a\",\"role\":\"user\",\"exp\":1900000000}", tok, sizeof tok);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), -1);
    sign_raw("{\"alg\":\"HS256\"}", "{\"sub\":\"u_a\",\"role\":\"user\",\"exp\":\"soon\"}", tok, sizeof tok);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), -1);
    sign_raw("{\"alg\":\"HS256\"}", "{\"sub\":\"u_a\",\"role\":\"user\",\"exp\":1900000000}", tok, sizeof tok);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, tok, now, &c, err, sizeof err), 0);
    /* Standard base64 characters and padding are not base64url. */
    char *t = ob_jwt_sign(key, 32, "u_a", "user", now, 60);
    char padded[2048];
    snprintf(padded, sizeof padded, "%s=", t);
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, padded, now, &c, err, sizeof err), -1);
    free(t);
    char huge[OB_JWT_MAX_LEN + 10];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    CU_ASSERT_EQUAL(ob_jwt_verify(key, 32, huge, now, &c, err, sizeof err), -1);
}

static void test_passwd(void)
{
    char *h = ob_passwd_hash("correct horse battery", 12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(strncmp(h, "$scrypt$ln=12,r=8,p=1$", 22), 0);
    CU_ASSERT_EQUAL(ob_passwd_verify("correct horse battery", h), 1);
    CU_ASSERT_EQUAL(ob_passwd_verify("correct horse batterY", h), 0);
    CU_ASSERT_EQUAL(ob_passwd_verify("", h), 0);
    char *h2 = ob_passwd_hash("correct horse battery", 12);
    CU_ASSERT_STRING_NOT_EQUAL(h, h2);            /* salted */
    CU_ASSERT_EQUAL(ob_passwd_verify("x", "$scrypt$ln=99,r=8,p=1$AAAA$AAAA"), -1);
    CU_ASSERT_EQUAL(ob_passwd_verify("x", "plain"), -1);
    CU_ASSERT_EQUAL(ob_passwd_verify("x", "$scrypt$ln=12,r=8,p=1$!!$!!"), -1);
    free(h);
    free(h2);
}

static void test_seal(void)
{
    char aad[64], aad2[64], aad3[64];
    ob_seal_aad(aad, sizeof aad, 42, "secret");
    ob_seal_aad(aad2, sizeof aad2, 43, "secret");
    ob_seal_aad(aad3, sizeof aad3, 42, "token");
    unsigned char *blob, *pt;
    size_t bl, pl;
    const char *secret = "imap-password-\xc3\xa9";
    CU_ASSERT_EQUAL_FATAL(ob_seal(key, aad, secret, strlen(secret), &blob, &bl), 0);
    CU_ASSERT_EQUAL(bl, strlen(secret) + OB_SEAL_OVERHEAD);
    CU_ASSERT_PTR_NULL(memmem(blob, bl, "imap-password", 13));
    CU_ASSERT_EQUAL_FATAL(ob_unseal(key, aad, blob, bl, &pt, &pl), 0);
    CU_ASSERT_EQUAL(pl, strlen(secret));
    CU_ASSERT_STRING_EQUAL((char *)pt, secret);
    free(pt);
    /* moved to another row or field */
    CU_ASSERT_EQUAL(ob_unseal(key, aad2, blob, bl, &pt, &pl), -1);
    CU_ASSERT_EQUAL(ob_unseal(key, aad3, blob, bl, &pt, &pl), -1);
    /* tampered: every byte position */
    for (size_t i = 0; i < bl; i++) {
        blob[i] ^= 0x01;
        CU_ASSERT_EQUAL(ob_unseal(key, aad, blob, bl, &pt, &pl), -1);
        blob[i] ^= 0x01;
    }
    /* truncated, and another key */
    CU_ASSERT_EQUAL(ob_unseal(key, aad, blob, bl - 1, &pt, &pl), -1);
    CU_ASSERT_EQUAL(ob_unseal(key, aad, blob, 5, &pt, &pl), -1);
    unsigned char k2[32] = { 1 };
    CU_ASSERT_EQUAL(ob_unseal(k2, aad, blob, bl, &pt, &pl), -1);
    free(blob);
}

static void test_b64_strict(void)
{
    unsigned char out[64];
    CU_ASSERT_EQUAL(ob_b64url_decode("YQ", 2, out, sizeof out), 1);
    CU_ASSERT_EQUAL(out[0], 'a');
    CU_ASSERT_EQUAL(ob_b64url_decode("Y", 1, out, sizeof out), -1);
    CU_ASSERT_EQUAL(ob_b64url_decode("YQ==", 4, out, sizeof out), -1);
    CU_ASSERT_EQUAL(ob_b64url_decode("Y Q", 3, out, sizeof out), -1);
    CU_ASSERT_EQUAL(ob_b64url_decode("a+b/", 4, out, sizeof out), -1);
    CU_ASSERT_EQUAL(ob_b64_decode("YQ==", 4, out, sizeof out), 1);
    CU_ASSERT_EQUAL(ob_b64_decode("YQ=", 3, out, sizeof out), -1);
    CU_ASSERT_EQUAL(ob_b64_decode("aGVsbG8@@@!!", 12, out, sizeof out), -1);
    CU_ASSERT_EQUAL(ob_b64_decode("aGVsbG8h", 8, out, 2), -1);   /* no room */
}

static void test_keyfile(void)
{
    char dir[] = "/tmp/ob_keyXXXXXX", path[256], err[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/jwt.key", dir);
    unsigned char k1[32], k2[32];
    CU_ASSERT_EQUAL(ob_keyfile_load(path, k1, 32, err, sizeof err), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(ob_keyfile_load(path, k2, 32, err, sizeof err), 0);
    CU_ASSERT_EQUAL(memcmp(k1, k2, 32), 0);
    chmod(path, 0644);
    CU_ASSERT_EQUAL(ob_keyfile_load(path, k2, 32, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "chmod 600"));
    chmod(path, 0600);
    CU_ASSERT_EQUAL(ob_keyfile_load(path, k2, 16, err, sizeof err), -1);  /* wrong size */
    unlink(path);
    rmdir(dir);
}

static const struct unit_case cases[] = {
    { "HS256 matches RFC 7515 A.1", test_hs256_rfc7515_vector },
    { "JWT sign/verify round trip", test_jwt_roundtrip },
    { "JWT wrong signature or key is rejected", test_jwt_wrong_signature },
    { "JWT alg none/HS512/missing is rejected", test_jwt_alg_none_and_others },
    { "JWT expired is rejected", test_jwt_expired },
    { "JWT malformed base64/JSON/claims rejected", test_jwt_malformed },
    { "scrypt hash verify, wrong password, malformed", test_passwd },
    { "seal: tampered or moved blob does not open", test_seal },
    { "base64/base64url decoders are strict", test_b64_strict },
    { "key file created 0600, reused, refused when open", test_keyfile },
    { NULL, NULL },
};

UNIT_MAIN("crypto", cases)
