/* routes_accounts: placeholder while the handlers are written. */
#include "req.h"
#include "routes.h"
void routes_accounts_create(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_accounts_list(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_accounts_delete(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
