/* routes_sync: placeholder while the handlers are written. */
#include "req.h"
#include "routes.h"
void routes_sync_start(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_sync_stop(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_sync_status(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
void routes_sync_clients(struct api_req *r) { req_reply_err(r, 501, "not_implemented", "not yet"); }
