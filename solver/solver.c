/*
 * solver.c — the life of one challenge: route it, check that the request
 * may use the instance (access.h), run the provider on that instance's
 * workers, then hand it to the watcher, which answers when every
 * authoritative nameserver serves the value or the budget ends.
 *
 * Threads: provider calls block (DNS UPDATE, HTTPS APIs, and the waits a
 * provider decides on: Retry-After, backoff, status polls, Namecheap's
 * domain lock), so they run on worker pools (base/pool.h), one per provider
 * instance with its own queue and the instance's concurrency: an instance
 * whose API hangs or rate-limits fills only its own threads and queue,
 * never another's. A pool is made at its instance's first job. A job waits
 * in the queue on its own budget, counted from submit; one whose budget is
 * gone when a worker takes it fails at once, unwritten. Jobs without an
 * instance (routing refused) have one small pool of their own.
 *
 * A Present waiting for propagation holds no thread: it lives in the
 * watcher's timer queue, and comes back to its instance's pool (as an
 * already accepted job) only for a blocking step. For providers that
 * rewrite a whole RRset (ZP_PROV_RMW) two calls for the same name never
 * overlap: the pool's claim hook leaves a job whose name is busy queued
 * while workers take other jobs, and the worker that frees the name kicks
 * the pool. The busy names have their own lock, taken inside the queue's
 * (claim) or alone (release); the pools array has its own, taken alone.
 * zp_solver_run waits on a completion (base/wait.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/pool.h"
#include "base/wait.h"
#include "providers/provider.h"
#include "solver/access.h"
#include "solver/journal.h"
#include "solver/observe.h"
#include "solver/precheck.h"
#include "solver/router.h"
#include "solver/solver.h"
#include "solver/trail.h"

/* A watch carries every value a challenge may hold. */
_Static_assert(ZP_WATCH_TXT_MAX >= ZP_TXT_MAX + 1, "ZP_WATCH_TXT_MAX is shorter than ZP_TXT_MAX");

#define CLEANUP_MIN_BUDGET_MS 10000u
#define VIEW_MIN_MS 1000u

struct job {
    struct zp_qitem link; /* the pool's queue */
    struct zp_solver *s;
    struct zp_challenge ch;
    const struct zp_instance *inst; /* NULL when routing failed (res->err says why) */
    const char *zone;               /* the zone to write in */
    zp_solve_done_fn *done;
    void *arg;
    uint64_t start_ms;
    uint64_t deadline_ms;
    /*
     * What a worker does with the job: the write; or, back from the watcher (whose threads
     * never block), ask the CA's view once every server serves the value, or look for the
     * value under a doubled name at a laggard (laggard: its address).
     */
    enum { PH_WRITE, PH_VIEW, PH_DOUBLED } phase;
    char laggard[64];
    /*
     * The answer being made (job_res): allocated while a thread works on the job, freed while
     * the job waits in the watcher with nothing to say yet. A waiting challenge is small: its
     * sentence (3 KB of room) exists only once something failed or the job runs.
     */
    struct zp_result *res;
    struct zp_trail_rec *trec; /* its line on the status page */
};

struct busy_name {
    struct busy_name *next;
    char fqdn[ZP_DNAME_MAX];
};

struct zp_solver {
    const struct zp_config *cfg;
    struct zp_watcher *watcher;
    struct zp_precheck *pc;       /* immutable lists, own lock for its cache */
    pthread_mutex_t pools_mu;     /* guards pools[] and stopping */
    struct zp_pool **pools;       /* one per cfg->inst[i], made at its first job */
    struct zp_pool *misc;         /* jobs without an instance */
    int stopping;                 /* no new pool once set */
    zp_secret_get_fn *secret_get; /* set before the first submit, read-only after */
    void *secret_arg;
    struct zp_journal *journal; /* idem; NULL: no journal */
    zp_solver_lock_fn *lock;    /* idem; NULL: this process is the only writer */
    zp_solver_unlock_fn *unlock;
    void *lock_arg;

    pthread_mutex_t busy_mu; /* guards busy */
    struct busy_name *busy;  /* names with a read-modify-write call in flight */
    struct zp_trail *trail;  /* own lock */
};

static int job_rmw(const struct job *j)
{
    return j->inst != NULL && j->phase == PH_WRITE && (j->inst->ops->flags & ZP_PROV_RMW);
}

static void work(void *ctx, struct zp_qitem *it);
static void give_back(void *ctx, struct zp_qitem *it);
static int claim_job(void *ctx, struct zp_qitem *it);

/* The pool of inst, made now if this is its first job; NULL once stopping (or at a thread limit).
 */
static struct zp_pool *pool_of(struct zp_solver *s, const struct zp_instance *inst)
{
    size_t i = (size_t)(inst - s->cfg->inst);
    struct zp_pool *p;
    struct zp_err err = {0};

    if (i >= s->cfg->n_inst)
        return NULL; /* not one of this configuration's instances */
    pthread_mutex_lock(&s->pools_mu);
    p = s->pools[i];
    if (p == NULL && !s->stopping) {
        struct zp_pool_cfg pc = {
            .what = "provider worker",
            .threads = inst->concurrency
                           ? inst->concurrency
                           : (s->cfg->provider_workers ? s->cfg->provider_workers : 8),
            .max = s->cfg->max_queued ? s->cfg->max_queued : ZP_QUEUED_DEFAULT,
            .run = work,
            .give_back = give_back,
            .claim = claim_job,
            .ctx = s,
        };
        p = s->pools[i] = zp_pool_new(&pc, &err);
        if (p == NULL)
            zp_log(ZP_LOG_ERROR, "cannot start a provider instance's workers",
                   ZP_S("provider", inst->name), ZP_S("error", err.msg), ZP_END);
    }
    pthread_mutex_unlock(&s->pools_mu);
    return p;
}

/*
 * Queues j for a worker of its instance; an accepted job is never refused
 * for a full queue. -1 with *stopping set when the solver is stopping.
 */
static int enqueue(struct zp_solver *s, struct job *j, int accepted, int *stopping)
{
    struct zp_pool *p = j->inst ? pool_of(s, j->inst) : s->misc;

    *stopping = 1;
    if (p == NULL)
        return -1;
    if (zp_pool_submit(p, &j->link, accepted ? ZP_Q_ACCEPTED : 0) == 0)
        return 0;
    *stopping = zp_pool_stopping(p);
    return -1;
}

static int name_busy(const struct zp_solver *s, const char *fqdn)
{
    for (const struct busy_name *b = s->busy; b; b = b->next)
        if (strcmp(b->fqdn, fqdn) == 0)
            return 1;
    return 0;
}

static void busy_remove(struct zp_solver *s, const char *fqdn)
{
    for (struct busy_name **pp = &s->busy; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->fqdn, fqdn) == 0) {
            struct busy_name *b = *pp;
            *pp = b->next;
            free(b);
            return;
        }
    }
}

/*
 * The pool's claim hook, under the queue's lock: a read-modify-write job
 * may run only while no other call holds its name, and taking it marks the
 * name busy.
 */
static int claim_job(void *ctx, struct zp_qitem *it)
{
    struct zp_solver *s = ctx;
    struct job *j = ZP_CONTAINER_OF(it, struct job, link);
    int ok = 1;

    if (!job_rmw(j))
        return 1;
    pthread_mutex_lock(&s->busy_mu);
    if (name_busy(s, j->ch.fqdn)) {
        ok = 0;
    } else {
        struct busy_name *b = zp_xcalloc(1, sizeof(*b));
        zp_strlcpy(b->fqdn, j->ch.fqdn, sizeof(b->fqdn));
        b->next = s->busy;
        s->busy = b;
    }
    pthread_mutex_unlock(&s->busy_mu);
    return ok;
}

/* The job's answer record, made now if it has none. */
static struct zp_result *job_res(struct job *j)
{
    if (j->res == NULL) {
        j->res = zp_xcalloc(1, sizeof(*j->res));
        j->res->instance = j->inst ? j->inst->name : NULL;
        j->res->type = j->inst ? j->inst->ops->type : NULL;
    }
    return j->res;
}

static void finish(struct job *j)
{
    struct zp_result *r = job_res(j);
    int ok = r->ok;

    r->elapsed_ms = zp_now_ms() - j->start_ms;
    if (!ok && r->err.msg[0] == '\0')
        zp_err_set(&r->err, ZP_EINTERNAL, "%s of %s failed for an unknown reason",
                   zp_action_name(j->ch.action), j->ch.fqdn);
    zp_log(ok ? ZP_LOG_INFO : ZP_LOG_WARN, "challenge",
           ZP_S("action", zp_action_name(j->ch.action)), ZP_S("fqdn", j->ch.fqdn),
           ZP_S("value", j->ch.key), ZP_S("zone", j->zone), ZP_S("provider", r->instance),
           ZP_S("type", r->type), ZP_S("outcome", ok ? "success" : "failure"),
           ZP_S("reason", ok ? NULL : zp_errkind_name(r->err.kind)),
           ZP_S("message", ok ? NULL : r->err.msg), ZP_I("elapsed_ms", r->elapsed_ms), ZP_END);
    zp_observe_challenge(j->ch.action, r);
    zp_trail_end(j->s->trail, j->trec, r);
    j->done(j->arg, r);
    free(r);
    free(j);
}

/* Back to a worker for a blocking step; on shutdown the job is answered at once. */
static int back_to_worker(struct job *j, int phase)
{
    int stopping;

    j->phase = phase;
    job_res(j)->report = NULL;
    if (enqueue(j->s, j, 1, &stopping) == 0)
        return 0;
    zp_err_clear(&job_res(j)->err);
    zp_err_set(&job_res(j)->err, ZP_ETRANSIENT, "zoneproof is shutting down; retry");
    return -1;
}

static void on_watched(void *arg, const struct zp_watch_report *rep)
{
    struct job *j = arg;
    const char *lag;

    job_res(j)->report = rep;
    zp_trail_report(j->s->trail, j->trec, rep);
    zp_trail_step_end(j->s->trail, j->trec, ZP_TS_PROPAGATION, rep->complete);
    zp_observe_propagation(rep);
    if (rep->complete && j->inst->prop.n_verify_resolvers > 0) {
        if (back_to_worker(j, PH_VIEW) == 0)
            return;
    } else if (rep->complete) {
        job_res(j)->ok = 1;
    } else {
        zp_watch_explain(rep, &job_res(j)->err);
        if ((lag = zp_precheck_doubled_where(rep)) != NULL) {
            zp_strlcpy(j->laggard, lag, sizeof(j->laggard));
            if (back_to_worker(j, PH_DOUBLED) == 0)
                return;
        }
        zp_err_wrap(&job_res(j)->err, "%s (%s)", j->inst->name, j->inst->ops->type);
    }
    finish(j);
}

void zp_solver_watch_spec(const struct zp_instance *inst, const struct zp_challenge *ch,
                          const char *zone, struct zp_watch_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->fqdn = ch->fqdn;
    spec->zone = zone;
    spec->value = ch->key;
    spec->nameservers = inst->prop.nameservers;
    spec->n_nameservers = inst->prop.n_nameservers;
    spec->resolvers = inst->prop.resolvers;
    spec->n_resolvers = inst->prop.n_resolvers;
}

/* The journal entry of j's value (journal.h). */
static void journal_entry(const struct job *j, struct zp_jentry *e)
{
    zp_jentry_make(e, j->inst->name, j->zone, j->ch.fqdn, j->ch.key, j->ch.resource_namespace,
                   j->ch.uid);
}

/* Before a Present's write: its entry is recorded, or nothing is written. */
static int journal_begin(const struct job *j, struct zp_err *err)
{
    struct zp_jentry e;

    if (j->s->journal == NULL || j->ch.persistent)
        return 0;
    journal_entry(j, &e);
    if (j->s->journal->ops->put(j->s->journal->ctx, &e, j->deadline_ms, err) == -1) {
        zp_log(ZP_LOG_WARN, "journal: cannot record a challenge", ZP_S("fqdn", e.fqdn),
               ZP_S("entry", e.id), ZP_S("error", err->msg), ZP_END);
        return -1;
    }
    return 0;
}

/*
 * After the write: the entry says so (Present), or goes (CleanUp). A
 * failure here leaves an entry that says more than is true, which the
 * sweeper resolves by removing the value again: logged, not failed.
 */
static void journal_done(const struct job *j, int removed)
{
    struct zp_journal *jn = j->s->journal;
    struct zp_jentry e;
    struct zp_err err = {0};
    int rc;

    if (jn == NULL || j->ch.persistent)
        return;
    journal_entry(j, &e);
    e.state = ZP_J_WRITTEN;
    rc = removed ? jn->ops->remove(jn->ctx, e.id, j->deadline_ms, &err)
                 : jn->ops->put(jn->ctx, &e, j->deadline_ms, &err);
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "journal: cannot update an entry; the sweeper will settle it",
               ZP_S("fqdn", e.fqdn), ZP_S("entry", e.id), ZP_S("error", err.msg), ZP_END);
}

/*
 * The provider call of a Present or CleanUp, with its journal entry, under
 * the cross-replica lock when the provider rewrites a whole RRset.
 */
static int write_value(struct job *j, const struct zp_record *rec, const struct zp_prov_call *call,
                       struct zp_err *err)
{
    const struct zp_instance *in = j->inst;
    struct zp_solver *s = j->s;
    const char *scope;
    int locked = 0, rc;

    if ((in->ops->flags & ZP_PROV_RMW) && s->lock != NULL) {
        if (s->lock(s->lock_arg, in->name, j->zone, j->deadline_ms, err) == -1)
            return -1;
        locked = 1;
    }
    scope = zp_metrics_scope_set(in->name); /* labels the provider's API calls */
    if (j->ch.action == ZP_CLEANUP) {
        rc = in->ops->cleanup(in->cfg, rec, call, err);
        zp_audit_challenge(&j->ch, in->name, j->zone, rc == 0 ? "success" : "failure",
                           rc == 0 ? NULL : err);
        /* Whatever happened, a remembered "served" result for this value is stale now. */
        if (s->watcher)
            zp_watcher_forget(s->watcher, j->ch.fqdn, j->ch.key);
        if (rc == 0)
            journal_done(j, 1);
    } else if (zp_precheck_present(s->pc, in, &j->ch, j->zone, j->deadline_ms, err) == -1 ||
               journal_begin(j, err) == -1) {
        rc = -1;
    } else {
        rc = in->ops->present(in->cfg, rec, call, err);
        zp_audit_challenge(&j->ch, in->name, j->zone, rc == 0 ? "success" : "failure",
                           rc == 0 ? NULL : err);
        if (rc == 0)
            journal_done(j, 0);
    }
    zp_metrics_scope_set(scope);
    if (locked)
        s->unlock(s->lock_arg, in->name, j->zone);
    return rc;
}

/* Back from the watcher: the CA's view, or the value under a doubled name at a laggard. */
static void run_followup(struct job *j)
{
    const struct zp_instance *in = j->inst;
    struct zp_err *err = &job_res(j)->err;

    if (j->phase == PH_DOUBLED) {
        zp_precheck_doubled(j->laggard, j->ch.fqdn, j->zone, j->ch.key, zp_now_ms() + VIEW_MIN_MS,
                            err);
        zp_err_wrap(err, "%s (%s)", in->name, in->ops->type);
        return;
    }
    /* A watch that completed at the deadline still gets one honest question. */
    uint64_t until = j->deadline_ms;
    if (zp_ms_left(until) < VIEW_MIN_MS)
        until = zp_now_ms() + VIEW_MIN_MS;
    zp_trail_step_start(j->s->trail, j->trec, ZP_TS_VIEW);
    if (zp_precheck_view(in, j->ch.fqdn, j->ch.key, until, err) == -1)
        zp_err_wrap(err, "%s (%s)", in->name, in->ops->type);
    else
        job_res(j)->ok = 1;
    zp_trail_step_end(j->s->trail, j->trec, ZP_TS_VIEW, job_res(j)->ok);
}

/*
 * The write, then the hand-over to the watcher; returns 1 when the job went
 * on to the watcher (and may be gone already). err is the caller's.
 */
static int run_write(struct job *j, struct zp_err *err)
{
    const struct zp_instance *in = j->inst;
    struct zp_record rec;
    struct zp_prov_call call;
    struct zp_watch_spec spec;
    int rc;

    memset(&rec, 0, sizeof(rec));
    rec.fqdn = j->ch.fqdn;
    rec.zone = j->zone;
    rec.value = j->ch.key;
    rec.ttl = in->ttl;
    memset(&call, 0, sizeof(call));
    call.deadline_ms = j->deadline_ms;
    /*
     * cert-manager allows ambient credentials per Issuer so that namespaces
     * cannot borrow the pod's identity; a command-line run is the operator's
     * own, on its own machine, so its identity is theirs (doctor does the same).
     */
    call.allow_ambient = j->ch.allow_ambient || j->s->cfg->cli;
    call.resource_namespace = j->ch.resource_namespace;
    call.instance = in->name;
    call.cli = j->s->cfg->cli;
    call.secret_get = j->s->secret_get;
    call.secret_arg = j->s->secret_arg;

    zp_trail_step_end(j->s->trail, j->trec, ZP_TS_QUEUED, 1);
    zp_trail_step_start(j->s->trail, j->trec, ZP_TS_WRITE);
    rc = write_value(j, &rec, &call, err);
    zp_trail_step_end(j->s->trail, j->trec, ZP_TS_WRITE, rc == 0);
    if (rc == -1) {
        zp_err_wrap(err, "%s (%s)", in->name, in->ops->type);
        return 0;
    }
    if (j->ch.action == ZP_CLEANUP || in->prop.mode == ZP_PROP_SKIP) {
        job_res(j)->ok = 1;
        return 0;
    }
    zp_solver_watch_spec(in, &j->ch, j->zone, &spec);
    spec.cli = j->s->cfg->cli;
    zp_trail_step_start(j->s->trail, j->trec, ZP_TS_PROPAGATION);
    if (zp_watcher_wait(j->s->watcher, &spec, j->deadline_ms, on_watched, j, err) == -1) {
        zp_trail_step_end(j->s->trail, j->trec, ZP_TS_PROPAGATION, 0);
        zp_err_wrap(err,
                    "%s (%s): the record was written, but its propagation cannot be "
                    "checked",
                    in->name, in->ops->type);
        return 0;
    }
    return 1;
}

/*
 * Runs the job's step; returns 1 when the job went on to the watcher. The
 * write's sentence is made on this thread's stack and kept (job_res) only
 * when something failed: a job waiting in the watcher holds no sentence.
 */
static int run_job(struct job *j)
{
    struct zp_err err = {0};

    if (j->inst == NULL)
        return 0; /* routing's sentence is in res already */
    if (j->phase != PH_WRITE) {
        run_followup(j);
        return 0;
    }
    if (run_write(j, &err) == 1)
        return 1;
    if (zp_err_isset(&err))
        job_res(j)->err = err;
    return 0;
}

/* A pool worker runs one job; j is gone (finished, or the watcher's) afterwards. */
static void work(void *ctx, struct zp_qitem *it)
{
    struct zp_solver *s = ctx;
    struct job *j = ZP_CONTAINER_OF(it, struct job, link);
    int rmw = job_rmw(j);
    struct zp_pool *pool = j->inst ? pool_of(s, j->inst) : NULL;
    char fqdn[ZP_DNAME_MAX];

    zp_strlcpy(fqdn, j->ch.fqdn, sizeof(fqdn));
    if (j->inst != NULL && j->phase == PH_WRITE && zp_now_ms() >= j->deadline_ms) {
        /* Its budget went by in the queue: writing now would be answered after cert-manager gave
         * up. */
        zp_err_set(&job_res(j)->err, ZP_ETRANSIENT,
                   "provider instance %s (%s) was busy with earlier challenges until this one's "
                   "time was up, so nothing was written; %s, and the instance's concurrency "
                   "setting allows more calls at once",
                   j->inst->name, j->inst->ops->type,
                   s->cfg->cli ? "run it again later" : "cert-manager retries it");
        zp_trail_step_end(s->trail, j->trec, ZP_TS_QUEUED, 0);
        finish(j);
    } else if (!run_job(j)) {
        finish(j);
    }
    if (rmw) {
        pthread_mutex_lock(&s->busy_mu);
        busy_remove(s, fqdn);
        pthread_mutex_unlock(&s->busy_mu);
        if (pool != NULL)
            zp_pool_kick(pool); /* a job for this name may run now */
    }
}

/* At stop, a job never started is answered, so every submit gets its one callback. */
static void give_back(void *ctx, struct zp_qitem *it)
{
    struct job *j = ZP_CONTAINER_OF(it, struct job, link);

    zp_err_set(&job_res(j)->err, ZP_ETRANSIENT, "zoneproof is shutting down; retry");
    finish(j);
}

static struct zp_metric m_waiting =
    ZP_GAUGE("zoneproof_watches_waiting", "Propagation watches a challenge waits on now.", "");
static struct zp_metric m_lingering =
    ZP_GAUGE("zoneproof_watches_lingering",
             "Propagation watches kept after their challenges were answered, for a retry.", "");
static struct zp_metric m_in_flight =
    ZP_GAUGE("zoneproof_challenges_in_flight", "Challenges received and not yet answered.", "");

/* At each scrape: the gauges read off the watcher and the trail. */
static void collect(void *arg)
{
    struct zp_solver *s = arg;
    struct zp_watch_stats st;

    zp_watcher_stats(s->watcher, &st);
    zp_metric_set(&m_waiting, (double)(st.live - st.lingering), ZP_NOLABEL);
    zp_metric_set(&m_lingering, (double)st.lingering, ZP_NOLABEL);
    zp_metric_set(&m_in_flight, (double)zp_trail_in_flight(s->trail), ZP_NOLABEL);
}

struct zp_solver *zp_solver_new(const struct zp_config *cfg, struct zp_err *err)
{
    struct zp_solver *s = zp_xcalloc(1, sizeof(*s));
    struct zp_pool_cfg pc = {
        .what = "solver worker",
        .threads = 1, /* routing refusals only: answered without a call */
        .max = cfg->max_queued ? cfg->max_queued : ZP_QUEUED_DEFAULT,
        .run = work,
        .give_back = give_back,
        .ctx = s,
    };

    s->cfg = cfg;
    s->trail = zp_trail_new();
    pthread_mutex_init(&s->busy_mu, NULL);
    pthread_mutex_init(&s->pools_mu, NULL);
    s->pools = zp_xcalloc(cfg->n_inst ? cfg->n_inst : 1, sizeof(*s->pools));
    s->watcher = zp_watcher_new(cfg->watch_workers ? cfg->watch_workers : 4, err);
    if (s->watcher != NULL) {
        struct zp_watch_limits lim = {cfg->max_watches, cfg->watch_queries};
        zp_watcher_set_limits(s->watcher, &lim);
    }
    if (s->watcher == NULL || zp_precheck_new(cfg, &s->pc, err) == -1 ||
        (s->misc = zp_pool_new(&pc, err)) == NULL) {
        zp_solver_free(s);
        return NULL;
    }
    zp_observe_instances(cfg);
    zp_metrics_collector_add(collect, s);
    return s;
}

struct zp_precheck *zp_solver_precheck(struct zp_solver *s)
{
    return s->pc;
}

void zp_solver_set_journal(struct zp_solver *s, struct zp_journal *j)
{
    s->journal = j;
}

void zp_solver_set_lock(struct zp_solver *s, zp_solver_lock_fn *lock, zp_solver_unlock_fn *unlock,
                        void *arg)
{
    s->lock = lock;
    s->unlock = unlock;
    s->lock_arg = arg;
}

void zp_solver_set_secret_source(struct zp_solver *s, zp_secret_get_fn *fn, void *arg)
{
    s->secret_get = fn;
    s->secret_arg = arg;
}

void zp_solver_free(struct zp_solver *s)
{
    if (s == NULL)
        return;
    zp_metrics_collector_remove(collect, s);
    /* Runs nothing more; jobs never started are answered (give_back). */
    pthread_mutex_lock(&s->pools_mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->pools_mu);
    if (s->misc != NULL)
        zp_pool_stop(s->misc);
    for (size_t i = 0; s->pools && i < s->cfg->n_inst; i++)
        if (s->pools[i] != NULL)
            zp_pool_stop(s->pools[i]);
    /* Answers watches still waiting; the stopped pools refuse their way back to a worker. */
    zp_watcher_free(s->watcher);
    zp_precheck_free(s->pc);
    zp_pool_free(s->misc);
    for (size_t i = 0; s->pools && i < s->cfg->n_inst; i++)
        zp_pool_free(s->pools[i]);
    free(s->pools);
    pthread_mutex_destroy(&s->pools_mu);
    while (s->busy)
        busy_remove(s, s->busy->fqdn);
    pthread_mutex_destroy(&s->busy_mu);
    zp_trail_free(s->trail);
    free(s);
}

int zp_solver_status_json(struct zp_solver *s, const char *persist, struct zp_buf *out)
{
    return zp_trail_json(s->trail, s->watcher, persist, out);
}

int zp_solver_submit(struct zp_solver *s, const struct zp_challenge *ch, zp_solve_done_fn *done,
                     void *arg, struct zp_err *err)
{
    struct job *j = zp_xcalloc(1, sizeof(*j));
    struct zp_err rerr_buf = {0}, *rerr = &rerr_buf; /* routing's sentence, when it refuses */
    uint64_t budget;
    int stopping;

    j->s = s;
    j->ch = *ch;
    j->done = done;
    j->arg = arg;
    j->start_ms = zp_now_ms();
    j->inst = zp_route(s->cfg, ch->fqdn, ch->provider, &j->zone, rerr);
    /* Routing picks an instance; this decides whether the request may use it (docs/security.md). */
    if (j->inst != NULL && zp_access_check(s->cfg, j->inst, ch, rerr) == -1) {
        zp_audit_challenge(ch, j->inst->name, j->zone, "refused", rerr);
        j->inst = NULL;
    }
    if (j->inst != NULL) {
        if (ch->zone[0] != '\0')
            j->zone = j->ch.zone; /* cert-manager's SOA-derived apex is the most precise */
        if (j->zone == NULL) {
            zp_err_set(rerr, ZP_EINVAL,
                       "%s is inside none of provider %s's dnsZones and the request names no "
                       "resolvedZone; add the zone to its dnsZones",
                       ch->fqdn, j->inst->name);
            j->inst = NULL;
        }
    }
    if (j->inst != NULL) {
        budget = j->inst->prop.timeout_ms;
    } else {
        budget = s->cfg->prop.timeout_ms;
        job_res(j)->err = *rerr; /* answered by a worker with this sentence */
    }
    if (ch->action == ZP_CLEANUP && budget < CLEANUP_MIN_BUDGET_MS)
        budget = CLEANUP_MIN_BUDGET_MS;
    j->deadline_ms = j->start_ms + budget;
    j->trec =
        zp_trail_begin(s->trail, ch, j->inst ? j->inst->name : NULL,
                       j->inst ? j->inst->ops->type : NULL, j->zone, j->inst ? NULL : rerr->msg);

    if (enqueue(s, j, 0, &stopping) == -1) {
        struct zp_result *r = job_res(j);
        zp_err_clear(&r->err);
        if (stopping)
            zp_err_set(&r->err, ZP_ETRANSIENT, "zoneproof is shutting down; retry");
        else
            zp_err_set(&r->err, ZP_ETRANSIENT,
                       "too many challenges are queued for provider instance %s (workers.maxQueued "
                       "is %u); nothing was written, and %s",
                       j->inst ? j->inst->name : "(none)",
                       s->cfg->max_queued ? s->cfg->max_queued : ZP_QUEUED_DEFAULT,
                       s->cfg->cli ? "a later run may succeed" : "cert-manager retries");
        zp_trail_end(s->trail, j->trec, r);
        *err = r->err;
        free(r);
        free(j);
        return -1;
    }
    return 0;
}

struct run_wait {
    struct zp_wait done;
    struct zp_result *res;
};

static void on_run_done(void *arg, const struct zp_result *res)
{
    struct run_wait *w = arg;

    *w->res = *res;
    w->res->report = NULL;    /* not valid past this call */
    zp_wait_signal(&w->done); /* last: the waiter may return at once */
}

void zp_solver_run(struct zp_solver *s, const struct zp_challenge *ch, struct zp_result *res)
{
    struct run_wait w;

    memset(res, 0, sizeof(*res));
    zp_wait_init(&w.done);
    w.res = res;
    if (zp_solver_submit(s, ch, on_run_done, &w, &res->err) == 0)
        zp_wait_for(&w.done, 1);
    zp_wait_destroy(&w.done);
}
