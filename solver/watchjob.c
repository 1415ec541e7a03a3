/*
 * watchjob.c — one watch job's life on the worker that owns it: creation
 * and freeing, discovery of its nameservers, its rounds of queries and
 * their backoff, and answering its waiters with a report built for them.
 *
 * Only the owner runs these (a queued job has no owner, and nothing here
 * touches it); the fields under the watcher's lock (waiters, reset,
 * forgotten, linger_until) are read and written with that lock held.
 * Queueing and dropping a job are the pool's, in watch.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/watch_int.h"

#define BACKOFF_START_MS 8u
#define BACKOFF_WAIT_CAP_MS 1000u /* while a caller waits */
#define KEEP_COMPLETE_MS (2u * 60u * 1000u)
#define BUSY_RETRY_MS 10u /* another worker is discovering the zone */
#define DISCOVERY_MIN_MS 200u

static struct zp_watch_job *job_of(struct zp_wask *a)
{
    return (struct zp_watch_job *)(void *)((char *)a - offsetof(struct zp_watch_job, ask));
}

/* --- creation ---------------------------------------------------------------------------- */

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

struct zp_watch_job *zp_watch_job_new(const struct zp_watch_spec *spec, const char *fqdn,
                                      const char *zone, int one_round)
{
    struct zp_watch_job *j = zp_xcalloc(1, sizeof(*j));

    j->fqdn = zp_xstrdup(fqdn);
    j->zone = zp_xstrdup(zone);
    j->value = zp_xstrdup(spec->value);
    j->nameservers = strv_dup(spec->nameservers, spec->n_nameservers);
    j->n_nameservers = spec->n_nameservers;
    j->resolvers = strv_dup(spec->resolvers, spec->n_resolvers);
    j->n_resolvers = spec->n_resolvers;
    j->one_round = one_round;
    j->cli = spec->cli;
    j->started = zp_now_ms();
    j->backoff = BACKOFF_START_MS;
    j->ask.fqdn = j->fqdn;
    j->ask.value = j->value;
    return j;
}

void zp_watch_job_free(struct zp_watch_job *j)
{
    size_t i;

    for (i = 0; i < j->ask.n; i++)
        zp_ns_live_free(&j->ask.ns[i]);
    free(j->ask.ns);
    free(j->disc_error);
    free(j->fqdn);
    free(j->zone);
    free(j->value);
    strv_free(j->nameservers, j->n_nameservers);
    strv_free(j->resolvers, j->n_resolvers);
    free(j);
}

/* --- answering waiters ------------------------------------------------------------------- */

/* What is known now, for the waiters about to be answered; freed after their callbacks. */
static struct zp_watch_report *report_new(const struct zp_watch_job *j, uint64_t now)
{
    struct zp_watch_report *rep = zp_xcalloc(1, sizeof(*rep));
    size_t i;

    zp_strlcpy(rep->fqdn, j->fqdn, sizeof(rep->fqdn));
    zp_strlcpy(rep->zone, j->zone, sizeof(rep->zone));
    zp_strlcpy(rep->value, j->value, sizeof(rep->value));
    for (i = 0; i < j->ask.n && i < ZP_WATCH_MAX_NS; i++)
        zp_ns_live_status(&j->ask.ns[i], &rep->ns[i]);
    rep->n = i;
    rep->complete = j->complete;
    zp_strlcpy(rep->discovery_error, j->disc_error ? j->disc_error : "",
               sizeof(rep->discovery_error));
    rep->elapsed_ms = now - j->started;
    return rep;
}

/* Answers every waiter (all) or those whose deadline passed, outside the lock. */
static void answer(struct zp_watcher *w, struct zp_watch_job *j, int all)
{
    struct zp_watch_waiter *list = NULL, **pp, *wt;
    struct zp_watch_report *rep;
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
    if (list != NULL) {
        j->linger_until = now + ZP_WATCH_LINGER_MS;
        zp_watch_linger_add(w, j); /* when that was the last caller */
    }
    pthread_mutex_unlock(&w->mu);
    if (list == NULL)
        return;
    rep = report_new(j, now);
    while ((wt = list) != NULL) {
        list = wt->next;
        wt->done(wt->arg, rep);
        free(wt);
    }
    free(rep);
}

/* --- discovery and rounds ---------------------------------------------------------------- */

static void resolve(struct zp_watcher *w, struct zp_watch_job *j, uint64_t now, int *busy)
{
    struct zp_watch_spec spec = {j->fqdn,          j->zone,      j->value,       j->nameservers,
                                 j->n_nameservers, j->resolvers, j->n_resolvers, j->cli};
    /* Room for every nameserver discovery may find, only while it runs. */
    struct zp_ns_target *t = zp_xcalloc(ZP_WATCH_MAX_NS, sizeof(*t));
    char why[sizeof(((struct zp_watch_report *)NULL)->discovery_error)];
    uint64_t deadline = now + DISCOVERY_MIN_MS;
    struct zp_watch_waiter *wt;
    struct zp_ns_live *ns;
    size_t n = 0, i;
    int rc;

    pthread_mutex_lock(&w->mu);
    for (wt = j->waiters; wt != NULL; wt = wt->next)
        if (wt->deadline > deadline)
            deadline = wt->deadline;
    pthread_mutex_unlock(&w->mu);
    rc = zp_ns_targets(j->one_round ? NULL : w->cache, &spec, deadline, t, &n, why, sizeof(why));
    free(j->disc_error);
    j->disc_error = why[0] != '\0' ? zp_xstrdup(why) : NULL;
    *busy = rc == ZP_NS_TARGETS_BUSY;
    if (rc == ZP_NS_TARGETS_BUSY)
        goto out;
    if (rc == ZP_NS_TARGETS_FAIL) {
        j->disc_failed = 1;
        goto out;
    }
    /* Sized by the nameservers there are: most zones have two to four. */
    ns = zp_xcalloc(n > 0 ? n : 1, sizeof(*ns));
    for (i = 0; i < n; i++)
        zp_ns_live_init(&ns[i], &t[i]);
    pthread_mutex_lock(&w->mu); /* zp_watcher_peek reads them */
    j->ask.ns = ns;
    j->ask.n = n;
    pthread_mutex_unlock(&w->mu);
    j->resolved = 1;
    j->next_round = now;
out:
    free(t);
}

static int all_have_value(const struct zp_wask *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (a->ns[i].state != ZP_NS_HAS_VALUE)
            return 0;
    return a->n > 0;
}

/* The end of a round: completion, then the next poll time. */
static void round_done(struct zp_watch_worker *wk, struct zp_watch_job *j)
{
    uint64_t now = zp_now_ms();
    unsigned cap;
    int waiting;

    j->rounds++;
    if (!j->complete && all_have_value(&j->ask)) {
        char names[1024] = "";
        size_t i, len = 0;

        j->complete = 1;
        j->completed_at = now;
        for (i = 0; i < j->ask.n && len < sizeof(names) - 1; i++)
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? "," : "",
                                    j->ask.ns[i].name);
        zp_log(ZP_LOG_INFO, "watch complete", ZP_S("fqdn", j->fqdn), ZP_S("nameservers", names),
               ZP_I("elapsed_ms", now - j->started), ZP_I("queries", j->ask.queries),
               ZP_I("rounds", j->rounds), ZP_END);
    }
    pthread_mutex_lock(&wk->w->mu);
    waiting = j->waiters != NULL;
    for (size_t i = 0; i < j->ask.n; i++)
        zp_ns_live_record(&j->ask.ns[i], (uint32_t)(now - j->started));
    pthread_mutex_unlock(&wk->w->mu);
    if (waiting) {
        cap = BACKOFF_WAIT_CAP_MS;
        if (j->backoff > cap)
            j->backoff = cap;
        j->next_round = now + j->backoff;
        j->backoff = j->backoff * 2 > cap ? cap : j->backoff * 2;
    } else {
        /* Nobody waits: only a retried Present would see it, and that one resets the pace. */
        j->next_round = j->round_at + ZP_WATCH_LINGER_INTERVAL_MS;
    }
    zp_log(ZP_LOG_DEBUG, "watch round", ZP_S("fqdn", j->fqdn), ZP_I("round", j->rounds),
           ZP_B("complete", j->complete), ZP_I("next_ms", j->next_round - now), ZP_END);
}

/* Sends the TXT query to every nameserver that does not serve the value yet. */
static void send_round(struct zp_watch_worker *wk, struct zp_watch_job *j, uint64_t now)
{
    uint64_t deadline = now + ZP_WATCH_QUERY_TIMEOUT_MS;
    struct zp_watch_waiter *wt;
    int cut = 0;

    pthread_mutex_lock(&wk->w->mu);
    for (wt = j->waiters; wt != NULL; wt = wt->next)
        if (wt->deadline < deadline) {
            deadline = wt->deadline; /* a query never outlives a caller's budget */
            cut = 1;
        }
    pthread_mutex_unlock(&wk->w->mu);
    j->round_at = now;
    zp_wq_send(wk->q, &j->ask, deadline, cut);
}

/* --- running ----------------------------------------------------------------------------- */

/*
 * The next round would pass the watch's query budget: it ends here, its
 * callers answered with what is known. The budget bounds what one watch
 * costs the nameservers whatever its callers do; a later Present starts a
 * fresh watch.
 */
static void spent(struct zp_watch_worker *wk, struct zp_watch_job *j, unsigned budget)
{
    struct zp_watcher *w = wk->w;

    zp_log(ZP_LOG_INFO, "watch query budget spent", ZP_S("fqdn", j->fqdn),
           ZP_I("queries", j->ask.queries), ZP_I("rounds", j->rounds), ZP_I("max_queries", budget),
           ZP_S("why", "workers.maxQueriesPerWatch reached"), ZP_END);
    pthread_mutex_lock(&w->mu);
    zp_watch_unlist(w, j); /* a Present arriving now starts afresh, not on a spent watch */
    w->stats.spent++;
    pthread_mutex_unlock(&w->mu);
    for (;;) {
        answer(w, j, 1);
        if (zp_watch_drop(wk, j))
            return;
    }
}

/* Each pass answers whom it can, then takes the one step the job's state calls for. */
void zp_watch_job_run(struct zp_watch_worker *wk, struct zp_watch_job *j)
{
    struct zp_watcher *w = wk->w;

    for (;;) {
        uint64_t now = zp_now_ms(), linger;
        int forgotten, stopping, reset, waiting, busy;
        unsigned budget;

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
            if (zp_watch_drop(wk, j))
                return;
            continue;
        }
        if (j->complete) {
            answer(w, j, 1);
            if (now >= j->completed_at + KEEP_COMPLETE_MS) {
                if (zp_watch_drop(wk, j))
                    return;
                continue;
            }
            zp_watch_requeue(wk, j, j->completed_at + KEEP_COMPLETE_MS);
            return;
        }
        answer(w, j, 0);
        if (!j->resolved) {
            resolve(w, j, now, &busy);
            if (busy) {
                zp_watch_requeue(wk, j, now + BUSY_RETRY_MS);
                return;
            }
            continue;
        }
        pthread_mutex_lock(&w->mu);
        waiting = j->waiters != NULL;
        linger = j->linger_until;
        budget = w->lim.query_budget;
        pthread_mutex_unlock(&w->mu);
        if (!waiting && now >= linger) {
            if (zp_watch_drop(wk, j))
                return;
            continue;
        }
        /* The last caller left mid-backoff: the lingering pace holds from the last round. */
        if (!waiting && j->rounds > 0 && j->next_round < j->round_at + ZP_WATCH_LINGER_INTERVAL_MS)
            j->next_round = j->round_at + ZP_WATCH_LINGER_INTERVAL_MS;
        if (now >= j->next_round && j->ask.queries + j->ask.n > budget) {
            spent(wk, j, budget);
            return;
        }
        if (now >= j->next_round) {
            send_round(wk, j, now);
            if (j->ask.inflight > 0)
                return; /* stays on the running list until the round ends */
            round_done(wk, j);
            continue;
        }
        zp_watch_requeue(wk, j, j->next_round);
        return;
    }
}

/* The engine ended j's round: its last query was answered, failed or timed out. */
void zp_watch_job_round_end(void *ctx, struct zp_wask *a)
{
    struct zp_watch_worker *wk = ctx;
    struct zp_watch_job *j = job_of(a);

    round_done(wk, j);
    zp_watch_job_run(wk, j);
}
