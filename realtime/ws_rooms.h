/* ws_rooms: rooms of /ws (seed 004) — join/leave, `message {room, content}`
 * to the members, and room events from events.sock.
 *
 * Who may join (the role rule):
 *   admin:*   and  system:*   admins only;
 *   user:<id>                 that user, and admins;
 *   anything else             any authenticated user.
 * Room names are 1..63 bytes of [A-Za-z0-9_.:-].  Only members may send to
 * a room; a message goes to every member, the sender included, as
 * {"type":"message","data":{"room","content","from":{"userId","connectionId"}}}.
 * A connection holds at most cfg.ws_max_rooms rooms. */
#ifndef WS_ROOMS_H
#define WS_ROOMS_H

#include "rt.h"

#include "ob_event.h"

#include <jansson.h>

/* 1 if c's user may join room. */
int ws_rooms_may_join(const struct ws_conn *c, const char *room);

/* The client messages; each answers (subscribed/unsubscribed/error) and
 * returns 0: the connection stays open. */
int ws_rooms_join(struct rt *rt, struct ws_conn *c, json_t *room);
int ws_rooms_leave(struct rt *rt, struct ws_conn *c, json_t *room);
int ws_rooms_message(struct rt *rt, struct ws_conn *c, json_t *room, json_t *content);

/* Leaves every room (connection closing). */
void ws_rooms_leave_all(struct rt *rt, struct ws_conn *c);

/* Delivers an events.sock event addressed to a room. */
void ws_rooms_deliver(struct rt *rt, const struct ob_event *ev);

/* Frees every room (shutdown; memberships are gone by then). */
void ws_rooms_free_all(struct rt *rt);

#endif
