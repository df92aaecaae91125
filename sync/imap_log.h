/* imap_log: the IMAP protocol log of seed 000 (/ws/imap-logs).  A libetpan
 * logger per session captures what each command sent and received; one
 * ephemeral imap_log event per command carries
 *   {id,timestamp,userId,emailAccountId,level,command,
 *    data:{raw,parsed,response,duration,error}}.
 * Credentials never leave this file: libetpan reports the LOGIN line and the
 * XOAUTH2 blob as DATA_SENT_PRIVATE, which is replaced by a size, and a
 * LOGIN/AUTHENTICATE command seen in ordinary traffic is cut after its verb
 * as a second guard.  Everything else is made printable, valid UTF-8 and
 * bounded. */
#ifndef SYNC_IMAP_LOG_H
#define SYNC_IMAP_LOG_H

#include <stddef.h>
#include <stdint.h>

struct account;
typedef struct mailimap mailimap;

#define IMAP_LOG_SENT_MAX 512
#define IMAP_LOG_RECV_MAX 1024

/* One worker's capture buffers, lent to the account it is running. */
struct imap_log_cap {
    char command[32];
    char sent[IMAP_LOG_SENT_MAX];
    size_t sent_len;
    size_t private_bytes;       /* redacted bytes sent */
    char recv[IMAP_LOG_RECV_MAX];
    size_t recv_len;
    size_t recv_total;          /* bytes received, kept or not */
    int64_t t0_ms;
    int active;
};

/* Installs the logger on a new session (before connecting, so the greeting
 * is seen).  The logger also stamps a->last_rx_ms on every received byte. */
void imap_log_attach(mailimap *imap, struct account *a);

/* Brackets one IMAP command: begin clears the capture, end publishes the
 * event (level "error" when error is non-NULL).  No-ops when a->cap is NULL. */
void imap_log_begin(struct account *a, const char *command);
void imap_log_end(struct account *a, const char *error);

/* Copies src to dst (cap bytes, NUL-terminated) as printable, valid UTF-8:
 * CR dropped, LF kept, other control bytes as '.', invalid UTF-8 as '?';
 * a LOGIN or AUTHENTICATE command keeps only its tag and verb.  Returns the
 * length written.  Exposed for tests. */
size_t imap_log_sanitize(char *dst, size_t cap, const char *src, size_t n);

#endif
