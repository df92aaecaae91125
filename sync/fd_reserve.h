/* fd_reserve: keeps the descriptors below FD_SETSIZE for IMAP sockets.
 *
 * libetpan 1.9.4 waits on a session's socket with select(2), and the
 * fortified glibc aborts the process when FD_SET meets a descriptor >=
 * FD_SETSIZE.  So an IMAP socket must sit below that line, and nothing else
 * should: fd_reserve_init() raises the open-files soft limit and fills every
 * free descriptor below the line with a placeholder (a /dev/null dup).  What
 * the process opens afterwards — SQLite files, eventfds, epoll, signalfd,
 * Unix sockets, libetpan's cancel pipes, libcurl's sockets — lands above it
 * without its opener having to care.  A session's socket is then moved onto
 * a placeholder's number with dup3(2), which replaces it atomically, and a
 * descriptor closed below the line becomes a placeholder again on the next
 * fd_reserve_refill().
 *
 * One reservation per process (the descriptor table is per process); every
 * function is thread-safe. */
#ifndef SYNC_FD_RESERVE_H
#define SYNC_FD_RESERVE_H

#include <stddef.h>

/* Reserves the free descriptors in [3, limit).  limit is FD_SETSIZE in the
 * daemon (smaller in tests).  Needs an open-files limit of at least
 * 2 * limit (raised to the hard limit here); without it nothing is reserved
 * and sockets take whatever descriptor they get: -1 with err, and the
 * process can run on. */
int fd_reserve_init(int limit, char *err, size_t errlen);

/* Returns a descriptor below the limit for fd's open file, closing fd, or
 * fd itself when it already is below.  -1 (errno EMFILE) when no placeholder
 * is left; fd is then untouched. */
int fd_reserve_lower(int fd);

/* Turns the free descriptors below the limit back into placeholders; call
 * after closing one (a session's socket). */
void fd_reserve_refill(void);

/* A descriptor below the limit that never becomes readable (the read end of
 * a pipe nobody writes to), for select(2) sets that need one; -1 when the
 * reservation could not make one. */
int fd_reserve_quiet_fd(void);

/* Placeholders left, i.e. how many more sockets fit below the limit. */
size_t fd_reserve_available(void);

/* Closes the placeholders and the quiet pipe. */
void fd_reserve_free(void);

#endif
