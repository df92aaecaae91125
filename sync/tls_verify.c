/* tls_verify: OpenSSL verification of an IMAP server's certificate chain;
 * see tls_verify.h.  The X509_STORE is built once at start-up (its lazy
 * initialisation is the only thing helgrind flagged, clibs §1.11) and is
 * then only read, by every worker. */
#include "tls_verify.h"

#include <libetpan/libetpan.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>

#define TLS_VERIFY_MAX_CHAIN 16

struct tls_verify {
    X509_STORE *store;
};

struct tls_verify *tls_verify_new(const char *ca_file, char *err, size_t errlen)
{
    struct tls_verify *tv = calloc(1, sizeof *tv);
    if (!tv || !(tv->store = X509_STORE_new())) {
        snprintf(err, errlen, "out of memory");
        free(tv);
        return NULL;
    }
    if (X509_STORE_set_default_paths(tv->store) != 1)
        ERR_clear_error();       /* no system store is not fatal with a CA file */
    if (ca_file && ca_file[0] && X509_STORE_load_file(tv->store, ca_file) != 1) {
        unsigned long e = ERR_get_error();
        snprintf(err, errlen, "cannot load CA file %s: %s", ca_file,
                 e ? ERR_reason_error_string(e) : "unknown error");
        ERR_clear_error();
        tls_verify_free(tv);
        return NULL;
    }
    return tv;
}

void tls_verify_free(struct tls_verify *tv)
{
    if (!tv)
        return;
    X509_STORE_free(tv->store);
    free(tv);
}

int tls_verify_chain(struct tls_verify *tv, const unsigned char *const *der,
                     const size_t *len, size_t n, const char *host, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "server sent no certificate");
        return -1;
    }
    X509 *leaf = NULL;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -1;
    if (!untrusted || !ctx) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && i < TLS_VERIFY_MAX_CHAIN; i++) {
        const unsigned char *p = der[i];
        X509 *x = d2i_X509(NULL, &p, (long)len[i]);
        if (!x) {
            snprintf(err, errlen, "certificate %zu of the chain does not parse", i);
            goto out;
        }
        if (i == 0)
            leaf = x;
        else if (!sk_X509_push(untrusted, x)) {
            X509_free(x);
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, tv->store, leaf, untrusted) != 1) {
        snprintf(err, errlen, "cannot initialise verification");
        goto out;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
    /* An IP literal must match an IP SAN; anything else is a DNS name. */
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1 &&
        X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1) {
        snprintf(err, errlen, "cannot check host name '%.100s'", host);
        goto out;
    }
    if (X509_verify_cert(ctx) == 1)
        rc = 0;
    else
        snprintf(err, errlen, "certificate verify failed: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    return rc;
}

int tls_verify_peer(struct tls_verify *tv, mailstream *s, const char *host,
                    char *err, size_t errlen)
{
    carray *chain = s ? mailstream_get_certificate_chain(s) : NULL;
    if (!chain) {
        snprintf(err, errlen, "no TLS certificate chain on the connection");
        return -1;
    }
    unsigned n = carray_count(chain);
    if (n > TLS_VERIFY_MAX_CHAIN)
        n = TLS_VERIFY_MAX_CHAIN;
    const unsigned char *der[TLS_VERIFY_MAX_CHAIN];
    size_t len[TLS_VERIFY_MAX_CHAIN];
    for (unsigned i = 0; i < n; i++) {
        MMAPString *m = carray_get(chain, i);
        der[i] = (const unsigned char *)m->str;
        len[i] = m->len;
    }
    int rc = tls_verify_chain(tv, der, len, n, host, err, errlen);
    mailstream_certificate_chain_free(chain);
    return rc;
}
