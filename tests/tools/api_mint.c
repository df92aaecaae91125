/* api_mint: signs a JWT with a data dir's HS256 key file (ob_jwt_sign), so
 * the integration tests can present tokens no login would give out: an
 * expired one, one for a user who does not exist, one with another role.
 *
 *   api_mint KEYFILE SUB ROLE TTL [IAT_OFFSET]
 *     iat = now + IAT_OFFSET (seconds, may be negative), exp = iat + TTL.
 *   Prints the token.  Exit 1 on error (the key is never printed). */
#include "ob_jwt.h"
#include "ob_keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: api_mint KEYFILE SUB ROLE TTL [IAT_OFFSET]\n");
        return 2;
    }
    unsigned char key[OB_JWT_KEY_LEN];
    char err[256];
    if (ob_keyfile_load(argv[1], key, sizeof key, err, sizeof err) < 0) {
        fprintf(stderr, "api_mint: %s\n", err);
        return 1;
    }
    long ttl = strtol(argv[4], NULL, 10);
    long off = argc > 5 ? strtol(argv[5], NULL, 10) : 0;
    char *tok = ob_jwt_sign(key, sizeof key, argv[2], argv[3], time(NULL) + off, ttl);
    if (!tok) {
        fprintf(stderr, "api_mint: cannot sign\n");
        return 1;
    }
    printf("%s\n", tok);
    free(tok);
    return 0;
}
