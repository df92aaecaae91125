/* ws_auth: who is on a WebSocket — the JWT (RFC 7519, HS256 via ob_jwt)
 * from ?token=, an `Authorization: Bearer` header or an onebox_token cookie
 * (read from the upgrade request), or from an `auth` message; and the
 * Origin allow-list (cfg.ws_origins, comma separated; empty allows any;
 * requests without an Origin header — non-browser clients — pass). */
#ifndef WS_AUTH_H
#define WS_AUTH_H

#include "rt.h"

#include "ob_jwt.h"

#include <stddef.h>

/* Copies the token carried by the upgrade request into buf (the query
 * first, then the header, then the cookie).  Returns 1 when one was found,
 * 0 when none, -1 when one was present but too long. */
int ws_auth_token_from_request(struct lws *wsi, char *buf, size_t len);

/* Verifies token now; 0 and *cl, or -1 with a short reason in err. */
int ws_auth_verify(struct rt *rt, const char *token, struct ob_jwt_claims *cl,
                   char *err, size_t errlen);

/* 1 if the request's Origin is allowed. */
int ws_auth_origin_ok(struct rt *rt, struct lws *wsi);

#endif
