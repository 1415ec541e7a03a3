/*
 * persistkeep.c — serve's keeper of the configuration's persist: list
 * (persist.h): a thread that checks every entry on every authoritative
 * nameserver at start, then every persistInterval or when poked (SIGUSR1),
 * and sets an entry again, exactly as `zoneproof persist set` does, when a
 * nameserver serves no value of its account or another one. Nothing else at
 * the name is touched.
 *
 * It waits on the project's clock (base/clock.h): a poll() on its pipe
 * with zp_clock_poll_ms, woken by a poke, a stop or a jump of the clock.
 *
 * What each entry's last check found (and its last re-write) is kept in
 * one table, under the keeper's mutex: the thread writes it at the end of
 * each entry; the metrics' collector (at each scrape) and the status page
 * (zp_persist_keeper_json, the listener's thread) read it. The thread
 * makes no metric call under the mutex; the collector sets its gauges
 * under it (the collectors' lock, then the mutex, then a family's: the
 * order base/metrics.c's locks already have).
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "solver/persist.h"
#include "solver/solver.h"

#define KEEP_CHECK_MS 5000u /* each nameserver's answer to one check */
#define KEEP_STATUS_MAX 256 /* entries in the status document: the first ones */

static struct zp_metric m_state =
    ZP_GAUGE("zoneproof_persist_state",
             "Per persist: entry, 1 for what the last check found at the end of its pass (ok, "
             "missing, different, expiring or error), 0 for the others.",
             "name,issuer,state");
static struct zp_metric m_checked = ZP_GAUGE(
    "zoneproof_persist_last_check_timestamp_seconds",
    "Per persist: entry, when it was last checked (seconds since the epoch).", "name,issuer");
static struct zp_metric m_rewrites =
    ZP_COUNTER("zoneproof_persist_rewrites_total",
               "persist: entries written again, by why (missing, different) and outcome "
               "(success or the error kind).",
               "name,issuer,reason,outcome");

static const char *const states[] = {"ok", "missing", "different", "expiring", "error"};
#define N_STATES (sizeof(states) / sizeof(states[0]))

/* One entry's last check and last re-write; every string a static one. */
struct keep_rec {
    const char *state; /* states[]; NULL until the first check ends */
    time_t checked;
    const char *reason;  /* the last re-write's: "missing" or "different"; NULL: none yet */
    const char *outcome; /* "success" or the error kind */
    time_t rewritten;
};

struct zp_persist_keeper {
    const struct zp_config *cfg;
    struct zp_solver *s;
    pthread_t thread;
    int pipe[2]; /* a byte: 'p' a poke, 's' a stop, 'w' a jump of the clock */
    int stop;    /* atomic */
    pthread_mutex_t mu;
    struct keep_rec *recs; /* cfg->n_persist, under mu */
};

/* The end of entry i's check: what it found (and the re-write, when rw->reason is set). */
static void keep_record(struct zp_persist_keeper *k, size_t i, const char *state,
                        const struct keep_rec *rw)
{
    pthread_mutex_lock(&k->mu);
    k->recs[i].state = state;
    k->recs[i].checked = time(NULL);
    if (rw->reason != NULL) {
        k->recs[i].reason = rw->reason;
        k->recs[i].outcome = rw->outcome;
        k->recs[i].rewritten = rw->rewritten;
    }
    pthread_mutex_unlock(&k->mu);
}

/* At each scrape: each checked entry's state and time, off the table. */
static void keep_collect(void *arg)
{
    struct zp_persist_keeper *k = arg;

    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->cfg->n_persist; i++) {
        const struct zp_persist_rec *r = &k->cfg->persist[i];
        const struct keep_rec *e = &k->recs[i];

        if (e->state == NULL)
            continue; /* its last-check series is there from the start, at 0 */
        for (size_t j = 0; j < N_STATES; j++)
            zp_metric_set(&m_state, strcmp(states[j], e->state) == 0 ? 1.0 : 0.0, r->name,
                          r->issuer, states[j]);
        zp_metric_set(&m_checked, (double)e->checked, r->name, r->issuer);
    }
    pthread_mutex_unlock(&k->mu);
}

/* Sets r again after c found it missing or different; the state after the pass, rw the rest. */
static const char *rewrite(struct zp_persist_keeper *k, const struct zp_persist_rec *r,
                           const struct zp_persist_check *c, struct keep_rec *rw)
{
    struct zp_persist_set_res *res = zp_xcalloc(1, sizeof(*res));
    struct zp_persist_name *pn = zp_xcalloc(1, sizeof(*pn));
    const struct zp_ns_status *ns = &c->rep.ns[c->where];
    const char *reason = zp_persist_state_name(c->worst), *state = reason;
    struct zp_err err = {0};
    int rc = zp_persist_set(k->cfg, k->s, r, pn, res, &err);

    rw->reason = reason;
    rw->outcome = rc == 0 ? "success" : zp_errkind_name(err.kind);
    rw->rewritten = time(NULL);
    zp_metric_inc(&m_rewrites, r->name, r->issuer, reason, rw->outcome);
    if (rc == 0) {
        state = r->until != 0 && r->until - (long long)time(NULL) < ZP_PERSIST_SOON_S ? "expiring"
                                                                                      : "ok";
        zp_log(ZP_LOG_INFO, "persist: record written again", ZP_S("name", r->name),
               ZP_S("fqdn", pn->ch.fqdn), ZP_S("reason", reason), ZP_S("server", ns->addr),
               ZP_S("found", c->shown[c->where]), ZP_S("provider", pn->inst->name),
               ZP_I("older_removed", res->removed.n), ZP_END);
    } else {
        if (res->written)
            state = "ok"; /* written; an older value of the account stays (the log says) */
        zp_log(ZP_LOG_WARN, "persist: cannot write the record again", ZP_S("name", r->name),
               ZP_S("reason", reason), ZP_S("server", ns->addr), ZP_S("error", err.msg), ZP_END);
    }
    free(pn);
    free(res);
    return state;
}

/* Entry i: checked, and set again when a nameserver lacks it. */
static void keep_one(struct zp_persist_keeper *k, size_t i)
{
    const struct zp_persist_rec *r = &k->cfg->persist[i];
    struct zp_persist_check *c = zp_xcalloc(1, sizeof(*c));
    struct zp_persist_name *pn = zp_xcalloc(1, sizeof(*pn));
    struct keep_rec rw = {0};
    struct zp_err err = {0};
    const char *state;

    if (zp_persist_locate(k->cfg, zp_solver_precheck(k->s), r, ZP_PRESENT, pn, &err) == -1 ||
        zp_persist_check(r, pn, KEEP_CHECK_MS, c, &err) == -1) {
        state = "error";
        zp_log(ZP_LOG_WARN, "persist: cannot check the record", ZP_S("name", r->name),
               ZP_S("issuer", r->issuer), ZP_S("error", err.msg), ZP_END);
    } else if (c->worst == ZP_PERSIST_MISSING || c->worst == ZP_PERSIST_DIFFERENT) {
        state = rewrite(k, r, c, &rw);
    } else if (c->worst == ZP_PERSIST_UNCHECKED) {
        state = "error";
        zp_log(ZP_LOG_WARN, "persist: a nameserver did not answer; not writing",
               ZP_S("name", r->name), ZP_S("fqdn", pn->ch.fqdn),
               ZP_S("server", c->rep.ns[c->where].addr), ZP_S("error", c->shown[c->where]), ZP_END);
    } else {
        state = zp_persist_state_name(c->worst);
        zp_log(c->worst == ZP_PERSIST_EXPIRING ? ZP_LOG_WARN : ZP_LOG_DEBUG,
               c->worst == ZP_PERSIST_EXPIRING ? "persist: persistUntil is within 30 days"
                                               : "persist: record served",
               ZP_S("name", r->name), ZP_S("fqdn", pn->ch.fqdn), ZP_END);
    }
    keep_record(k, i, state, &rw);
    free(pn);
    free(c);
}

static int stopped(struct zp_persist_keeper *k)
{
    return __atomic_load_n(&k->stop, __ATOMIC_ACQUIRE);
}

/* Waits until next (zp_now_ms clock), a poke or a stop; 1 when stopped. */
static int keeper_wait(struct zp_persist_keeper *k, uint64_t next)
{
    char buf[64];
    ssize_t nr;
    int poked = 0;

    while (!stopped(k) && !poked) {
        struct pollfd pfd = {k->pipe[0], POLLIN, 0};
        int t = zp_clock_poll_ms(next), idle;

        if (t == 0)
            break;
        idle = zp_clock_idle_begin();
        poll(&pfd, 1, t);
        zp_clock_idle_end(idle);
        while ((nr = read(k->pipe[0], buf, sizeof(buf))) > 0)
            poked |= memchr(buf, 'p', (size_t)nr) != NULL;
    }
    return stopped(k);
}

static void *keeper_main(void *arg)
{
    struct zp_persist_keeper *k = arg;

    do {
        for (size_t i = 0; i < k->cfg->n_persist && !stopped(k); i++)
            keep_one(k, i);
    } while (!keeper_wait(k, zp_now_ms() + k->cfg->persist_interval_ms));
    return NULL;
}

static void keeper_say(struct zp_persist_keeper *k, char c)
{
    ssize_t n = write(k->pipe[1], &c, 1); /* a full pipe wakes the keeper already */

    (void)n;
}

static void keeper_wake(void *arg)
{
    keeper_say(arg, 'w');
}

/* The keeper without its thread and collector. Accepts NULL. */
static void keeper_free(struct zp_persist_keeper *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < 2; i++)
        if (k->pipe[i] >= 0)
            close(k->pipe[i]);
    pthread_mutex_destroy(&k->mu);
    free(k->recs);
    free(k);
}

/* The thread, with every signal blocked: they are the server loop's. */
static int keeper_thread(struct zp_persist_keeper *k)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&k->thread, NULL, keeper_main, k);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

int zp_persist_keeper_start(const struct zp_config *cfg, struct zp_solver *s,
                            struct zp_persist_keeper **out, struct zp_err *err)
{
    struct zp_persist_keeper *k;

    *out = NULL;
    if (cfg->n_persist == 0)
        return 0;
    k = zp_xcalloc(1, sizeof(*k));
    k->cfg = cfg;
    k->s = s;
    k->recs = zp_xcalloc(cfg->n_persist, sizeof(*k->recs));
    pthread_mutex_init(&k->mu, NULL);
    if (pipe2(k->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
        k->pipe[0] = k->pipe[1] = -1;
        keeper_free(k);
        return zp_err_set(err, ZP_EINTERNAL, "cannot make the persist keeper's pipe");
    }
    for (size_t i = 0; i < cfg->n_persist; i++)
        zp_metric_touch(&m_checked, cfg->persist[i].name, cfg->persist[i].issuer);
    zp_metrics_collector_add(keep_collect, k);
    if (zp_clock_hook_add(keeper_wake, k) == -1 || keeper_thread(k) == -1) {
        zp_clock_hook_del(keeper_wake, k);
        zp_metrics_collector_remove(keep_collect, k);
        keeper_free(k);
        return zp_err_set(err, ZP_EINTERNAL, "cannot start the persist keeper's thread");
    }
    zp_log(ZP_LOG_INFO, "persist: keeping records", ZP_I("entries", cfg->n_persist),
           ZP_I("interval_ms", cfg->persist_interval_ms), ZP_END);
    *out = k;
    return 0;
}

void zp_persist_keeper_poke(struct zp_persist_keeper *k)
{
    if (k != NULL)
        keeper_say(k, 'p');
}

void zp_persist_keeper_stop(struct zp_persist_keeper *k)
{
    if (k == NULL)
        return;
    __atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
    keeper_say(k, 's');
    pthread_join(k->thread, NULL);
    zp_clock_hook_del(keeper_wake, k);
    zp_metrics_collector_remove(keep_collect, k);
    keeper_free(k);
}

/* "2026-12-03T21:40:00Z" into o's key. */
static void add_time(cJSON *o, const char *key, time_t t)
{
    struct tm tm;
    char s[32];

    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(o, key, s);
}

static cJSON *entry_json(const struct zp_persist_rec *r, const struct keep_rec *e)
{
    cJSON *o = cJSON_CreateObject(), *rw;

    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "issuer", r->issuer);
    if (e->state != NULL) {
        cJSON_AddStringToObject(o, "state", e->state);
        add_time(o, "checked", e->checked);
    }
    if (e->reason != NULL) {
        rw = cJSON_AddObjectToObject(o, "rewrite");
        cJSON_AddStringToObject(rw, "reason", e->reason);
        cJSON_AddStringToObject(rw, "outcome", e->outcome);
        add_time(rw, "at", e->rewritten);
    }
    return o;
}

int zp_persist_keeper_json(struct zp_persist_keeper *k, struct zp_buf *out)
{
    cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "entries");
    char *text = NULL;
    int rc = -1;

    cJSON_AddNumberToObject(doc, "total", (double)k->cfg->n_persist);
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->cfg->n_persist && i < KEEP_STATUS_MAX; i++)
        cJSON_AddItemToArray(list, entry_json(&k->cfg->persist[i], &k->recs[i]));
    pthread_mutex_unlock(&k->mu);
    text = cJSON_PrintUnformatted(doc);
    if (text == NULL)
        goto out;
    rc = zp_buf_puts(out, text);
out:
    free(text);
    cJSON_Delete(doc);
    return rc;
}
