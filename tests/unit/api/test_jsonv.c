/* test_jsonv: the well-formedness check that lets onebox-api pass syncd's
 * status array on as it is (jsonv.c) accepts what RFC 8259 allows and
 * refuses everything else — truncations, bad escapes, numbers, control
 * bytes, bytes that are not UTF-8, trailing text and deep nesting — and
 * agrees with jansson on each case. */
#include "../unit.h"
#include "../../../api/jsonv.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int jansson_ok(const char *s, size_t n)
{
    json_error_t e;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    json_decref(j);
    return j != NULL;
}

static void test_valid(void)
{
    const char *ok[] = {
        "[]", " [ ] ", "{}", "[{\"userId\":\"u_1\",\"email\":\"a@b.c\",\"status\":\"idle\","
        "\"lastSync\":null}]", "[1,-0,0.5,-1.25e+10,3E-2,true,false,null,\"\"]",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDCE7\"", "\"caf\xc3\xa9 \xf0\x9f\x93\xa7\"",
        "{\"a\":{\"b\":[[[]]]}}", "0", "\"\\u0000\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CU_ASSERT(jsonv_valid(ok[i], strlen(ok[i])));
        CU_ASSERT(jansson_ok(ok[i], strlen(ok[i])));
    }
}

static void test_invalid(void)
{
    const char *bad[] = {
        "", " ", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}",
        "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]", "[tru]", "[nul]", "[True]",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\tb\"", "\"\x01\"",
        "\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
        "[1] x", "[1][2]", "{\"a\":1}}", "[\"a\"]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT(!jsonv_valid(bad[i], strlen(bad[i])));
        CU_ASSERT(!jansson_ok(bad[i], strlen(bad[i])));
    }
    /* the length is the end, not a NUL: a cut value is refused */
    CU_ASSERT(!jsonv_valid("[1,2]", 4));
    CU_ASSERT(jsonv_valid("[1,2]xyz", 5));
}

static void test_depth(void)
{
    char deep[2 * (JSONV_DEPTH_MAX + 2) + 1];
    for (int d = JSONV_DEPTH_MAX; d <= JSONV_DEPTH_MAX + 1; d++) {
        int n = d + 1;   /* n brackets = depth d */
        memset(deep, '[', (size_t)n);
        memset(deep + n, ']', (size_t)n);
        CU_ASSERT_EQUAL(jsonv_valid(deep, 2 * (size_t)n), d <= JSONV_DEPTH_MAX);
    }
    static char huge[200001];
    memset(huge, '[', 100000);
    memset(huge + 100000, ']', 100000);
    CU_ASSERT(!jsonv_valid(huge, 200000));   /* refused, not a stack overflow */
}

static const struct unit_case cases[] = {
    { "accepts RFC 8259 JSON", test_valid },
    { "refuses malformed JSON", test_invalid },
    { "bounds the nesting", test_depth },
    { NULL, NULL },
};

UNIT_MAIN("api jsonv", cases)
