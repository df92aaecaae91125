/* ingest: events.sock accept, peer check, framing and parsing; see ingest.h. */
#include "ingest.h"
#include "order.h"

#include "ob_event.h"
#include "ob_linebuf.h"
#include "ob_log.h"
#include "ob_sock.h"
#include "ob_time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKE 64
#define BAD_LINE_LOGS_PER_MIN 20

struct ingest_conn {
    struct lws *wsi;
    struct ingest_conn *prev, *next;
    struct ob_linebuf lb;
    char who[48];
    int live;
    int64_t bad_window;
    unsigned bad_logged;
};

static void on_line(void *ctx, char *line, size_t len)
{
    struct ingest_conn *ic = ctx;
    struct rt *rt = rt_from_wsi(ic->wsi);
    struct ob_event ev;
    char err[160];
    rt->st.ev_in++;
    if (ob_event_parse(line, len, &ev, err, sizeof err) < 0) {
        rt->st.ev_bad++;
        int64_t minute = ob_time_mono_ms() / 60000;
        if (ic->bad_window != minute) {
            ic->bad_window = minute;
            ic->bad_logged = 0;
        }
        if (ic->bad_logged++ < BAD_LINE_LOGS_PER_MIN)
            ob_warn("events.sock (%s): dropped a line of %zu bytes: %s", ic->who, len, err);
        return;
    }
    order_push(rt, &ev);
    ob_event_clear(&ev);
}

static void unlink_conn(struct rt *rt, struct ingest_conn *ic)
{
    if (!ic->live)
        return;
    if (ic->prev)
        ic->prev->next = ic->next;
    else
        rt->ingest_conns = ic->next;
    if (ic->next)
        ic->next->prev = ic->prev;
    ic->live = 0;
    rt->ningest--;
    ob_linebuf_free(&ic->lb);
}

static int cb_ingest(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                     void *in, size_t len)
{
    struct ingest_conn *ic = user;
    struct rt *rt = rt_from_wsi(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        memset(ic, 0, sizeof *ic);
        ic->wsi = wsi;
        ob_sock_peer_allowed(lws_get_socket_fd(wsi), ic->who, sizeof ic->who);
        if (ob_linebuf_init(&ic->lb, OB_PROTO_MAX_LINE) < 0)
            return -1;
        ic->live = 1;
        ic->next = rt->ingest_conns;
        if (ic->next)
            ic->next->prev = ic;
        rt->ingest_conns = ic;
        rt->ningest++;
        ob_info("events.sock: publisher connected (%s)", ic->who);
        if (rt->ingest_paused)
            lws_rx_flow_control(wsi, 0);
        order_catch_up(rt);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (!ic->live)
            return -1;
        if (ob_linebuf_feed(&ic->lb, in, len, on_line, ic, ic->who) < 0) {
            ob_warn("events.sock (%s): out of memory: dropping the publisher", ic->who);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (ic->live)
            ob_info("events.sock: publisher disconnected (%s)", ic->who);
        unlink_conn(rt, ic);
        return 0;
    default:
        return 0;
    }
}

static void accept_all(struct rt *rt)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        int fd = accept4(rt->ingest_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                ob_warn("events.sock: accept: %s", strerror(errno));
            return;
        }
        char who[48];
        int ok = ob_sock_peer_allowed(fd, who, sizeof who);
        if (ok != 1) {
            rt->st.ev_dropped_peer++;
            ob_warn("events.sock: refusing a publisher (%s): not root, our user or our group",
                    ok < 0 ? "credentials unknown" : who);
            close(fd);
            continue;
        }
        if (!lws_adopt_descriptor_vhost(rt->raw_vh, LWS_ADOPT_SOCKET,
                                        (lws_sock_file_fd_type){ .sockfd = fd }, "ob-ingest", NULL))
            ob_warn("events.sock: cannot adopt a publisher (%s): fd table full?", who);
    }
}

static int cb_accept(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                     void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    struct rt *rt = rt_from_wsi(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        accept_all(rt);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        rt->ingest_listener = NULL;
        rt->ingest_fd = -1;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols ingest_protocols[] = {
    { "ob-ingest-accept", cb_accept, 0, 0, 0, NULL, 0 },
    { "ob-ingest", cb_ingest, sizeof(struct ingest_conn), 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

const struct lws_protocols *ingest_protocol_table(void)
{
    return ingest_protocols;
}

int ingest_listen(struct rt *rt)
{
    char err[256];
    rt->ingest_fd = ob_sock_listen_unix(rt->cfg->events_sock, 0660, err, sizeof err);
    if (rt->ingest_fd < 0) {
        ob_error("events.sock: %s", err);
        return -1;
    }
    rt->ingest_listener = lws_adopt_descriptor_vhost(rt->raw_vh, LWS_ADOPT_RAW_FILE_DESC,
                                                     (lws_sock_file_fd_type){ .filefd = rt->ingest_fd },
                                                     "ob-ingest-accept", NULL);
    if (!rt->ingest_listener) {
        ob_error("events.sock: cannot add the listener to the event loop");
        rt->ingest_fd = -1;     /* lws closed it */
        unlink(rt->cfg->events_sock);
        return -1;
    }
    return 0;
}

void ingest_close(struct rt *rt)
{
    if (rt->cfg->events_sock)
        unlink(rt->cfg->events_sock);
}

void ingest_flow(struct rt *rt, int enable)
{
    rt->ingest_paused = !enable;
    for (struct ingest_conn *ic = rt->ingest_conns; ic; ic = ic->next)
        lws_rx_flow_control(ic->wsi, enable);
}
