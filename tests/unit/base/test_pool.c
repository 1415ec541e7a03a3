/*
 * test_pool.c — the queue, the worker pool and the completion every pool
 * of zoneproof shares: FIFO order, a full queue refusing new jobs but
 * never an accepted one, a job skipped while its claim says no and run
 * after a kick, a stop that runs nothing more and gives the queued jobs
 * back on the stopping thread, worker threads with every signal blocked,
 * and the queue's wake hook and close as the server's hand-off uses them.
 *
 * Nothing here sleeps or measures time: every wait is a completion
 * (base/wait.h), so a slow machine is only slower.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "base/err.h"
#include "base/pool.h"
#include "base/queue.h"
#include "base/wait.h"

#define MAXJOBS 64

enum gate { NO_GATE, GATE_RELEASE, GATE_STOP };

struct tjob {
    struct zp_qitem link;
    int id;
    int key;        /* the claim lets it run only while allowed[key] */
    enum gate gate; /* GATE_*: signal started, then hold the worker */
};

/* What the pool did, as the callbacks saw it. */
struct rec {
    struct zp_pool *pool;
    pthread_mutex_t mu; /* guards the arrays and counts below */
    int ran[MAXJOBS], n_ran;
    int back[MAXJOBS], n_back;
    int back_after_gate;    /* a give-back came after the gate job returned */
    int gate_done;          /* the gate job returned */
    pthread_t back_on;      /* the thread of the last give-back */
    int sigs_blocked;       /* every run saw SIGTERM, SIGINT and SIGHUP blocked */
    atomic_int allowed[2];  /* read by the claim under the queue's lock */
    struct zp_wait started; /* a gate job runs */
    struct zp_wait release; /* GATE_RELEASE: the gate job may return */
    struct zp_wait done;    /* one per job run */
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    zp_wait_init(&r->started);
    zp_wait_init(&r->release);
    zp_wait_init(&r->done);
    atomic_init(&r->allowed[0], 1);
    atomic_init(&r->allowed[1], 1);
    r->sigs_blocked = 1;
}

static void rec_destroy(struct rec *r)
{
    zp_wait_destroy(&r->started);
    zp_wait_destroy(&r->release);
    zp_wait_destroy(&r->done);
    pthread_mutex_destroy(&r->mu);
}

static int blocked_here(void)
{
    sigset_t set;

    pthread_sigmask(SIG_BLOCK, NULL, &set);
    return sigismember(&set, SIGTERM) && sigismember(&set, SIGINT) && sigismember(&set, SIGHUP);
}

static void run(void *ctx, struct zp_qitem *it)
{
    struct rec *r = ctx;
    struct tjob *j = ZP_CONTAINER_OF(it, struct tjob, link);
    int blocked = blocked_here();

    if (j->gate != NO_GATE)
        zp_wait_signal(&r->started);
    if (j->gate == GATE_RELEASE)
        zp_wait_for(&r->release, 1);
    /* Holds the only worker until the stop has closed the queue: no timer, just the state. */
    while (j->gate == GATE_STOP && !zp_pool_stopping(r->pool))
        sched_yield();
    pthread_mutex_lock(&r->mu);
    r->ran[r->n_ran++] = j->id;
    r->sigs_blocked &= blocked;
    if (j->gate != NO_GATE)
        r->gate_done = 1;
    pthread_mutex_unlock(&r->mu);
    zp_wait_signal(&r->done);
}

static void give_back(void *ctx, struct zp_qitem *it)
{
    struct rec *r = ctx;
    struct tjob *j = ZP_CONTAINER_OF(it, struct tjob, link);

    pthread_mutex_lock(&r->mu);
    r->back[r->n_back++] = j->id;
    r->back_after_gate = r->gate_done;
    r->back_on = pthread_self();
    pthread_mutex_unlock(&r->mu);
}

static int claim(void *ctx, struct zp_qitem *it)
{
    struct rec *r = ctx;

    return atomic_load(&r->allowed[ZP_CONTAINER_OF(it, struct tjob, link)->key]);
}

static struct zp_pool *start(struct rec *r, unsigned threads, size_t max, int with_claim)
{
    struct zp_pool_cfg cfg = {
        .what = "test",
        .threads = threads,
        .max = max,
        .run = run,
        .give_back = give_back,
        .claim = with_claim ? claim : NULL,
        .ctx = r,
    };
    struct zp_err err = {0};

    r->pool = zp_pool_new(&cfg, &err);
    assert_non_null(r->pool);
    return r->pool;
}

static void fifo_order(void **state)
{
    struct rec r;
    struct tjob gate = {.id = 0, .gate = GATE_RELEASE}, jobs[10];
    struct zp_pool *p;

    rec_init(&r);
    p = start(&r, 1, 0, 0);
    assert_int_equal(zp_pool_submit(p, &gate.link, 0), 0);
    zp_wait_for(&r.started, 1); /* the one worker is busy: the rest queue up */
    for (int i = 0; i < 10; i++) {
        jobs[i] = (struct tjob){.id = i + 1};
        assert_int_equal(zp_pool_submit(p, &jobs[i].link, 0), 0);
    }
    zp_wait_signal(&r.release);
    zp_wait_for(&r.done, 11);
    for (int i = 0; i < 11; i++)
        assert_int_equal(r.ran[i], i);
    assert_true(r.sigs_blocked); /* signals stay the caller's thread's */
    zp_pool_free(p);
    assert_int_equal(r.n_back, 0);
    rec_destroy(&r);
}

static void full_queue_refused_accepted_never(void **state)
{
    struct rec r;
    struct tjob gate = {.id = 0, .gate = GATE_RELEASE}, jobs[5];
    struct zp_pool *p;

    rec_init(&r);
    p = start(&r, 1, 3, 0);
    assert_int_equal(zp_pool_submit(p, &gate.link, 0), 0);
    zp_wait_for(&r.started, 1);
    for (int i = 0; i < 5; i++)
        jobs[i] = (struct tjob){.id = i + 1};
    for (int i = 0; i < 3; i++)
        assert_int_equal(zp_pool_submit(p, &jobs[i].link, 0), 0);
    assert_int_equal(zp_pool_submit(p, &jobs[3].link, 0), -1);
    assert_false(zp_pool_stopping(p)); /* refused for a full queue, not a stop */
    /* A job accepted earlier and coming back is never refused for a full queue. */
    assert_int_equal(zp_pool_submit(p, &jobs[4].link, ZP_Q_ACCEPTED), 0);
    zp_wait_signal(&r.release);
    zp_wait_for(&r.done, 5);
    zp_pool_free(p);
    assert_int_equal(r.n_ran, 5);
    assert_int_equal(r.ran[4], 5); /* jobs[4], id 5: the refused jobs[3] never ran */
    rec_destroy(&r);
}

static void claim_skips_until_kick(void **state)
{
    struct rec r;
    struct tjob busy = {.id = 1, .key = 1}, free_ = {.id = 2, .key = 0};
    struct zp_pool *p;

    rec_init(&r);
    atomic_store(&r.allowed[1], 0);
    p = start(&r, 2, 0, 1);
    assert_int_equal(zp_pool_submit(p, &busy.link, 0), 0);
    assert_int_equal(zp_pool_submit(p, &free_.link, 0), 0);
    /* The later job runs; the earlier one stays queued while its claim says no. */
    zp_wait_for(&r.done, 1);
    pthread_mutex_lock(&r.mu);
    assert_int_equal(r.n_ran, 1);
    assert_int_equal(r.ran[0], 2);
    pthread_mutex_unlock(&r.mu);

    atomic_store(&r.allowed[1], 1);
    zp_pool_kick(p);
    zp_wait_for(&r.done, 2);
    assert_int_equal(r.ran[1], 1);
    zp_pool_free(p);
    rec_destroy(&r);
}

static void stop_gives_queued_back(void **state)
{
    struct rec r;
    struct tjob gate = {.id = 0, .gate = GATE_STOP}, jobs[3], late = {.id = 9};
    struct zp_pool *p;

    rec_init(&r);
    p = start(&r, 1, 0, 0);
    assert_int_equal(zp_pool_submit(p, &gate.link, 0), 0);
    zp_wait_for(&r.started, 1);
    for (int i = 0; i < 3; i++) {
        jobs[i] = (struct tjob){.id = i + 1};
        assert_int_equal(zp_pool_submit(p, &jobs[i].link, 0), 0);
    }
    zp_pool_stop(p); /* the gate job sees the stop and returns; nothing more runs */
    assert_int_equal(r.n_ran, 1);
    assert_int_equal(r.n_back, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r.back[i], i + 1);
    assert_true(r.back_after_gate); /* given back only once the workers ended */
    assert_true(pthread_equal(r.back_on, pthread_self()));

    /* Stopped: everything is refused, even an accepted job; stopping again is harmless. */
    assert_true(zp_pool_stopping(p));
    assert_int_equal(zp_pool_submit(p, &late.link, ZP_Q_ACCEPTED), -1);
    zp_pool_stop(p);
    zp_pool_free(p);
    assert_int_equal(r.n_back, 3);
    rec_destroy(&r);
}

/* ---- the queue alone, as the hand-off uses it -------------------------------- */

static void count_wake(void *ctx)
{
    (*(int *)ctx)++;
}

static void queue_wake_take_all_close(void **state)
{
    struct zp_queue q;
    int wakes = 0;
    struct zp_queue_hooks hooks = {.wake = count_wake, .ctx = &wakes};
    struct tjob a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    struct zp_qitem *list;

    zp_queue_init(&q, 2, &hooks);
    assert_null(zp_queue_take(&q));
    assert_int_equal(zp_queue_push(&q, &a.link, 0), 0);
    assert_int_equal(zp_queue_push(&q, &b.link, 0), 0);
    assert_int_equal(zp_queue_push(&q, &c.link, 0), -1); /* full, and no wake for it */
    assert_int_equal(wakes, 2);
    assert_int_equal(zp_queue_len(&q), 2);

    list = zp_queue_take_all(&q);
    assert_ptr_equal(list, &a.link);
    assert_ptr_equal(list->next, &b.link);
    assert_null(list->next->next);
    assert_int_equal(zp_queue_len(&q), 0);

    assert_int_equal(zp_queue_push(&q, &c.link, 0), 0);
    list = zp_queue_close(&q);
    assert_ptr_equal(list, &c.link);
    assert_null(list->next);
    assert_true(zp_queue_closed(&q));
    assert_int_equal(zp_queue_push(&q, &a.link, ZP_Q_ACCEPTED), -1);
    assert_null(zp_queue_wait(&q)); /* closed: never sleeps */
    assert_null(zp_queue_close(&q));
    assert_int_equal(wakes, 3);
    zp_queue_destroy(&q);
}

/* ---- the completion ------------------------------------------------------------ */

static void *signal_thrice(void *arg)
{
    for (int i = 0; i < 3; i++)
        zp_wait_signal(arg);
    return NULL;
}

static void wait_counts_completions(void **state)
{
    struct zp_wait w = ZP_WAIT_INIT;
    pthread_t t;

    assert_int_equal(zp_wait_count(&w), 0);
    zp_wait_for(&w, 0); /* nothing to wait for */
    assert_int_equal(pthread_create(&t, NULL, signal_thrice, &w), 0);
    zp_wait_for(&w, 3);
    assert_int_equal(zp_wait_count(&w), 3);
    zp_wait_for(&w, 1); /* already reached: returns at once */
    pthread_join(t, NULL);
    zp_wait_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_order),
        cmocka_unit_test(full_queue_refused_accepted_never),
        cmocka_unit_test(claim_skips_until_kick),
        cmocka_unit_test(stop_gives_queued_back),
        cmocka_unit_test(queue_wake_take_all_close),
        cmocka_unit_test(wait_counts_completions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
