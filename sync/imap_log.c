/* imap_log: per-command IMAP protocol log events; see imap_log.h. */
#include "imap_log.h"

#include "account.h"
#include "ob_event.h"
#include "ob_log.h"
#include "ob_pub.h"
#include "ob_rand.h"
#include "ob_time.h"
#include "sync_ctx.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void append(char *buf, size_t *len, size_t cap, const char *s, size_t n)
{
    if (*len >= cap)
        return;
    size_t room = cap - *len;
    if (n > room)
        n = room;
    memcpy(buf + *len, s, n);
    *len += n;
}

static void logger(mailimap *s, int type, const char *str, size_t size, void *ctx)
{
    (void)s;
    struct account *a = ctx;
    if (type == MAILSTREAM_LOG_TYPE_DATA_RECEIVED)
        a->last_rx_ms = ob_time_mono_ms();
    struct imap_log_cap *cap = a->cap;
    if (!cap || !cap->active)
        return;
    switch (type) {
    case MAILSTREAM_LOG_TYPE_DATA_SENT:
        append(cap->sent, &cap->sent_len, sizeof cap->sent, str, size);
        break;
    case MAILSTREAM_LOG_TYPE_DATA_SENT_PRIVATE: {
        /* The LOGIN line or the XOAUTH2 blob: only its size is kept. */
        char tag[48];
        int n = snprintf(tag, sizeof tag, "<redacted %zu bytes>\n", size);
        cap->private_bytes += size;
        append(cap->sent, &cap->sent_len, sizeof cap->sent, tag, (size_t)n);
        break;
    }
    case MAILSTREAM_LOG_TYPE_DATA_RECEIVED:
        cap->recv_total += size;
        append(cap->recv, &cap->recv_len, sizeof cap->recv, str, size);
        break;
    default:
        break;
    }
}

void imap_log_attach(mailimap *imap, struct account *a)
{
    mailimap_set_logger(imap, logger, a);
}

void imap_log_begin(struct account *a, const char *command)
{
    struct imap_log_cap *cap = a->cap;
    if (!cap)
        return;
    snprintf(cap->command, sizeof cap->command, "%s", command);
    cap->sent_len = cap->recv_len = cap->recv_total = cap->private_bytes = 0;
    cap->t0_ms = ob_time_mono_ms();
    cap->active = 1;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* 1 if the line [s, s+n) is "<tag> LOGIN ..." or "<tag> AUTHENTICATE ...";
 * *keep gets the length of "<tag> VERB". */
static int is_credential_line(const char *s, size_t n, size_t *keep)
{
    size_t i = 0;
    while (i < n && s[i] != ' ')
        i++;
    if (i == 0 || i >= n)
        return 0;
    size_t v = i + 1, e = v;
    while (e < n && s[e] != ' ' && s[e] != '\r' && s[e] != '\n')
        e++;
    size_t vl = e - v;
    if ((vl == 5 && strncasecmp(s + v, "LOGIN", 5) == 0) ||
        (vl == 12 && strncasecmp(s + v, "AUTHENTICATE", 12) == 0)) {
        *keep = e;
        return 1;
    }
    return 0;
}

size_t imap_log_sanitize(char *dst, size_t cap, const char *src, size_t n)
{
    if (cap == 0)
        return 0;
    size_t o = 0, i = 0;
    const unsigned char *u = (const unsigned char *)src;
    while (i < n && o + 1 < cap) {
        /* At the start of each line, look for credentials. */
        if (i == 0 || src[i - 1] == '\n') {
            const char *nl = memchr(src + i, '\n', n - i);
            size_t linelen = nl ? (size_t)(nl - (src + i)) : n - i, keep;
            if (is_credential_line(src + i, linelen, &keep)) {
                static const char red[] = " <redacted>";
                for (size_t k = 0; k < keep && o + 1 < cap; k++)
                    dst[o++] = src[i + k] >= 0x20 && src[i + k] < 0x7f ? src[i + k] : '.';
                for (size_t k = 0; red[k] && o + 1 < cap; k++)
                    dst[o++] = red[k];
                i += linelen;
                continue;
            }
        }
        unsigned c = u[i];
        if (c == '\r') {
            i++;
        } else if (c == '\n' || c == '\t') {
            dst[o++] = (char)c;
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            dst[o++] = '.';
            i++;
        } else if (c < 0x80) {
            dst[o++] = (char)c;
            i++;
        } else {
            size_t l = utf8_seq(u + i, n - i);
            if (l == 0) {
                dst[o++] = '?';
                i++;
            } else if (o + l < cap) {
                memcpy(dst + o, src + i, l);
                o += l;
                i += l;
            } else {
                break;
            }
        }
    }
    dst[o] = '\0';
    return o;
}

void imap_log_end(struct account *a, const char *error)
{
    struct imap_log_cap *cap = a->cap;
    if (!cap || !cap->active)
        return;
    cap->active = 0;
    struct sync_ctx *ctx = a->ctx;
    int64_t dur = ob_time_mono_ms() - cap->t0_ms;
    if (error)
        ob_debug("imap %s/%s: %s failed after %lld ms: %s", a->user, a->email, cap->command,
                 (long long)dur, error);
    if (!ctx || !ctx->pub)
        return;
    char raw[IMAP_LOG_SENT_MAX + 64], resp[IMAP_LOG_RECV_MAX + 8], err[256];
    imap_log_sanitize(raw, sizeof raw, cap->sent, cap->sent_len);
    size_t rl = imap_log_sanitize(resp, sizeof resp - 4, cap->recv, cap->recv_len);
    if (cap->recv_total > cap->recv_len)
        memcpy(resp + rl, "...", 4);
    char id[32], ts[OB_TIME_ISO_LEN], acct[24];
    if (ob_rand_id("log_", id, sizeof id) < 0)
        snprintf(id, sizeof id, "log_0");
    ob_time_iso_now(ts);
    snprintf(acct, sizeof acct, "%lld", a->id);
    json_t *errv = json_null();
    if (error) {
        imap_log_sanitize(err, sizeof err, error, strlen(error));
        errv = json_string(err);
    }
    json_t *data = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:{s:I,s:I},s:s,s:I,s:o}}",
                             "id", id, "timestamp", ts, "userId", a->user,
                             "emailAccountId", acct, "level", error ? "error" : "info",
                             "command", cap->command,
                             "data", "raw", raw, "parsed",
                             "bytesSent", (json_int_t)(cap->sent_len + cap->private_bytes),
                             "bytesReceived", (json_int_t)cap->recv_total,
                             "response", resp, "duration", (json_int_t)dur,
                             "error", errv ? errv : json_null());
    if (!data)
        return;
    struct ob_event ev;
    if (ob_event_init(&ev, OB_EV_IMAP_LOG, a->user, data) == 0) {
        ob_pub_event(ctx->pub, &ev);
        ob_event_clear(&ev);
    }
}
