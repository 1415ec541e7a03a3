/*
 * test_bulkhead.c — one provider instance never stalls another: an
 * instance whose calls hang fills only its own workers, a healthy
 * instance's Present is answered meanwhile, and a call that waited in its
 * instance's queue past its budget fails at once without being made, with
 * a sentence that says so. The clock is manual: the hanging call sleeps
 * on it, and the test moves it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/wait.h"
#include "providers/provider.h"
#include "solver/solver.h"

#define BUDGET_MS 5000u

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int hung_calls, fast_calls; /* guarded by mu */
static struct zp_wait hung_started;

/* An API that answers after longer than a Present's budget. */
static int hung_call(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    (void)cfg;
    (void)rec;
    (void)call;
    pthread_mutex_lock(&mu);
    hung_calls++;
    pthread_mutex_unlock(&mu);
    zp_wait_signal(&hung_started);
    zp_sleep_ms(BUDGET_MS + 500);
    return zp_err_set(err, ZP_ETRANSIENT, "no answer from the API");
}

static int fast_call(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    (void)cfg;
    (void)rec;
    (void)call;
    (void)err;
    pthread_mutex_lock(&mu);
    fast_calls++;
    pthread_mutex_unlock(&mu);
    return 0;
}

static const struct zp_provider_ops hung_ops = {"hung", 0, .present = hung_call,
                                                .cleanup = hung_call};
static const struct zp_provider_ops fast_ops = {"fast", 0, .present = fast_call,
                                                .cleanup = fast_call};

static char *hung_zones[] = {"hung.test.", NULL};
static char *fast_zones[] = {"fast.test.", NULL};
static struct zp_instance insts[] = {
    {.name = "hung",
     .ops = &hung_ops,
     .zones = hung_zones,
     .n_zones = 1,
     .ttl = 60,
     .concurrency = 1,
     .prop = {.mode = ZP_PROP_SKIP, .timeout_ms = BUDGET_MS}},
    {.name = "fast",
     .ops = &fast_ops,
     .zones = fast_zones,
     .n_zones = 1,
     .ttl = 60,
     .concurrency = 1,
     .prop = {.mode = ZP_PROP_SKIP, .timeout_ms = BUDGET_MS}},
};
static struct zp_config cfg = {
    .prop = {.mode = ZP_PROP_SKIP, .timeout_ms = BUDGET_MS},
    .watch_workers = 1,
    .provider_workers = 1,
    .inst = insts,
    .n_inst = 2,
};

struct tally {
    pthread_mutex_t mu; /* guards ok, failed and msg */
    int ok, failed;
    char msg[ZP_ERR_MSG_MAX];
    struct zp_wait done;
};

static void on_done(void *arg, const struct zp_result *res)
{
    struct tally *t = arg;

    pthread_mutex_lock(&t->mu);
    if (res->ok)
        t->ok++;
    else
        t->failed++;
    if (!res->ok)
        snprintf(t->msg, sizeof(t->msg), "%s", res->err.msg);
    pthread_mutex_unlock(&t->mu);
    zp_wait_signal(&t->done);
}

static void submit(struct zp_solver *s, struct tally *t, const char *fqdn)
{
    struct zp_challenge ch;
    struct zp_err err = {0};

    assert_int_equal(zp_challenge_make(&ch, ZP_PRESENT, fqdn, NULL, "v", NULL, &err), 0);
    assert_int_equal(zp_solver_submit(s, &ch, on_done, t, &err), 0);
}

static void hung_instance_stalls_only_itself(void **state)
{
    struct tally hung = {.mu = PTHREAD_MUTEX_INITIALIZER}, fast = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct zp_err err = {0};
    struct zp_solver *s;

    (void)state;
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    zp_wait_init(&hung_started);
    zp_wait_init(&hung.done);
    zp_wait_init(&fast.done);
    s = zp_solver_new(&cfg, &err);
    assert_non_null(s);

    submit(s, &hung, "_acme-challenge.a.hung.test");
    submit(s, &hung, "_acme-challenge.b.hung.test");
    submit(s, &hung, "_acme-challenge.c.hung.test");
    /*
     * hung's one worker sleeps in its first call; the other two wait in hung's queue. Idle
     * threads: that sleeper and the watcher's loop.
     */
    zp_wait_for(&hung_started, 1);
    assert_int_equal(zp_clock_wait_idle(2, 10000), 0);

    /* With one shared pool this would wait behind hung's queue: here it is answered. */
    submit(s, &fast, "_acme-challenge.www.fast.test");
    zp_wait_for(&fast.done, 1);
    assert_int_equal(fast.ok, 1);

    /* The first call ends past every budget; the queued two are answered without a call. */
    zp_clock_advance(BUDGET_MS + 1000);
    zp_wait_for(&hung.done, 3);
    assert_int_equal(hung.ok, 0);
    assert_int_equal(hung.failed, 3);
    pthread_mutex_lock(&mu);
    assert_int_equal(hung_calls, 1);
    assert_int_equal(fast_calls, 1);
    pthread_mutex_unlock(&mu);
    assert_non_null(strstr(hung.msg, "provider instance hung (hung) was busy with earlier "
                                     "challenges until this one's time was up, so nothing was "
                                     "written"));
    /* A stable sentence: nothing in it that changes between attempts. */
    assert_null(strpbrk(hung.msg, "0123456789"));
    zp_solver_free(s);
    zp_wait_destroy(&hung.done);
    zp_wait_destroy(&fast.done);
}

/*
 * workers.maxQueued: past the bound a challenge is refused at once, nothing written, with a
 * sentence that names the bound and is the same every time; the other instance's queue is its own.
 * cli: the configuration is the command line's, whose user, not cert-manager, tries again.
 */
static void queue_bound(int cli)
{
    struct tally hung = {.mu = PTHREAD_MUTEX_INITIALIZER}, fast = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct zp_config small = cfg;
    struct zp_challenge ch;
    struct zp_err err = {0}, again = {0};
    struct zp_solver *s;

    small.max_queued = 2;
    small.cli = cli;
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    zp_wait_init(&hung_started);
    zp_wait_init(&hung.done);
    zp_wait_init(&fast.done);
    pthread_mutex_lock(&mu);
    hung_calls = 0;
    pthread_mutex_unlock(&mu);
    s = zp_solver_new(&small, &err);
    assert_non_null(s);
    submit(s, &hung, "_acme-challenge.a.hung.test"); /* taken by hung's one worker */
    zp_wait_for(&hung_started, 1);
    submit(s, &hung, "_acme-challenge.b.hung.test"); /* queued */
    submit(s, &hung, "_acme-challenge.c.hung.test"); /* queued: the bound */
    assert_int_equal(
        zp_challenge_make(&ch, ZP_PRESENT, "_acme-challenge.d.hung.test", NULL, "v", NULL, &err),
        0);
    assert_int_equal(zp_solver_submit(s, &ch, on_done, &hung, &err), -1);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_string_equal(err.msg, cli ? "too many challenges are queued for provider instance hung "
                                       "(workers.maxQueued is 2); nothing was written, and a "
                                       "later run may succeed"
                                     : "too many challenges are queued for provider instance hung "
                                       "(workers.maxQueued is 2); nothing was written, and "
                                       "cert-manager retries");
    assert_int_equal(zp_solver_submit(s, &ch, on_done, &hung, &again), -1);
    assert_string_equal(again.msg, err.msg);
    /* Another instance's queue is not that one. */
    submit(s, &fast, "_acme-challenge.www.fast.test");
    zp_wait_for(&fast.done, 1);
    assert_int_equal(fast.ok, 1);
    /*
     * Advance only once hung's call sleeps on the clock: it signals hung_started just before, and
     * a sleep begun after the advance would wait for a time nobody brings.
     */
    assert_int_equal(zp_clock_wait_idle(2, 10000), 0);
    zp_clock_advance(BUDGET_MS + 1000);
    zp_wait_for(&hung.done, 3);
    pthread_mutex_lock(&mu);
    assert_int_equal(hung_calls, 1); /* the refused ones never reached the provider */
    pthread_mutex_unlock(&mu);
    zp_solver_free(s);
    zp_wait_destroy(&hung.done);
    zp_wait_destroy(&fast.done);
}

static void queue_bound_refuses_with_a_stable_sentence(void **state)
{
    (void)state;
    queue_bound(0);
}

static void queue_bound_on_the_command_line(void **state)
{
    (void)state;
    queue_bound(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hung_instance_stalls_only_itself),
        cmocka_unit_test(queue_bound_refuses_with_a_stable_sentence),
        cmocka_unit_test(queue_bound_on_the_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
