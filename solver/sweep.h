/*
 * sweep.h — the sweeper: removes the challenge values whose journal entry
 * (journal.h) outlived its challenge, exactly as CleanUp would (only that
 * value, through the same provider instance), then drops the entry.
 *
 * An entry is an orphan when the caller's oracle says its challenge is
 * gone (in a cluster: no cert-manager Challenge carries its value and
 * name), or, when no oracle can tell, when it is older than older_than_s.
 * A value another entry still needs (same name and value, not an orphan)
 * is never removed.
 */
#ifndef ZP_SOLVER_SWEEP_H
#define ZP_SOLVER_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "solver/journal.h"
#include "solver/solver.h"

struct zp_config;
struct zp_err;

/* 1: the challenge behind e still exists; 0: it is gone; -1: cannot tell (err says why). */
typedef int zp_sweep_alive_fn(void *arg, const struct zp_jentry *e, struct zp_err *err);

struct zp_sweep_opts {
    uint64_t older_than_s; /* age at which an entry is an orphan when alive cannot tell */
    /* Before each pass (e.g. to list the Challenges once); may be NULL. */
    void (*begin)(void *alive_arg);
    int dry_run;              /* report, change nothing */
    zp_sweep_alive_fn *alive; /* NULL: age alone decides */
    void *alive_arg;
    zp_secret_get_fn *secret_get; /* for secretRef credentials; may be NULL */
    void *secret_arg;
    uint64_t call_timeout_ms; /* each removal's budget */
};

struct zp_sweep_result {
    size_t entries; /* listed */
    size_t orphans; /* of those, orphans */
    size_t removed; /* orphans whose value was removed and entry dropped */
    size_t failed;  /* orphans whose removal failed: tried again next time */
};

/* One pass. -1 only when the journal cannot be listed; each entry's outcome is logged. */
int zp_sweep_run(const struct zp_config *cfg, struct zp_journal *j, const struct zp_sweep_opts *o,
                 struct zp_sweep_result *res, struct zp_err *err);

/*
 * serve's sweeper: a thread that runs a pass at start and then every
 * interval_ms. When leader is set, take is asked before each pass and
 * returns 1 when this process should sweep now (one replica at a time: a
 * Lease), and release is called after the pass it allowed.
 */
struct zp_sweep_leader {
    int (*take)(void *arg);
    void (*release)(void *arg);
    void *arg;
};

struct zp_sweeper;

int zp_sweeper_start(const struct zp_config *cfg, struct zp_journal *j,
                     const struct zp_sweep_opts *o, uint64_t interval_ms,
                     const struct zp_sweep_leader *leader, struct zp_sweeper **out,
                     struct zp_err *err);
/* Lets a pass in progress end, then joins the thread. Accepts NULL. */
void zp_sweeper_stop(struct zp_sweeper *sw);

#endif
