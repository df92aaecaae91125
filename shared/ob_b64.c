/* ob_b64: strict base64 and base64url codecs on OpenSSL's EVP_*Block. */
#include "ob_b64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

long ob_b64_encode(const void *in, size_t n, char *out, size_t cap)
{
    if (n > 0x30000000 || cap < OB_B64_ENC_LEN(n))
        return -1;
    return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

long ob_b64url_encode(const void *in, size_t n, char *out, size_t cap)
{
    long len = ob_b64_encode(in, n, out, cap);
    if (len < 0)
        return -1;
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (long i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return len;
}

static int is_b64(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Decodes padded standard base64 of length n (n % 4 == 0). */
static long decode_padded(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0)
        return 0;
    if (n % 4 || n > 0x30000000 || cap < n / 4 * 3)
        return -1;
    int pad = (in[n - 1] == '=') + (in[n - 2] == '=');
    for (size_t i = 0; i < n - (size_t)pad; i++)
        if (!is_b64((unsigned char)in[i]) && in[i] != '+' && in[i] != '/')
            return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    return len - pad;
}

long ob_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4)
        return -1;
    return decode_padded(in, n, out, cap);
}

long ob_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 == 1 || n > 0x30000000)
        return -1;
    size_t padded = (n + 3) / 4 * 4;
    char *tmp = malloc(padded + 1);
    if (!tmp)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (is_b64(c))
            tmp[i] = (char)c;
        else if (c == '-')
            tmp[i] = '+';
        else if (c == '_')
            tmp[i] = '/';
        else {
            free(tmp);
            return -1;
        }
    }
    for (size_t i = n; i < padded; i++)
        tmp[i] = '=';
    tmp[padded] = '\0';
    long r = decode_padded(tmp, padded, out, cap);
    free(tmp);
    return r;
}
