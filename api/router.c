/* router: the route table and its dispatch; see router.h.
 *
 * This table is the REST API of DESIGN.md: read it first.  Matching works on
 * the raw request path (REQUEST_URI without the query), segment by segment:
 * literal segments compare byte for byte, ':name' segments are
 * percent-decoded (RFC 3986 §2.1) and then checked by name — userId must be
 * a valid id, email a valid address, id a positive integer — so no parameter
 * can carry '/', "..", NUL or SQL/shell metacharacters past this point.
 * Order matters only where a literal and a parameter compete
 * (/api/emails/search before /api/emails/:id). */
#include "router.h"
#include "auth.h"
#include "ob_proto.h"
#include "req.h"
#include "routes.h"
#include "valid.h"

#include <stdlib.h>
#include <string.h>

const struct route router_table[] = {
    /* method   pattern                              auth          handler                  body */
    { "POST",   "/api/user/register",                ROUTE_PUBLIC, routes_user_register,    1 },
    { "POST",   "/api/user/login",                   ROUTE_PUBLIC, routes_user_login,       1 },
    { "GET",    "/api/user/me",                      ROUTE_USER,   routes_user_me,          0 },
    { "POST",   "/api/accounts",                     ROUTE_USER,   routes_accounts_create,  1 },
    { "GET",    "/api/accounts",                     ROUTE_USER,   routes_accounts_list,    0 },
    { "DELETE", "/api/accounts/:email",              ROUTE_USER,   routes_accounts_delete,  0 },
    { "POST",   "/api/sync/start/:userId/:email",    ROUTE_USER,   routes_sync_start,       0 },
    { "POST",   "/api/sync/stop/:userId",            ROUTE_USER,   routes_sync_stop,        1 },
    { "GET",    "/api/sync/status/:userId",          ROUTE_USER,   routes_sync_status,      0 },
    { "GET",    "/api/sync/clients",                 ROUTE_ADMIN,  routes_sync_clients,     0 },
    { "GET",    "/api/emails",                       ROUTE_USER,   routes_emails_list,      0 },
    { "GET",    "/api/emails/search",                ROUTE_USER,   routes_emails_search,    0 },
    { "GET",    "/api/emails/:id",                   ROUTE_USER,   routes_emails_get,       0 },
    { "GET",    "/api/health",                       ROUTE_PUBLIC, routes_health_get,       0 },
    { "GET",    "/metrics",                          ROUTE_ADMIN,  routes_health_metrics,   0 },
};
const int router_count = (int)(sizeof router_table / sizeof router_table[0]);

#define MAX_SEGS 8
#define PARAM_MAX 512   /* decoded bytes of one path parameter */

struct seg {
    const char *p;
    size_t n;
};

/* Splits "/a/b/c" into segments; -1 when it does not start with '/' or has
 * more segments than any route. */
static int split(const char *path, size_t len, struct seg *segs)
{
    if (len == 0 || path[0] != '/')
        return -1;
    int n = 0;
    size_t i = 1;
    for (;;) {
        if (n == MAX_SEGS)
            return -1;
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        segs[n].p = path + start;
        segs[n].n = i - start;
        n++;
        if (i >= len)
            return n;
        i++;
    }
}

/* 1 when every literal segment of pattern matches; fills raw params. */
static int pattern_matches(const char *pattern, const struct seg *segs, int nsegs,
                           struct seg *params, int *nparams)
{
    struct seg ps[MAX_SEGS];
    int np = split(pattern, strlen(pattern), ps);
    if (np != nsegs)
        return 0;
    *nparams = 0;
    for (int i = 0; i < np; i++) {
        if (ps[i].n > 0 && ps[i].p[0] == ':') {
            if (segs[i].n == 0)
                return 0;
            params[(*nparams)++] = segs[i];
        } else if (ps[i].n != segs[i].n || memcmp(ps[i].p, segs[i].p, ps[i].n) != 0) {
            return 0;
        }
    }
    return 1;
}

/* The name of the k-th parameter of pattern, into out. */
static void param_name(const char *pattern, int k, char *out, size_t cap)
{
    const char *p = pattern;
    out[0] = '\0';
    while ((p = strchr(p, ':')) != NULL) {
        size_t n = strcspn(p + 1, "/");
        if (k-- == 0) {
            snprintf(out, cap, "%.*s", (int)n, p + 1);
            return;
        }
        p += 1 + n;
    }
}

static int param_ok(const char *name, const char *v)
{
    long long id;
    if (strstr(v, "..") || strcmp(v, ".") == 0)
        return 0;   /* dot segments mean nothing here but "up" to someone */
    if (strcmp(name, "userId") == 0)
        return ob_proto_valid_id(v, 0);
    if (strcmp(name, "email") == 0)
        return valid_email(v);
    if (strcmp(name, "id") == 0)
        return valid_row_id(v, &id);
    return 0;   /* a pattern parameter without a checker is a bug: refuse */
}

static void add_allow(char *allow, size_t cap, const char *method)
{
    if (strstr(allow, method))
        return;
    size_t n = strlen(allow);
    snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", method);
}

int router_match(struct api_req *r)
{
    struct seg segs[MAX_SEGS], params[API_MAX_PARAMS + MAX_SEGS];
    int nsegs = split(r->path, r->path_len, segs);
    r->route = NULL;
    r->route_index = -1;
    r->allow[0] = '\0';
    if (nsegs < 0) {
        req_reply_err(r, 404, "no such route");
        return -1;
    }
    int found = -1, np = 0;
    for (int i = 0; i < router_count; i++) {
        int n;
        if (!pattern_matches(router_table[i].pattern, segs, nsegs, params, &n))
            continue;
        if (strcmp(router_table[i].method, r->method) == 0) {
            found = i;
            np = n;
            break;
        }
        add_allow(r->allow, sizeof r->allow, router_table[i].method);
    }
    if (found < 0) {
        if (r->allow[0]) {
            req_reply_err(r, 405, "method %.16s is not allowed here; allowed: %s",
                          r->method, r->allow);
        } else {
            req_reply_err(r, 404, "no such route");
        }
        return -1;
    }
    r->allow[0] = '\0';
    r->route = &router_table[found];
    r->route_index = found;
    for (int k = 0; k < np && k < API_MAX_PARAMS; k++) {
        char name[32], *v = malloc(PARAM_MAX);
        param_name(router_table[found].pattern, k, name, sizeof name);
        if (!v) {
            req_reply_err(r, 500, "out of memory");
            return -1;
        }
        r->params[r->nparams++] = v;
        if (req_pct_decode(params[k].p, params[k].n, v, PARAM_MAX, 0) < 0 || !param_ok(name, v)) {
            req_reply_err(r, 400, "path parameter '%s' is not valid", name);
            return -1;
        }
    }
    return 0;
}

void router_dispatch(struct api_req *r)
{
    if (router_match(r) < 0)
        return;
    if (auth_check(r, r->route->auth) < 0)
        return;
    r->status = 0;
    r->route->handler(r);
    if (r->status == 0 || !r->out)
        req_reply_err(r, 500, "the handler gave no answer");
}

const char *router_auth_name(enum route_auth a)
{
    switch (a) {
    case ROUTE_PUBLIC:
        return "public";
    case ROUTE_USER:
        return "user";
    case ROUTE_ADMIN:
        return "admin";
    }
    return "invalid";
}

void router_print(FILE *out)
{
    for (int i = 0; i < router_count; i++)
        fprintf(out, "%-6s %-34s %s\n", router_table[i].method, router_table[i].pattern,
                router_auth_name(router_table[i].auth));
}
