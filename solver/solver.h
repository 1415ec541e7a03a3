/*
 * solver.h — present/cleanup orchestration: route a challenge to a provider
 * instance, run the provider on a small worker pool (the same name is
 * serialized when the provider reads and rewrites a whole RRset), then wait
 * for propagation on the watcher without holding a thread.
 */
#ifndef ZP_SOLVER_SOLVER_H
#define ZP_SOLVER_SOLVER_H

#include <stdint.h>

#include "base/err.h"
#include "solver/challenge.h"
#include "solver/config.h"
#include "solver/watch.h"

struct zp_buf;
struct zp_precheck;

struct zp_result {
    int ok;
    struct zp_err err;    /* the sentence for cert-manager when !ok */
    const char *instance; /* provider instance name, NULL if routing failed */
    const char *type;     /* provider type */
    uint64_t elapsed_ms;
    /* The propagation report when the watcher ran; valid only during the done call. */
    const struct zp_watch_report *report;
};

/* Called exactly once, on a solver or watcher thread. */
typedef void zp_solve_done_fn(void *arg, const struct zp_result *res);

/* Secret lookup lent to providers (secretRef); may be NULL. */
typedef int zp_secret_get_fn(void *arg, const char *ns, const char *name, const char *key,
                             struct zp_buf *out, struct zp_err *err);

struct zp_solver;

/* cfg must outlive the solver. */
struct zp_solver *zp_solver_new(const struct zp_config *cfg, struct zp_err *err);
void zp_solver_set_secret_source(struct zp_solver *s, zp_secret_get_fn *fn, void *arg);
/*
 * The write-ahead journal (journal.h), before the first submit; NULL: none.
 * With one, a Present whose entry cannot be recorded fails before any
 * write, and a CleanUp removes its entry. The caller keeps j.
 */
struct zp_journal;
void zp_solver_set_journal(struct zp_solver *s, struct zp_journal *j);

/*
 * Exclusion across processes (replicas) for providers that rewrite a whole
 * RRset or zone (ZP_PROV_RMW): lock is called on the instance's worker
 * before the write, for the instance and the zone, and waits until it holds
 * the lock or the deadline passes (-1 with a sentence); unlock after. Set
 * before the first submit; NULL: this process is the only writer (the
 * in-process exclusion per name always applies).
 */
typedef int zp_solver_lock_fn(void *arg, const char *instance, const char *zone,
                              uint64_t deadline_ms, struct zp_err *err);
typedef void zp_solver_unlock_fn(void *arg, const char *instance, const char *zone);
void zp_solver_set_lock(struct zp_solver *s, zp_solver_lock_fn *lock, zp_solver_unlock_fn *unlock,
                        void *arg);
void zp_solver_free(struct zp_solver *s);
/* The loaded checks (PSL, trust anchors, resolvers) the solver runs before a write. */
struct zp_precheck *zp_solver_precheck(struct zp_solver *s);

/*
 * Starts one challenge. Returns 0 and later calls done exactly once, or
 * returns -1 (queue full, shutting down) and never calls done.
 */
int zp_solver_submit(struct zp_solver *s, const struct zp_challenge *ch, zp_solve_done_fn *done,
                     void *arg, struct zp_err *err);

/*
 * The status page's document (trail.h): challenges in flight and the last
 * answered; persist (may be NULL), the keeper's entries as JSON text.
 */
int zp_solver_status_json(struct zp_solver *s, const char *persist, struct zp_buf *out);

/* Runs one challenge and waits for it: the CLI. */
void zp_solver_run(struct zp_solver *s, const struct zp_challenge *ch, struct zp_result *res);

/* The watch spec for a challenge routed to inst (also used by `check`). */
void zp_solver_watch_spec(const struct zp_instance *inst, const struct zp_challenge *ch,
                          const char *zone, struct zp_watch_spec *spec);

#endif
