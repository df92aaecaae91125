/* ws_topics: topic subscriptions of /ws; see ws_topics.h. */
#include "ws_topics.h"
#include "fanout.h"
#include "ws_protocol.h"

#include <stdio.h>
#include <string.h>

#define MAX_TOPICS_PER_MSG 32

static const struct {
    const char *name;
    unsigned bit;
} topics[] = {
    { "emails", WS_TOPIC_EMAILS },
    { "sync", WS_TOPIC_SYNC },
    { "accounts", WS_TOPIC_ACCOUNTS },
    { "metrics", WS_TOPIC_METRICS },
    { "imap-logs", WS_TOPIC_IMAPLOGS },
    { "rooms", WS_TOPIC_ROOMS },
};
#define NTOPICS (sizeof topics / sizeof topics[0])

unsigned ws_topics_bit(const char *name)
{
    for (size_t i = 0; name && i < NTOPICS; i++)
        if (strcmp(topics[i].name, name) == 0)
            return topics[i].bit;
    return 0;
}

unsigned ws_topics_of_event(const struct ob_event *ev)
{
    unsigned bit = ws_topics_bit(ev->topic);
    return bit ? bit : ws_topics_bit(ob_ev_topic(ev->type));
}

json_t *ws_topics_names(unsigned mask)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < NTOPICS; i++)
        if (mask & topics[i].bit)
            json_array_append_new(a, json_string(topics[i].name));
    return a;
}

/* Parses "topics" into a mask; on error sends `error` and returns -1. */
static int parse(struct rt *rt, struct ws_conn *c, json_t *v, unsigned *mask)
{
    char msg[160];
    *mask = 0;
    if (json_is_string(v)) {
        json_t *one = json_array();
        json_array_append(one, v);
        int rc = parse(rt, c, one, mask);
        json_decref(one);
        return rc;
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_TOPICS_PER_MSG) {
        ws_protocol_error(rt, c, "bad_message",
                          "field 'topics' must be a non-empty array of at most 32 topic names");
        return -1;
    }
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        if (!json_is_string(t)) {
            ws_protocol_error(rt, c, "bad_message", "field 'topics' must hold strings");
            return -1;
        }
        unsigned bit = ws_topics_bit(json_string_value(t));
        if (!bit) {
            snprintf(msg, sizeof msg, "unknown topic '%.64s' (emails, sync, accounts, metrics, imap-logs, rooms)",
                     json_string_value(t));
            ws_protocol_error(rt, c, "unknown_topic", msg);
            return -1;
        }
        if (bit == WS_TOPIC_METRICS && !(c->flags & WS_F_ADMIN)) {
            ws_protocol_error(rt, c, "forbidden", "topic 'metrics' is for admins");
            return -1;
        }
        *mask |= bit;
    }
    return 0;
}

static void answer(struct rt *rt, struct ws_conn *c, const char *type, unsigned changed)
{
    json_t *data = json_pack("{s:o,s:o}", "topics", ws_topics_names(c->topics),
                             type[0] == 's' ? "added" : "removed", ws_topics_names(changed));
    ws_protocol_send_json(rt, c, type, data);
    json_decref(data);
}

int ws_topics_subscribe(struct rt *rt, struct ws_conn *c, json_t *v)
{
    unsigned mask;
    if (parse(rt, c, v, &mask) < 0)
        return 0;
    if (!(c->flags & WS_F_EXPLICIT)) {
        c->flags |= WS_F_EXPLICIT;
        c->topics = 0;
    }
    c->topics |= (uint8_t)mask;
    answer(rt, c, "subscribed", mask);
    return 0;
}

int ws_topics_unsubscribe(struct rt *rt, struct ws_conn *c, json_t *v)
{
    unsigned mask;
    if (parse(rt, c, v, &mask) < 0)
        return 0;
    c->flags |= WS_F_EXPLICIT;
    c->topics &= (uint8_t)~mask;
    answer(rt, c, "unsubscribed", mask);
    return 0;
}
