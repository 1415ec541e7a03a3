/*
 * sweep.c — the sweeper (sweep.h): one pass, on the caller's thread (the
 * CLI), and serve's periodic runner, a thread of its own. Every removal is
 * a blocking provider call, one after the other, each on its own budget;
 * the runner waits between passes on a condition variable (real time: a
 * stop wakes it at once).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "providers/provider.h"
#include "solver/config.h"
#include "solver/observe.h"
#include "solver/sweep.h"

/* Whether e is an orphan; logged with the reason. */
static int orphan(const struct zp_sweep_opts *o, const struct zp_jentry *e, uint64_t now_s)
{
    struct zp_err err = {0};
    uint64_t age = now_s > e->time_s ? now_s - e->time_s : 0;
    int alive = o->alive ? o->alive(o->alive_arg, e, &err) : -1;

    if (alive == 1)
        return 0;
    if (alive == 0)
        return 1;
    if (o->alive != NULL)
        zp_log(ZP_LOG_DEBUG, "sweep: cannot tell whether the challenge exists; its age decides",
               ZP_S("entry", e->id), ZP_S("error", err.msg), ZP_END);
    return age >= o->older_than_s;
}

/* Another entry that is not an orphan holds the same name and value. */
static int still_needed(const struct zp_jentry *all, const int *orph, size_t n, size_t i)
{
    for (size_t k = 0; k < n; k++)
        if (k != i && !orph[k] && strcmp(all[k].fqdn, all[i].fqdn) == 0 &&
            strcmp(all[k].value, all[i].value) == 0)
            return 1;
    return 0;
}

/* CleanUp of e's value through its instance, then its entry dropped. */
static int remove_value(const struct zp_config *cfg, struct zp_journal *j,
                        const struct zp_sweep_opts *o, const struct zp_jentry *e,
                        struct zp_err *err)
{
    const struct zp_instance *in = zp_config_instance(cfg, e->instance);
    struct zp_record rec = {0};
    struct zp_prov_call call = {0};
    struct zp_audit_ev ev = {
        .action = "sweep", .uid = e->uid, .ns = e->ns, .fqdn = e->fqdn, .value = e->value};
    const char *scope;
    int rc;

    if (in == NULL)
        return zp_err_set(err, ZP_ECONFIG,
                          "the entry names provider instance %s, which the configuration no "
                          "longer has; remove the value by hand, then the entry",
                          e->instance);
    rec.fqdn = e->fqdn;
    rec.zone = e->zone[0] ? e->zone : NULL;
    rec.value = e->value;
    rec.ttl = in->ttl;
    call.deadline_ms = zp_now_ms() + (o->call_timeout_ms ? o->call_timeout_ms : 30000);
    call.resource_namespace = e->ns;
    call.instance = in->name;
    call.secret_get = o->secret_get;
    call.secret_arg = o->secret_arg;
    if (rec.zone == NULL && in->n_zones > 0)
        rec.zone = in->zones[0];
    scope = zp_metrics_scope_set(in->name);
    rc = in->ops->cleanup(in->cfg, &rec, &call, err);
    zp_metrics_scope_set(scope);
    ev.provider = in->name;
    ev.zone = rec.zone;
    ev.outcome = rc == 0 ? "success" : "failure";
    ev.err = rc == 0 ? NULL : err;
    zp_audit(&ev);
    zp_observe_orphan(in->name, rc == 0);
    if (rc == -1)
        return -1;
    return j->ops->remove(j->ctx, e->id, call.deadline_ms, err);
}

int zp_sweep_run(const struct zp_config *cfg, struct zp_journal *j, const struct zp_sweep_opts *o,
                 struct zp_sweep_result *res, struct zp_err *err)
{
    struct zp_jentry *all = NULL;
    size_t n = 0;
    int *orph;
    uint64_t now_s = (uint64_t)time(NULL);

    memset(res, 0, sizeof(*res));
    if (o->begin != NULL)
        o->begin(o->alive_arg);
    if (j->ops->list(j->ctx, &all, &n, zp_now_ms() + 30000, err) == -1)
        return -1;
    res->entries = n;
    orph = calloc(n ? n : 1, sizeof(*orph));
    if (orph == NULL)
        abort(); /* allocation only */
    for (size_t i = 0; i < n; i++)
        res->orphans += (size_t)(orph[i] = orphan(o, &all[i], now_s));
    for (size_t i = 0; i < n; i++) {
        struct zp_err e = {0};
        if (!orph[i])
            continue;
        if (still_needed(all, orph, n, i) || o->dry_run) {
            zp_log(ZP_LOG_INFO,
                   o->dry_run ? "sweep: orphan (dry run: kept)"
                              : "sweep: orphan "
                                "kept: a live challenge has the same value",
                   ZP_S("entry", all[i].id), ZP_S("provider", all[i].instance),
                   ZP_S("fqdn", all[i].fqdn), ZP_S("value", all[i].value), ZP_END);
            continue;
        }
        if (remove_value(cfg, j, o, &all[i], &e) == 0) {
            res->removed++;
            zp_log(ZP_LOG_INFO, "sweep: orphaned value removed", ZP_S("entry", all[i].id),
                   ZP_S("provider", all[i].instance), ZP_S("fqdn", all[i].fqdn),
                   ZP_S("value", all[i].value), ZP_S("namespace", all[i].ns),
                   ZP_S("uid", all[i].uid), ZP_END);
        } else {
            res->failed++;
            zp_log(ZP_LOG_WARN, "sweep: cannot remove an orphaned value; tried again next time",
                   ZP_S("entry", all[i].id), ZP_S("provider", all[i].instance),
                   ZP_S("fqdn", all[i].fqdn), ZP_S("error", e.msg), ZP_END);
        }
    }
    free(orph);
    free(all);
    return 0;
}

/* ---- serve's runner ---------------------------------------------------------- */

struct zp_sweeper {
    const struct zp_config *cfg;
    struct zp_journal *j;
    struct zp_sweep_opts o;
    uint64_t interval_ms;
    struct zp_sweep_leader leader; /* take NULL: always this process */
    pthread_t thread;
    pthread_mutex_t mu; /* guards stop */
    pthread_cond_t cv;
    int stop;
};

static void one_pass(struct zp_sweeper *sw)
{
    struct zp_sweep_result res;
    struct zp_err err = {0};

    if (sw->leader.take != NULL && sw->leader.take(sw->leader.arg) != 1)
        return; /* another replica sweeps */
    if (zp_sweep_run(sw->cfg, sw->j, &sw->o, &res, &err) == -1) {
        zp_log(ZP_LOG_WARN, "sweep: cannot list the journal", ZP_S("error", err.msg), ZP_END);
        zp_observe_sweep(0);
    } else {
        zp_observe_sweep(1);
        zp_log(res.orphans ? ZP_LOG_INFO : ZP_LOG_DEBUG, "sweep: pass done",
               ZP_I("entries", res.entries), ZP_I("orphans", res.orphans),
               ZP_I("removed", res.removed), ZP_I("failed", res.failed), ZP_END);
    }
    if (sw->leader.take != NULL && sw->leader.release != NULL)
        sw->leader.release(sw->leader.arg);
}

/* Waits interval_ms, or less when stopped; 1 when stopped. */
static int pause_or_stop(struct zp_sweeper *sw)
{
    struct timespec until;
    int stop;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(sw->interval_ms / 1000);
    until.tv_nsec += (long)(sw->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sw->mu);
    while (!sw->stop && pthread_cond_timedwait(&sw->cv, &sw->mu, &until) != ETIMEDOUT)
        ;
    stop = sw->stop;
    pthread_mutex_unlock(&sw->mu);
    return stop;
}

static void *sweeper_main(void *arg)
{
    struct zp_sweeper *sw = arg;

    do
        one_pass(sw);
    while (!pause_or_stop(sw));
    return NULL;
}

int zp_sweeper_start(const struct zp_config *cfg, struct zp_journal *j,
                     const struct zp_sweep_opts *o, uint64_t interval_ms,
                     const struct zp_sweep_leader *leader, struct zp_sweeper **out,
                     struct zp_err *err)
{
    struct zp_sweeper *sw = calloc(1, sizeof(*sw));
    pthread_condattr_t ca;

    *out = NULL;
    if (sw == NULL)
        abort(); /* allocation only */
    sw->cfg = cfg;
    sw->j = j;
    sw->o = *o;
    sw->interval_ms = interval_ms ? interval_ms : ZP_SWEEP_INTERVAL_DEFAULT_MS;
    if (leader != NULL)
        sw->leader = *leader;
    pthread_mutex_init(&sw->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sw->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&sw->thread, NULL, sweeper_main, sw) != 0) {
        pthread_cond_destroy(&sw->cv);
        pthread_mutex_destroy(&sw->mu);
        free(sw);
        return zp_err_set(err, ZP_EINTERNAL, "cannot start the sweeper's thread");
    }
    *out = sw;
    return 0;
}

void zp_sweeper_stop(struct zp_sweeper *sw)
{
    if (sw == NULL)
        return;
    pthread_mutex_lock(&sw->mu);
    sw->stop = 1;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
    pthread_join(sw->thread, NULL);
    pthread_cond_destroy(&sw->cv);
    pthread_mutex_destroy(&sw->mu);
    free(sw);
}
