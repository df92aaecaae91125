/* imap_fetch: SELECT INBOX, first sync, catch-up, UIDVALIDITY rebuild and
 * the fetch -> decode -> categorize -> store pipeline; see imap_fetch.h. */
#include "imap_fetch.h"

#include "account.h"
#include "imap_conn.h"
#include "imap_log.h"
#include "mail_class.h"
#include "mail_store.h"
#include "ob_event.h"
#include "ob_log.h"
#include "ob_pub.h"
#include "sync_ctx.h"

#include <libetpan/libetpan.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INBOX "INBOX"
#define BATCH_MAX 200
#define BATCH_BYTES (4u * 1024 * 1024)

enum sync_mode { MODE_CATCHUP, MODE_INITIAL, MODE_REBUILD };

struct msg_ref {
    uint32_t uid, size;
};

static int is_ok(int r)
{
    return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
           r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

static void cmd_failed(struct account *a, int r, const char *what, char *err, size_t errlen)
{
    char srv[160];
    imap_conn_server_text(a, srv, sizeof srv);
    if (srv[0] && r != MAILIMAP_ERROR_STREAM)
        snprintf(err, errlen, "%s: %s (%s)", what, imap_conn_strerror(r), srv);
    else
        snprintf(err, errlen, "%s: %s", what, imap_conn_strerror(r));
    imap_log_end(a, err);
}

static void date_time_iso(const struct mailimap_date_time *d, char out[OB_TIME_ISO_LEN])
{
    out[0] = '\0';
    if (!d || d->dt_year < 1970 || d->dt_year > 9999 || d->dt_month < 1 || d->dt_month > 12 ||
        d->dt_day < 1 || d->dt_day > 31 || d->dt_hour < 0 || d->dt_hour > 23 ||
        d->dt_min < 0 || d->dt_min > 59 || d->dt_sec < 0 || d->dt_sec > 60)
        return;
    struct tm tm = { .tm_year = d->dt_year - 1900, .tm_mon = d->dt_month - 1,
                     .tm_mday = d->dt_day, .tm_hour = d->dt_hour, .tm_min = d->dt_min,
                     .tm_sec = d->dt_sec };
    time_t t = timegm(&tm);
    int z = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;
    if (z > 2400)
        z = 0;
    long off = (long)(z / 100) * 3600 + (long)(z % 100) * 60;
    t -= d->dt_zone < 0 ? -off : off;
    ob_time_iso(t, 0, out);
}

static int cmp_ref(const void *x, const void *y)
{
    uint32_t a = ((const struct msg_ref *)x)->uid, b = ((const struct msg_ref *)y)->uid;
    return a < b ? -1 : a > b;
}

/* Lists (UID, RFC822.SIZE, INTERNALDATE) of the messages from `first` on:
 * sequence numbers first:* (by_uid 0) or UIDs first:* (by_uid 1, filtered
 * on uid >= first).  Sorted by UID.  0 or -1. */
static int list_refs(struct account *a, int by_uid, uint32_t first, struct msg_ref **out,
                     size_t *nout, char *err, size_t errlen)
{
    *out = NULL;
    *nout = 0;
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    struct mailimap_set *set = mailimap_set_new_interval(first, 0);
    if (!ft || !set) {
        if (ft)
            mailimap_fetch_type_free(ft);
        if (set)
            mailimap_set_free(set);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    /* INTERNALDATE comes with each body instead: on a Maildir it costs the
     * server a stat() per message, which would all be paid here, before the
     * first body is fetched. */
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
    clist *res = NULL;
    imap_log_begin(a, by_uid ? "UID FETCH" : "FETCH");
    int r = by_uid ? mailimap_uid_fetch(a->imap, set, ft, &res)
                   : mailimap_fetch(a->imap, set, ft, &res);
    mailimap_fetch_type_free(ft);
    mailimap_set_free(set);
    if (!is_ok(r)) {
        cmd_failed(a, r, by_uid ? "UID FETCH (sizes)" : "FETCH (sizes)", err, errlen);
        if (res)
            mailimap_fetch_list_free(res);
        return -1;
    }
    imap_log_end(a, NULL);
    size_t cap = res ? (size_t)clist_count(res) : 0, n = 0;
    struct msg_ref *v = calloc(cap ? cap : 1, sizeof *v);
    if (!v) {
        if (res)
            mailimap_fetch_list_free(res);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (clistiter *it = res ? clist_begin(res) : NULL; it; it = clist_next(it)) {
        struct mailimap_msg_att *ma = clist_content(it);
        struct msg_ref ref = { 0 };
        for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
            struct mailimap_msg_att_item *item = clist_content(j);
            if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
                continue;
            struct mailimap_msg_att_static *s = item->att_data.att_static;
            if (s->att_type == MAILIMAP_MSG_ATT_UID)
                ref.uid = s->att_data.att_uid;
            else if (s->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
                ref.size = s->att_data.att_rfc822_size;
        }
        if (ref.uid == 0 || (by_uid && ref.uid < first) || n >= cap)
            continue;
        v[n++] = ref;
    }
    if (res)
        mailimap_fetch_list_free(res);
    qsort(v, n, sizeof *v, cmp_ref);
    *out = v;
    *nout = n;
    return 0;
}

static void decode_item(struct account *a, struct mail_item *it, const char *raw, size_t len,
                        int truncated)
{
    if (!raw || len == 0) {
        ob_warn("%s/%s: skipping UID %u: the server returned no content", a->user, a->email,
                it->uid);
        return;
    }
    struct mime_limits lim;
    mime_limits_default(&lim);
    lim.max_raw = (size_t)a->ctx->cfg->imap_max_message;
    char why[160];
    if (mime_decode(raw, len, &lim, &it->msg, why, sizeof why) < 0) {
        ob_warn("%s/%s: skipping UID %u (%zu bytes): %s", a->user, a->email, it->uid, len, why);
        return;
    }
    it->decoded = 1;
    if (truncated)
        ob_info("%s/%s: UID %u is %u bytes; stored its first %zu", a->user, a->email, it->uid,
                it->size, len);
    if (it->msg.flags & MIME_F_MALFORMED)
        ob_info("%s/%s: UID %u is malformed MIME; stored what could be decoded", a->user,
                a->email, it->uid);
    mail_class_apply(a->ctx, it);
}

static struct mail_item *find_item(struct mail_item *items, size_t n, uint32_t uid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (items[mid].uid == uid)
            return &items[mid];
        if (items[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* UID FETCH set (UID BODY.PEEK[] or BODY.PEEK[]<0.partial>) into *res.
 * Returns 0, -1 (connection), or the libetpan code MAILIMAP_ERROR_PARSE
 * (stream out of sync: reconnect). */
static int fetch_bodies(struct account *a, const struct mail_item *items, size_t n,
                        uint32_t partial, clist **res, char *err, size_t errlen)
{
    *res = NULL;
    struct mailimap_set *set = mailimap_set_new_empty();
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    struct mailimap_section *sec = mailimap_section_new(NULL);
    if (!set || !ft || !sec) {
        if (set)
            mailimap_set_free(set);
        if (ft)
            mailimap_fetch_type_free(ft);
        if (sec)
            mailimap_section_free(sec);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        mailimap_set_add_single(set, items[i].uid);
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
    mailimap_fetch_type_new_fetch_att_list_add(ft, partial
        ? mailimap_fetch_att_new_body_peek_section_partial(sec, 0, partial)
        : mailimap_fetch_att_new_body_peek_section(sec));
    imap_log_begin(a, "UID FETCH");
    int r = mailimap_uid_fetch(a->imap, set, ft, res);
    mailimap_fetch_type_free(ft);
    mailimap_set_free(set);
    if (!is_ok(r)) {
        cmd_failed(a, r, "UID FETCH (bodies)", err, errlen);
        if (*res)
            mailimap_fetch_list_free(*res);
        *res = NULL;
        return r == MAILIMAP_ERROR_PARSE ? MAILIMAP_ERROR_PARSE : -1;
    }
    imap_log_end(a, NULL);
    return 0;
}

/* Decodes each body of a FETCH response into its item, then frees res. */
static void decode_bodies(struct account *a, struct mail_item *items, size_t n, uint32_t partial,
                          clist *res)
{
    for (clistiter *it = res ? clist_begin(res) : NULL; it; it = clist_next(it)) {
        struct mailimap_msg_att *ma = clist_content(it);
        uint32_t uid = 0;
        const char *body = NULL;
        size_t blen = 0;
        const struct mailimap_date_time *idate = NULL;
        for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
            struct mailimap_msg_att_item *item = clist_content(j);
            if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
                continue;
            struct mailimap_msg_att_static *s = item->att_data.att_static;
            if (s->att_type == MAILIMAP_MSG_ATT_UID) {
                uid = s->att_data.att_uid;
            } else if (s->att_type == MAILIMAP_MSG_ATT_INTERNALDATE) {
                idate = s->att_data.att_internal_date;
            } else if (s->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && s->att_data.att_body_section) {
                body = s->att_data.att_body_section->sec_body_part;
                blen = s->att_data.att_body_section->sec_length;
            }
        }
        struct mail_item *mi = uid ? find_item(items, n, uid) : NULL;
        if (!mi || mi->decoded)
            continue;
        date_time_iso(idate, mi->internaldate);
        decode_item(a, mi, body, blen, partial && blen >= partial);
    }
    if (res)
        mailimap_fetch_list_free(res);
}

static void progress(struct account *a, size_t fetched, size_t total)
{
    if (!a->ctx->pub)
        return;
    json_t *data = json_pack("{s:s,s:s,s:I,s:I}", "userId", a->user, "email", a->email,
                             "fetched", (json_int_t)fetched, "total", (json_int_t)total);
    struct ob_event ev;
    if (data && ob_event_init(&ev, OB_EV_SYNC_PROGRESS, a->user, data) == 0) {
        ob_pub_event(a->ctx->pub, &ev);
        ob_event_clear(&ev);
    }
}

static void items_free(struct mail_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mime_msg_free(&items[i].msg);
    free(items);
}

/* One batch of bodies: refs[i..j) as items, fetched and decoded (MIME,
 * categories) by the run's fetcher thread. */
struct batch {
    size_t i, j;
    uint32_t partial;
    struct mail_item *items;
    int r;            /* fetch_bodies() result; nonzero: the run ends here */
    char err[256];
};

static void batch_free(struct batch *b)
{
    if (!b)
        return;
    if (b->items)
        items_free(b->items, b->j - b->i);
    free(b);
}

/* The end of the batch starting at refs[i]. */
static size_t batch_end(const struct account *a, const struct msg_ref *refs, size_t n, size_t i,
                        uint32_t max)
{
    size_t limit = a->careful ? 1 : BATCH_MAX, j = i;
    uint64_t bytes = 0;
    while (j < n && j - i < limit) {
        uint64_t s = refs[j].size < max ? refs[j].size : max;
        if (j > i && (bytes + s > BATCH_BYTES || refs[j].size > max))
            break;
        bytes += s;
        j++;
        if (refs[j - 1].size > max)
            break;       /* a large message goes alone, fetched partially */
    }
    return j;
}

/* The batch for refs[i..batch_end), fetched and decoded; NULL when out of
 * memory. */
static struct batch *batch_make(struct account *a, const struct msg_ref *refs, size_t n, size_t i,
                                enum sync_mode mode, uint32_t announce_from)
{
    uint32_t max = (uint32_t)a->ctx->cfg->imap_max_message;
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->i = i;
    b->j = batch_end(a, refs, n, i, max);
    size_t cnt = b->j - i;
    b->items = calloc(cnt, sizeof *b->items);
    if (!b->items) {
        free(b);
        return NULL;
    }
    for (size_t k = 0; k < cnt; k++) {
        b->items[k].uid = refs[i + k].uid;
        b->items[k].size = refs[i + k].size;
        b->items[k].announce = mode == MODE_CATCHUP ||
                               (mode == MODE_INITIAL && refs[i + k].uid >= announce_from);
    }
    b->partial = cnt == 1 && refs[i].size > max ? max : 0;
    clist *res = NULL;
    b->r = fetch_bodies(a, b->items, cnt, b->partial, &res, b->err, sizeof b->err);
    if (b->r == 0)
        decode_bodies(a, b->items, cnt, b->partial, res);
    return b;
}

/* A run's two threads: the fetcher fetches and decodes batches in UID
 * order and queues them; the worker stores them.  So the server prepares
 * the next batches, and a second core decodes them, while SQLite writes
 * the one before.  The fetcher owns the IMAP session from its start to its
 * join (one FETCH in flight at a time); the worker does not touch it.  A
 * stop shuts the socket down, which ends the fetcher's blocking read. */
#define PIPE_DEPTH 2       /* decoded batches waiting for the worker */

struct pipe {
    struct account *a;
    const struct msg_ref *refs;
    size_t n;
    enum sync_mode mode;
    uint32_t announce_from;
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* a batch was queued or taken, or the run ends */
    struct batch *q[PIPE_DEPTH];
    size_t head, len;
    int done;              /* the fetcher queues nothing more */
    int oom;               /* ...because memory ran out */
    int cancel;            /* the worker gave up: the fetcher stops */
};

static void *pipe_fetcher(void *arg)
{
    struct pipe *p = arg;
    size_t i = 0;
    int last = 0;
    while (i < p->n && !last && account_wanted(p->a)) {
        struct batch *b = batch_make(p->a, p->refs, p->n, i, p->mode, p->announce_from);
        if (b) {
            /* Read before queuing: from then on b is the worker's. */
            last = b->r != 0;  /* the session is unusable past a failed FETCH */
            i = b->j;
        }
        pthread_mutex_lock(&p->mu);
        if (!b)
            p->oom = 1;
        while (b && p->len == PIPE_DEPTH && !p->cancel)
            pthread_cond_wait(&p->cv, &p->mu);
        int cancel = p->cancel;
        if (b && !cancel) {
            p->q[(p->head + p->len) % PIPE_DEPTH] = b;
            p->len++;
            pthread_cond_broadcast(&p->cv);
        }
        pthread_mutex_unlock(&p->mu);
        if (!b || cancel) {
            batch_free(cancel ? b : NULL);
            break;
        }
    }
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The next batch in order, or NULL when the fetcher has ended. */
static struct batch *pipe_take(struct pipe *p)
{
    struct batch *b = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->len == 0 && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->len > 0) {
        b = p->q[p->head];
        p->head = (p->head + 1) % PIPE_DEPTH;
        p->len--;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return b;
}

/* Stops the fetcher, waits for it and frees what it queued. */
static void pipe_end(struct pipe *p, pthread_t th)
{
    pthread_mutex_lock(&p->mu);
    p->cancel = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(th, NULL);
    while (p->len > 0) {
        batch_free(p->q[p->head]);
        p->head = (p->head + 1) % PIPE_DEPTH;
        p->len--;
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

/* Stores one fetched batch (consumed), or handles its failed FETCH: -1
 * with err set ends the run.  0 when stored. */
static int store_batch(struct account *a, sqlite3 *db, struct mail_store_cache *sc,
                                 const struct msg_ref *refs, struct batch *cur,
                                 enum sync_mode mode, int *stored, char *err, size_t errlen)
{
    size_t cnt = cur->j - cur->i;
    if (cur->r != 0) {
        snprintf(err, errlen, "%s", cur->err);
        uint32_t uid = refs[cur->i].uid;
        int parse = cur->r == MAILIMAP_ERROR_PARSE;
        batch_free(cur);
        if (!parse)
            return -1;
        if (cnt > 1) {
            /* One bad message spoils the whole FETCH (clibs pitfall 9):
             * reconnect and go one message at a time to find it. */
            a->careful = 1;
            return -1;
        }
        ob_warn("%s/%s: skipping UID %u: the server's FETCH response cannot be parsed",
                a->user, a->email, uid);
        mail_store_save(db, a, INBOX, a->uidvalidity, NULL, 0, uid + 1, MAIL_STORE_NORMAL);
        a->uidnext = uid + 1 > a->uidnext ? uid + 1 : a->uidnext;
        return -1;             /* the stream is out of sync: reconnect */
    }
    uint32_t next = refs[cur->j - 1].uid + 1;
    int ann = mail_store_save_cached(db, sc, a, INBOX, a->uidvalidity, cur->items, cnt, next,
                                     mode == MODE_REBUILD ? MAIL_STORE_REBUILD
                                                          : MAIL_STORE_NORMAL);
    size_t ok = 0;
    for (size_t k = 0; k < cnt; k++)
        ok += cur->items[k].decoded ? 1 : 0;
    batch_free(cur);
    if (ann < 0) {
        snprintf(err, errlen, "database error while storing mail");
        return -1;
    }
    if (next > a->uidnext)
        a->uidnext = next;
    *stored += (int)ok;
    if (ann > 0)
        ob_info("%s/%s: %d new message(s) announced", a->user, a->email, ann);
    return 0;
}

/* Fetches, decodes, categorizes and stores refs[0..n) in batches, the
 * fetching and decoding of the next batches overlapping the storing of
 * the one before.  A run of one batch (new mail seen in IDLE, most often
 * one message) is done on the calling thread: a second thread would only
 * add its start and two hand-offs to the latency of that mail.  In
 * MODE_INITIAL only UIDs >= announce_from are announced; MODE_CATCHUP
 * announces all; MODE_REBUILD none.  Returns the number of messages stored
 * (or matched), or -1. */
static int process_run(struct account *a, sqlite3 *db, struct mail_store_cache *sc,
                       struct msg_ref *refs, size_t n, enum sync_mode mode,
                       uint32_t announce_from, int report, char *err, size_t errlen)
{
    size_t total = n, done = 0;
    int stored = 0, rc = -1;
    if (n == 0)
        return 0;
    if (!account_wanted(a)) {
        snprintf(err, errlen, "stopped");
        return -1;
    }
    if (batch_end(a, refs, n, 0, (uint32_t)a->ctx->cfg->imap_max_message) == n) {
        struct batch *b = batch_make(a, refs, n, 0, mode, announce_from);
        if (!b) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (store_batch(a, db, sc, refs, b, mode, &stored, err, errlen) < 0)
            return -1;
        if (report)
            progress(a, n, total);
        return stored;
    }
    struct pipe p = { .a = a, .refs = refs, .n = n, .mode = mode,
                      .announce_from = announce_from };
    pthread_t th;
    if (pthread_mutex_init(&p.mu, NULL) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_cond_init(&p.cv, NULL) != 0) {
        pthread_mutex_destroy(&p.mu);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_create(&th, NULL, pipe_fetcher, &p) != 0) {
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
        snprintf(err, errlen, "cannot start a thread");
        return -1;
    }
    struct batch *cur;
    while ((cur = pipe_take(&p)) != NULL) {
        size_t cnt = cur->j - cur->i;
        if (store_batch(a, db, sc, refs, cur, mode, &stored, err, errlen) < 0)
            goto out;
        done += cnt;
        if (report)
            progress(a, done, total);
    }
    if (done == n)
        rc = stored;
    else
        snprintf(err, errlen, p.oom ? "out of memory" : "stopped");
out:
    pipe_end(&p, th);
    return rc;
}

/* process_run() with one INSERT statement for all its batches. */
static int process(struct account *a, sqlite3 *db, struct msg_ref *refs, size_t n,
                   enum sync_mode mode, uint32_t announce_from, int report, char *err,
                   size_t errlen)
{
    struct mail_store_cache sc = { 0 };
    int r = process_run(a, db, &sc, refs, n, mode, announce_from, report, err, errlen);
    mail_store_cache_clear(&sc);
    return r;
}

/* Drops refs below done_below (a resumed first sync or rebuild has handled
 * them: stored, or skipped with a logged reason) and refs already stored
 * under the current UIDVALIDITY.  Returns the new count, or -1. */
static long drop_stored(struct account *a, sqlite3 *db, struct msg_ref *refs, size_t n,
                        uint32_t done_below)
{
    size_t o = 0, ns = 0, k = 0;
    uint32_t *stored = NULL;
    if (n == 0)
        return 0;
    /* refs are sorted by UID: one ordered query, merged. */
    uint32_t from = refs[0].uid > done_below ? refs[0].uid : done_below;
    if (mail_store_stored_uids(db, a->id, INBOX, a->uidvalidity, from, &stored, &ns) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (refs[i].uid < done_below)
            continue;
        while (k < ns && stored[k] < refs[i].uid)
            k++;
        if (k < ns && stored[k] == refs[i].uid)
            continue;
        refs[o++] = refs[i];
    }
    free(stored);
    return (long)o;
}

static void set_last_sync(struct account *a, const char *iso)
{
    pthread_mutex_lock(&a->mu);
    snprintf(a->last_sync, sizeof a->last_sync, "%s", iso);
    pthread_mutex_unlock(&a->mu);
}

int imap_fetch_open_inbox(struct account *a, sqlite3 *db, char *err, size_t errlen)
{
    uint64_t modseq = 0;
    imap_log_begin(a, "SELECT");
    int r = a->has_condstore ? mailimap_select_condstore(a->imap, INBOX, &modseq)
                             : mailimap_select(a->imap, INBOX);
    if (!is_ok(r)) {
        cmd_failed(a, r, "SELECT INBOX", err, errlen);
        return -1;
    }
    imap_log_end(a, NULL);
    struct mailimap_selection_info *si = a->imap->imap_selection_info;
    if (!si || si->sel_uidvalidity == 0) {
        snprintf(err, errlen, "SELECT INBOX: the server gave no UIDVALIDITY");
        return -1;
    }
    uint32_t uidv = si->sel_uidvalidity, srv_next = si->sel_uidnext, exists = si->sel_exists;
    struct mail_mbox mb;
    if (mail_store_mbox_get(db, a->id, INBOX, &mb) < 0) {
        snprintf(err, errlen, "database error");
        return -1;
    }
    enum sync_mode mode;
    if (!mb.found) {
        if (mail_store_mbox_create(db, a->id, INBOX, uidv) < 0) {
            snprintf(err, errlen, "database error");
            return -1;
        }
        mode = MODE_INITIAL;
    } else if (mb.uidvalidity != uidv) {
        int resets = mb.resets + 1;
        if (resets > IMAP_FETCH_MAX_RESETS) {
            snprintf(err, errlen, "UIDVALIDITY of INBOX changed %d times in a row (now %u); "
                     "sync stopped", mb.resets, uidv);
            return -2;
        }
        ob_warn("%s/%s: UIDVALIDITY of INBOX changed from %u to %u (reset %d in a row); "
                "rebuilding silently", a->user, a->email, mb.uidvalidity, uidv, resets);
        if (mail_store_mbox_reset(db, a, INBOX, mb.uidvalidity, uidv, resets) < 0) {
            snprintf(err, errlen, "database error");
            return -1;
        }
        mode = MODE_REBUILD;
    } else if (!mb.synced) {
        mode = mb.resets > 0 ? MODE_REBUILD : MODE_INITIAL;
    } else {
        mode = MODE_CATCHUP;
    }
    a->uidvalidity = uidv;
    /* A first sync or rebuild cut short resumes above what it handled. */
    int fresh = !mb.found || mb.uidvalidity != uidv;
    a->uidnext = fresh ? 0 : mb.uidnext;
    a->modseq = modseq;

    struct msg_ref *refs = NULL;
    size_t n = 0;
    int rc = 0;
    if (mode == MODE_CATCHUP) {
        if (exists > 0 && (srv_next == 0 || a->uidnext < srv_next)) {
            uint32_t from = a->uidnext > 0 ? a->uidnext : 1;
            if (list_refs(a, 1, from, &refs, &n, err, errlen) < 0)
                return -1;
            long m = drop_stored(a, db, refs, n, 0);
            rc = m < 0 ? -1 : process(a, db, refs, (size_t)m, mode, 0, 0, err, errlen);
        }
    } else if (exists > 0) {
        long win = a->ctx->cfg->sync_initial_window;
        uint32_t first = win > 0 && exists > (uint32_t)win ? exists - (uint32_t)win + 1 : 1;
        if (list_refs(a, 0, first, &refs, &n, err, errlen) < 0)
            return -1;
        long k = a->ctx->cfg->sync_announce_window;
        uint32_t announce_from = UINT32_MAX;
        if (mode == MODE_INITIAL && k > 0 && n > 0)
            announce_from = refs[n > (size_t)k ? n - (size_t)k : 0].uid;
        ob_info("%s/%s: %s sync of INBOX: %zu of %u message(s), announcing %s", a->user,
                a->email, mode == MODE_INITIAL ? "first" : "rebuild", n, exists,
                mode == MODE_INITIAL && k > 0 ? "the newest" : "none");
        long m = drop_stored(a, db, refs, n, a->uidnext);
        rc = m < 0 ? -1 : process(a, db, refs, (size_t)m, mode, announce_from, 1, err, errlen);
    }
    free(refs);
    if (rc < 0) {
        if (!err[0])
            snprintf(err, errlen, "sync of INBOX failed");
        return -1;
    }
    a->careful = 0;
    char iso[OB_TIME_ISO_LEN];
    uint32_t next = srv_next > a->uidnext ? srv_next : a->uidnext;
    if (mail_store_mbox_synced(db, a->id, INBOX, next, modseq, mode == MODE_CATCHUP, iso) < 0) {
        snprintf(err, errlen, "database error");
        return -1;
    }
    a->uidnext = next;
    set_last_sync(a, iso);
    return 0;
}

int imap_fetch_new(struct account *a, sqlite3 *db, char *err, size_t errlen)
{
    struct mailimap_selection_info *si = a->imap ? a->imap->imap_selection_info : NULL;
    if (!si) {
        snprintf(err, errlen, "no mailbox selected");
        return -1;
    }
    if (si->sel_exists == 0)
        return 0;
    struct msg_ref *refs = NULL;
    size_t n = 0;
    uint32_t from = a->uidnext > 0 ? a->uidnext : 1;
    if (list_refs(a, 1, from, &refs, &n, err, errlen) < 0)
        return -1;
    int stored = n ? process(a, db, refs, n, MODE_CATCHUP, 0, 0, err, errlen) : 0;
    free(refs);
    if (stored < 0)
        return -1;
    a->careful = 0;
    if (stored > 0) {
        char iso[OB_TIME_ISO_LEN];
        if (mail_store_mbox_synced(db, a->id, INBOX, a->uidnext, 0, 0, iso) == 0)
            set_last_sync(a, iso);
    }
    return stored;
}
