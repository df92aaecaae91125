/* routes: the handlers router.c's table points at, one group per
 * routes_<area>.c file.  Each answers through req_reply_* (req.h); path
 * parameters arrive decoded and already validated by the router (r->params,
 * in pattern order), and r->auth holds the caller once the route needs a
 * token. */
#ifndef ROUTES_H
#define ROUTES_H

#include "api.h"

/* routes_user.c: POST /api/user/register, POST /api/user/login, GET /api/user/me */
void routes_user_register(struct api_req *r);
void routes_user_login(struct api_req *r);
void routes_user_me(struct api_req *r);

/* routes_accounts.c: the caller's IMAP accounts */
void routes_accounts_create(struct api_req *r);
void routes_accounts_list(struct api_req *r);
void routes_accounts_delete(struct api_req *r);

/* routes_sync.c: forwarded to onebox-syncd over sync.sock */
void routes_sync_start(struct api_req *r);
void routes_sync_stop(struct api_req *r);
void routes_sync_status(struct api_req *r);
void routes_sync_clients(struct api_req *r);

/* routes_emails.c: stored mail, filters, pagination, FTS5 search */
void routes_emails_list(struct api_req *r);
void routes_emails_get(struct api_req *r);
void routes_emails_search(struct api_req *r);

/* routes_health.c: GET /api/health, GET /metrics (Prometheus text) */
void routes_health_get(struct api_req *r);
void routes_health_metrics(struct api_req *r);

#endif
