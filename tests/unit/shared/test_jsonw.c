/* test_jsonw: the hand-written JSON of ob_jsonw reads back as the same
 * values and matches jansson's own dump byte for byte for valid UTF-8 —
 * quotes, backslashes, control bytes, multi-byte text, reals — turns bytes
 * that are not UTF-8 into U+FFFD instead of failing, and fails cleanly
 * past its ceiling. */
#include "../unit.h"
#include "ob_jsonw.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *written_str(const char *s)
{
    struct ob_jsonw w;
    ob_jsonw_init(&w, 4, SIZE_MAX);   /* small on purpose: every append grows it */
    ob_jsonw_str(&w, s);
    return ob_jsonw_finish(&w, NULL);
}

static void test_strings_match_jansson(void)
{
    const char *cases[] = { "", "plain", "q\"uote", "back\\slash", "tab\tnl\ncr\rbs\bff\f",
                            "\001\037\177", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "a/b</script>",
                            "\xef\xbf\xbf end" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = json_string(cases[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(j);
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        char *got = written_str(cases[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, want);
        free(want);
        free(got);
        json_decref(j);
    }
}

static void test_bad_utf8_replaced(void)
{
    const char *cases[][2] = {
        { "a\xff" "b", "\"a\\ufffdb\"" },
        { "\xc3", "\"\\ufffd\"" },                   /* truncated at the end */
        { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },        /* overlong '/' */
        { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },   /* a surrogate */
        { "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },   /* past U+10FFFF */
        { "\xe2\x82", "\"\\ufffd\\ufffd\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = written_str(cases[i][0]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, cases[i][1]);
        json_error_t e;
        json_t *back = json_loads(got, JSON_DECODE_ANY, &e);
        CU_ASSERT(json_is_string(back));
        json_decref(back);
        free(got);
    }
}

static void test_numbers_match_jansson(void)
{
    const double reals[] = { 0.0, 1.0, 0.9, 0.123456789, 1e300, 1e-7, -2.5e-300, 100.0, 1e21 };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        json_t *j = json_real(reals[i]);
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        struct ob_jsonw w;
        ob_jsonw_init(&w, 0, SIZE_MAX);
        ob_jsonw_real(&w, reals[i]);
        char *got = ob_jsonw_finish(&w, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, want);
        free(want);
        free(got);
        json_decref(j);
    }
    struct ob_jsonw w;
    ob_jsonw_init(&w, 0, SIZE_MAX);
    ob_jsonw_lit(&w, "[");
    ob_jsonw_int(&w, -9223372036854775807LL - 1);
    ob_jsonw_lit(&w, ",");
    ob_jsonw_int(&w, 42);
    ob_jsonw_lit(&w, "]");
    char *got = ob_jsonw_finish(&w, NULL);
    CU_ASSERT_STRING_EQUAL(got, "[-9223372036854775808,42]");
    free(got);
}

static void test_ceiling(void)
{
    struct ob_jsonw w;
    size_t len = 0;
    ob_jsonw_init(&w, 2, 8);   /* exactly at the ceiling passes */
    ob_jsonw_lit(&w, "[");
    ob_jsonw_str(&w, "abcd");
    ob_jsonw_lit(&w, "]");
    char *got = ob_jsonw_finish(&w, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, "[\"abcd\"]");
    CU_ASSERT_EQUAL(len, 8);
    free(got);
    ob_jsonw_init(&w, 64, 8);   /* one byte over does not, whatever the first capacity */
    ob_jsonw_lit(&w, "[");
    ob_jsonw_str(&w, "abcde");
    ob_jsonw_lit(&w, "]");
    CU_ASSERT_PTR_NULL(ob_jsonw_finish(&w, &len));
    ob_jsonw_init(&w, 0, SIZE_MAX);   /* a part the caller could not produce */
    ob_jsonw_lit(&w, "[]");
    w.failed = 1;
    CU_ASSERT_PTR_NULL(ob_jsonw_finish(&w, NULL));
}

static const struct unit_case cases[] = {
    { "strings match jansson's dump", test_strings_match_jansson },
    { "bytes that are not UTF-8 become U+FFFD", test_bad_utf8_replaced },
    { "numbers match jansson's dump", test_numbers_match_jansson },
    { "past the ceiling the text fails", test_ceiling },
    { NULL, NULL },
};

UNIT_MAIN("jsonw", cases)
