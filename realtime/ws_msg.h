/* ws_msg: the shared, reference-counted messages of the WebSocket side.
 *
 * A message is built once (with LWS_PRE bytes of headroom for lws's frame
 * header) and queued to every recipient by reference, so fanning an event out
 * to N connections costs N pointers, not N copies.  Also: the envelope of
 * DESIGN.md {"type":..,"data":..,"timestamp":..,"id":N}, the `error` message,
 * and the reader of client-message fields. */
#ifndef WS_MSG_H
#define WS_MSG_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct ws_msg {
    uint32_t refs;
    uint32_t len;              /* payload bytes */
    int64_t t_ms;              /* monotonic creation time (queue staleness) */
    unsigned char buf[];       /* LWS_PRE headroom, payload, NUL */
};

static inline unsigned char *ws_msg_payload(struct ws_msg *m) { return m->buf + LWS_PRE; }

/* A message holding a copy of text[0..len); refs = 1.  NULL when out of
 * memory. */
struct ws_msg *ws_msg_new(const char *text, size_t len);
/* Envelope {"type":type,"data":data,"timestamp":ts,"id":id}: data borrowed
 * (NULL = {}), id <= 0 leaves "id" out, ts NULL or not an ISO timestamp =
 * now.  refs = 1, or NULL. */
struct ws_msg *ws_msg_envelope(const char *type, const json_t *data, long long id,
                               const char *ts);
/* Envelope whose data is already serialized JSON text (trusted: produced by
 * jansson). */
struct ws_msg *ws_msg_envelope_raw(const char *type, const char *data_json, size_t data_len,
                                   long long id, const char *ts);
/* {"type":"error","error":message,"data":{"code":..,"message":..},"timestamp":..}
 * (the top-level "error" string is seed 000's shape). */
struct ws_msg *ws_msg_error(const char *code, const char *message);

struct ws_msg *ws_msg_ref(struct ws_msg *m);
void ws_msg_unref(struct ws_msg *m);

/* Bytes held by live messages (for ingest flow control), and how many. */
unsigned long long ws_msg_live_bytes(void);
unsigned long ws_msg_live_count(void);

/* A client message's field: top level first, else inside "data" (onebox.js
 * sends both shapes).  Borrowed; NULL when absent. */
json_t *ws_msg_field(const json_t *msg, const char *key);

#endif
