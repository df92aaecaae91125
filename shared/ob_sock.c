/* ob_sock: internal Unix sockets; see ob_sock.h. */
#include "ob_sock.h"
#include "ob_time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (!path || strlen(path) >= sizeof sa->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

int ob_sock_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

int ob_sock_listen_unix(const char *path, mode_t mode, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (fill_addr(&sa, path) < 0) {
        snprintf(err, errlen, "socket path too long: %s", path ? path : "(null)");
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            return -1;
        }
        /* A live server still answers: refuse to steal its socket. */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(probe);
            snprintf(err, errlen, "%s is in use by a running process", path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    mode_t old = umask(0777 & ~mode);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(path, mode) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int ob_sock_connect_unix(const char *path, int timeout_ms)
{
    struct sockaddr_un sa;
    if (fill_addr(&sa, path) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EAGAIN) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&p, 1, timeout_ms) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        close(fd);
        errno = soerr ? soerr : ETIMEDOUT;
        return -1;
    }
    return fd;
}

int ob_sock_peer_allowed(int fd, char *who, size_t wholen)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
        return -1;
    if (who)
        snprintf(who, wholen, "pid %d uid %u", (int)cr.pid, (unsigned)cr.uid);
    return cr.uid == 0 || cr.uid == geteuid() || cr.gid == getegid();
}

int ob_sock_write_all(int fd, const char *buf, size_t n, int timeout_ms)
{
    int64_t deadline = ob_time_mono_ms() + timeout_ms;
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            return -1;
        int left = (int)(deadline - ob_time_mono_ms());
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}
