/*
 * queue.h — the one queue between threads: an intrusive, bounded, locked
 * FIFO. The caller embeds a struct zp_qitem in its own job, so queueing
 * never allocates and never fails for memory.
 *
 * Consumers either sleep in zp_queue_wait (a worker pool, pool.h) or are
 * woken by a hook called on every push (an event loop, k8s/server.c's
 * hand-off). A claim hook lets a consumer skip items that may not run yet
 * (the solver's names busy with a read-modify-write call); whoever makes
 * one runnable again calls zp_queue_kick. A closed queue refuses pushes
 * and hands back what it held.
 *
 * Threads: every function may be called from any thread; the hooks run
 * with the queue's lock held and must not call back into the queue.
 */
#ifndef ZP_BASE_QUEUE_H
#define ZP_BASE_QUEUE_H

#include <pthread.h>
#include <stddef.h>

/* Embedded in the caller's job; the queue owns next while the job is queued. */
struct zp_qitem {
    struct zp_qitem *next;
};

/* The job that embeds item as member (item must point into one). */
#define ZP_CONTAINER_OF(item, type, member)                                                        \
    ((type *)(void *)(((char *)(item)) - offsetof(type, member)))

/* Lock held: whether it may be taken now. Answering 1 takes it (note what you must). */
typedef int zp_queue_claim_fn(void *ctx, struct zp_qitem *it);
/* Lock held: an item was pushed. Must not block. */
typedef void zp_queue_wake_fn(void *ctx);

struct zp_queue_hooks {
    zp_queue_claim_fn *claim; /* NULL: every item may be taken */
    zp_queue_wake_fn *wake;   /* NULL: only zp_queue_wait sleepers are woken */
    void *ctx;
};

/* Push flag: the job was accepted earlier and comes back; a full queue takes it anyway. */
#define ZP_Q_ACCEPTED 1u

struct zp_queue {
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* zp_queue_wait's sleepers */
    struct zp_qitem *head, **tail;
    size_t n;
    size_t max; /* 0: no bound */
    int closed;
    struct zp_queue_hooks hooks; /* immutable after init */
};

/* hooks may be NULL; it is copied. */
void zp_queue_init(struct zp_queue *q, size_t max, const struct zp_queue_hooks *hooks);
/* When nobody uses q any more; items still queued are the caller's (close first). */
void zp_queue_destroy(struct zp_queue *q);

/*
 * Appends it. Returns 0, or -1 when the queue is closed or holds max items
 * (unless flags has ZP_Q_ACCEPTED); then it stays the caller's.
 */
int zp_queue_push(struct zp_queue *q, struct zp_qitem *it, unsigned flags);
/* The first item that may be taken now (see claim), or NULL. Never blocks. */
struct zp_qitem *zp_queue_take(struct zp_queue *q);
/* Like zp_queue_take, but sleeps until there is one; NULL once the queue is closed. */
struct zp_qitem *zp_queue_wait(struct zp_queue *q);
/* Every queued item, claim or not, as a list in FIFO order (follow next); NULL if none. */
struct zp_qitem *zp_queue_take_all(struct zp_queue *q);
/* Wakes every sleeper to look again: an item that could not be claimed may be now. */
void zp_queue_kick(struct zp_queue *q);
/*
 * Refuses every later push, wakes every sleeper (zp_queue_wait returns
 * NULL), and returns the items never taken, as zp_queue_take_all does.
 * Closing twice returns NULL the second time.
 */
struct zp_qitem *zp_queue_close(struct zp_queue *q);
int zp_queue_closed(struct zp_queue *q);
/* Items queued now (already stale when it returns: for logs and metrics). */
size_t zp_queue_len(struct zp_queue *q);

#endif
