/* tls_verify: certificate chain and host-name verification of IMAP servers
 * with OpenSSL, because the Debian libetpan (GnuTLS build) verifies nothing
 * (clibs §1.2).  Called after the TLS handshake and before any credential is
 * sent; a connection that fails it is closed.  RFC 5280 path validation,
 * RFC 6125 host names (DNS or IP SAN). */
#ifndef SYNC_TLS_VERIFY_H
#define SYNC_TLS_VERIFY_H

#include <stddef.h>

struct tls_verify;
typedef struct _mailstream mailstream;

/* Builds the trust store once: the system CAs, plus ca_file when it is a
 * non-empty path (cfg.imap_ca_file, for private CAs).  NULL with err. */
struct tls_verify *tls_verify_new(const char *ca_file, char *err, size_t errlen);
void tls_verify_free(struct tls_verify *tv);

/* Verifies the peer chain of a TLS stream for host.  Returns 0 when it is
 * trusted and names host, -1 with the reason in err ("certificate verify
 * failed: hostname mismatch", "... unable to get local issuer certificate",
 * "no certificate"). */
int tls_verify_peer(struct tls_verify *tv, mailstream *s, const char *host,
                    char *err, size_t errlen);

/* Same check on a DER chain (leaf first); exposed for unit tests. */
int tls_verify_chain(struct tls_verify *tv, const unsigned char *const *der,
                     const size_t *len, size_t n, const char *host, char *err, size_t errlen);

#endif
