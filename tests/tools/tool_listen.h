/* tool_listen: the TCP listener the test servers in tests/tools open, on
 * 127.0.0.1 only (test servers never bind another interface). */
#ifndef TOOL_LISTEN_H
#define TOOL_LISTEN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket on 127.0.0.1:port, or -1 (errno set). */
static inline int tool_listen_loopback(const char *port, int backlog)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (ls < 0)
        return -1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, backlog) < 0) {
        close(ls);
        return -1;
    }
    return ls;
}

#endif
