/* routes_emails: placeholder while the handlers are written. */
#include "req.h"
#include "routes.h"
void routes_emails_list(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_emails_get(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_emails_search(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
