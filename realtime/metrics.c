/* metrics: process and system figures for admins; see metrics.h. */
#include "metrics.h"
#include "fanout.h"
#include "ws_msg.h"

#include "ob_log.h"
#include "ob_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

struct rt_metrics {
    int64_t last_ms;
    double last_cpu_s;
    unsigned long long last_out, last_err;
    double cpu_usage, msg_rate, err_rate;
    int sampled;
};

struct rt_metrics *metrics_new(void)
{
    return calloc(1, sizeof(struct rt_metrics));
}

void metrics_free(struct rt_metrics *m)
{
    free(m);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static unsigned long long errors(const struct rt *rt)
{
    return rt->st.errors_sent + rt->st.ev_bad + rt->st.sync_failures;
}

static void sample(struct rt *rt)
{
    struct rt_metrics *m = rt->metrics;
    int64_t now = ob_time_mono_ms();
    double cpu = cpu_seconds();
    if (m->sampled && now > m->last_ms) {
        double dt = (double)(now - m->last_ms) / 1000.0;
        m->cpu_usage = 100.0 * (cpu - m->last_cpu_s) / dt;
        m->msg_rate = (double)(rt->st.msgs_out - m->last_out) / dt;
        m->err_rate = (double)(errors(rt) - m->last_err) / dt;
    }
    m->sampled = 1;
    m->last_ms = now;
    m->last_cpu_s = cpu;
    m->last_out = rt->st.msgs_out;
    m->last_err = errors(rt);
}

/* MemTotal and MemAvailable in bytes; 0 when unreadable. */
static void meminfo(unsigned long long *total, unsigned long long *avail)
{
    *total = *avail = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return;
    char line[128];
    unsigned long long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            *total = kb * 1024;
        else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            *avail = kb * 1024;
    }
    fclose(f);
}

static unsigned long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (unsigned long long)sysconf(_SC_PAGESIZE);
}

json_t *metrics_json(struct rt *rt)
{
    struct rt_metrics *m = rt->metrics;
    if (!m->sampled)
        sample(rt);
    unsigned long long total, avail;
    meminfo(&total, &avail);
    struct statvfs vfs;
    unsigned long long dtotal = 0, dfree = 0;
    if (statvfs(rt->cfg->data_dir, &vfs) == 0) {
        dtotal = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
        dfree = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return json_pack("{s:I,s:{s:f,s:i},s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I},"
                     "s:{s:I,s:I,s:i},s:i,s:f,s:f}",
                     "timestamp", (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000,
                     "cpu", "usage", m->cpu_usage, "cores", (int)sysconf(_SC_NPROCESSORS_ONLN),
                     "memory", "used", (json_int_t)(total - avail), "free", (json_int_t)avail,
                     "total", (json_int_t)total, "rss", (json_int_t)rss_bytes(),
                     "disk", "used", (json_int_t)(dtotal - dfree), "free", (json_int_t)dfree,
                     "total", (json_int_t)dtotal,
                     "network", "bytesReceived", (json_int_t)rt->st.bytes_in,
                     "bytesSent", (json_int_t)rt->st.bytes_out, "connections", (int)rt->nconns,
                     "activeConnections", (int)rt->nconns,
                     "messageRate", m->msg_rate, "errorRate", m->err_rate);
}

void metrics_tick(struct rt *rt)
{
    sample(rt);
    struct ws_msg *msg = NULL;
    for (struct ws_conn *c = rt->admins; c; c = c->adm_next) {
        if (c->state != WS_ST_LIVE || c->kind != WS_KIND_NOTIFY || !(c->topics & WS_TOPIC_METRICS))
            continue;
        if (!msg) {
            json_t *data = metrics_json(rt);
            msg = data ? ws_msg_envelope("metrics", data, 0, NULL) : NULL;
            json_decref(data);
            if (!msg)
                return;
        }
        fanout_enqueue(rt, c, msg);
    }
    ws_msg_unref(msg);
}
