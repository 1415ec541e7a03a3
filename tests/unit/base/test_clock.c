/*
 * test_clock.c — the clock's three modes: a manual clock moves only when
 * advanced and its sleepers wake exactly then; a fast clock's sleeps return
 * at once and move it forward; both run the wake hooks a poll loop needs,
 * and count who is idle so a test knows when to advance. No assertion here
 * is about how long anything took in real time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"

#define GUARD_MS 30000u /* a hang fails the test; slowness does not */

static int hook_calls;

static void count_hook(void *arg)
{
    (void)arg;
    hook_calls++;
}

/* --- manual -------------------------------------------------------------------------------- */

static void manual_stands_still_until_advanced(void **state)
{
    uint64_t t0;

    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    t0 = zp_now_ms();
    assert_int_equal(t0, ZP_CLOCK_MANUAL_START);
    assert_int_equal(zp_now_ms(), t0);
    assert_int_equal(zp_ms_left(t0 + 250), 250);
    assert_int_equal(zp_clock_poll_ms(t0 + 250), -1); /* only an advance brings it */
    zp_clock_advance(100);
    assert_int_equal(zp_now_ms(), t0 + 100);
    assert_int_equal(zp_ms_left(t0 + 250), 150);
    zp_clock_advance(150);
    assert_int_equal(zp_ms_left(t0 + 250), 0);
    assert_int_equal(zp_clock_poll_ms(t0 + 250), 0);
    zp_sleep_ms(0); /* nothing to wait for: returns */
}

struct sleeper {
    pthread_t th;
    uint64_t ms, woke_at;
    atomic_int done;
};

static void *sleeper_main(void *arg)
{
    struct sleeper *s = arg;

    zp_sleep_ms(s->ms);
    s->woke_at = zp_now_ms();
    atomic_store(&s->done, 1);
    return NULL;
}

static void manual_sleeper_wakes_at_its_time(void **state)
{
    struct sleeper s = {.ms = 500};
    uint64_t t0;

    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    t0 = zp_now_ms();
    assert_int_equal(pthread_create(&s.th, NULL, sleeper_main, &s), 0);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0); /* asleep */
    zp_clock_advance(499);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0); /* looked, and went back to sleep */
    assert_int_equal(atomic_load(&s.done), 0);
    zp_clock_advance(1);
    pthread_join(s.th, NULL);
    assert_int_equal(s.woke_at, t0 + 500);
    assert_int_equal(zp_clock_slept_ms(), 500);
}

static void manual_two_sleepers_one_advance(void **state)
{
    struct sleeper a = {.ms = 1000}, b = {.ms = 3000};
    uint64_t t0;

    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    t0 = zp_now_ms();
    pthread_create(&a.th, NULL, sleeper_main, &a);
    pthread_create(&b.th, NULL, sleeper_main, &b);
    assert_int_equal(zp_clock_wait_idle(2, GUARD_MS), 0);
    zp_clock_advance(5000); /* past both: each wakes, at the time the clock shows */
    pthread_join(a.th, NULL);
    pthread_join(b.th, NULL);
    assert_int_equal(a.woke_at, t0 + 5000);
    assert_int_equal(b.woke_at, t0 + 5000);
    assert_int_equal(zp_clock_slept_ms(), 4000);
}

static void manual_advance_runs_hooks(void **state)
{
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    hook_calls = 0;
    assert_int_equal(zp_clock_hook_add(count_hook, NULL), 0);
    zp_clock_advance(10);
    zp_clock_advance(10);
    assert_int_equal(hook_calls, 2);
    zp_clock_hook_del(count_hook, NULL);
    zp_clock_advance(10);
    assert_int_equal(hook_calls, 2);
}

static void hooks_are_bounded(void **state)
{
    int n = 0;

    while (zp_clock_hook_add(count_hook, (void *)(intptr_t)(n + 1)) == 0)
        n++;
    assert_int_equal(n, 32);
    while (n > 0)
        zp_clock_hook_del(count_hook, (void *)(intptr_t)n--);
    assert_int_equal(zp_clock_hook_add(count_hook, NULL), 0);
    zp_clock_hook_del(count_hook, NULL);
}

/* Idle: enough loops and sleepers wait for the clock alone, and no handed work is unseen. */
static void idle_counts_loops_and_pending_work(void **state)
{
    int counted;

    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    assert_int_equal(zp_clock_wait_idle(1, 0), -1);
    counted = zp_clock_idle_begin();
    assert_true(counted);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0);
    zp_clock_pending(1); /* work handed to the loop, which has not looked yet */
    assert_int_equal(zp_clock_wait_idle(1, 0), -1);
    zp_clock_pending(-1);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0);
    zp_clock_idle_end(counted);
    assert_int_equal(zp_clock_wait_idle(1, 0), -1);

    zp_clock_set_mode(ZP_CLOCK_REAL); /* counts only on a manual clock */
    assert_false(zp_clock_idle_begin());
}

/*
 * The pattern a poll loop follows (the watcher's): a timer on the clock, a
 * wake pipe written by a hook, idle only when nothing but the clock can
 * bring work. The loop fires its timer when, and only when, the test
 * advances past it.
 */
struct loop {
    int pipe[2];
    uint64_t due;
    atomic_int fired, stop;
    pthread_t th;
};

static void loop_wake(void *arg)
{
    struct loop *l = arg;

    zp_clock_pending(1);
    if (write(l->pipe[1], "x", 1) != 1)
        zp_clock_pending(-1);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    char buf[16];
    ssize_t woken = 0, n;

    while (!atomic_load(&l->stop)) {
        int timeout, idle;
        struct pollfd p = {l->pipe[0], POLLIN, 0};

        if (atomic_load(&l->fired) == 0 && zp_now_ms() >= l->due)
            atomic_store(&l->fired, 1);
        zp_clock_pending(-(int)woken); /* looked at the timer since the wake-ups */
        woken = 0;
        timeout = atomic_load(&l->fired) ? -1 : zp_clock_poll_ms(l->due);
        idle = zp_clock_idle_begin();
        poll(&p, 1, timeout);
        zp_clock_idle_end(idle);
        while ((n = read(l->pipe[0], buf, sizeof(buf))) > 0)
            woken += n;
    }
    return NULL;
}

static void manual_poll_loop_fires_on_advance(void **state)
{
    struct loop l = {0};

    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    assert_int_equal(pipe(l.pipe), 0);
    assert_int_equal(fcntl(l.pipe[0], F_SETFL, O_NONBLOCK), 0);
    l.due = zp_now_ms() + 2000;
    zp_clock_hook_add(loop_wake, &l);
    pthread_create(&l.th, NULL, loop_main, &l);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0);
    zp_clock_advance(1999);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0);
    assert_int_equal(atomic_load(&l.fired), 0);
    zp_clock_advance(1);
    assert_int_equal(zp_clock_wait_idle(1, GUARD_MS), 0);
    assert_int_equal(atomic_load(&l.fired), 1);
    atomic_store(&l.stop, 1);
    loop_wake(&l);
    pthread_join(l.th, NULL);
    zp_clock_hook_del(loop_wake, &l);
    close(l.pipe[0]);
    close(l.pipe[1]);
}

/* --- fast and real ------------------------------------------------------------------------- */

static void fast_sleep_moves_the_clock(void **state)
{
    uint64_t t0;

    zp_clock_set_mode(ZP_CLOCK_FAST);
    hook_calls = 0;
    zp_clock_hook_add(count_hook, NULL);
    t0 = zp_now_ms();
    zp_sleep_ms(60000); /* a minute of status polling, at once */
    assert_true(zp_now_ms() - t0 >= 60000);
    assert_true(zp_ms_left(t0 + 60000) == 0);
    assert_int_equal(hook_calls, 1); /* other threads' timers may be due */
    assert_int_equal(zp_clock_slept_ms(), 60000);
    zp_clock_advance(1000); /* only a manual clock is advanced */
    assert_int_equal(hook_calls, 1);
    zp_clock_hook_del(count_hook, NULL);
}

static void real_sleep_waits(void **state)
{
    uint64_t t0;

    zp_clock_set_mode(ZP_CLOCK_REAL);
    assert_int_equal(zp_clock_mode(), ZP_CLOCK_REAL);
    t0 = zp_now_ms();
    zp_sleep_ms(2);
    assert_true(zp_now_ms() - t0 >= 2); /* a floor the kernel guarantees, not a speed */
    assert_int_equal(zp_clock_slept_ms(), 2);
    assert_true(zp_clock_poll_ms(zp_now_ms() + 5000) > 0);
}

static void mode_names(void **state)
{
    enum zp_clock_mode m;

    assert_int_equal(zp_clock_mode_parse("fast", &m), 0);
    assert_int_equal(m, ZP_CLOCK_FAST);
    assert_int_equal(zp_clock_mode_parse("manual", &m), 0);
    assert_int_equal(m, ZP_CLOCK_MANUAL);
    assert_int_equal(zp_clock_mode_parse("real", &m), 0);
    assert_int_equal(m, ZP_CLOCK_REAL);
    assert_int_equal(zp_clock_mode_parse("Fast", &m), -1);
    assert_int_equal(zp_clock_mode_parse("", &m), -1);
    assert_int_equal(zp_clock_mode_parse(NULL, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(manual_stands_still_until_advanced),
        cmocka_unit_test(manual_sleeper_wakes_at_its_time),
        cmocka_unit_test(manual_two_sleepers_one_advance),
        cmocka_unit_test(manual_advance_runs_hooks),
        cmocka_unit_test(hooks_are_bounded),
        cmocka_unit_test(idle_counts_loops_and_pending_work),
        cmocka_unit_test(manual_poll_loop_fires_on_advance),
        cmocka_unit_test(fast_sleep_moves_the_clock),
        cmocka_unit_test(real_sleep_waits),
        cmocka_unit_test(mode_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
