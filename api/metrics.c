/* metrics: request counters and latency histogram; see metrics.h.
 *
 * Every route of router_table gets a row, plus one row for requests no route
 * matched (404/405 and requests refused before routing), so an attacker
 * probing random paths adds no label values: the series count is fixed. */
#include "metrics.h"
#include "router.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROWS 64   /* routes + the unmatched row */

static const int statuses[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409,
                                413, 414, 429, 500, 502, 503, 504 };
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]))

/* Upper bounds in microseconds (Prometheus "le" in seconds). */
static const int64_t bounds_us[] = { 1000, 2500, 5000, 10000, 25000, 50000, 100000,
                                     250000, 500000, 1000000, 2500000, 5000000 };
#define NBOUNDS ((int)(sizeof bounds_us / sizeof bounds_us[0]))

static _Atomic unsigned long long by_status[MAX_ROWS][NSTATUS + 1];   /* last: other */
static _Atomic unsigned long long buckets[MAX_ROWS][NBOUNDS + 1];     /* last: +Inf */
static _Atomic unsigned long long sum_us[MAX_ROWS];

int64_t metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int row_of(int route_index)
{
    if (route_index < 0 || route_index >= router_count || route_index >= MAX_ROWS - 1)
        return MAX_ROWS - 1;
    return route_index;
}

void metrics_observe(int route_index, int status, int64_t usec)
{
    int row = row_of(route_index), s = NSTATUS;
    for (int i = 0; i < NSTATUS; i++)
        if (statuses[i] == status) {
            s = i;
            break;
        }
    atomic_fetch_add_explicit(&by_status[row][s], 1, memory_order_relaxed);
    int b = NBOUNDS;
    for (int i = 0; i < NBOUNDS; i++)
        if (usec <= bounds_us[i]) {
            b = i;
            break;
        }
    atomic_fetch_add_explicit(&buckets[row][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sum_us[row], (unsigned long long)(usec < 0 ? 0 : usec),
                              memory_order_relaxed);
}

struct out {
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *nb = realloc(o->buf, cap);
        if (!nb) {
            o->failed = 1;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
}

static void labels(int row, char *buf, size_t cap)
{
    if (row == MAX_ROWS - 1)
        snprintf(buf, cap, "method=\"\",route=\"unmatched\"");
    else
        snprintf(buf, cap, "method=\"%s\",route=\"%s\"", router_table[row].method,
                 router_table[row].pattern);
}

char *metrics_render(struct ob_pub *pub, size_t *len)
{
    struct out o = { malloc(16384), 0, 16384, 0 };
    if (!o.buf)
        return NULL;
    int rows[MAX_ROWS], nrows = 0;
    for (int i = 0; i < router_count && i < MAX_ROWS - 1; i++)
        rows[nrows++] = i;
    rows[nrows++] = MAX_ROWS - 1;

    put(&o, "# HELP onebox_api_requests_total REST requests answered, by route, method and status.\n"
            "# TYPE onebox_api_requests_total counter\n");
    for (int k = 0; k < nrows; k++) {
        char lb[160];
        labels(rows[k], lb, sizeof lb);
        for (int s = 0; s <= NSTATUS; s++) {
            unsigned long long v = atomic_load_explicit(&by_status[rows[k]][s], memory_order_relaxed);
            if (!v)
                continue;
            if (s < NSTATUS)
                put(&o, "onebox_api_requests_total{%s,status=\"%d\"} %llu\n", lb, statuses[s], v);
            else
                put(&o, "onebox_api_requests_total{%s,status=\"other\"} %llu\n", lb, v);
        }
    }
    put(&o, "# HELP onebox_api_request_duration_seconds Time from reading a request to finishing its answer.\n"
            "# TYPE onebox_api_request_duration_seconds histogram\n");
    for (int k = 0; k < nrows; k++) {
        char lb[160];
        labels(rows[k], lb, sizeof lb);
        unsigned long long cum = 0;
        for (int b = 0; b <= NBOUNDS; b++) {
            cum += atomic_load_explicit(&buckets[rows[k]][b], memory_order_relaxed);
            if (b < NBOUNDS)
                put(&o, "onebox_api_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", lb,
                    (double)bounds_us[b] / 1e6, cum);
            else
                put(&o, "onebox_api_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lb, cum);
        }
        unsigned long long s = atomic_load_explicit(&sum_us[rows[k]], memory_order_relaxed);
        put(&o, "onebox_api_request_duration_seconds_sum{%s} %.6f\n", lb, (double)s / 1e6);
        put(&o, "onebox_api_request_duration_seconds_count{%s} %llu\n", lb, cum);
    }
    if (pub) {
        struct ob_pub_stats st;
        ob_pub_get_stats(pub, &st);
        put(&o, "# HELP onebox_api_events_sent_total Events written to events.sock.\n"
                "# TYPE onebox_api_events_sent_total counter\n"
                "onebox_api_events_sent_total %llu\n"
                "# HELP onebox_api_events_dropped_total Events dropped because the publisher queue was full.\n"
                "# TYPE onebox_api_events_dropped_total counter\n"
                "onebox_api_events_dropped_total %llu\n"
                "# HELP onebox_api_events_connected 1 while events.sock is connected.\n"
                "# TYPE onebox_api_events_connected gauge\n"
                "onebox_api_events_connected %d\n",
            st.sent, st.dropped, st.connected);
    }
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
