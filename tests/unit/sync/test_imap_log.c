/* test_imap_log: protocol log text is printable, valid UTF-8, bounded, and
 * never carries LOGIN or AUTHENTICATE arguments. */
#include "../unit.h"
#include "../../../sync/imap_log.h"

#include <string.h>

static size_t san(char *out, size_t cap, const char *in)
{
    return imap_log_sanitize(out, cap, in, strlen(in));
}

static void test_printable(void)
{
    char out[128];
    san(out, sizeof out, "* OK ready\r\n");
    CU_ASSERT_STRING_EQUAL(out, "* OK ready\n");
    san(out, sizeof out, "a\001b\033c\177d");
    CU_ASSERT_STRING_EQUAL(out, "a.b.c.d");
    char nul[] = { 'x', '\0', 'y' };
    CU_ASSERT_EQUAL(imap_log_sanitize(out, sizeof out, nul, 3), 3);
    CU_ASSERT_STRING_EQUAL(out, "x.y");
}

static void test_utf8(void)
{
    char out[128];
    san(out, sizeof out, "caf\xc3\xa9 \xe2\x82\xac");
    CU_ASSERT_STRING_EQUAL(out, "caf\xc3\xa9 \xe2\x82\xac");
    san(out, sizeof out, "caf\xe9!");                 /* Latin-1 byte */
    CU_ASSERT_STRING_EQUAL(out, "caf?!");
    san(out, sizeof out, "\xc0\xaf");                 /* overlong '/' */
    CU_ASSERT_STRING_EQUAL(out, "??");
    san(out, sizeof out, "\xed\xa0\x80");             /* surrogate */
    CU_ASSERT_STRING_EQUAL(out, "???");
    san(out, sizeof out, "\xf0\x9f\x98");             /* truncated emoji */
    CU_ASSERT_STRING_EQUAL(out, "???");
}

static void test_bounded(void)
{
    char out[6];
    CU_ASSERT_EQUAL(san(out, sizeof out, "abcdefghij"), 5);
    CU_ASSERT_STRING_EQUAL(out, "abcde");
    /* A multi-byte sequence that does not fit is left out whole. */
    CU_ASSERT_EQUAL(san(out, sizeof out, "abcd\xe2\x82\xac"), 4);
    CU_ASSERT_STRING_EQUAL(out, "abcd");
    CU_ASSERT_EQUAL(imap_log_sanitize(out, 0, "abc", 3), 0);
}

static void test_credentials_redacted(void)
{
    char out[256];
    san(out, sizeof out, "3 LOGIN alice \"s3cret pw\"\r\n");
    CU_ASSERT_PTR_NULL(strstr(out, "s3cret"));
    CU_ASSERT_PTR_NULL(strstr(out, "alice"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "3 LOGIN <redacted>"));
    san(out, sizeof out, "4 SELECT INBOX\r\n5 authenticate XOAUTH2 dXNlcj1ib2IBYXV0aD1CZWFyZXI=\r\n6 NOOP\r\n");
    CU_ASSERT_PTR_NULL(strstr(out, "dXNlcj"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "4 SELECT INBOX\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "5 authenticate <redacted>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "6 NOOP"));
    /* A message body that merely mentions LOGIN mid-line is kept. */
    san(out, sizeof out, "Subject: how to LOGIN\r\n");
    CU_ASSERT_STRING_EQUAL(out, "Subject: how to LOGIN\n");
}

static const struct unit_case cases[] = {
    { "control bytes become printable, CR dropped", test_printable },
    { "valid UTF-8 kept, invalid replaced", test_utf8 },
    { "output bounded on a character boundary", test_bounded },
    { "LOGIN/AUTHENTICATE arguments redacted", test_credentials_redacted },
    { NULL, NULL },
};

UNIT_MAIN("sync imap_log", cases)
