/* ob_keyfile: the secret keys of onebox (the JWT HS256 key, the sealing key),
 * kept in 0600 files and generated on first start. */
#ifndef OB_KEYFILE_H
#define OB_KEYFILE_H

#include <stddef.h>

/* Reads exactly keylen bytes from path, or creates the file with keylen
 * random bytes (atomically: concurrent first starts of several processes get
 * the same key).  Refuses a file that group or others can read or write, or
 * of the wrong size.  Returns 0, or -1 with a reason in err (never the key). */
int ob_keyfile_load(const char *path, unsigned char *key, size_t keylen,
                    char *err, size_t errlen);

#endif
