/* router: the route table of onebox-api — method, pattern, the
 * authorization a route needs, and its handler — and the dispatch that
 * matches a request against it (404, 405 with Allow, 400 for a malformed
 * path parameter), checks the bearer token and calls the handler. */
#ifndef ROUTER_H
#define ROUTER_H

#include "api.h"

#include <stdio.h>

enum route_auth {
    ROUTE_PUBLIC,    /* no token */
    ROUTE_USER,      /* any valid token; :userId routes also check ownership */
    ROUTE_ADMIN,     /* a valid token with role admin */
};

typedef void (*route_handler)(struct api_req *r);

struct route {
    const char *method;
    const char *pattern;   /* "/api/sync/status/:userId": ':' marks a parameter */
    enum route_auth auth;
    route_handler handler;
    int has_body;          /* documents that the route reads a JSON body */
};

/* The table, in match order (literal segments before parameters). */
extern const struct route router_table[];
extern const int router_count;

/* Finds the route for r->method and r->path: sets r->route, r->route_index
 * and the decoded r->params.  Returns 0, or -1 after answering 404, 405
 * (with r->allow) or 400. */
int router_match(struct api_req *r);

/* Matches, authorizes (auth.c) and runs the handler; r then holds the
 * answer.  A handler that forgot to answer yields 500. */
void router_dispatch(struct api_req *r);

/* Prints "METHOD PATTERN AUTH" per route (the --routes flag). */
void router_print(FILE *out);

/* Name of an auth level: "public", "user", "admin". */
const char *router_auth_name(enum route_auth a);

#endif
