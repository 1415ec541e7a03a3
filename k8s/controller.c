/*
 * controller.c — wiring of the controller (controller.h): which journal,
 * which locks, the sweeper's oracle and its leader. The parts each have
 * their own file; this one decides how they meet, and in what order they
 * stop: the sweeper (it calls providers), then the solver's workers (they
 * hold zone Leases), then the Leases themselves.
 */
#include <stdlib.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/challenges.h"
#include "k8s/controller.h"
#include "k8s/kjournal.h"
#include "k8s/leaselock.h"
#include "solver/config.h"
#include "solver/journal.h"
#include "solver/solver.h"
#include "solver/sweep.h"

#define SWEEPER_LEASE_WAIT_MS 5000u

struct zp_controller {
    struct zp_journal *journal;
    struct zp_leaselock *locks; /* NULL outside a cluster */
    struct zp_challenges *challenges;
    struct zp_sweeper *sweeper;
};

/* Before a pass: this replica sweeps only while it holds the sweeper's Lease. */
static int sweeper_take(void *arg)
{
    struct zp_controller *c = arg;
    struct zp_err err = {0};
    int rc = zp_leaselock_trylock(c->locks, ZP_LEASELOCK_SWEEPER,
                                  zp_now_ms() + SWEEPER_LEASE_WAIT_MS, &err);

    if (rc == -1)
        zp_log(ZP_LOG_WARN, "sweep: cannot take the sweeper's lease; not sweeping now",
               ZP_S("error", err.msg), ZP_END);
    return rc == 0;
}

static void sweeper_release(void *arg)
{
    struct zp_controller *c = arg;

    zp_leaselock_unlock(c->locks, ZP_LEASELOCK_SWEEPER);
}

static int open_parts(struct zp_controller *c, const struct zp_config *cfg, struct zp_kclient *k,
                      const char *state_dir, struct zp_err *err)
{
    if (state_dir != NULL)
        return zp_journal_dir_open(state_dir, &c->journal, err);
    if (zp_kjournal_open(k, &c->journal, err) == -1 ||
        zp_leaselock_new(k, NULL, &c->locks, err) == -1)
        return -1;
    c->challenges = zp_challenges_new(k, cfg->cluster_ns);
    return 0;
}

int zp_controller_start(const struct zp_config *cfg, struct zp_solver *s, struct zp_kclient *k,
                        const char *state_dir, struct zp_controller **out, struct zp_err *err)
{
    struct zp_controller *c;
    struct zp_sweep_opts so = {0};
    struct zp_sweep_leader leader = {sweeper_take, sweeper_release, NULL};

    *out = NULL;
    if (k == NULL && state_dir == NULL)
        return 0;
    c = zp_xcalloc(1, sizeof(*c));
    if (open_parts(c, cfg, k, state_dir, err) == -1) {
        zp_controller_free(c);
        return -1;
    }
    zp_solver_set_journal(s, c->journal);
    if (c->locks != NULL)
        zp_solver_set_lock(s, zp_leaselock_zone_lock, zp_leaselock_zone_unlock, c->locks);
    so.older_than_s = cfg->orphan_after_ms / 1000;
    if (c->challenges != NULL)
        zp_challenges_sweep_opts(c->challenges, k, &so);
    leader.arg = c;
    if (zp_sweeper_start(cfg, c->journal, &so, cfg->sweep_interval_ms,
                         c->locks != NULL ? &leader : NULL, &c->sweeper, err) == -1) {
        zp_controller_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void zp_controller_stop(struct zp_controller *c)
{
    if (c == NULL)
        return;
    zp_sweeper_stop(c->sweeper);
    c->sweeper = NULL;
}

void zp_controller_free(struct zp_controller *c)
{
    if (c == NULL)
        return;
    zp_controller_stop(c);
    zp_leaselock_free(c->locks);
    zp_challenges_free(c->challenges);
    zp_journal_free(c->journal);
    free(c);
}
