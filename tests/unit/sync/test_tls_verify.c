/* test_tls_verify: the OpenSSL check that replaces libetpan's missing one —
 * a chain from the configured CA naming the host passes (DNS and IP SANs);
 * a wrong host name, an unknown CA, garbage DER and an empty chain fail
 * with a reason.  Certificates are made with the openssl CLI in a temp dir. */
#include "../unit.h"
#include "../../../sync/tls_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/ob_tlsXXXXXX";
static unsigned char leaf[4096], other_leaf[4096];
static size_t leaf_len, other_len;

static size_t slurp(const char *name, unsigned char *buf, size_t cap)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int make_pki(void)
{
    if (!mkdtemp(dir))
        return -1;
    const char *mk_ca =
        "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout %s.key -out %s.crt -days 2 -subj '/CN=%s test CA' "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1";
    char buf[1024];
    snprintf(buf, sizeof buf, mk_ca, dir, "ca", "ca", "ca");
    if (system(buf) != 0)
        return -1;
    snprintf(buf, sizeof buf, mk_ca, dir, "other", "other", "other");
    if (system(buf) != 0)
        return -1;
    const char *mk_leaf =
        "cd %s && printf 'subjectAltName=DNS:imap.test,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' >ext && "
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout %s.key "
        "-out %s.csr -subj /CN=imap.test >/dev/null 2>&1 && "
        "openssl x509 -req -in %s.csr -CA %s.crt -CAkey %s.key -set_serial 7 -days 2 -extfile ext "
        "-outform DER -out %s.der >/dev/null 2>&1";
    snprintf(buf, sizeof buf, mk_leaf, dir, "leaf", "leaf", "leaf", "ca", "ca", "leaf");
    if (system(buf) != 0)
        return -1;
    snprintf(buf, sizeof buf, mk_leaf, dir, "oleaf", "oleaf", "oleaf", "other", "other", "oleaf");
    if (system(buf) != 0)
        return -1;
    leaf_len = slurp("leaf.der", leaf, sizeof leaf);
    other_len = slurp("oleaf.der", other_leaf, sizeof other_leaf);
    return leaf_len && other_len ? 0 : -1;
}

static struct tls_verify *store(const char *ca)
{
    char p[256], err[200];
    snprintf(p, sizeof p, "%s/%s.crt", dir, ca);
    struct tls_verify *tv = tls_verify_new(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(tv);
    return tv;
}

static int check(struct tls_verify *tv, const unsigned char *der, size_t len, const char *host,
                 char *err, size_t errlen)
{
    const unsigned char *chain[1] = { der };
    size_t lens[1] = { len };
    return tls_verify_chain(tv, chain, lens, der ? 1 : 0, host, err, errlen);
}

static void test_good(void)
{
    struct tls_verify *tv = store("ca");
    char err[200];
    CU_ASSERT_EQUAL(check(tv, leaf, leaf_len, "imap.test", err, sizeof err), 0);
    CU_ASSERT_EQUAL(check(tv, leaf, leaf_len, "IMAP.TEST", err, sizeof err), 0);
    CU_ASSERT_EQUAL(check(tv, leaf, leaf_len, "127.0.0.1", err, sizeof err), 0);
    tls_verify_free(tv);
}

static void test_refused(void)
{
    struct tls_verify *tv = store("ca");
    char err[200];
    CU_ASSERT_EQUAL(check(tv, leaf, leaf_len, "evil.test", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "hostname mismatch"));
    CU_ASSERT_EQUAL(check(tv, leaf, leaf_len, "127.0.0.2", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "IP address mismatch"));
    CU_ASSERT_EQUAL(check(tv, other_leaf, other_len, "imap.test", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unable to get local issuer certificate"));
    unsigned char junk[] = { 0x30, 0x82, 0x01, 0x00, 0xde, 0xad };
    CU_ASSERT_EQUAL(check(tv, junk, sizeof junk, "imap.test", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not parse"));
    CU_ASSERT_EQUAL(check(tv, NULL, 0, "imap.test", err, sizeof err), -1);
    CU_ASSERT_EQUAL(tls_verify_peer(tv, NULL, "imap.test", err, sizeof err), -1);
    tls_verify_free(tv);
    tv = store("other");
    CU_ASSERT_EQUAL(check(tv, leaf, leaf_len, "imap.test", err, sizeof err), -1);
    tls_verify_free(tv);
}

static void test_bad_ca_file(void)
{
    char err[200];
    CU_ASSERT_PTR_NULL(tls_verify_new("/nonexistent/ca.pem", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot load CA file"));
}

static const struct unit_case cases[] = {
    { "a chain from the CA naming the host passes", test_good },
    { "wrong name, unknown CA, junk, no chain fail", test_refused },
    { "an unreadable CA file is a start-up error", test_bad_ca_file },
    { NULL, NULL },
};

int main(void)
{
    if (make_pki() < 0) {
        fprintf(stderr, "cannot make test certificates with the openssl CLI\n");
        return 2;
    }
    int rc = unit_run("sync tls_verify", cases);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
