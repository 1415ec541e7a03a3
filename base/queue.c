/*
 * queue.c — the intrusive, bounded, locked FIFO every pool and hand-off
 * shares (queue.h). It owns the links of the items it holds and nothing
 * else: what an item is, and what running one means, are the caller's.
 *
 * Threads: any. Everything is under q->mu; the claim and wake hooks run
 * with it held, which is what makes "skip a busy item, sleep, be kicked"
 * free of lost wake-ups.
 */
#include <pthread.h>
#include <stddef.h>

#include "base/queue.h"

void zp_queue_init(struct zp_queue *q, size_t max, const struct zp_queue_hooks *hooks)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = NULL;
    q->tail = &q->head;
    q->n = 0;
    q->max = max;
    q->closed = 0;
    q->hooks.claim = hooks ? hooks->claim : NULL;
    q->hooks.wake = hooks ? hooks->wake : NULL;
    q->hooks.ctx = hooks ? hooks->ctx : NULL;
}

void zp_queue_destroy(struct zp_queue *q)
{
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
}

int zp_queue_push(struct zp_queue *q, struct zp_qitem *it, unsigned flags)
{
    int rc = -1;

    it->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->closed || (!(flags & ZP_Q_ACCEPTED) && q->max > 0 && q->n >= q->max))
        goto out;
    *q->tail = it;
    q->tail = &it->next;
    q->n++;
    /*
     * One sleeper is enough: the others slept because nothing they could
     * claim was queued, and only this item is new. kick() wakes them all.
     */
    pthread_cond_signal(&q->cv);
    if (q->hooks.wake != NULL)
        q->hooks.wake(q->hooks.ctx);
    rc = 0;
out:
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* q->mu held. */
static struct zp_qitem *take_locked(struct zp_queue *q)
{
    struct zp_qitem **pp;

    for (pp = &q->head; *pp != NULL; pp = &(*pp)->next) {
        struct zp_qitem *it = *pp;
        if (q->hooks.claim != NULL && !q->hooks.claim(q->hooks.ctx, it))
            continue;
        *pp = it->next;
        if (q->tail == &it->next)
            q->tail = pp;
        q->n--;
        it->next = NULL;
        return it;
    }
    return NULL;
}

struct zp_qitem *zp_queue_take(struct zp_queue *q)
{
    struct zp_qitem *it;

    pthread_mutex_lock(&q->mu);
    it = q->closed ? NULL : take_locked(q);
    pthread_mutex_unlock(&q->mu);
    return it;
}

struct zp_qitem *zp_queue_wait(struct zp_queue *q)
{
    struct zp_qitem *it = NULL;

    pthread_mutex_lock(&q->mu);
    while (!q->closed && (it = take_locked(q)) == NULL)
        pthread_cond_wait(&q->cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    return it;
}

/* q->mu held. */
static struct zp_qitem *take_all_locked(struct zp_queue *q)
{
    struct zp_qitem *list = q->head;

    q->head = NULL;
    q->tail = &q->head;
    q->n = 0;
    return list;
}

struct zp_qitem *zp_queue_take_all(struct zp_queue *q)
{
    struct zp_qitem *list;

    pthread_mutex_lock(&q->mu);
    list = take_all_locked(q);
    pthread_mutex_unlock(&q->mu);
    return list;
}

void zp_queue_kick(struct zp_queue *q)
{
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

struct zp_qitem *zp_queue_close(struct zp_queue *q)
{
    struct zp_qitem *list;

    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    list = take_all_locked(q);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return list;
}

int zp_queue_closed(struct zp_queue *q)
{
    int closed;

    pthread_mutex_lock(&q->mu);
    closed = q->closed;
    pthread_mutex_unlock(&q->mu);
    return closed;
}

size_t zp_queue_len(struct zp_queue *q)
{
    size_t n;

    pthread_mutex_lock(&q->mu);
    n = q->n;
    pthread_mutex_unlock(&q->mu);
    return n;
}
