/* ob_rand: random bytes and ids; see ob_rand.h. */
#include "ob_rand.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int ob_rand_bytes(void *buf, size_t n)
{
    if (n > (size_t)INT32_MAX)
        return -1;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int ob_rand_id(const char *prefix, char *out, size_t outlen)
{
    unsigned char b[8];
    size_t pl = strlen(prefix);
    if (outlen < pl + 17 || ob_rand_bytes(b, sizeof b) < 0)
        return -1;
    memcpy(out, prefix, pl);
    for (int i = 0; i < 8; i++)
        snprintf(out + pl + 2 * i, 3, "%02x", b[i]);
    return 0;
}

double ob_rand_unit(void)
{
    uint32_t v = 0;
    if (ob_rand_bytes(&v, sizeof v) < 0)
        return 0.5;
    return v / 4294967296.0;
}
