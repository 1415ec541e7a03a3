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

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "solver/persist.h"
#include "solver/solver.h"

#define KEEP_CHECK_MS 5000u /* each nameserver's answer to one check */

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

struct zp_persist_keeper {
    const struct zp_config *cfg;
    struct zp_solver *s;
    pthread_t thread;
    int pipe[2]; /* a byte: 'p' a poke, 's' a stop, 'w' a jump of the clock */
    int stop;    /* atomic */
};

static void set_state(const struct zp_persist_rec *r, const char *state)
{
    for (size_t i = 0; i < N_STATES; i++)
        zp_metric_set(&m_state, strcmp(states[i], state) == 0 ? 1.0 : 0.0, r->name, r->issuer,
                      states[i]);
    zp_metric_set(&m_checked, (double)time(NULL), r->name, r->issuer);
}

/* Sets r again after c found it missing or different; the state after the pass. */
static const char *rewrite(struct zp_persist_keeper *k, const struct zp_persist_rec *r,
                           const struct zp_persist_check *c)
{
    struct zp_persist_set_res *res = zp_xcalloc(1, sizeof(*res));
    struct zp_persist_name *pn = zp_xcalloc(1, sizeof(*pn));
    const struct zp_ns_status *ns = &c->rep.ns[c->where];
    const char *reason = zp_persist_state_name(c->worst), *state = reason;
    struct zp_err err = {0};
    int rc = zp_persist_set(k->cfg, k->s, r, pn, res, &err);

    zp_metric_inc(&m_rewrites, r->name, r->issuer, reason,
                  rc == 0 ? "success" : zp_errkind_name(err.kind));
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

/* One entry: checked, and set again when a nameserver lacks it. */
static void keep_one(struct zp_persist_keeper *k, const struct zp_persist_rec *r)
{
    struct zp_persist_check *c = zp_xcalloc(1, sizeof(*c));
    struct zp_persist_name *pn = zp_xcalloc(1, sizeof(*pn));
    struct zp_err err = {0};
    const char *state;

    if (zp_persist_locate(k->cfg, zp_solver_precheck(k->s), r, ZP_PRESENT, pn, &err) == -1 ||
        zp_persist_check(r, pn, KEEP_CHECK_MS, c, &err) == -1) {
        state = "error";
        zp_log(ZP_LOG_WARN, "persist: cannot check the record", ZP_S("name", r->name),
               ZP_S("issuer", r->issuer), ZP_S("error", err.msg), ZP_END);
    } else if (c->worst == ZP_PERSIST_MISSING || c->worst == ZP_PERSIST_DIFFERENT) {
        state = rewrite(k, r, c);
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
    set_state(r, state);
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
            keep_one(k, &k->cfg->persist[i]);
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
    if (pipe2(k->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
        free(k);
        return zp_err_set(err, ZP_EINTERNAL, "cannot make the persist keeper's pipe");
    }
    for (size_t i = 0; i < cfg->n_persist; i++)
        zp_metric_touch(&m_checked, cfg->persist[i].name, cfg->persist[i].issuer);
    if (zp_clock_hook_add(keeper_wake, k) == -1 || keeper_thread(k) == -1) {
        zp_clock_hook_del(keeper_wake, k);
        close(k->pipe[0]);
        close(k->pipe[1]);
        free(k);
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
    close(k->pipe[0]);
    close(k->pipe[1]);
    free(k);
}
