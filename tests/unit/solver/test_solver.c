/*
 * test_solver.c — orchestration with a fake provider: challenges for
 * different names run in parallel, a read-modify-write provider never sees
 * two calls for one name at once, every submit is answered exactly once,
 * and failures carry the instance name and the provider's own sentence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/wait.h"
#include "providers/provider.h"
#include "solver/solver.h"

/* What the fake provider saw; guarded by mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int in_flight, max_in_flight;
static int same_name_overlap;
static char busy_names[64][ZP_DNAME_MAX];
static int n_busy;
static int calls;

static int fake_call(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    int fail = strstr(rec->fqdn, "fail") != NULL;

    pthread_mutex_lock(&mu);
    for (int i = 0; i < n_busy; i++)
        if (strcmp(busy_names[i], rec->fqdn) == 0)
            same_name_overlap = 1;
    snprintf(busy_names[n_busy++], sizeof(busy_names[0]), "%s", rec->fqdn);
    if (++in_flight > max_in_flight)
        max_in_flight = in_flight;
    calls++;
    pthread_mutex_unlock(&mu);

    usleep(20000); /* long enough for overlaps to happen if they can */

    pthread_mutex_lock(&mu);
    for (int i = 0; i < n_busy; i++) {
        if (strcmp(busy_names[i], rec->fqdn) == 0) {
            memmove(busy_names[i], busy_names[n_busy - 1], ZP_DNAME_MAX);
            n_busy--;
            break;
        }
    }
    in_flight--;
    pthread_mutex_unlock(&mu);
    if (fail)
        return zp_err_set(err, ZP_EPERM, "token may not edit zone %s", rec->zone);
    return 0;
}

static const struct zp_provider_ops fake_rmw = {
    .type = "fake",
    .flags = ZP_PROV_RMW,
    .present = fake_call,
    .cleanup = fake_call,
};

static char *zones[] = {"example.test.", NULL};
static struct zp_instance inst = {
    .name = "lab",
    .ops = &fake_rmw,
    .zones = zones,
    .n_zones = 1,
    .ttl = 60,
    .prop = {.mode = ZP_PROP_SKIP, .timeout_ms = 5000},
};
static struct zp_config cfg = {
    .prop = {.mode = ZP_PROP_SKIP, .timeout_ms = 5000},
    .watch_workers = 1,
    .provider_workers = 4,
    .inst = &inst,
    .n_inst = 1,
};

/* The answers: one completion each; ok and last_msg are read after waiting for them. */
struct tally {
    pthread_mutex_t mu; /* guards ok and last_msg */
    int ok;
    char last_msg[ZP_ERR_MSG_MAX];
    struct zp_wait done;
};

static void tally_init(struct tally *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    zp_wait_init(&t->done);
}

static void on_done(void *arg, const struct zp_result *res)
{
    struct tally *t = arg;

    pthread_mutex_lock(&t->mu);
    t->ok += res->ok;
    if (!res->ok)
        snprintf(t->last_msg, sizeof(t->last_msg), "%s", res->err.msg);
    pthread_mutex_unlock(&t->mu);
    zp_wait_signal(&t->done);
}

static void wait_for(struct tally *t, unsigned n)
{
    zp_wait_for(&t->done, n);
}

static void submit(struct zp_solver *s, struct tally *t, const char *fqdn, const char *key)
{
    struct zp_challenge ch;
    struct zp_err err = {0};

    assert_int_equal(zp_challenge_make(&ch, ZP_PRESENT, fqdn, NULL, key, NULL, &err), 0);
    assert_int_equal(zp_solver_submit(s, &ch, on_done, t, &err), 0);
}

static void reset(void)
{
    in_flight = max_in_flight = same_name_overlap = n_busy = calls = 0;
}

static void same_name_serialized_other_names_parallel(void **state)
{
    struct tally t;
    struct zp_err err = {0};
    struct zp_solver *s = zp_solver_new(&cfg, &err);
    char name[64];

    assert_non_null(s);
    tally_init(&t);
    reset();
    /* apex and wildcard: two values at one name, submitted together */
    for (int i = 0; i < 6; i++)
        submit(s, &t, "_acme-challenge.example.test", i % 2 ? "valueA" : "valueB");
    wait_for(&t, 6);
    assert_false(same_name_overlap);
    assert_int_equal(max_in_flight, 1);

    reset();
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "_acme-challenge.h%d.example.test", i);
        submit(s, &t, name, "value");
    }
    wait_for(&t, 14);
    assert_int_equal(t.ok, 14);
    assert_true(max_in_flight > 1); /* distinct names ran side by side */
    zp_solver_free(s);
}

static void failures_name_the_instance(void **state)
{
    struct tally t;
    struct zp_err err = {0};
    struct zp_solver *s = zp_solver_new(&cfg, &err);

    tally_init(&t);
    submit(s, &t, "_acme-challenge.fail.example.test", "v");
    wait_for(&t, 1);
    assert_int_equal(t.ok, 0);
    assert_string_equal(t.last_msg, "lab (fake): token may not edit zone example.test.");

    /* a name no instance serves is answered, not dropped */
    submit(s, &t, "_acme-challenge.example.org", "v");
    wait_for(&t, 2);
    assert_non_null(
        strstr(t.last_msg, "no provider is configured for _acme-challenge.example.org."));
    assert_non_null(strstr(t.last_msg, "example.test. (lab)"));
    zp_solver_free(s);
}

static void every_submit_answered_once_at_shutdown(void **state)
{
    struct tally t;
    struct zp_err err = {0};
    struct zp_solver *s = zp_solver_new(&cfg, &err);

    tally_init(&t);
    reset();
    for (int i = 0; i < 20; i++)
        submit(s, &t, "_acme-challenge.example.test", "v"); /* serialized: most stay queued */
    zp_solver_free(s);
    assert_int_equal(zp_wait_count(&t.done), 20);
    assert_true(calls < 20);
    assert_non_null(strstr(t.last_msg, "shutting down"));
}

static void run_is_synchronous(void **state)
{
    struct zp_err err = {0};
    struct zp_solver *s = zp_solver_new(&cfg, &err);
    struct zp_challenge ch;
    struct zp_result res;

    assert_int_equal(
        zp_challenge_make(&ch, ZP_CLEANUP, "_acme-challenge.example.test", NULL, "v", "lab", &err),
        0);
    zp_solver_run(s, &ch, &res);
    assert_true(res.ok);
    assert_string_equal(res.instance, "lab");
    assert_string_equal(res.type, "fake");
    zp_solver_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_name_serialized_other_names_parallel),
        cmocka_unit_test(failures_name_the_instance),
        cmocka_unit_test(every_submit_answered_once_at_shutdown),
        cmocka_unit_test(run_is_synchronous),
    };
    zp_log_set_level(ZP_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
