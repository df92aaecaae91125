/* limits: per-address and per-connection rate limits; see limits.h. */
#include "limits.h"
#include "ws_hash.h"

#include "ob_log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct addr_entry {
    struct ws_hash_node hn;        /* first */
    char addr[64];
    int64_t window;                /* minute number */
    uint32_t count;
    int warned;
};

struct rt_limits {
    struct ws_hash *addrs;
    long per_min;
    int64_t last_prune;
};

struct rt_limits *limits_new(const struct ob_config *cfg)
{
    struct rt_limits *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->addrs = ws_hash_new();
    if (!l->addrs) {
        free(l);
        return NULL;
    }
    l->per_min = cfg->ws_conn_per_ip_per_min;
    return l;
}

static void drop_all(struct rt_limits *l, int64_t keep_window)
{
    struct ws_hash_iter it = { 0 };
    struct ws_hash_node *n;
    while ((n = ws_hash_next(l->addrs, &it))) {
        struct addr_entry *e = (struct addr_entry *)n;
        if (e->window != keep_window) {
            ws_hash_del(l->addrs, n);
            free(e);
        }
    }
}

void limits_free(struct rt_limits *l)
{
    if (!l)
        return;
    drop_all(l, -1);
    ws_hash_free(l->addrs);
    free(l);
}

void limits_client_addr(struct lws *wsi, char *out, size_t outlen)
{
    out[0] = '\0';
    lws_get_peer_simple(wsi, out, outlen);
    if (strcmp(out, "127.0.0.1") && strcmp(out, "::1") && strcmp(out, "::ffff:127.0.0.1"))
        return;
    char xff[512];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR);
    if (n <= 0 || (size_t)n >= sizeof xff || lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR) < 0)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (isspace((unsigned char)*last))
        last++;
    size_t k = strlen(last);
    while (k && isspace((unsigned char)last[k - 1]))
        k--;
    if (k == 0 || k >= outlen || k > 45)
        return;
    for (size_t i = 0; i < k; i++)
        if (!isxdigit((unsigned char)last[i]) && last[i] != '.' && last[i] != ':')
            return;     /* not an address: keep the proxy's */
    memcpy(out, last, k);
    out[k] = '\0';
}

int limits_addr_allow(struct rt_limits *l, const char *addr, int64_t now_s)
{
    int64_t window = now_s / 60;
    struct addr_entry *e = (struct addr_entry *)ws_hash_find(l->addrs, addr);
    if (!e) {
        if (ws_hash_count(l->addrs) >= LIMITS_MAX_ADDRS)
            drop_all(l, window);
        if (ws_hash_count(l->addrs) >= LIMITS_MAX_ADDRS)
            return 1;     /* table full of live windows: fail open, still bounded */
        e = calloc(1, sizeof *e);
        if (!e)
            return 1;
        snprintf(e->addr, sizeof e->addr, "%s", addr);
        e->hn.key = e->addr;
        e->window = window;
        ws_hash_add(l->addrs, &e->hn);
    }
    if (e->window != window) {
        e->window = window;
        e->count = 0;
        e->warned = 0;
    }
    if (++e->count <= (uint32_t)l->per_min)
        return 1;
    if (!e->warned) {
        e->warned = 1;
        ob_warn("%s: over %ld connection attempts this minute: refusing", addr, l->per_min);
    }
    return 0;
}

int limits_msg_allow(const struct ob_config *cfg, struct ws_conn *c, int64_t now_s)
{
    uint32_t window = (uint32_t)(now_s / 60);
    if (c->rate_window != window) {
        c->rate_window = window;
        c->rate_count = 0;
        c->flags &= (uint16_t)~WS_F_RATE_NOTED;
    }
    if (c->rate_count < UINT32_MAX)
        c->rate_count++;
    if (c->rate_count <= cfg->ws_rate_per_min)
        return 0;
    return c->rate_count > 2 * cfg->ws_rate_per_min ? 2 : 1;
}

void limits_tick(struct rt_limits *l, int64_t now_s)
{
    if (now_s - l->last_prune < 60)
        return;
    l->last_prune = now_s;
    drop_all(l, now_s / 60);
}
