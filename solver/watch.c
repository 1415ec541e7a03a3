/*
 * watch.c — the propagation watcher's pool: the worker threads and their
 * loop, the job table keyed by (fqdn, value), the timer heap of waiting
 * jobs, and the public API that adds waiters to jobs. What a job does when
 * a worker runs it is watchjob.c's; how a worker asks nameservers is its
 * UDP engine's (watchq.c).
 *
 * A job is either queued (in the heap, owned by nobody) or running (owned by
 * exactly one worker, which alone touches its nameserver states and
 * queries). Waiting costs a heap slot and about a kilobyte, never a thread:
 * a worker sends one round of queries, polls its own sockets for all the
 * jobs it runs, and puts each job back in the heap with a backoff when its
 * round ends. Callbacks run on the owning worker with no lock held, so they
 * may call back into the watcher.
 *
 * Memory is bounded by a cap on the jobs in the table (workers.maxWatches):
 * a Present the CA gave up on leaves its job lingering, polling once per
 * 30 s for 10 minutes, and a flood of those would otherwise grow without
 * bound. At the cap the job that has lingered longest makes room; a job a
 * caller still waits on never does, so at a cap of waiting callers a new
 * watch is refused. Each job also has a query budget (watchjob.c).
 *
 * The worker threads are a base/pool.h pool (started with every signal
 * blocked); each thread runs one worker's loop as the one long job the pool
 * hands it, until the stop. zp_watch_check_once waits on a base/wait.h
 * completion.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/pool.h"
#include "base/wait.h"
#include "solver/watch_int.h"

#define TAKE_MAX 32u       /* jobs per pass: a burst spreads over the workers */
#define INFLIGHT_MAX 1024u /* queries in flight per worker */
#define IDLE_POLL_MS 60000u
#define WORKERS_DEFAULT 4u
#define WORKERS_MAX 64u

/* The default cap's watches, each holding all it can, stay within 64 MiB (watch_int.h). */
_Static_assert((size_t)ZP_WATCH_MAX_DEFAULT *ZP_WATCH_BYTES_MAX <= ZP_WATCH_MEM_BUDGET,
               "ZP_WATCH_MAX_DEFAULT watches of ZP_WATCH_BYTES_MAX exceed 64 MiB");

/* --- table and heap (w->mu held) --------------------------------------------------------- */

static size_t key_hash(const char *fqdn, const char *value)
{
    uint32_t h = 2166136261u;

    for (; *fqdn; fqdn++)
        h = (h ^ (uint8_t)*fqdn) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (; *value; value++)
        h = (h ^ (uint8_t)*value) * 16777619u;
    return h % ZP_WATCH_TABLE_SIZE;
}

static struct zp_watch_job *table_find(struct zp_watcher *w, const char *fqdn, const char *value)
{
    struct zp_watch_job *j;

    for (j = w->table[key_hash(fqdn, value)]; j != NULL; j = j->hnext)
        if (strcmp(j->fqdn, fqdn) == 0 && strcmp(j->value, value) == 0)
            return j;
    return NULL;
}

static void linger_del(struct zp_watcher *w, struct zp_watch_job *j)
{
    if (!j->lingering)
        return;
    if (j->lprev)
        j->lprev->lnext = j->lnext;
    else
        w->linger_head = j->lnext;
    if (j->lnext)
        j->lnext->lprev = j->lprev;
    else
        w->linger_tail = j->lprev;
    j->lnext = j->lprev = NULL;
    j->lingering = 0;
    w->stats.lingering--;
}

void zp_watch_linger_add(struct zp_watcher *w, struct zp_watch_job *j)
{
    /* Off the table (forgotten, dropped) it is on its way out already. */
    if (j->lingering || !j->in_table || j->waiters != NULL)
        return;
    j->lnext = NULL;
    j->lprev = w->linger_tail;
    if (w->linger_tail)
        w->linger_tail->lnext = j;
    else
        w->linger_head = j;
    w->linger_tail = j;
    j->lingering = 1;
    w->stats.lingering++;
}

/* Off the table, no caller can join it: it no longer counts against the cap. */
static void table_remove(struct zp_watcher *w, struct zp_watch_job *j)
{
    struct zp_watch_job **pp = &w->table[key_hash(j->fqdn, j->value)];

    if (!j->in_table)
        return;
    linger_del(w, j);
    while (*pp != j)
        pp = &(*pp)->hnext;
    *pp = j->hnext;
    j->in_table = 0;
    w->stats.live--;
}

void zp_watch_unlist(struct zp_watcher *w, struct zp_watch_job *j)
{
    table_remove(w, j);
}

static void table_add(struct zp_watcher *w, struct zp_watch_job *j)
{
    size_t h = key_hash(j->fqdn, j->value);

    j->hnext = w->table[h];
    w->table[h] = j;
    j->in_table = 1;
    w->stats.live++;
}

static void heap_swap(struct zp_watcher *w, size_t a, size_t b)
{
    struct zp_watch_job *t = w->heap[a];

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

static void heap_push(struct zp_watcher *w, struct zp_watch_job *j)
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

static struct zp_watch_job *heap_pop(struct zp_watcher *w)
{
    struct zp_watch_job *j = w->heap[0];

    heap_swap(w, 0, --w->nheap);
    if (w->nheap > 0)
        heap_fix(w, 0);
    j->queued = 0;
    return j;
}

/* Takes a queued job out of the heap: nobody owns it, so its taker may free it. */
static void heap_remove(struct zp_watcher *w, struct zp_watch_job *j)
{
    size_t i = j->heap_idx;

    heap_swap(w, i, --w->nheap);
    if (i < w->nheap)
        heap_fix(w, i);
    j->queued = 0;
}

/* Moves a queued job's due time earlier. */
static void heap_advance(struct zp_watcher *w, struct zp_watch_job *j, uint64_t due)
{
    if (j->queued && due < j->due) {
        j->due = due;
        heap_fix(w, j->heap_idx);
    }
}

static void wake_one(struct zp_watch_worker *wk)
{
    zp_clock_pending(1); /* the worker takes the byte out, then looks for the work */
    if (write(wk->wake[1], "x", 1) != 1)
        zp_clock_pending(-1); /* a full pipe already wakes it */
}

/*
 * New work in the heap: one worker is enough, since whoever takes work and
 * sees more due wakes the next. A sleeping one is preferred (a busy one
 * looks at the heap anyway when it is done); waking every worker cost
 * each Present a context switch per watcher thread.
 */
static void wake(struct zp_watcher *w)
{
    unsigned start = __atomic_fetch_add(&w->next_wake, 1, __ATOMIC_RELAXED);

    for (unsigned k = 0; k < w->n_workers; k++) {
        struct zp_watch_worker *wk = &w->workers[(start + k) % w->n_workers];
        if (__atomic_load_n(&wk->idle, __ATOMIC_ACQUIRE)) {
            wake_one(wk);
            return;
        }
    }
    wake_one(&w->workers[start % w->n_workers]);
}

/*
 * The clock jumped (a test advanced it, a fast sleep): a timer may be due before a poll ends,
 * on any worker (each has its own queries' deadlines).
 */
static void on_clock_jump(void *arg)
{
    struct zp_watcher *w = arg;

    for (unsigned i = 0; i < w->n_workers; i++)
        wake_one(&w->workers[i]);
}

/* --- running jobs (their owner only) ----------------------------------------------------- */

static void running_add(struct zp_watch_worker *wk, struct zp_watch_job *j)
{
    j->rprev = NULL;
    j->rnext = wk->running;
    if (wk->running)
        wk->running->rprev = j;
    wk->running = j;
}

static void running_del(struct zp_watch_worker *wk, struct zp_watch_job *j)
{
    if (j->rprev)
        j->rprev->rnext = j->rnext;
    else
        wk->running = j->rnext;
    if (j->rnext)
        j->rnext->rprev = j->rprev;
    j->rnext = j->rprev = NULL;
}

int zp_watch_drop(struct zp_watch_worker *wk, struct zp_watch_job *j)
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
    zp_watch_job_free(j);
    return 1;
}

#define REQUEUE_WAKE_MS 1000u

void zp_watch_requeue(struct zp_watch_worker *wk, struct zp_watch_job *j, uint64_t next)
{
    struct zp_watcher *w = wk->w;
    struct zp_watch_waiter *wt;
    int top;

    running_del(wk, j);
    pthread_mutex_lock(&w->mu);
    for (wt = j->waiters; wt != NULL; wt = wt->next)
        if (!j->complete && wt->deadline < next)
            next = wt->deadline;
    if (j->reset || j->forgotten || w->stopping)
        next = zp_now_ms();
    j->due = next;
    heap_push(w, j);
    top = j->heap_idx == 0;
    pthread_mutex_unlock(&w->mu);
    /*
     * This worker looks at the heap's top before it sleeps again, so a job due later than
     * REQUEUE_WAKE_MS needs nobody else: a watch that answered and lingers (due in 30 s) wakes
     * no worker, where waking them all took the CPU just when the answer goes back to its caller.
     * A job due sooner may need a hand while this worker is busy with others: wake them.
     */
    if (top && next < zp_now_ms() + REQUEUE_WAKE_MS)
        wake(w);
}

/* --- workers ----------------------------------------------------------------------------- */

/* On stop: every job this worker owns or can pop is answered with what is known. */
static void drain(struct zp_watch_worker *wk)
{
    struct zp_watcher *w = wk->w;
    struct zp_watch_job *j;

    /* Ending a job's round lets it answer and drop itself (the watcher is stopping). */
    while ((j = wk->running) != NULL)
        if (zp_wq_expire(wk->q, 0, &j->ask) == 0) {
            j->ask.inflight = 0;
            zp_watch_job_run(wk, j);
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
        zp_watch_job_run(wk, j);
    }
}

/* The pool's job: one worker's loop, from the start to the watcher's stop. */
static void worker_main(void *ctx, struct zp_qitem *it)
{
    struct zp_watch_worker *wk = ZP_CONTAINER_OF(it, struct zp_watch_worker, link);
    struct zp_watcher *w = wk->w;
    struct zp_watch_job *take[TAKE_MAX], *cut[64];
    ssize_t woken = 0; /* wake-up bytes taken out of the pipe and not looked into yet */

    for (;;) {
        struct pollfd pfd[2 + ZP_WQ_FDS];
        uint64_t now = zp_now_ms(), next = now + IDLE_POLL_MS;
        size_t ntake = 0, ncut = 0, i, reserved = 0, nfd;
        int more = 0, capped = 0, timeout, idle;
        struct zp_watch_job *r;
        char drainbuf[64];
        ssize_t nr;

        pthread_mutex_lock(&w->mu);
        if (w->stopping) {
            pthread_mutex_unlock(&w->mu);
            zp_clock_pending(-(int)woken);
            break;
        }
        while (w->nheap > 0 && w->heap[0]->due <= now && ntake < TAKE_MAX) {
            size_t need = w->heap[0]->ask.n ? w->heap[0]->ask.n : 1;
            if (zp_wq_inflight(wk->q) + reserved + need > INFLIGHT_MAX) {
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
            struct zp_watch_waiter *wt;
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
        zp_clock_pending(-(int)woken); /* looked: what woke us is seen */
        woken = 0;
        if (more)
            wake(w);
        for (i = 0; i < ntake; i++) {
            running_add(wk, take[i]);
            zp_watch_job_run(wk, take[i]);
        }
        for (i = 0; i < ncut; i++)
            zp_wq_expire(wk->q, now, &cut[i]->ask);

        next = zp_wq_earliest(wk->q, next);
        pfd[0] = (struct pollfd){wk->wake[0], POLLIN, 0};
        pfd[1] = (struct pollfd){w->stop[0], POLLIN, 0};
        nfd = 2 + zp_wq_pollfds(wk->q, pfd + 2);
        timeout = (more && !capped) || ntake == TAKE_MAX ? 0 : zp_clock_poll_ms(next);
        /* Nothing in flight and nothing due: only the clock brings work (tests wait for this). */
        idle = timeout != 0 && zp_wq_inflight(wk->q) == 0 && zp_clock_idle_begin();
        __atomic_store_n(&wk->idle, 1, __ATOMIC_RELEASE);
        poll(pfd, (nfds_t)nfd, timeout);
        __atomic_store_n(&wk->idle, 0, __ATOMIC_RELEASE);
        zp_clock_idle_end(idle);
        if (pfd[0].revents & POLLIN)
            while ((nr = read(wk->wake[0], drainbuf, sizeof(drainbuf))) > 0)
                woken += nr;
        zp_wq_ready(wk->q, pfd + 2, nfd - 2);
        zp_wq_expire(wk->q, zp_now_ms(), NULL);
    }
    drain(wk);
}

/* A loop the pool never started (a stop right after the start) still answers what it holds. */
static void worker_unrun(void *ctx, struct zp_qitem *it)
{
    drain(ZP_CONTAINER_OF(it, struct zp_watch_worker, link));
}

struct zp_watcher *zp_watcher_new(unsigned workers, struct zp_err *err)
{
    struct zp_watcher *w = zp_xcalloc(1, sizeof(*w));
    struct zp_pool_cfg pc = {.what = "watcher", .run = worker_main, .give_back = worker_unrun};
    unsigned i;

    if (workers == 0)
        workers = WORKERS_DEFAULT;
    if (workers > WORKERS_MAX)
        workers = WORKERS_MAX;
    pthread_mutex_init(&w->mu, NULL);
    w->lim.max_watches = ZP_WATCH_MAX_DEFAULT;
    w->lim.query_budget = ZP_WATCH_QUERY_BUDGET_DEFAULT;
    w->stop[0] = w->stop[1] = -1;
    w->cache = zp_nscache_new();
    w->workers = zp_xcalloc(workers, sizeof(*w->workers));
    w->n_workers = workers;
    pc.threads = workers;
    pc.max = workers;
    pc.ctx = w;
    for (i = 0; i < workers; i++) {
        w->workers[i].w = w;
        w->workers[i].wake[0] = w->workers[i].wake[1] = -1;
    }
    for (i = 0; i < workers; i++)
        if (pipe2(w->workers[i].wake, O_NONBLOCK | O_CLOEXEC) == -1)
            break;
    if (i < workers || pipe2(w->stop, O_NONBLOCK | O_CLOEXEC) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot create the watcher's wake-up pipe: %s",
                   strerror(errno));
        goto out;
    }
    if (zp_clock_hook_add(on_clock_jump, w) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot register the watcher with the clock");
        goto out;
    }
    for (i = 0; i < workers; i++)
        if ((w->workers[i].q = zp_wq_new(zp_watch_job_round_end, &w->workers[i], err)) == NULL)
            goto out;
    if ((w->pool = zp_pool_new(&pc, err)) == NULL)
        goto out;
    /* One loop per thread: accepted, so the bound (one job per thread) never refuses one. */
    for (i = 0; i < workers; i++)
        zp_pool_submit(w->pool, &w->workers[i].link, ZP_Q_ACCEPTED);
    return w;
out:
    zp_watcher_free(w);
    return NULL;
}

/* A worker's wake-up pipe, with the wake-ups nobody will look into given back to the clock. */
static void close_wake(struct zp_watch_worker *wk)
{
    char buf[64];
    ssize_t nr;

    if (wk->wake[0] >= 0)
        while ((nr = read(wk->wake[0], buf, sizeof(buf))) > 0)
            zp_clock_pending(-(int)nr);
    for (int i = 0; i < 2; i++)
        if (wk->wake[i] >= 0)
            close(wk->wake[i]);
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
    /* The loops end at the stop; one the pool never started drains on this thread. */
    zp_pool_free(w->pool);
    for (i = 0; i < w->n_workers; i++)
        zp_wq_free(w->workers[i].q);
    zp_clock_hook_del(on_clock_jump, w); /* before the pipes close */
    for (i = 0; i < w->n_workers; i++)
        close_wake(&w->workers[i]);
    for (i = 0; i < 2; i++)
        if (w->stop[i] >= 0)
            close(w->stop[i]);
    free(w->heap);
    free(w->workers);
    zp_nscache_free(w->cache);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* --- callers ----------------------------------------------------------------------------- */

static int spec_check(const struct zp_watch_spec *spec, char *fqdn, char *zone, struct zp_err *err)
{
    char why[128], host[ZP_DNAME_MAX];
    unsigned port;
    size_t i;

    if (spec->fqdn == NULL || zp_dname_check(spec->fqdn, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(spec->fqdn, fqdn, ZP_DNAME_MAX) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot watch \"%s\": %s", spec->fqdn ? spec->fqdn : "",
                          spec->fqdn ? why : "no name");
    if (spec->zone == NULL || zp_dname_check(spec->zone, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(spec->zone, zone, ZP_DNAME_MAX) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: zone \"%s\" is not a DNS name", fqdn,
                          spec->zone ? spec->zone : "");
    if (!zp_dname_in_zone(fqdn, zone))
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: it is not inside zone %s", fqdn, zone);
    if (spec->value == NULL || spec->value[0] == '\0' || strlen(spec->value) >= ZP_WATCH_TXT_MAX)
        return zp_err_set(err, ZP_EINVAL,
                          "cannot watch %s: the TXT value must be 1 to %d "
                          "characters",
                          fqdn, ZP_WATCH_TXT_MAX - 1);
    if (spec->n_nameservers > ZP_WATCH_MAX_NS)
        return zp_err_set(err, ZP_EINVAL, "cannot watch %s: at most %d nameservers, not %zu", fqdn,
                          ZP_WATCH_MAX_NS, spec->n_nameservers);
    for (i = 0; i < spec->n_nameservers + spec->n_resolvers; i++) {
        const char *s = i < spec->n_nameservers ? spec->nameservers[i]
                                                : spec->resolvers[i - spec->n_nameservers];
        if (s == NULL || zp_hostport_split(s, 53, host, sizeof(host), &port) == -1)
            return zp_err_set(err, ZP_EINVAL, "cannot watch %s: %s \"%s\" is not host:port", fqdn,
                              i < spec->n_nameservers ? "nameserver" : "resolver", s ? s : "");
    }
    return 0;
}

/* A lingering watch dropped to make room, for the log line its dropper writes after the lock. */
struct dropped {
    struct zp_watch_job *free; /* queued when dropped: the dropper frees it */
    char fqdn[ZP_DNAME_MAX];
    uint64_t lingered_ms;
    unsigned max; /* workers.maxWatches, for the line */
    int any;
};

/*
 * w->mu held, at the cap: takes the watch that has lingered longest off the
 * table (the oldest abandoned Present's; no caller waits on it). A queued
 * one goes to d to be freed; a running one is its owner's to drop when its
 * round ends. Returns -1 when every live watch has a caller waiting.
 */
static int make_room(struct zp_watcher *w, uint64_t now, struct dropped *d)
{
    struct zp_watch_job *v = w->linger_head;
    uint64_t since;

    if (v == NULL)
        return -1;
    since = v->linger_until - ZP_WATCH_LINGER_MS;
    zp_strlcpy(d->fqdn, v->fqdn, sizeof(d->fqdn));
    d->lingered_ms = now > since ? now - since : 0;
    d->max = w->lim.max_watches;
    d->any = 1;
    table_remove(w, v);
    if (v->queued) {
        heap_remove(w, v);
        d->free = v;
    } else {
        v->forgotten = 1; /* off the table, so nobody joins it before its owner drops it */
    }
    w->stats.dropped++;
    return 0;
}

static void dropped_done(struct dropped *d)
{
    if (!d->any)
        return;
    zp_log(ZP_LOG_INFO, "lingering watch dropped", ZP_S("fqdn", d->fqdn),
           ZP_I("lingered_ms", d->lingered_ms), ZP_I("max_watches", d->max),
           ZP_S("why", "workers.maxWatches reached"), ZP_END);
    if (d->free != NULL)
        zp_watch_job_free(d->free);
}

/* w->mu held: the job for (fqdn, value), joined or new; NULL with err when there is no room. */
static struct zp_watch_job *job_for(struct zp_watcher *w, const struct zp_watch_spec *spec,
                                    const char *fqdn, const char *zone, int one_round,
                                    struct dropped *d, struct zp_err *err)
{
    uint64_t now = zp_now_ms();
    struct zp_watch_job *j = one_round ? NULL : table_find(w, fqdn, spec->value);

    if (j != NULL) {
        linger_del(w, j); /* a caller waits on it again: never dropped to make room */
        j->reset = 1;     /* a retried Present: look again now, not after a 30 s backoff */
        heap_advance(w, j, now);
        return j;
    }
    if (!one_round && w->stats.live >= w->lim.max_watches && make_room(w, now, d) == -1) {
        w->stats.refused++;
        zp_err_set(err, ZP_ETRANSIENT,
                   "cannot watch %s: too many propagation watches in flight "
                   "(workers.maxWatches is %u, and each has a Present waiting); retry",
                   fqdn, w->lim.max_watches);
        return NULL;
    }
    j = zp_watch_job_new(spec, fqdn, zone, one_round);
    if (!one_round)
        table_add(w, j);
    j->due = now;
    heap_push(w, j);
    return j;
}

static int wait_job(struct zp_watcher *w, const struct zp_watch_spec *spec, uint64_t deadline_ms,
                    zp_watch_done_fn *done, void *arg, int one_round, struct zp_err *err)
{
    char fqdn[ZP_DNAME_MAX], zone[ZP_DNAME_MAX];
    struct dropped d = {0};
    struct zp_watch_waiter *wt;
    struct zp_watch_job *j;
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
        goto out;
    }
    if ((j = job_for(w, spec, fqdn, zone, one_round, &d, err)) == NULL)
        goto out;
    wt->next = j->waiters;
    j->waiters = wt;
    wt = NULL;
    rc = 0;
out:
    pthread_mutex_unlock(&w->mu);
    free(wt);
    dropped_done(&d);
    if (rc == 0)
        wake(w);
    return rc;
}

int zp_watcher_wait(struct zp_watcher *w, const struct zp_watch_spec *spec, uint64_t deadline_ms,
                    zp_watch_done_fn *done, void *arg, struct zp_err *err)
{
    return wait_job(w, spec, deadline_ms, done, arg, 0, err);
}

void zp_watcher_set_limits(struct zp_watcher *w, const struct zp_watch_limits *lim)
{
    pthread_mutex_lock(&w->mu);
    w->lim.max_watches = lim->max_watches ? lim->max_watches : ZP_WATCH_MAX_DEFAULT;
    w->lim.query_budget = lim->query_budget ? lim->query_budget : ZP_WATCH_QUERY_BUDGET_DEFAULT;
    pthread_mutex_unlock(&w->mu);
}

void zp_watcher_stats(struct zp_watcher *w, struct zp_watch_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->stats;
    pthread_mutex_unlock(&w->mu);
}

void zp_watcher_forget(struct zp_watcher *w, const char *fqdn, const char *value)
{
    char canon[ZP_DNAME_MAX];
    struct zp_watch_job *j;

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

int zp_watcher_peek(struct zp_watcher *w, const char *fqdn, const char *value,
                    struct zp_watch_report *rep)
{
    char canon[ZP_DNAME_MAX];
    struct zp_watch_job *j;
    size_t i;

    memset(rep, 0, sizeof(*rep));
    if (w == NULL || fqdn == NULL || value == NULL ||
        zp_dname_canon(fqdn, canon, sizeof(canon)) == -1)
        return -1;
    pthread_mutex_lock(&w->mu);
    j = table_find(w, canon, value);
    /* Only what the owner writes under mu: names and addresses (set once), histories. */
    for (i = 0; j != NULL && i < j->ask.n && i < ZP_WATCH_MAX_NS; i++) {
        const struct zp_ns_live *l = &j->ask.ns[i];
        struct zp_ns_status *st = &rep->ns[i];
        zp_strlcpy(st->name, l->name ? l->name : "", sizeof(st->name));
        if (l->tolen > 0)
            zp_ns_addr_format(&l->to.sa, st->addr, sizeof(st->addr));
        st->hist = l->hist;
        st->state = l->hist.n ? (enum zp_ns_state)l->hist.state[l->hist.n - 1] : ZP_NS_PENDING;
    }
    if (j != NULL) {
        rep->n = i;
        zp_strlcpy(rep->fqdn, j->fqdn, sizeof(rep->fqdn));
        zp_strlcpy(rep->zone, j->zone, sizeof(rep->zone));
        rep->elapsed_ms = zp_now_ms() - j->started;
    }
    pthread_mutex_unlock(&w->mu);
    return j != NULL ? 0 : -1;
}

struct once {
    struct zp_wait done;
    struct zp_watch_report *rep;
};

static void once_done(void *arg, const struct zp_watch_report *rep)
{
    struct once *o = arg;

    *o->rep = *rep;
    zp_wait_signal(&o->done); /* last: the waiter may return at once */
}

int zp_watch_check_once(const struct zp_watch_spec *spec, unsigned timeout_ms,
                        struct zp_watch_report *rep, struct zp_err *err)
{
    struct once o = {ZP_WAIT_INIT, rep};
    struct zp_watcher *w;
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    w = zp_watcher_new(1, err);
    if (w == NULL)
        return -1;
    if (wait_job(w, spec, zp_now_ms() + timeout_ms, once_done, &o, 1, err) == -1)
        goto out;
    zp_wait_for(&o.done, 1);
    rc = 0;
out:
    zp_watcher_free(w);
    return rc;
}
