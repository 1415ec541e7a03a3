/*
 * test_watch_limits.c — what the watcher may hold and send: the cap on live
 * watches (workers.maxWatches) and who makes room at it, the pace of a
 * watch nobody waits on any more, the query budget of one watch, and a
 * flood of abandoned Presents. Against fake_ns.h's in-process nameservers,
 * on the manual clock: time moves only when a test advances it, after
 * zp_clock_wait_idle says every worker waits for the clock alone, so no
 * test sleeps and none bounds how long anything takes.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/watch.h"
#include "solver/watch_int.h"

#include "fake_ns.h"

/* --- one nameserver ------------------------------------------------------------------------ */

/* One nameserver, and the spec of one (name, value) on it. */
struct one {
    struct fake *f;
    char *ns[1];
    char fqdn[64], value[32];
};

static void one_start(struct one *o, enum fake_mode mode)
{
    o->f = fake_start(mode);
    o->ns[0] = addr_of(o->f);
}

static void one_stop(struct one *o)
{
    fake_stop(o->f);
    free(o->ns[0]);
}

static struct zp_watch_spec spec_n(struct one *o, unsigned i)
{
    struct zp_watch_spec s = {o->fqdn, "test.", o->value, o->ns, 1, NULL, 0, 0};

    snprintf(o->fqdn, sizeof(o->fqdn), "_acme-challenge.l%u.test.", i);
    snprintf(o->value, sizeof(o->value), "v-l%u", i);
    return s;
}

static int wait_n(struct zp_watcher *w, struct one *o, unsigned i, uint64_t budget_ms,
                  struct call *c, struct zp_err *err)
{
    struct zp_watch_spec s = spec_n(o, i);

    return zp_watcher_wait(w, &s, zp_now_ms() + budget_ms, on_done, c, err);
}

static struct zp_watcher *watcher_limited(unsigned workers, unsigned max, unsigned budget)
{
    struct zp_watch_limits lim = {max, budget};
    struct zp_err err = {0};
    struct zp_watcher *w = zp_watcher_new(workers, &err);

    assert_non_null(w);
    zp_watcher_set_limits(w, &lim);
    return w;
}

static struct zp_watch_stats stats_of(struct zp_watcher *w)
{
    struct zp_watch_stats st;

    zp_watcher_stats(w, &st);
    return st;
}

/* --- tests --------------------------------------------------------------------------------- */

/*
 * At the cap, the watch that has lingered longest makes room; one a
 * Present still waits on never does, and with only those left a new watch
 * is refused with a sentence that names the setting.
 */
static void test_cap_drops_oldest_lingering(void **state)
{
    struct zp_watcher *w = watcher_limited(1, 3, 0);
    struct zp_err err = {0};
    struct call c[5];
    struct one o;
    unsigned i;

    (void)state;
    one_start(&o, F_NXDOMAIN);
    for (i = 0; i < 5; i++)
        call_init(&c[i]);
    assert_int_equal(wait_n(w, &o, 0, 100, &c[0], &err), 0);    /* abandoned first */
    assert_int_equal(wait_n(w, &o, 1, 200, &c[1], &err), 0);    /* abandoned second */
    assert_int_equal(wait_n(w, &o, 2, 600000, &c[2], &err), 0); /* waits throughout */
    settle(1);
    zp_clock_advance(100);
    settle(1);
    assert_int_equal(call_count(&c[0]), 1);
    zp_clock_advance(100);
    settle(1);
    assert_int_equal(call_count(&c[1]), 1);
    assert_int_equal(stats_of(w).live, 3);
    assert_int_equal(stats_of(w).lingering, 2);

    /* A fourth: 0 lingered longest, so 0 goes. */
    assert_int_equal(wait_n(w, &o, 3, 600000, &c[3], &err), 0);
    settle(1);
    assert_int_equal(stats_of(w).dropped, 1);
    assert_int_equal(stats_of(w).live, 3);
    /* 1 is still there: a retry of it joins it, nothing else is dropped. */
    assert_int_equal(wait_n(w, &o, 1, 600000, &c[1], &err), 0);
    settle(1);
    assert_int_equal(stats_of(w).dropped, 1);
    assert_int_equal(stats_of(w).live, 3);
    assert_int_equal(stats_of(w).lingering, 0);

    /* Three Presents wait: a new watch is refused, and none of theirs is dropped. */
    assert_int_equal(wait_n(w, &o, 0, 600000, &c[4], &err), -1);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_non_null(strstr(err.msg, "too many propagation watches in flight"));
    assert_non_null(strstr(err.msg, "workers.maxWatches"));
    assert_non_null(strstr(err.msg, "_acme-challenge.l0.test."));
    assert_int_equal(stats_of(w).refused, 1);
    assert_int_equal(stats_of(w).dropped, 1);
    settle(1);
    for (i = 1; i < 4; i++)
        assert_int_equal(call_count(&c[i]), i == 1 ? 1 : 0);
    zp_watcher_free(w);
    for (i = 1; i < 4; i++)
        assert_int_equal(call_count(&c[i]), i == 1 ? 2 : 1); /* answered at the stop */
    assert_int_equal(call_count(&c[4]), 0);
    one_stop(&o);
}

/*
 * Once its Present is gone, a watch asks each nameserver at most once per
 * 30 s: every query after the abandonment comes 30 s or more after the one
 * before, over the whole 10 minutes it lingers, and then it stops.
 */
static void test_abandoned_pace(void **state)
{
    struct zp_watcher *w = watcher_limited(1, 0, 0);
    struct zp_err err = {0};
    uint64_t last = 0, gone;
    unsigned q = 0, after = 0, t;
    struct call c;
    struct one o;

    (void)state;
    one_start(&o, F_NXDOMAIN);
    call_init(&c);
    assert_int_equal(wait_n(w, &o, 7, 3000, &c, &err), 0);
    /* 250 ms steps: while the Present waits, rounds come up to once a second. */
    for (t = 0; t < 15 * 60 * 1000; t += 250) {
        unsigned now_q;
        settle(1);
        now_q = fake_queries(o.f);
        if (now_q != q) {
            assert_int_equal(now_q, q + 1); /* one server: one query a round */
            if (call_count(&c) == 1 && last != 0 &&
                zp_now_ms() - last < ZP_WATCH_LINGER_INTERVAL_MS)
                fail_msg("a query %llu ms after the one before, while abandoned",
                         (unsigned long long)(zp_now_ms() - last));
            after += call_count(&c) == 1;
            last = zp_now_ms();
            q = now_q;
        }
        zp_clock_advance(250);
    }
    assert_int_equal(call_count(&c), 1);
    gone = c.at + ZP_WATCH_LINGER_MS;
    /* It kept asking while it lingered (about 20 rounds), and stopped when that ended. */
    assert_true(after >= ZP_WATCH_LINGER_MS / ZP_WATCH_LINGER_INTERVAL_MS - 1);
    assert_true(after <= ZP_WATCH_LINGER_MS / ZP_WATCH_LINGER_INTERVAL_MS);
    assert_true(last <= gone);
    assert_int_equal(stats_of(w).live, 0);
    zp_watcher_free(w);
    one_stop(&o);
}

/* A watch that has sent its budget ends: its Present is answered with what is known. */
static void test_query_budget_ends_watch(void **state)
{
    struct zp_watcher *w = watcher_limited(1, 0, 5);
    struct zp_err err = {0};
    uint64_t start = zp_now_ms();
    struct call c;
    struct one o;
    unsigned i, q;

    (void)state;
    one_start(&o, F_NXDOMAIN);
    call_init(&c);
    assert_int_equal(wait_n(w, &o, 3, 50000, &c, &err), 0);
    for (i = 0; i < 100 && call_count(&c) == 0; i++) {
        settle(1);
        zp_clock_advance(100);
    }
    settle(1);
    assert_int_equal(call_count(&c), 1);
    assert_false(c.rep.complete);
    assert_int_equal(c.rep.ns[0].state, ZP_NS_NXDOMAIN);
    assert_true(c.at < start + 50000); /* before its deadline */
    assert_int_equal(fake_queries(o.f), 5);
    assert_int_equal(stats_of(w).spent, 1);
    assert_int_equal(stats_of(w).live, 0);
    /* Gone, not lingering: nothing more is sent. */
    q = fake_queries(o.f);
    for (i = 0; i < 4; i++) {
        zp_clock_advance(ZP_WATCH_LINGER_INTERVAL_MS);
        settle(1);
    }
    assert_int_equal(fake_queries(o.f), q);
    /* A later Present of the same value starts a fresh watch, which sees the value. */
    fake_set(o.f, F_VALUE);
    call_init(&c);
    assert_int_equal(wait_n(w, &o, 3, 50000, &c, &err), 0);
    fake_wait_queries(o.f, q + 1);
    settle(1);
    assert_int_equal(call_count(&c), 1);
    assert_true(c.rep.complete);
    zp_watcher_free(w);
    one_stop(&o);
}

/*
 * Twenty thousand Presents, each abandoned a millisecond after it started,
 * against a server where the value never appears: at no point are more
 * than the cap's watches live, the memory they hold stays within the cap's
 * bytes, and the queries are one per Present plus the pace of the cap's
 * watches lingering for 10 minutes.
 */
#define FLOOD 20000u
#define FLOOD_CAP 64u
#define FLOOD_BATCH 32u

static void test_flood_of_abandoned(void **state)
{
    struct zp_watcher *w = watcher_limited(4, FLOOD_CAP, 0);
    struct call *c = zp_xcalloc(FLOOD, sizeof(*c));
    struct zp_err err = {0};
    size_t before, peak = 0, used;
    struct zp_watch_stats st;
    unsigned i, t, answered = 0, bound;
    struct one o;

    (void)state;
    one_start(&o, F_NXDOMAIN);
    settle(4);
    before = heap_in_use();
    for (i = 0; i < FLOOD; i++) {
        call_init(&c[i]);
        assert_int_equal(wait_n(w, &o, i, 1, &c[i], &err), 0);
        assert_true(stats_of(w).live <= FLOOD_CAP);
        if ((i + 1) % FLOOD_BATCH == 0) {
            settle(4);
            zp_clock_advance(1); /* this batch's Presents give up */
            settle(4);
            used = heap_in_use();
            peak = used > peak ? used : peak;
        }
    }
    for (t = 0; t <= ZP_WATCH_LINGER_MS; t += ZP_WATCH_LINGER_INTERVAL_MS / 2) {
        settle(4);
        assert_true(stats_of(w).live <= FLOOD_CAP);
        zp_clock_advance(ZP_WATCH_LINGER_INTERVAL_MS / 2);
    }
    settle(4);
    st = stats_of(w);
    for (i = 0; i < FLOOD; i++)
        answered += call_count(&c[i]);
    /* One round each before its Present gave up; the cap's worth at the lingering pace after. */
    bound = FLOOD + FLOOD_CAP * (ZP_WATCH_LINGER_MS / ZP_WATCH_LINGER_INTERVAL_MS + 1);
    print_message("    %u abandoned Presents, cap %u: %u queries (bound %u), %llu dropped, "
                  "%zu bytes at the peak\n",
                  FLOOD, FLOOD_CAP, fake_queries(o.f), bound, (unsigned long long)st.dropped,
                  peak > before ? peak - before : 0);
    assert_int_equal(answered, FLOOD);
    assert_true(fake_queries(o.f) <= bound);
    assert_true(st.dropped >= FLOOD - FLOOD_CAP);
    assert_int_equal(st.refused, 0);
    assert_int_equal(st.live, 0);
    /* The heap array keeps its size: allow it the flood's slots beside the cap's watches. */
    assert_true(peak <= before + FLOOD_CAP * ZP_WATCH_BYTES_MAX + FLOOD * sizeof(void *));
    zp_watcher_free(w);
    free(c);
    one_stop(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_drops_oldest_lingering),
        cmocka_unit_test(test_abandoned_pace),
        cmocka_unit_test(test_query_budget_ends_watch),
        cmocka_unit_test(test_flood_of_abandoned),
    };

    zp_log_set_level(ZP_LOG_WARN);
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
