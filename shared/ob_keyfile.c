/* ob_keyfile: load or create 0600 key files; see ob_keyfile.h.
 * Creation writes a temp file and link(2)s it into place, which fails if the
 * name exists, so two processes starting together cannot end with different
 * keys. */
#include "ob_keyfile.h"
#include "ob_rand.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_key(const char *path, unsigned char *key, size_t keylen,
                    char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: mode %03o lets others read the key; chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return -1;
    }
    if ((size_t)st.st_size != keylen) {
        snprintf(err, errlen, "%s: expected %zu bytes, found %lld", path, keylen,
                 (long long)st.st_size);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < keylen) {
        ssize_t r = read(fd, key + got, keylen - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "%s: short read", path);
            close(fd);
            OPENSSL_cleanse(key, keylen);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

int ob_keyfile_load(const char *path, unsigned char *key, size_t keylen,
                    char *err, size_t errlen)
{
    if (access(path, F_OK) == 0)
        return read_key(path, key, keylen, err, errlen);

    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        snprintf(err, errlen, "key path too long");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    int ok = ob_rand_bytes(key, keylen) == 0 &&
             write(fd, key, keylen) == (ssize_t)keylen && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(key, keylen);
    if (!ok) {
        unlink(tmp);
        snprintf(err, errlen, "%s: could not write a new key", path);
        return -1;
    }
    if (link(tmp, path) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    unlink(tmp);
    return read_key(path, key, keylen, err, errlen);
}
