/*
 * pool.c — a worker pool (pool.h): the threads, their loop, and the stop
 * that runs nothing more and gives every queued job back.
 *
 * Threads: the queue is shared under its own lock (queue.c); threads,
 * n_threads and stopped are the owner's (the thread that calls new, stop
 * and free); the workers read only cfg, which never changes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/pool.h"

struct zp_pool {
    struct zp_pool_cfg cfg; /* immutable */
    struct zp_queue q;
    pthread_t *threads;
    unsigned n_threads; /* started, to be joined */
    int stopped;
};

static void *pool_main(void *arg)
{
    struct zp_pool *p = arg;
    struct zp_qitem *it;

    while ((it = zp_queue_wait(&p->q)) != NULL)
        p->cfg.run(p->cfg.ctx, it);
    return NULL;
}

struct zp_pool *zp_pool_new(const struct zp_pool_cfg *cfg, struct zp_err *err)
{
    struct zp_pool *p = zp_xcalloc(1, sizeof(*p));
    struct zp_queue_hooks hooks = {.claim = cfg->claim, .ctx = cfg->ctx};
    unsigned want = cfg->threads ? cfg->threads : 1;
    sigset_t all, old;

    p->cfg = *cfg;
    zp_queue_init(&p->q, cfg->max, &hooks);
    p->threads = zp_xcalloc(want, sizeof(*p->threads));
    /* A thread inherits its creator's mask: block everything just for the creation. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (; p->n_threads < want; p->n_threads++)
        if (pthread_create(&p->threads[p->n_threads], NULL, pool_main, p) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->n_threads < want) {
        zp_pool_free(p); /* nothing can have been queued yet */
        zp_err_set(err, ZP_EINTERNAL, "cannot start %s threads", cfg->what ? cfg->what : "worker");
        return NULL;
    }
    return p;
}

int zp_pool_submit(struct zp_pool *p, struct zp_qitem *it, unsigned flags)
{
    return zp_queue_push(&p->q, it, flags);
}

int zp_pool_stopping(struct zp_pool *p)
{
    return zp_queue_closed(&p->q);
}

void zp_pool_kick(struct zp_pool *p)
{
    zp_queue_kick(&p->q);
}

void zp_pool_stop(struct zp_pool *p)
{
    struct zp_qitem *it, *next;

    if (p->stopped)
        return;
    p->stopped = 1;
    it = zp_queue_close(&p->q);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    p->n_threads = 0;
    /* After the joins: a give-back never overlaps a job still running. */
    for (; it != NULL; it = next) {
        next = it->next;
        it->next = NULL;
        if (p->cfg.give_back != NULL)
            p->cfg.give_back(p->cfg.ctx, it);
    }
}

void zp_pool_free(struct zp_pool *p)
{
    if (p == NULL)
        return;
    zp_pool_stop(p);
    zp_queue_destroy(&p->q);
    free(p->threads);
    free(p);
}
