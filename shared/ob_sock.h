/* ob_sock: Unix stream sockets between onebox processes: listening with a
 * restrictive mode, connecting with a timeout, and checking the peer's
 * credentials (SO_PEERCRED) — every internal socket is a trust boundary. */
#ifndef OB_SOCK_H
#define OB_SOCK_H

#include <stddef.h>
#include <sys/types.h>

/* Binds and listens on path (a stale socket file is replaced, anything else
 * refused), sets mode (e.g. 0660), non-blocking and close-on-exec.
 * Returns the fd, or -1 with a reason in err. */
int ob_sock_listen_unix(const char *path, mode_t mode, char *err, size_t errlen);

/* Connects to path, waiting at most timeout_ms; the returned fd is
 * non-blocking and close-on-exec.  Returns the fd, or -1 (errno set). */
int ob_sock_connect_unix(const char *path, int timeout_ms);

/* 1 if the peer on fd runs as root, as our uid, or in our gid; 0 if not;
 * -1 if it cannot be told.  who (may be NULL) gets "pid N uid N". */
int ob_sock_peer_allowed(int fd, char *who, size_t wholen);

int ob_sock_set_nonblock(int fd);

/* Writes all of buf within timeout_ms (fd may be non-blocking); 0 or -1. */
int ob_sock_write_all(int fd, const char *buf, size_t n, int timeout_ms);

#endif
