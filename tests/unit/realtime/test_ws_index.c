/* test_ws_index: the sidecar's small pure pieces — the intrusive hash
 * (add, find, delete while iterating, growth), topic names and the topic an
 * event is filtered by, the room role rule, and the per-connection and
 * per-address rate limits with their windows. */
#include "../unit.h"
#include "../../../realtime/limits.h"
#include "../../../realtime/ws_hash.h"
#include "../../../realtime/ws_rooms.h"
#include "../../../realtime/ws_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
    struct ws_hash_node hn;
    char key[32];
};

static void test_hash(void)
{
    struct ws_hash *h = ws_hash_new();
    enum { N = 5000 };
    struct item *items = calloc(N, sizeof *items);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof items[i].key, "u_%d", i);
        items[i].hn.key = items[i].key;
        ws_hash_add(h, &items[i].hn);
    }
    CU_ASSERT_EQUAL(ws_hash_count(h), N);
    CU_ASSERT_PTR_EQUAL(ws_hash_find(h, "u_1234"), &items[1234].hn);
    CU_ASSERT_PTR_NULL(ws_hash_find(h, "u_5000"));
    /* delete every odd item while iterating */
    struct ws_hash_iter it = { 0 };
    struct ws_hash_node *n;
    int seen = 0;
    while ((n = ws_hash_next(h, &it))) {
        seen++;
        int k = atoi(n->key + 2);
        if (k % 2)
            ws_hash_del(h, n);
    }
    CU_ASSERT_EQUAL(seen, N);
    CU_ASSERT_EQUAL(ws_hash_count(h), N / 2);
    CU_ASSERT_PTR_NULL(ws_hash_find(h, "u_7"));
    CU_ASSERT_PTR_NOT_NULL(ws_hash_find(h, "u_8"));
    ws_hash_free(h);
    free(items);
    ws_hash_free(NULL);
}

static void test_topics(void)
{
    CU_ASSERT_EQUAL(ws_topics_bit("emails"), WS_TOPIC_EMAILS);
    CU_ASSERT_EQUAL(ws_topics_bit("imap-logs"), WS_TOPIC_IMAPLOGS);
    CU_ASSERT_EQUAL(ws_topics_bit("nope"), 0);
    CU_ASSERT_EQUAL(ws_topics_bit(NULL), 0);
    struct ob_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = OB_EV_SYNC_STATUS;
    snprintf(ev.topic, sizeof ev.topic, "custom");
    CU_ASSERT_EQUAL(ws_topics_of_event(&ev), WS_TOPIC_SYNC);
    snprintf(ev.topic, sizeof ev.topic, "emails");
    CU_ASSERT_EQUAL(ws_topics_of_event(&ev), WS_TOPIC_EMAILS);
    json_t *names = ws_topics_names(WS_TOPICS_DEFAULT);
    CU_ASSERT_EQUAL(json_array_size(names), 3);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(names, 0)), "emails");
    json_decref(names);
}

static void test_room_rule(void)
{
    struct ws_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "u_me");
    struct ws_conn c;
    memset(&c, 0, sizeof c);
    c.user = &u;
    CU_ASSERT_TRUE(ws_rooms_may_join(&c, "support"));
    CU_ASSERT_TRUE(ws_rooms_may_join(&c, "project:123"));
    CU_ASSERT_FALSE(ws_rooms_may_join(&c, "admin:notifications"));
    CU_ASSERT_FALSE(ws_rooms_may_join(&c, "system:broadcast"));
    CU_ASSERT_FALSE(ws_rooms_may_join(&c, "user:u_other"));
    CU_ASSERT_TRUE(ws_rooms_may_join(&c, "user:u_me"));
    c.flags |= WS_F_ADMIN;
    CU_ASSERT_TRUE(ws_rooms_may_join(&c, "admin:notifications"));
    CU_ASSERT_TRUE(ws_rooms_may_join(&c, "user:u_other"));
}

static void test_message_rate(void)
{
    struct ob_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ws_rate_per_min = 3;
    struct ws_conn c;
    memset(&c, 0, sizeof c);
    int64_t t = 600;       /* minute 10 */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(limits_msg_allow(&cfg, &c, t), 0);
    CU_ASSERT_EQUAL(limits_msg_allow(&cfg, &c, t + 1), 1);
    CU_ASSERT_EQUAL(limits_msg_allow(&cfg, &c, t + 2), 1);
    CU_ASSERT_EQUAL(limits_msg_allow(&cfg, &c, t + 3), 1);
    CU_ASSERT_EQUAL(limits_msg_allow(&cfg, &c, t + 4), 2);
    CU_ASSERT_EQUAL(limits_msg_allow(&cfg, &c, t + 60), 0);   /* next window */
}

static void test_address_rate(void)
{
    struct ob_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ws_conn_per_ip_per_min = 2;
    struct rt_limits *l = limits_new(&cfg);
    CU_ASSERT_EQUAL(limits_addr_allow(l, "127.0.0.1", 120), 1);
    CU_ASSERT_EQUAL(limits_addr_allow(l, "127.0.0.1", 121), 1);
    CU_ASSERT_EQUAL(limits_addr_allow(l, "127.0.0.1", 122), 0);
    CU_ASSERT_EQUAL(limits_addr_allow(l, "127.0.0.2", 122), 1);
    CU_ASSERT_EQUAL(limits_addr_allow(l, "127.0.0.1", 180), 1);
    limits_tick(l, 400);
    limits_free(l);
    limits_free(NULL);
}

static const struct unit_case cases[] = {
    { "intrusive hash", test_hash },
    { "topics", test_topics },
    { "room role rule", test_room_rule },
    { "messages per minute", test_message_rate },
    { "connection attempts per address", test_address_rate },
    { NULL, NULL },
};

UNIT_MAIN("ws_index", cases)
