/*
 * wait.h — the one way a thread waits for work finished on another: a
 * completion (a count, a mutex and a condition variable). One-shot use
 * signals once and waits for 1; a caller that started n jobs waits for n.
 *
 * Whatever the signalling thread wrote before zp_wait_signal is visible to
 * the waiter after zp_wait_for returns (the mutex orders them), so a
 * callback may fill the waiter's result and then signal. Once the waiter
 * has returned it may free the struct: the signaller touches nothing of it
 * after its last completion.
 */
#ifndef ZP_BASE_WAIT_H
#define ZP_BASE_WAIT_H

#include <pthread.h>

struct zp_wait {
    pthread_mutex_t mu; /* guards done */
    pthread_cond_t cv;
    unsigned done; /* completions signalled so far */
};

/* For a static or automatic struct zp_wait; zp_wait_init does the same at run time. */
#define ZP_WAIT_INIT                                                                               \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0                                     \
    }

void zp_wait_init(struct zp_wait *w);
void zp_wait_destroy(struct zp_wait *w);
/* Any thread: one more completion. */
void zp_wait_signal(struct zp_wait *w);
/* Sleeps until at least n completions were signalled (at once if they were). */
void zp_wait_for(struct zp_wait *w, unsigned n);
/* Completions so far (already stale when it returns). */
unsigned zp_wait_count(struct zp_wait *w);

#endif
