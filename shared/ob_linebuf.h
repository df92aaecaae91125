/* ob_linebuf: reassembles newline-delimited messages from a byte stream
 * (both internal sockets use it).  Lines may arrive split across reads or
 * many per read; a line longer than the buffer's maximum is dropped whole
 * (with a logged reason) and reading resumes at the next newline. */
#ifndef OB_LINEBUF_H
#define OB_LINEBUF_H

#include <stddef.h>

struct ob_linebuf {
    char *buf;
    size_t len, cap, max;
    int discarding;            /* inside an over-long line */
    unsigned long dropped;     /* over-long lines dropped so far */
};

/* Called once per complete line: line is NUL-terminated, without '\n' (and
 * without a trailing '\r'); it is only valid during the call. */
typedef void (*ob_line_cb)(void *ctx, char *line, size_t len);

/* max: the longest line accepted, in bytes.  Returns 0 or -1. */
int ob_linebuf_init(struct ob_linebuf *lb, size_t max);
void ob_linebuf_free(struct ob_linebuf *lb);

/* Feeds n bytes; calls cb for each complete line.  `who` names the peer in
 * log lines.  Returns the number of lines delivered, or -1 on allocation
 * failure (the caller drops the connection). */
int ob_linebuf_feed(struct ob_linebuf *lb, const char *data, size_t n,
                    ob_line_cb cb, void *ctx, const char *who);

#endif
