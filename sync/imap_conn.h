/* imap_conn: one account's IMAP session on libetpan — connect (IMAPS, or
 * STARTTLS with no silent downgrade, or plain only when the account says
 * so), certificate check before any credential (tls_verify), LOGIN or
 * AUTHENTICATE XOAUTH2 (with the token refreshed through oauth2.c), and the
 * IDLE/DONE/NOOP primitives the state machine uses.  RFC 3501, RFC 2595
 * (STARTTLS), RFC 2177 (IDLE), RFC 4959 (SASL-IR), Google's XOAUTH2.
 *
 * Return contract: 0 success; -1 transient failure (network, timeout,
 * server hiccup: try again later); -2 permanent failure (authentication
 * refused, untrusted certificate, STARTTLS missing: do not retry).  err gets
 * a reason fit for a status event, never a credential. */
#ifndef SYNC_IMAP_CONN_H
#define SYNC_IMAP_CONN_H

#include <stddef.h>

struct account;
struct account_conf;

int imap_conn_open(struct account *a, const struct account_conf *c, char *err, size_t errlen);
int imap_conn_login(struct account *a, const struct account_conf *c, char *err, size_t errlen);

/* Closes the session without LOGOUT (which blocks on a dead connection,
 * clibs §1.9) and frees it.  Fine to call with no session. */
void imap_conn_close(struct account *a);

/* libetpan keeps its line and response buffers at the size of the largest
 * response seen (a fetched 25 MB message stays allocated).  Called before a
 * session is parked, it gives back buffers above IMAP_CONN_IDLE_BUFFER_MAX,
 * so an idle account holds a few KB. */
#define IMAP_CONN_IDLE_BUFFER_MAX (64 * 1024)
void imap_conn_trim(struct account *a);

/* Sends IDLE and sets a->idle_fd.  0 or -1. */
int imap_conn_idle(struct account *a, char *err, size_t errlen);
/* 1 if libetpan already holds unread bytes (epoll would never fire). */
int imap_conn_idle_buffered(struct account *a);
/* Sends DONE and reads up to the tagged OK; *exists is set when the server
 * announced new messages.  0 or -1. */
int imap_conn_idle_done(struct account *a, int *exists, char *err, size_t errlen);
/* NOOP (polling servers without IDLE); *exists as above.  0 or -1. */
int imap_conn_noop(struct account *a, int *exists, char *err, size_t errlen);

/* A short description of a libetpan error code. */
const char *imap_conn_strerror(int r);
/* Copies the server's text of the last failed command, printable and
 * bounded, into buf. */
void imap_conn_server_text(struct account *a, char *buf, size_t cap);

#endif
