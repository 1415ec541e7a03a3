/*
 * watch.c — the propagation watcher: a fixed pool of workers, the job table
 * keyed by (fqdn, value), the timer heap of waiting jobs, and the engine
 * that asks every nameserver of a job over non-blocking UDP.
 *
 * A job is either queued (in the heap, owned by nobody) or running (owned by
 * exactly one worker, which alone touches its report, targets and queries).
 * Waiting costs a heap slot, never a thread: a worker sends one round of
 * queries, polls its own sockets for all the jobs it runs, and puts each job
 * back in the heap with a backoff when its round ends. Callbacks run on the
 * owning worker with no lock held, so they may call back into the watcher.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/errqueue.h>
#endif

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/watch_int.h"

#define BACKOFF_START_MS 8u
#define BACKOFF_WAIT_CAP_MS 1000u    /* while a caller waits */
#define BACKOFF_LINGER_CAP_MS 5000u  /* after the last caller gave up */
#define KEEP_COMPLETE_MS (2u * 60u * 1000u)
#define BUSY_RETRY_MS 10u            /* another worker is discovering the zone */
#define DISCOVERY_MIN_MS 200u
#define TAKE_MAX 32u                 /* jobs per pass: a burst spreads over the workers */
#define INFLIGHT_MAX 1024u           /* queries in flight per worker */
#define QBUCKETS 1024u
#define TABLE_SIZE 4096u
#define IDLE_POLL_MS 60000u
#define WORKERS_DEFAULT 4u
#define WORKERS_MAX 64u
#define RCVBUF_BYTES (1 << 20)

struct waiter {
    struct waiter *next;
    uint64_t deadline;
    zp_watch_done_fn *done;
    void *arg;
};

struct job {
    /* Immutable after creation. */
    char *fqdn, *zone, *value;
    char **nameservers, **resolvers;
    size_t n_nameservers, n_resolvers;
    int one_round;                  /* zp_watch_check_once: answer after the first round */
    uint64_t started;

    /* Under w->mu. */
    struct job *hnext;              /* table chain */
    int in_table;
    size_t heap_idx;                /* valid while queued */
    int queued;                     /* in the heap (else running on one worker) */
    uint64_t due;
    struct waiter *waiters;
    int forgotten;
    int reset;                      /* a new waiter: poll now, backoff from the start */
    uint64_t linger_until;

    /*
     * Owner only: the worker running it, or nobody while queued. The owner's
     * writes reach the next owner through w->mu (requeue, heap_pop); other
     * workers read rep.n of a queued job under w->mu to size their batch.
     */
    struct zp_watch_report rep;
    struct zp_ns_target tgt[ZP_WATCH_MAX_NS];
    int resolved, disc_failed;
    unsigned inflight, rounds, queries, backoff;
    uint64_t next_round, completed_at;
    struct job *rnext, *rprev;      /* the owner's running list */
};

struct query {                      /* one UDP query in flight; owned by one worker */
    struct query *next;             /* bucket chain, by id */
    struct job *job;
    size_t ns;
    uint16_t id;
    uint64_t deadline;
    int cut;                        /* deadline shortened by a waiter's */
};

struct worker {
    /* Set by zp_watcher_new before the thread starts; read-only afterwards. */
    struct zp_watcher *w;
    pthread_t th;
    int started;
    int fd4, fd6;                   /* non-blocking UDP; fd6 is -1 on hosts without IPv6 */
    /* Everything below belongs to the worker thread alone. */
    struct query *bucket[QBUCKETS];
    unsigned n_inflight;
    struct job *running;
    uint16_t rnd[64];
    unsigned nrnd;
    uint8_t rx[65536];
};

struct zp_watcher {
    pthread_mutex_t mu;
    /* Under mu. */
    struct job *table[TABLE_SIZE];
    struct job **heap;
    size_t nheap, capheap;
    int stopping;
    /* Immutable after zp_watcher_new. */
    int wake[2];                    /* every worker polls wake[0]; anyone writes a byte */
    int stop[2];                    /* never drained: once written, wakes every worker */
    unsigned n_workers;
    struct worker *workers;
    struct zp_nscache *cache;       /* own lock */
};

static void service(struct worker *wk, struct job *j);

/* --- table and heap (w->mu held) --------------------------------------------------------- */

static size_t key_hash(const char *fqdn, const char *value)
{
    uint32_t h = 2166136261u;

    for (; *fqdn; fqdn++)
        h = (h ^ (uint8_t)*fqdn) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (; *value; value++)
        h = (h ^ (uint8_t)*value) * 16777619u;
    return h % TABLE_SIZE;
}

static struct job *table_find(struct zp_watcher *w, const char *fqdn, const char *value)
{
    struct job *j;

    for (j = w->table[key_hash(fqdn, value)]; j != NULL; j = j->hnext)
        if (strcmp(j->fqdn, fqdn) == 0 && strcmp(j->value, value) == 0)
            return j;
    return NULL;
}

static void table_remove(struct zp_watcher *w, struct job *j)
{
    struct job **pp = &w->table[key_hash(j->fqdn, j->value)];

    if (!j->in_table)
        return;
    while (*pp != j)
        pp = &(*pp)->hnext;
    *pp = j->hnext;
    j->in_table = 0;
}

static void heap_swap(struct zp_watcher *w, size_t a, size_t b)
{
    struct job *t = w->heap[a];

    w->heap[a] = w->heap[b];
    w->heap[b] = t;
    w->heap[a]->heap_idx = a;
    w->heap[b]->heap_idx = b;
}

static void heap_fix(struct zp_watcher *w, size_t i)
{
    while (i > 0 && w->heap[(i - 1) / 2]->due > w->heap[i]->due) {
        heap_swap(w, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->nheap && w->heap[l]->due < w->heap[m]->due)
            m = l;
        if (r < w->nheap && w->heap[r]->due < w->heap[m]->due)
            m = r;
        if (m == i)
            break;
        heap_swap(w, i, m);
        i = m;
    }
}

static void heap_push(struct zp_watcher *w, struct job *j)
{
    if (w->nheap == w->capheap) {
        w->capheap = w->capheap ? w->capheap * 2 : 64;
        w->heap = zp_xrealloc(w->heap, w->capheap * sizeof(*w->heap));
    }
    j->heap_idx = w->nheap;
    j->queued = 1;
    w->heap[w->nheap++] = j;
    heap_fix(w, j->heap_idx);
}

static struct job *heap_pop(struct zp_watcher *w)
{
    struct job *j = w->heap[0];

    heap_swap(w, 0, --w->nheap);
    if (w->nheap > 0)
        heap_fix(w, 0);
    j->queued = 0;
    return j;
}

/* Moves a queued job's due time earlier. */
static void heap_advance(struct zp_watcher *w, struct job *j, uint64_t due)
{
    if (j->queued && due < j->due) {
        j->due = due;
        heap_fix(w, j->heap_idx);
    }
}

static void wake(struct zp_watcher *w)
{
    ssize_t r = write(w->wake[1], "x", 1);
    (void)r; /* a full pipe already wakes everyone */
}

/* --- jobs ---------------------------------------------------------------------------------- */

static char **strv_dup(char *const *v, size_t n)
{
    char **out = n ? zp_xcalloc(n, sizeof(*out)) : NULL;
    size_t i;

    for (i = 0; i < n; i++)
        out[i] = zp_xstrdup(v[i]);
    return out;
}

static void strv_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static struct job *job_new(const struct zp_watch_spec *spec, const char *fqdn, const char *zone,
                           int one_round)
{
    struct job *j = zp_xcalloc(1, sizeof(*j));

    j->fqdn = zp_xstrdup(fqdn);
    j->zone = zp_xstrdup(zone);
    j->value = zp_xstrdup(spec->value);
    j->nameservers = strv_dup(spec->nameservers, spec->n_nameservers);
    j->n_nameservers = spec->n_nameservers;
    j->resolvers = strv_dup(spec->resolvers, spec->n_resolvers);
    j->n_resolvers = spec->n_resolvers;
    j->one_round = one_round;
    j->started = zp_now_ms();
    j->backoff = BACKOFF_START_MS;
    zp_strlcpy(j->rep.fqdn, fqdn, sizeof(j->rep.fqdn));
    zp_strlcpy(j->rep.zone, zone, sizeof(j->rep.zone));
    zp_strlcpy(j->rep.value, spec->value, sizeof(j->rep.value));
    return j;
}

static void job_free(struct job *j)
{
    free(j->fqdn);
    free(j->zone);
    free(j->value);
    strv_free(j->nameservers, j->n_nameservers);
    strv_free(j->resolvers, j->n_resolvers);
    free(j);
}

static void running_add(struct worker *wk, struct job *j)
{
    j->rprev = NULL;
    j->rnext = wk->running;
    if (wk->running)
        wk->running->rprev = j;
    wk->running = j;
}

static void running_del(struct worker *wk, struct job *j)
{
    if (j->rprev)
        j->rprev->rnext = j->rnext;
    else
        wk->running = j->rnext;
    if (j->rnext)
        j->rnext->rprev = j->rprev;
    j->rnext = j->rprev = NULL;
}

/* Answers every waiter (all) or those whose deadline passed, outside the lock. */
static void answer(struct zp_watcher *w, struct job *j, int all)
{
    struct waiter *list = NULL, **pp, *wt;
    uint64_t now = zp_now_ms();

    pthread_mutex_lock(&w->mu);
    for (pp = &j->waiters; (wt = *pp) != NULL;) {
        if (all || wt->deadline <= now) {
            *pp = wt->next;
            wt->next = list;
            list = wt;
        } else {
            pp = &wt->next;
        }
    }
    if (list != NULL)
        j->linger_until = now + ZP_WATCH_LINGER_MS;
    pthread_mutex_unlock(&w->mu);
    j->rep.elapsed_ms = now - j->started;
    while ((wt = list) != NULL) {
        list = wt->next;
        wt->done(wt->arg, &j->rep);
        free(wt);
    }
}

/* Frees the job unless a waiter arrived meanwhile; returns whether it did. */
static int try_drop(struct worker *wk, struct job *j)
{
    struct zp_watcher *w = wk->w;

    pthread_mutex_lock(&w->mu);
    if (j->waiters != NULL) {
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    table_remove(w, j);
    pthread_mutex_unlock(&w->mu);
    running_del(wk, j);
    job_free(j);
    return 1;
}

/* Back to the heap, due at next or at the first waiter's deadline. */
static void requeue(struct worker *wk, struct job *j, uint64_t next)
{
    struct zp_watcher *w = wk->w;
    struct waiter *wt;
    int top;

    running_del(wk, j);
    pthread_mutex_lock(&w->mu);
    for (wt = j->waiters; wt != NULL; wt = wt->next)
        if (!j->rep.complete && wt->deadline < next)
            next = wt->deadline;
    if (j->reset || j->forgotten || w->stopping)
        next = zp_now_ms();
    j->due = next;
    heap_push(w, j);
    top = j->heap_idx == 0;
    pthread_mutex_unlock(&w->mu);
    if (top)
        wake(w); /* sleeping workers may have planned to sleep past it */
}

static void resolve(struct zp_watcher *w, struct job *j, uint64_t now, int *busy)
{
    struct zp_watch_spec spec = {j->fqdn, j->zone, j->value, j->nameservers, j->n_nameservers,
                                 j->resolvers, j->n_resolvers};
    uint64_t deadline = now + DISCOVERY_MIN_MS;
    struct waiter *wt;
    size_t n = 0, i;
    int rc;

    pthread_mutex_lock(&w->mu);
    for (wt = j->waiters; wt != NULL; wt = wt->next)
        if (wt->deadline > deadline)
            deadline = wt->deadline;
    pthread_mutex_unlock(&w->mu);
    rc = zp_ns_targets(j->one_round ? NULL : w->cache, &spec, deadline, j->tgt, &n,
                       j->rep.discovery_error, sizeof(j->rep.discovery_error));
    *busy = rc == ZP_NS_TARGETS_BUSY;
    if (rc == ZP_NS_TARGETS_BUSY)
        return;
    if (rc == ZP_NS_TARGETS_FAIL) {
        j->disc_failed = 1;
        return;
    }
    j->rep.n = n;
    for (i = 0; i < n; i++) {
        struct zp_ns_status *st = &j->rep.ns[i];
        zp_strlcpy(st->name, j->tgt[i].name, sizeof(st->name));
        zp_strlcpy(st->addr, j->tgt[i].addr, sizeof(st->addr));
        st->state = j->tgt[i].salen ? ZP_NS_PENDING : ZP_NS_ERROR;
        zp_strlcpy(st->detail, j->tgt[i].detail, sizeof(st->detail));
    }
    j->resolved = 1;
    j->next_round = now;
}

/* --- the query engine (worker thread only) ------------------------------------------------ */

static int id_in_use(struct worker *wk, uint16_t id)
{
    struct query *q;

    for (q = wk->bucket[id % QBUCKETS]; q != NULL; q = q->next)
        if (q->id == id)
            return 1;
    return 0;
}

/* A random id not in flight on this worker: answers are matched by address, id and question. */
static uint16_t new_id(struct worker *wk)
{
    for (;;) {
        uint16_t id;

        if (wk->nrnd == 0) {
            if (getrandom(wk->rnd, sizeof(wk->rnd), 0) != (ssize_t)sizeof(wk->rnd)) {
                uint64_t x = zp_now_ms() ^ (uintptr_t)wk;
                for (unsigned i = 0; i < 64; i++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    wk->rnd[i] = (uint16_t)x;
                }
            }
            wk->nrnd = 64;
        }
        id = wk->rnd[--wk->nrnd];
        if (!id_in_use(wk, id))
            return id;
    }
}

static struct query *query_find(struct worker *wk, uint16_t id, const struct sockaddr *from)
{
    struct query *q;

    for (q = wk->bucket[id % QBUCKETS]; q != NULL; q = q->next)
        if (q->id == id &&
            zp_ns_addr_equal((const struct sockaddr *)&q->job->tgt[q->ns].sa, from))
            return q;
    return NULL;
}

static void query_unlink(struct worker *wk, struct query *q)
{
    struct query **pp = &wk->bucket[q->id % QBUCKETS];

    while (*pp != q)
        pp = &(*pp)->next;
    *pp = q->next;
    wk->n_inflight--;
}

static int all_have_value(const struct zp_watch_report *rep)
{
    size_t i;

    for (i = 0; i < rep->n; i++)
        if (rep->ns[i].state != ZP_NS_HAS_VALUE)
            return 0;
    return rep->n > 0;
}

/* The end of a round: completion, then the next poll time. */
static void round_done(struct worker *wk, struct job *j)
{
    uint64_t now = zp_now_ms();
    unsigned cap;
    int waiting;

    j->rounds++;
    if (!j->rep.complete && all_have_value(&j->rep)) {
        char names[1024] = "";
        size_t i, len = 0;

        j->rep.complete = 1;
        j->completed_at = now;
        for (i = 0; i < j->rep.n && len < sizeof(names) - 1; i++)
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? "," : "",
                                    j->rep.ns[i].name);
        zp_log(ZP_LOG_INFO, "watch complete", ZP_S("fqdn", j->fqdn),
               ZP_S("nameservers", names), ZP_I("elapsed_ms", now - j->started),
               ZP_I("queries", j->queries), ZP_I("rounds", j->rounds), ZP_END);
    }
    pthread_mutex_lock(&wk->w->mu);
    waiting = j->waiters != NULL;
    pthread_mutex_unlock(&wk->w->mu);
    cap = waiting ? BACKOFF_WAIT_CAP_MS : BACKOFF_LINGER_CAP_MS;
    if (j->backoff > cap)
        j->backoff = cap;
    j->next_round = now + j->backoff;
    j->backoff = j->backoff * 2 > cap ? cap : j->backoff * 2;
    zp_log(ZP_LOG_DEBUG, "watch round", ZP_S("fqdn", j->fqdn), ZP_I("round", j->rounds),
           ZP_B("complete", j->rep.complete), ZP_I("next_ms", j->next_round - now), ZP_END);
}

/* A query is answered, failed or timed out; the last one of a round ends the round. */
static void query_finish(struct worker *wk, struct query *q)
{
    struct job *j = q->job;

    free(q);
    if (--j->inflight == 0) {
        round_done(wk, j);
        service(wk, j);
    }
}

static void query_done(struct worker *wk, struct query *q)
{
    query_unlink(wk, q);
    query_finish(wk, q);
}

static void set_error(struct zp_ns_status *st, const char *detail)
{
    st->state = ZP_NS_ERROR;
    st->rcode = 0;
    st->n_other = 0;
    zp_strlcpy(st->detail, detail, sizeof(st->detail));
}

/* Sends the TXT query to every nameserver that does not serve the value yet. */
static void send_round(struct worker *wk, struct job *j, uint64_t now)
{
    uint64_t deadline = now + ZP_WATCH_QUERY_TIMEOUT_MS;
    struct waiter *wt;
    size_t i;
    int cut = 0;

    pthread_mutex_lock(&wk->w->mu);
    for (wt = j->waiters; wt != NULL; wt = wt->next)
        if (wt->deadline < deadline) {
            deadline = wt->deadline; /* a query never outlives a caller's budget */
            cut = 1;
        }
    pthread_mutex_unlock(&wk->w->mu);
    for (i = 0; i < j->rep.n; i++) {
        struct zp_ns_target *t = &j->tgt[i];
        struct query *q;
        uint8_t *wire = NULL;
        size_t len;
        int fd = t->sa.ss_family == AF_INET6 ? wk->fd6 : wk->fd4;
        uint16_t id;

        if (j->rep.ns[i].state == ZP_NS_HAS_VALUE || t->salen == 0)
            continue;
        if (fd < 0) {
            set_error(&j->rep.ns[i], "this host has no IPv6 socket");
            continue;
        }
        id = new_id(wk);
        if (zp_ns_query_wire(j->fqdn, LDNS_RR_TYPE_TXT, 0, id, &wire, &len) == -1) {
            set_error(&j->rep.ns[i], "cannot build the query");
            continue;
        }
        if (sendto(fd, wire, len, 0, (const struct sockaddr *)&t->sa, t->salen) < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
                set_error(&j->rep.ns[i], strerror(errno));
            free(wire);
            continue; /* a full send buffer: the next round asks again */
        }
        free(wire);
        q = zp_xcalloc(1, sizeof(*q));
        q->job = j;
        q->ns = i;
        q->id = id;
        q->deadline = deadline;
        q->cut = cut;
        q->next = wk->bucket[id % QBUCKETS];
        wk->bucket[id % QBUCKETS] = q;
        wk->n_inflight++;
        j->inflight++;
        j->queries++;
    }
}

/*
 * Runs a job the worker owns and that has no query in flight: answers whom
 * it can, discovers, sends a round, or puts it back in the heap or drops it.
 */
static void service(struct worker *wk, struct job *j)
{
    struct zp_watcher *w = wk->w;

    for (;;) {
        uint64_t now = zp_now_ms(), linger;
        int forgotten, stopping, reset, waiting, busy;

        pthread_mutex_lock(&w->mu);
        forgotten = j->forgotten;
        stopping = w->stopping;
        reset = j->reset;
        j->reset = 0;
        pthread_mutex_unlock(&w->mu);
        if (reset) {
            j->backoff = BACKOFF_START_MS;
            j->next_round = now;
        }
        if (forgotten || stopping || j->disc_failed || (j->one_round && j->rounds > 0)) {
            answer(w, j, 1);
            if (try_drop(wk, j))
                return;
            continue;
        }
        if (j->rep.complete) {
            answer(w, j, 1);
            if (now >= j->completed_at + KEEP_COMPLETE_MS) {
                if (try_drop(wk, j))
                    return;
                continue;
            }
            requeue(wk, j, j->completed_at + KEEP_COMPLETE_MS);
            return;
        }
        answer(w, j, 0);
        if (!j->resolved) {
            resolve(w, j, now, &busy);
            if (busy) {
                requeue(wk, j, now + BUSY_RETRY_MS);
                return;
            }
            continue;
        }
        pthread_mutex_lock(&w->mu);
        waiting = j->waiters != NULL;
        linger = j->linger_until;
        pthread_mutex_unlock(&w->mu);
        if (!waiting && now >= linger) {
            if (try_drop(wk, j))
                return;
            continue;
        }
        if (now >= j->next_round) {
            send_round(wk, j, now);
            if (j->inflight > 0)
                return; /* stays on the running list until the round ends */
            round_done(wk, j);
            continue;
        }
        requeue(wk, j, j->next_round);
        return;
    }
}

/* What the TXT answer from one nameserver says. */
static void on_answer(struct worker *wk, struct query *q, ldns_pkt *p)
{
    struct job *j = q->job;
    struct zp_ns_status *st = &j->rep.ns[q->ns];

    if (ldns_pkt_tc(p)) {
        /* Truncated: that one question again over TCP; a short blocking exchange. */
        uint64_t left = zp_ms_left(q->deadline);
        ldns_pkt *tp = NULL;
        char why[96];

        if (zp_ns_tcp_query(&j->tgt[q->ns].sa, j->tgt[q->ns].salen, j->fqdn,
                            LDNS_RR_TYPE_TXT, 0, left < 100 ? 100 : (unsigned)left, &tp, why,
                            sizeof(why)) == -1) {
            char d[128];
            snprintf(d, sizeof(d), "truncated over UDP, then %s", why);
            set_error(st, d);
            return;
        }
        zp_ns_classify(tp, j->fqdn, j->value, st);
        ldns_pkt_free(tp);
        return;
    }
    zp_ns_classify(p, j->fqdn, j->value, st);
}

static void recv_all(struct worker *wk, int fd)
{
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        struct query *q;
        ldns_pkt *p = NULL;
        ssize_t n;

        n = recvfrom(fd, wk->rx, sizeof(wk->rx), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
                errno == ENETUNREACH)
                continue; /* a pending ICMP error: the error queue names the query */
            return;
        }
        if (n < 12)
            continue;
        q = query_find(wk, (uint16_t)(wk->rx[0] << 8 | wk->rx[1]), (struct sockaddr *)&from);
        if (q == NULL)
            continue; /* late (timed out) or not ours */
        if (ldns_wire2pkt(&p, wk->rx, (size_t)n) != LDNS_STATUS_OK)
            continue;
        if (zp_ns_answer_matches(p, q->id, q->job->fqdn, LDNS_RR_TYPE_TXT)) {
            on_answer(wk, q, p);
            query_done(wk, q);
        }
        ldns_pkt_free(p);
    }
}

/* ICMP errors for unconnected sockets (IP_RECVERR): "connection refused" beats a timeout. */
static void recv_errors(struct worker *wk, int fd)
{
#ifdef __linux__
    for (;;) {
        union {
            char buf[512];
            struct cmsghdr align;
        } ctrl;
        struct sockaddr_storage to;
        struct iovec iov = {wk->rx, sizeof(wk->rx)};
        struct msghdr msg = {&to, sizeof(to), &iov, 1, ctrl.buf, sizeof(ctrl.buf), 0};
        struct sock_extended_err *ee = NULL;
        struct cmsghdr *cm;
        struct query *q;
        ssize_t n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
        const char *d;

        if (n < 0)
            return;
        for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
            if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
                (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
                ee = (struct sock_extended_err *)CMSG_DATA(cm);
        if (ee == NULL || n < 2)
            continue;
        q = query_find(wk, (uint16_t)(wk->rx[0] << 8 | wk->rx[1]), (struct sockaddr *)&to);
        if (q == NULL)
            continue;
        d = ee->ee_errno == ECONNREFUSED   ? "connection refused: nothing listens on that port "
                                             "(server down? wrong port?)"
            : ee->ee_errno == EHOSTUNREACH ? "host unreachable"
            : ee->ee_errno == ENETUNREACH  ? "network unreachable"
                                           : strerror((int)ee->ee_errno);
        set_error(&q->job->rep.ns[q->ns], d);
        query_done(wk, q);
    }
#else
    (void)wk;
    (void)fd;
#endif
}

/*
 * Times out the queries past their deadline, or all of only's (cut: a
 * waiter's deadline). Returns how many.
 */
static size_t expire(struct worker *wk, uint64_t now, struct job *only)
{
    struct query *list = NULL, *q, **pp;
    size_t b, n = 0;

    /* Detach first: ending a round may send the next one into the buckets. */
    for (b = 0; b < QBUCKETS; b++)
        for (pp = &wk->bucket[b]; (q = *pp) != NULL;) {
            if (only != NULL ? q->job == only : q->deadline <= now) {
                *pp = q->next;
                wk->n_inflight--;
                q->cut |= only != NULL;
                q->next = list;
                list = q;
                n++;
            } else {
                pp = &q->next;
            }
        }
    while ((q = list) != NULL) {
        struct zp_ns_status *st = &q->job->rep.ns[q->ns];

        list = q->next;
        /* A query cut short keeps what the server said last time. */
        if (!q->cut || st->state == ZP_NS_PENDING) {
            st->state = ZP_NS_TIMEOUT;
            st->rcode = 0;
            st->n_other = 0;
            zp_strlcpy(st->detail, q->cut ? "no answer before the deadline"
                                          : "no answer within 1 s",
                       sizeof(st->detail));
        }
        query_finish(wk, q);
    }
    return n;
}

/* --- workers -------------------------------------------------------------------------------- */

static uint64_t earliest_query(struct worker *wk, uint64_t t)
{
    struct query *q;
    size_t b;

    if (wk->n_inflight == 0)
        return t;
    for (b = 0; b < QBUCKETS; b++)
        for (q = wk->bucket[b]; q != NULL; q = q->next)
            if (q->deadline < t)
                t = q->deadline;
    return t;
}

/* On stop: every job this worker owns or can pop is answered with what is known. */
static void drain(struct worker *wk)
{
    struct zp_watcher *w = wk->w;
    struct job *j;

    /* Ending a job's round lets service answer and drop it (the watcher is stopping). */
    while ((j = wk->running) != NULL)
        if (expire(wk, 0, j) == 0) {
            j->inflight = 0;
            service(wk, j);
        }
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (w->nheap == 0) {
            pthread_mutex_unlock(&w->mu);
            return;
        }
        j = heap_pop(w);
        pthread_mutex_unlock(&w->mu);
        running_add(wk, j);
        service(wk, j);
    }
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    struct zp_watcher *w = wk->w;
    struct job *take[TAKE_MAX], *cut[64];

    for (;;) {
        struct pollfd pfd[4];
        uint64_t now = zp_now_ms(), next = now + IDLE_POLL_MS;
        size_t ntake = 0, ncut = 0, i, reserved = 0;
        int more = 0, capped = 0, nfd = 0;
        struct job *r;
        char drainbuf[64];

        pthread_mutex_lock(&w->mu);
        if (w->stopping) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        while (w->nheap > 0 && w->heap[0]->due <= now && ntake < TAKE_MAX) {
            size_t need = w->heap[0]->rep.n ? w->heap[0]->rep.n : 1;
            if (wk->n_inflight + reserved + need > INFLIGHT_MAX) {
                capped = 1; /* answers will free room; others take the rest */
                break;
            }
            reserved += need;
            take[ntake++] = heap_pop(w);
        }
        more = w->nheap > 0 && w->heap[0]->due <= now;
        if (w->nheap > 0 && w->heap[0]->due < next)
            next = w->heap[0]->due;
        /* A caller that joined a running job may have a deadline before its queries'. */
        for (r = wk->running; r != NULL; r = r->rnext) {
            struct waiter *wt;
            for (wt = r->waiters; wt != NULL; wt = wt->next) {
                if (wt->deadline <= now && ncut < 64) {
                    cut[ncut++] = r;
                    break;
                }
                if (wt->deadline < next)
                    next = wt->deadline;
            }
        }
        pthread_mutex_unlock(&w->mu);
        if (more)
            wake(w);
        for (i = 0; i < ntake; i++) {
            running_add(wk, take[i]);
            service(wk, take[i]);
        }
        for (i = 0; i < ncut; i++)
            expire(wk, now, cut[i]);

        next = earliest_query(wk, next);
        now = zp_now_ms();
        pfd[nfd++] = (struct pollfd){w->wake[0], POLLIN, 0};
        pfd[nfd++] = (struct pollfd){w->stop[0], POLLIN, 0};
        pfd[nfd++] = (struct pollfd){wk->fd4, POLLIN, 0};
        if (wk->fd6 >= 0)
            pfd[nfd++] = (struct pollfd){wk->fd6, POLLIN, 0};
        poll(pfd, (nfds_t)nfd, (more && !capped) || ntake == TAKE_MAX ? 0
                              : next > now                         ? (int)(next - now)
                                                                   : 0);
        if (pfd[0].revents & POLLIN)
            while (read(w->wake[0], drainbuf, sizeof(drainbuf)) > 0)
                ;
        for (i = 2; i < (size_t)nfd; i++) {
            if (pfd[i].revents & POLLERR)
                recv_errors(wk, pfd[i].fd);
            if (pfd[i].revents & (POLLIN | POLLERR))
                recv_all(wk, pfd[i].fd); /* also consumes a pending socket error */
        }
        expire(wk, zp_now_ms(), NULL);
    }
    drain(wk);
    return NULL;
}

static int udp_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    int rcv = RCVBUF_BYTES;

    if (fd < 0)
        return -1;
    /* A burst of a thousand answers must not overflow the default buffer. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
#ifdef __linux__
    if (family == AF_INET)
        setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
    else
        setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
#endif
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    return fd;
}

struct zp_watcher *zp_watcher_new(unsigned workers, struct zp_err *err)
{
    struct zp_watcher *w = zp_xcalloc(1, sizeof(*w));
    unsigned i;

    if (workers == 0)
        workers = WORKERS_DEFAULT;
    if (workers > WORKERS_MAX)
        workers = WORKERS_MAX;
    pthread_mutex_init(&w->mu, NULL);
    w->wake[0] = w->wake[1] = w->stop[0] = w->stop[1] = -1;
    w->cache = zp_nscache_new();
    w->workers = zp_xcalloc(workers, sizeof(*w->workers));
    w->n_workers = workers;
    for (i = 0; i < workers; i++) {
        w->workers[i].w = w;
        w->workers[i].fd4 = w->workers[i].fd6 = -1;
    }
    if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) == -1 ||
        pipe2(w->stop, O_NONBLOCK | O_CLOEXEC) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot create the watcher's wake-up pipe: %s",
                   strerror(errno));
        goto out;
    }
    for (i = 0; i < workers; i++) {
        struct worker *wk = &w->workers[i];
        wk->fd4 = udp_socket(AF_INET);
        wk->fd6 = udp_socket(AF_INET6); /* optional: hosts without IPv6 exist */
        if (wk->fd4 < 0) {
            zp_err_set(err, ZP_EINTERNAL, "cannot open a UDP socket for the watcher: %s",
                       strerror(errno));
            goto out;
        }
        if (pthread_create(&wk->th, NULL, worker_main, wk) != 0) {
            zp_err_set(err, ZP_EINTERNAL, "cannot start watcher thread %u", i);
            goto out;
        }
        wk->started = 1;
    }
    return w;
out:
    zp_watcher_free(w);
    return NULL;
}

void zp_watcher_free(struct zp_watcher *w)
{
    unsigned i;

    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_mutex_unlock(&w->mu);
    if (w->stop[1] >= 0 && write(w->stop[1], "x", 1) != 1)
        zp_log(ZP_LOG_ERROR, "cannot wake the watcher's workers", ZP_END);
    for (i = 0; i < w->n_workers; i++)
        if (w->workers[i].started)
            pthread_join(w->workers[i].th, NULL);
    for (i = 0; i < w->n_workers; i++) {
        if (w->workers[i].fd4 >= 0)
            close(w->workers[i].fd4);
        if (w->workers[i].fd6 >= 0)
            close(w->workers[i].fd6);
    }
    /* Workers that never started leave jobs behind only if wait() ran: it cannot have. */
    for (i = 0; i < 2; i++) {
        if (w->wake[i] >= 0)
            close(w->wake[i]);
        if (w->stop[i] >= 0)
            close(w->stop[i]);
    }
    free(w->heap);
    free(w->workers);
    zp_nscache_free(w->cache);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* --- callers ------------------------------------------------------------------------------- */

static int spec_check(const struct zp_watch_spec *spec, char *fqdn, char *zone,
                      struct zp_err *err)
{
    char why[128], host[ZP_DNAME_MAX];
    unsigned port;
    size_t i;

    if (spec->fqdn == NULL || zp_dname_check(spec->fqdn, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(spec->fqdn, fqdn, ZP_DNAME_MAX) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot watch \"%s\": %s",
                          spec->fqdn ? spec->fqdn : "", spec->fqdn ? why : "no name");
    if (spec->zone == NULL || zp_dname_check(spec->zone, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(spec->zone, zone, ZP_DNAME_MAX) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: zone \"%s\" is not a DNS name",
                          fqdn, spec->zone ? spec->zone : "");
    if (!zp_dname_in_zone(fqdn, zone))
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: it is not inside zone %s", fqdn,
                          zone);
    if (spec->value == NULL || spec->value[0] == '\0' ||
        strlen(spec->value) >= ZP_WATCH_VALUE_MAX)
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: the TXT value must be 1 to %d "
                          "characters", fqdn, ZP_WATCH_VALUE_MAX - 1);
    if (spec->n_nameservers > ZP_WATCH_MAX_NS)
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: at most %d nameservers, not %zu",
                          fqdn, ZP_WATCH_MAX_NS, spec->n_nameservers);
    for (i = 0; i < spec->n_nameservers + spec->n_resolvers; i++) {
        const char *s = i < spec->n_nameservers ? spec->nameservers[i]
                                                : spec->resolvers[i - spec->n_nameservers];
        if (s == NULL || zp_hostport_split(s, 53, host, sizeof(host), &port) == -1)
            return zp_err_set(err, ZP_EINVAL, "cannot watch %s: %s \"%s\" is not host:port",
                              fqdn, i < spec->n_nameservers ? "nameserver" : "resolver",
                              s ? s : "");
    }
    return 0;
}

static int wait_job(struct zp_watcher *w, const struct zp_watch_spec *spec, uint64_t deadline_ms,
                    zp_watch_done_fn *done, void *arg, int one_round, struct zp_err *err)
{
    char fqdn[ZP_DNAME_MAX], zone[ZP_DNAME_MAX];
    struct waiter *wt;
    struct job *j = NULL;
    uint64_t now = zp_now_ms();
    int rc = -1;

    if (spec_check(spec, fqdn, zone, err) == -1)
        return -1;
    wt = zp_xcalloc(1, sizeof(*wt));
    wt->deadline = deadline_ms;
    wt->done = done;
    wt->arg = arg;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        zp_err_set(err, ZP_ETRANSIENT, "cannot watch %s: the watcher is shutting down", fqdn);
        free(wt);
        goto out;
    }
    if (!one_round)
        j = table_find(w, fqdn, spec->value);
    if (j == NULL) {
        j = job_new(spec, fqdn, zone, one_round);
        if (!one_round) {
            size_t h = key_hash(fqdn, spec->value);
            j->hnext = w->table[h];
            w->table[h] = j;
            j->in_table = 1;
        }
        j->due = now;
        heap_push(w, j);
    } else {
        j->reset = 1; /* a retried Present: look again now, not after a 5 s backoff */
        heap_advance(w, j, now);
    }
    wt->next = j->waiters;
    j->waiters = wt;
    rc = 0;
out:
    pthread_mutex_unlock(&w->mu);
    if (rc == 0)
        wake(w);
    return rc;
}

int zp_watcher_wait(struct zp_watcher *w, const struct zp_watch_spec *spec, uint64_t deadline_ms,
                    zp_watch_done_fn *done, void *arg, struct zp_err *err)
{
    return wait_job(w, spec, deadline_ms, done, arg, 0, err);
}

void zp_watcher_forget(struct zp_watcher *w, const char *fqdn, const char *value)
{
    char canon[ZP_DNAME_MAX];
    struct job *j;

    if (fqdn == NULL || value == NULL || zp_dname_canon(fqdn, canon, sizeof(canon)) == -1)
        return;
    pthread_mutex_lock(&w->mu);
    j = table_find(w, canon, value);
    if (j != NULL) {
        table_remove(w, j);
        j->forgotten = 1; /* its owner (or the next worker to pop it) answers and frees it */
        heap_advance(w, j, zp_now_ms());
    }
    pthread_mutex_unlock(&w->mu);
    if (j != NULL)
        wake(w);
}

struct once {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    struct zp_watch_report *rep;
};

static void once_done(void *arg, const struct zp_watch_report *rep)
{
    struct once *o = arg;

    pthread_mutex_lock(&o->mu);
    *o->rep = *rep;
    o->done = 1;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

int zp_watch_check_once(const struct zp_watch_spec *spec, unsigned timeout_ms,
                        struct zp_watch_report *rep, struct zp_err *err)
{
    struct once o = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, rep};
    struct zp_watcher *w;
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    w = zp_watcher_new(1, err);
    if (w == NULL)
        return -1;
    if (wait_job(w, spec, zp_now_ms() + timeout_ms, once_done, &o, 1, err) == -1)
        goto out;
    pthread_mutex_lock(&o.mu);
    while (!o.done)
        pthread_cond_wait(&o.cv, &o.mu);
    pthread_mutex_unlock(&o.mu);
    rc = 0;
out:
    zp_watcher_free(w);
    return rc;
}
