/*
 * pool.h — the one worker pool: N threads that take jobs from one queue
 * (queue.h) in FIFO order and run them. Every pool of zoneproof is one of
 * these: the solver's provider workers, the server's kube-apiserver
 * workers, the watcher's loops (each thread runs its loop as the one long
 * job the pool hands it).
 *
 * Threads start with every signal blocked: signals belong to the caller's
 * main or event-loop thread. A job is answered exactly once: run on a
 * worker, or, if the pool stopped first, given back.
 */
#ifndef ZP_BASE_POOL_H
#define ZP_BASE_POOL_H

#include <stddef.h>

#include "base/queue.h"

struct zp_err;

/* A job of the pool: it is the caller's again when the call starts. */
typedef void zp_pool_job_fn(void *ctx, struct zp_qitem *it);

struct zp_pool_cfg {
    const char *what; /* the threads, for the error: "provider worker" */
    unsigned threads; /* at least 1 */
    size_t max;       /* queued jobs at most; 0: no bound */
    zp_pool_job_fn *run;
    /* At stop, for each job never run, on the stopping thread after the workers ended. */
    zp_pool_job_fn *give_back;
    /* May a queued job run now (queue.h)? NULL: always. Runs under the queue's lock. */
    zp_queue_claim_fn *claim;
    void *ctx; /* for all three */
};

struct zp_pool;

/*
 * Starts cfg->threads workers (cfg is copied). On failure none is left
 * running: "cannot start <what> threads".
 */
struct zp_pool *zp_pool_new(const struct zp_pool_cfg *cfg, struct zp_err *err);
/*
 * Any thread: queues it. Returns 0, or -1 when the queue is full (flags
 * without ZP_Q_ACCEPTED) or the pool is stopping; then it stays the
 * caller's and nothing is ever called for it.
 */
int zp_pool_submit(struct zp_pool *p, struct zp_qitem *it, unsigned flags);
/* Whether a refused submit was refused for a stop (rather than a full queue). */
int zp_pool_stopping(struct zp_pool *p);
/* Any thread: something that made a job unclaimable changed; workers look again. */
void zp_pool_kick(struct zp_pool *p);
/*
 * The owner: refuses new jobs, lets the jobs running now finish (a job
 * that never returns never lets this return: stop its loop first), joins
 * the threads, then gives back every job never run. Later submits are
 * refused; the pool stays valid until zp_pool_free. Stopping twice is
 * harmless.
 */
void zp_pool_stop(struct zp_pool *p);
/* Stops if needed, then frees. Accepts NULL. */
void zp_pool_free(struct zp_pool *p);

#endif
