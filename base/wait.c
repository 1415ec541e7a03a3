/*
 * wait.c — completions (wait.h): how zp_solver_run, zp_watch_check_once
 * and the tests wait for a callback that runs on a pool's thread.
 *
 * Threads: any; done is under mu.
 */
#include <pthread.h>

#include "base/wait.h"

void zp_wait_init(struct zp_wait *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = 0;
}

void zp_wait_destroy(struct zp_wait *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

void zp_wait_signal(struct zp_wait *w)
{
    pthread_mutex_lock(&w->mu);
    w->done++;
    /* Broadcast: waiters for different counts share one completion. */
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void zp_wait_for(struct zp_wait *w, unsigned n)
{
    pthread_mutex_lock(&w->mu);
    while (w->done < n)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

unsigned zp_wait_count(struct zp_wait *w)
{
    unsigned n;

    pthread_mutex_lock(&w->mu);
    n = w->done;
    pthread_mutex_unlock(&w->mu);
    return n;
}
