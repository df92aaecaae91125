/* ob_linebuf: newline framing with a ceiling; see ob_linebuf.h. */
#include "ob_linebuf.h"
#include "ob_log.h"

#include <stdlib.h>
#include <string.h>

int ob_linebuf_init(struct ob_linebuf *lb, size_t max)
{
    memset(lb, 0, sizeof *lb);
    lb->max = max;
    lb->cap = max < 4096 ? max + 1 : 4096;
    lb->buf = malloc(lb->cap);
    return lb->buf ? 0 : -1;
}

void ob_linebuf_free(struct ob_linebuf *lb)
{
    if (!lb)
        return;
    free(lb->buf);
    memset(lb, 0, sizeof *lb);
}

static int append(struct ob_linebuf *lb, const char *p, size_t n)
{
    if (lb->len + n + 1 > lb->cap) {
        size_t cap = lb->cap;
        while (cap < lb->len + n + 1)
            cap *= 2;
        if (cap > lb->max + 1)
            cap = lb->max + 1;
        char *b = realloc(lb->buf, cap);
        if (!b)
            return -1;
        lb->buf = b;
        lb->cap = cap;
    }
    memcpy(lb->buf + lb->len, p, n);
    lb->len += n;
    return 0;
}

int ob_linebuf_feed(struct ob_linebuf *lb, const char *data, size_t n,
                    ob_line_cb cb, void *ctx, const char *who)
{
    int delivered = 0;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t chunk = nl ? (size_t)(nl - data) : n;
        if (lb->discarding) {
            if (nl)
                lb->discarding = 0;
        } else if (lb->len + chunk > lb->max) {
            ob_warn("%s: dropped a line longer than %zu bytes", who ? who : "peer", lb->max);
            lb->dropped++;
            lb->len = 0;
            lb->discarding = nl == NULL;
        } else {
            if (append(lb, data, chunk) < 0)
                return -1;
            if (nl) {
                size_t len = lb->len;
                if (len && lb->buf[len - 1] == '\r')
                    len--;
                lb->buf[len] = '\0';
                lb->len = 0;
                if (len) {
                    cb(ctx, lb->buf, len);
                    delivered++;
                }
            }
        }
        if (!nl)
            break;
        n -= chunk + 1;
        data = nl + 1;
    }
    return delivered;
}
