/* routes_user: placeholder while the handlers are written. */
#include "req.h"
#include "routes.h"
void routes_user_register(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_user_login(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_user_me(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
