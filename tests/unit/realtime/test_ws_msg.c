/* test_ws_msg: the shared WebSocket messages — envelopes (with and without
 * an id, unsafe publisher timestamps replaced), the error shape of seed 000
 * plus DESIGN.md, client fields at the top level or inside data, and the
 * reference counting behind fan-out (live bytes return to zero). */
#include "../unit.h"
#include "../../../realtime/ws_msg.h"

#include <jansson.h>
#include <string.h>

static json_t *parse(struct ws_msg *m)
{
    return json_loadb((const char *)ws_msg_payload(m), m->len, 0, NULL);
}

static void test_envelope(void)
{
    json_t *data = json_pack("{s:s,s:i}", "subject", "Caf\xc3\xa9 \"quoted\"", "n", 3);
    struct ws_msg *m = ws_msg_envelope("new_email", data, 42, "2026-01-01T00:00:00.000Z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(ws_msg_payload(m)[m->len], '\0');
    json_t *o = parse(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "type")), "new_email");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "id")), 42);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "timestamp")), "2026-01-01T00:00:00.000Z");
    CU_ASSERT_TRUE(json_equal(json_object_get(o, "data"), data));
    json_decref(o);
    ws_msg_unref(m);
    json_decref(data);
}

static void test_envelope_without_id_and_bad_ts(void)
{
    struct ws_msg *m = ws_msg_envelope("pong", NULL, 0, "\",\"evil\":\"1");
    json_t *o = parse(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_PTR_NULL(json_object_get(o, "id"));
    CU_ASSERT_PTR_NULL(json_object_get(o, "evil"));
    CU_ASSERT_EQUAL(json_object_size(json_object_get(o, "data")), 0);
    const char *ts = json_string_value(json_object_get(o, "timestamp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ts);
    CU_ASSERT_EQUAL(ts[strlen(ts) - 1], 'Z');
    json_decref(o);
    ws_msg_unref(m);
}

static void test_raw_envelope(void)
{
    const char *arr = "[{\"id\":\"a\"},{\"id\":\"b\"}]";
    struct ws_msg *m = ws_msg_envelope_raw("initial-logs", arr, strlen(arr), 0, NULL);
    json_t *o = parse(m);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "data")), 2);
    json_decref(o);
    ws_msg_unref(m);
}

static void test_error(void)
{
    struct ws_msg *m = ws_msg_error("bad_json", "not \"JSON\"");
    json_t *o = parse(m);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "type")), "error");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "error")), "not \"JSON\"");
    json_t *d = json_object_get(o, "data");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "code")), "bad_json");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "message")), "not \"JSON\"");
    json_decref(o);
    ws_msg_unref(m);
}

static void test_refcount(void)
{
    unsigned long long before = ws_msg_live_bytes();
    struct ws_msg *m = ws_msg_new("hello", 5);
    CU_ASSERT_EQUAL(ws_msg_live_bytes(), before + 5);
    ws_msg_ref(m);
    ws_msg_ref(m);
    ws_msg_unref(m);
    ws_msg_unref(m);
    CU_ASSERT_EQUAL(ws_msg_live_bytes(), before + 5);
    ws_msg_unref(m);
    CU_ASSERT_EQUAL(ws_msg_live_bytes(), before);
    ws_msg_unref(NULL);
}

static void test_field(void)
{
    json_t *top = json_pack("{s:s,s:{s:s}}", "room", "a", "data", "room", "b");
    CU_ASSERT_STRING_EQUAL(json_string_value(ws_msg_field(top, "room")), "a");
    json_t *inner = json_pack("{s:s,s:{s:s}}", "type", "x", "data", "room", "b");
    CU_ASSERT_STRING_EQUAL(json_string_value(ws_msg_field(inner, "room")), "b");
    CU_ASSERT_PTR_NULL(ws_msg_field(inner, "content"));
    json_t *baddata = json_pack("{s:s,s:i}", "type", "x", "data", 5);
    CU_ASSERT_PTR_NULL(ws_msg_field(baddata, "room"));
    json_decref(top);
    json_decref(inner);
    json_decref(baddata);
}

static void test_large(void)
{
    static char big[200000];
    memset(big, 'x', sizeof big - 1);
    json_t *data = json_pack("{s:s}", "body", big);
    struct ws_msg *m = ws_msg_envelope("new_email", data, 1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_TRUE(m->len > sizeof big);
    json_t *o = parse(m);
    CU_ASSERT_PTR_NOT_NULL(o);
    json_decref(o);
    ws_msg_unref(m);
    json_decref(data);
}

static const struct unit_case cases[] = {
    { "envelope", test_envelope },
    { "envelope without id, unsafe timestamp", test_envelope_without_id_and_bad_ts },
    { "raw envelope", test_raw_envelope },
    { "error message", test_error },
    { "reference counting", test_refcount },
    { "client fields", test_field },
    { "large message", test_large },
    { NULL, NULL },
};

UNIT_MAIN("ws_msg", cases)
