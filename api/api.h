/* api: the types every onebox-api file shares — the server (one per
 * process, read-only once the workers run), the worker (one per FastCGI
 * thread, owning its SQLite connection) and the request a handler sees.
 *
 * A handler never touches FastCGI: fcgi_request.c fills a struct api_req
 * from the FastCGI params and body, router.c finds the route and checks the
 * bearer token, the handler answers through the req_reply_* helpers
 * (req.c), and fcgi_request.c writes what was answered.  That split is what
 * lets tests/unit/api drive routing and validation without a web server. */
#ifndef API_H
#define API_H

#include "ob_config.h"
#include "ob_jwt.h"
#include "ob_pub.h"
#include "ob_seal.h"

#include <sqlite3.h>
#include <stddef.h>
#include <time.h>

#define API_VERSION "1.0.0"
#define API_MAX_PARAMS 4          /* :params in one route pattern */
#define API_PATH_MAX 2048         /* longer request paths or queries get 400 */
#define API_SYNC_TIMEOUT_MS 2000  /* sync.sock calls: 503 past this, never a hang */
#define API_SYNC_KEEP 4           /* sync.sock connections kept open (syncd serves 64) */

struct throttle;
struct hashgate;
struct syncctl;

struct api_server {
    const struct ob_config *cfg;
    unsigned char jwt_key[OB_JWT_KEY_LEN];
    unsigned char seal_key[OB_SEAL_KEY_LEN];
    struct ob_pub *pub;            /* events.sock; never blocks a request */
    struct throttle *throttle;     /* login failures per account and address */
    struct hashgate *gate;         /* bounds concurrent scrypt computations */
    char *dummy_hash;              /* verified against for unknown logins */
    struct syncctl *sync;          /* sync.sock client with kept connections */
    time_t started;
};

/* Who made the request, once router.c has checked the bearer token. */
struct api_auth {
    int authed;
    struct ob_jwt_claims claims;   /* sub = user id, role = user|admin */
};

struct route;

struct api_req {
    struct api_server *srv;
    sqlite3 *db;                   /* the worker's connection */

    /* input: all borrowed, valid for the duration of the request */
    const char *method;
    const char *path;              /* raw, without the query */
    size_t path_len;
    const char *query;             /* raw, "" when absent */
    const char *content_type;      /* NULL when absent */
    const char *authorization;     /* NULL when absent */
    const char *remote_addr;       /* "" when unknown */
    const char *body;              /* NUL-terminated copy, body_len bytes */
    size_t body_len;
    int input_done;                /* the web server's whole input was read */

    /* routing */
    const struct route *route;
    int route_index;               /* -1: no route matched */
    char *params[API_MAX_PARAMS];  /* percent-decoded :params, owned */
    int nparams;
    struct api_auth auth;

    /* response */
    int status;
    char *out;                     /* malloc'd JSON body */
    char allow[64];                /* "Allow:" value for 405 */
    long retry_after;              /* "Retry-After:" seconds when > 0 */
    int www_authenticate;          /* 401: 1 Bearer challenge, 2 with invalid_token */
    const char *content_type_out;  /* NULL: application/json */
};

#endif
