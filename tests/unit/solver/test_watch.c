/*
 * test_watch.c — the watcher pool against in-process fake nameservers: a
 * UDP responder thread per server that answers TXT with the value, with
 * NXDOMAIN or other values, refuses, or drops. Assertions are about who got
 * answered and with what, never about how fast.
 *
 * The clock is manual: time moves only when a test advances it, after
 * zp_clock_wait_idle says every worker waits for the clock alone (its round
 * is over, nothing in flight). So a deadline, a backoff or a query timeout
 * happens exactly when the test says, and no test sleeps.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/watch.h"

#include "fake_ns.h"

/* --- two nameservers ----------------------------------------------------------------------- */

struct two {
    struct fake *a, *b;
    char *ns[2];
};

static void two_start(struct two *t, enum fake_mode ma, enum fake_mode mb)
{
    t->a = fake_start(ma);
    t->b = fake_start(mb);
    t->ns[0] = addr_of(t->a);
    t->ns[1] = addr_of(t->b);
}

static void two_stop(struct two *t)
{
    fake_stop(t->a);
    fake_stop(t->b);
    free(t->ns[0]);
    free(t->ns[1]);
}

static struct zp_watch_spec spec_for(struct two *t, const char *fqdn, const char *value)
{
    struct zp_watch_spec s = {fqdn, "test.", value, t->ns, 2, NULL, 0, 0};
    return s;
}

/* --- tests --------------------------------------------------------------------------------- */

static void test_complete_on_two(void **state)
{
    struct zp_watcher *w;
    struct two t;
    struct call c;
    struct zp_watch_spec s;
    struct zp_err err = {0};

    (void)state;
    two_start(&t, F_VALUE, F_VALUE);
    s = spec_for(&t, "_acme-challenge.w1.test.", "v-w1");
    w = zp_watcher_new(2, &err);
    assert_non_null(w);
    call_init(&c);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 10000, on_done, &c, &err), 0);
    call_wait(&c);
    assert_true(c.rep.complete);
    assert_int_equal(c.rep.n, 2);
    assert_int_equal(c.rep.ns[0].state, ZP_NS_HAS_VALUE);
    assert_int_equal(c.rep.ns[1].state, ZP_NS_HAS_VALUE);
    assert_string_equal(c.rep.ns[1].addr, t.ns[1]);
    /* The other value is recorded next to ours. */
    assert_int_equal(c.rep.ns[0].n_other, 1);
    assert_string_equal(c.rep.ns[0].other[0], "another");
    assert_int_equal(c.rep.ns[0].other_ttl[0], 60);
    zp_watcher_free(w);
    two_stop(&t);
}

/* B lags: the caller is answered at its deadline, with B named and what it says. */
static void test_deadline_names_laggard(void **state)
{
    struct zp_watcher *w;
    struct two t;
    struct call c;
    struct zp_watch_spec s;
    struct zp_err err = {0};
    uint64_t start, budget = 400;
    unsigned q0;

    (void)state;
    two_start(&t, F_VALUE, F_NXDOMAIN);
    s = spec_for(&t, "_acme-challenge.w2.test.", "v-w2");
    w = zp_watcher_new(2, &err);
    call_init(&c);
    start = zp_now_ms();
    assert_int_equal(zp_watcher_wait(w, &s, start + budget, on_done, &c, &err), 0);
    settle(2);
    zp_clock_advance(budget - 1); /* rounds go on; the caller still waits */
    settle(2);
    assert_int_equal(call_count(&c), 0);
    zp_clock_advance(1);
    call_wait(&c);
    assert_int_equal(c.at, start + budget);
    assert_false(c.rep.complete);
    assert_int_equal(c.rep.ns[0].state, ZP_NS_HAS_VALUE);
    assert_int_equal(c.rep.ns[1].state, ZP_NS_NXDOMAIN);
    zp_err_clear(&err);
    assert_int_equal(zp_watch_explain(&c.rep, &err), -1);
    assert_non_null(strstr(err.msg, t.ns[1]));
    assert_non_null(strstr(err.msg, "NXDOMAIN"));
    assert_null(strstr(err.msg, t.ns[0]));
    /* The watch lingers: once B catches up, a retry is answered complete at once. */
    settle(2);
    fake_set(t.b, F_VALUE);
    zp_clock_advance(ZP_WATCH_LINGER_INTERVAL_MS); /* a lingering watch's pace */
    settle(2);
    q0 = fake_queries(t.a) + fake_queries(t.b);
    call_init(&c);
    start = zp_now_ms();
    assert_int_equal(zp_watcher_wait(w, &s, start + 60000, on_done, &c, &err), 0);
    call_wait(&c);
    assert_true(c.rep.complete);
    assert_int_equal(c.at, start); /* the clock never moved: at once */
    assert_int_equal(fake_queries(t.a) + fake_queries(t.b), q0);
    zp_watcher_free(w);
    two_stop(&t);
}

static void test_states(void **state)
{
    static const struct {
        enum fake_mode mode;
        enum zp_ns_state want;
    } cases[] = {
        {F_OTHER, ZP_NS_OTHER},     {F_REFUSED, ZP_NS_REFUSED},   {F_NOAA, ZP_NS_NOTAUTH},
        {F_TRUNC, ZP_NS_HAS_VALUE}, {F_NXDOMAIN, ZP_NS_NXDOMAIN},
    };
    struct zp_watch_report rep;
    struct zp_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct two t;
        struct zp_watch_spec s;

        two_start(&t, F_VALUE, cases[i].mode);
        s = spec_for(&t, "_acme-challenge.w3.test.", "v-w3");
        assert_int_equal(zp_watch_check_once(&s, 1500, &rep, &err), 0);
        assert_int_equal(rep.ns[0].state, ZP_NS_HAS_VALUE);
        if (rep.ns[1].state != cases[i].want)
            fail_msg("mode %d: state %s, want %s", cases[i].mode, zp_ns_state_name(rep.ns[1].state),
                     zp_ns_state_name(cases[i].want));
        if (cases[i].mode == F_OTHER) {
            /* Sorted, so the sentence does not change with the RRset order. */
            assert_int_equal(rep.ns[1].n_other, 2);
            assert_string_equal(rep.ns[1].other[0], "aa-other");
            assert_string_equal(rep.ns[1].other[1], "zz-other");
        }
        assert_int_equal(rep.complete, cases[i].want == ZP_NS_HAS_VALUE);
        two_stop(&t);
    }
}

struct check_arg {
    struct zp_watch_spec *s;
    unsigned timeout_ms;
    struct zp_watch_report rep;
    int rc;
};

static void *check_main(void *arg)
{
    struct check_arg *a = arg;
    struct zp_err err = {0};

    a->rc = zp_watch_check_once(a->s, a->timeout_ms, &a->rep, &err);
    return NULL;
}

/* A server that never answers times out when the query's second has passed, not before. */
static void test_silence_times_out(void **state)
{
    struct fake *f = fake_start(F_DROP);
    char *ns[1] = {addr_of(f)};
    struct zp_watch_spec s = {"_acme-challenge.w9.test.", "test.", "v-w9", ns, 1, NULL, 0, 0};
    struct check_arg a;
    pthread_t th;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.s = &s;
    a.timeout_ms = 1500;
    a.rc = -2;
    assert_int_equal(pthread_create(&th, NULL, check_main, &a), 0);
    fake_wait_queries(f, 1);
    zp_clock_advance(999);
    zp_clock_advance(1); /* the query timeout (1 s), before the 1.5 s budget */
    pthread_join(th, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.rep.n, 1);
    assert_int_equal(a.rep.ns[0].state, ZP_NS_TIMEOUT);
    assert_string_equal(a.rep.ns[0].detail, ""); /* no figure: see the next test */
    assert_int_equal(a.rep.elapsed_ms, 1000);
    free(ns[0]);
    fake_stop(f);
}

/*
 * Issue #9: the sentence cert-manager shows changes only when the zone does.
 * A silent server gives the same words whether its query's second ran out
 * (1.5 s budget), the deadline cut the query short (0.6 s), or a watch went
 * on past a timeout (2.5 s, more queries, another elapsed time).
 */
static void explain_into(const struct zp_watch_report *rep, char *out, size_t outsz)
{
    struct zp_err err = {0};

    assert_int_equal(zp_watch_explain(rep, &err), -1);
    assert_int_equal(err.kind, ZP_EPROPAGATION);
    snprintf(out, outsz, "%s", err.msg);
}

static void silent_once(struct fake *f, struct zp_watch_spec *s, unsigned budget, unsigned q,
                        char *out, size_t outsz)
{
    struct check_arg a;
    pthread_t th;

    memset(&a, 0, sizeof(a));
    a.s = s;
    a.timeout_ms = budget;
    a.rc = -2;
    assert_int_equal(pthread_create(&th, NULL, check_main, &a), 0);
    fake_wait_queries(f, q);
    zp_clock_advance(budget < 1000 ? budget : 1000);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.rep.ns[0].state, ZP_NS_TIMEOUT);
    explain_into(&a.rep, out, outsz);
}

static void test_silence_same_sentence_whatever_the_timing(void **state)
{
    struct fake *f = fake_start(F_DROP);
    char *ns[1] = {addr_of(f)};
    struct zp_watch_spec s = {"_acme-challenge.w10.test.", "test.", "v-w10", ns, 1, NULL, 0, 0};
    char full[ZP_ERR_MSG_MAX], cut[ZP_ERR_MSG_MAX];
    struct zp_watcher *w;
    struct zp_err err = {0};
    struct call c;
    uint64_t start;

    (void)state;
    silent_once(f, &s, 1500, 1, full, sizeof(full)); /* the query's second runs out */
    silent_once(f, &s, 600, 2, cut, sizeof(cut));    /* the deadline cuts it short */
    assert_string_equal(cut, full);
    assert_non_null(strstr(full, "does not answer (firewall? server down?)"));

    /* A watch that goes on: a timeout, then rounds until a later deadline. */
    w = zp_watcher_new(1, &err);
    call_init(&c);
    start = zp_now_ms();
    assert_int_equal(zp_watcher_wait(w, &s, start + 2500, on_done, &c, &err), 0);
    fake_wait_queries(f, 3);
    zp_clock_advance(1000); /* that query times out; the next round follows after a backoff */
    settle(1);
    zp_clock_advance(1500); /* to the deadline */
    call_wait(&c);
    assert_int_equal(c.at, start + 2500);
    explain_into(&c.rep, cut, sizeof(cut));
    assert_string_equal(cut, full);
    zp_watcher_free(w);
    free(ns[0]);
    fake_stop(f);
}

/* B answers NXDOMAIN: a short budget and a long one (more rounds) give the same words. */
static void lagging_sentence(struct two *t, uint64_t budget, char *out, size_t outsz)
{
    struct zp_watch_spec s = spec_for(t, "_acme-challenge.w11.test.", "v-w11");
    struct zp_err err = {0};
    struct zp_watcher *w = zp_watcher_new(2, &err);
    struct call c;
    uint64_t start = zp_now_ms(), step;

    call_init(&c);
    assert_int_equal(zp_watcher_wait(w, &s, start + budget, on_done, &c, &err), 0);
    for (settle(2); zp_now_ms() < start + budget; settle(2)) {
        step = start + budget - zp_now_ms();
        zp_clock_advance(step < 50 ? step : 50); /* every round the backoff allows */
    }
    call_wait(&c);
    assert_int_equal(c.rep.ns[1].state, ZP_NS_NXDOMAIN);
    explain_into(&c.rep, out, outsz);
    zp_watcher_free(w);
}

static void test_lag_same_sentence_whatever_the_rounds(void **state)
{
    struct two t;
    char shortb[ZP_ERR_MSG_MAX], longb[ZP_ERR_MSG_MAX];
    unsigned q0;

    (void)state;
    two_start(&t, F_VALUE, F_NXDOMAIN);
    lagging_sentence(&t, 100, shortb, sizeof(shortb));
    q0 = fake_queries(t.b);
    lagging_sentence(&t, 3000, longb, sizeof(longb));
    assert_true(fake_queries(t.b) > q0 + 1); /* the long watch asked more often */
    assert_string_equal(longb, shortb);
    two_stop(&t);
}

/* A port nothing listens on: ICMP port unreachable says so, before any timeout. */
static void test_refused_port(void **state)
{
    struct fake *a = fake_start(F_VALUE);
    struct zp_watch_report rep;
    struct zp_err err = {0};
    char *ns[2];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    struct zp_watch_spec s = {"_acme-challenge.w4.test.", "test.", "v-w4", ns, 2, NULL, 0, 0};

    (void)state;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd); /* now nothing listens there */
    ns[0] = addr_of(a);
    ns[1] = zp_xasprintf("127.0.0.1:%u", ntohs(sa.sin_port));
    assert_int_equal(zp_watch_check_once(&s, 3000, &rep, &err), 0);
    assert_int_equal(rep.ns[1].state, ZP_NS_ERROR);
    assert_non_null(strstr(rep.ns[1].detail, "connection refused"));
    free(ns[0]);
    free(ns[1]);
    fake_stop(a);
}

/* Concurrent callers of one (fqdn, value) share one watch; each is answered once. */
static void test_shared_and_forget(void **state)
{
    struct zp_watcher *w;
    struct two t;
    struct call c[3];
    struct zp_watch_spec s;
    struct zp_err err = {0};
    unsigned q0;
    int i;

    (void)state;
    two_start(&t, F_VALUE, F_NXDOMAIN);
    s = spec_for(&t, "_acme-challenge.w5.test.", "v-w5");
    w = zp_watcher_new(4, &err);
    for (i = 0; i < 3; i++) {
        call_init(&c[i]);
        assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 20000, on_done, &c[i], &err), 0);
    }
    settle(4);
    /* One watch: B was asked at most once per caller (a joining caller restarts the round). */
    assert_true(fake_queries(t.b) >= 1 && fake_queries(t.b) <= 3);
    fake_set(t.b, F_VALUE);
    zp_clock_advance(1000); /* the longest backoff while a caller waits */
    for (i = 0; i < 3; i++) {
        call_wait(&c[i]);
        assert_true(c[i].rep.complete);
    }
    /* Completed recently: a new caller is answered at once, without asking again. */
    q0 = fake_queries(t.a) + fake_queries(t.b);
    call_init(&c[0]);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 20000, on_done, &c[0], &err), 0);
    call_wait(&c[0]);
    assert_true(c[0].rep.complete);
    assert_int_equal(fake_queries(t.a) + fake_queries(t.b), q0);
    /* Forgotten (after CleanUp): the next caller starts a fresh watch. */
    zp_watcher_forget(w, "_ACME-challenge.w5.test", "v-w5");
    fake_set(t.b, F_NXDOMAIN);
    call_init(&c[1]);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 300, on_done, &c[1], &err), 0);
    settle(4);
    zp_clock_advance(300);
    call_wait(&c[1]);
    assert_false(c[1].rep.complete);
    assert_int_equal(c[1].rep.ns[1].state, ZP_NS_NXDOMAIN);
    zp_watcher_free(w);
    two_stop(&t);
}

/* Freeing the watcher answers whoever still waits, with what is known. */
static void test_free_answers_waiters(void **state)
{
    struct zp_watcher *w;
    struct two t;
    struct call c;
    struct zp_watch_spec s;
    struct zp_err err = {0};

    (void)state;
    two_start(&t, F_VALUE, F_NXDOMAIN);
    s = spec_for(&t, "_acme-challenge.w6.test.", "v-w6");
    w = zp_watcher_new(1, &err);
    call_init(&c);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 60000, on_done, &c, &err), 0);
    settle(1); /* its first round is over */
    zp_watcher_free(w);
    assert_int_equal(call_count(&c), 1);
    assert_false(c.rep.complete);
    assert_int_equal(c.rep.ns[1].state, ZP_NS_NXDOMAIN);
    two_stop(&t);
}

/* A callback may call back into the watcher: it runs with no lock held. */
struct reenter {
    struct zp_watcher *w;
    struct zp_watch_spec *s;
    struct call inner;
    int rc;
};

static void on_done_reenter(void *arg, const struct zp_watch_report *rep)
{
    struct reenter *r = arg;
    struct zp_err err = {0};

    (void)rep;
    zp_watcher_forget(r->w, r->s->fqdn, r->s->value);
    r->rc = zp_watcher_wait(r->w, r->s, zp_now_ms() + 10000, on_done, &r->inner, &err);
}

static void test_reenter(void **state)
{
    struct two t;
    struct zp_watch_spec s;
    struct zp_err err = {0};
    struct reenter r = {0};

    (void)state;
    two_start(&t, F_VALUE, F_VALUE);
    s = spec_for(&t, "_acme-challenge.w7.test.", "v-w7");
    r.w = zp_watcher_new(1, &err);
    r.s = &s;
    r.rc = -2;
    call_init(&r.inner);
    assert_int_equal(zp_watcher_wait(r.w, &s, zp_now_ms() + 10000, on_done_reenter, &r, &err), 0);
    call_wait(&r.inner);
    assert_int_equal(r.rc, 0);
    assert_true(r.inner.rep.complete);
    zp_watcher_free(r.w);
    two_stop(&t);
}

/* Discovery failure is a report with discovery_error, not a hang. */
static void test_discovery_failure(void **state)
{
    struct fake *res = fake_start(F_NXDOMAIN);
    struct zp_watcher *w;
    struct call c;
    struct zp_err err = {0};
    char *resolvers[1] = {addr_of(res)};
    struct zp_watch_spec s = {
        "_acme-challenge.w8.test.", "test.", "v-w8", NULL, 0, resolvers, 1, 0};

    (void)state;
    w = zp_watcher_new(1, &err);
    call_init(&c);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 5000, on_done, &c, &err), 0);
    call_wait(&c);
    assert_false(c.rep.complete);
    assert_int_equal(c.rep.n, 0);
    assert_non_null(strstr(c.rep.discovery_error, resolvers[0]));
    assert_non_null(strstr(c.rep.discovery_error, "NXDOMAIN"));
    zp_err_clear(&err);
    assert_int_equal(zp_watch_explain(&c.rep, &err), -1);
    assert_non_null(strstr(err.msg, "test. NS"));
    zp_watcher_free(w);
    free(resolvers[0]);
    fake_stop(res);
}

static void test_bad_spec(void **state)
{
    struct zp_watcher *w;
    struct zp_err err = {0};
    char *bad[1] = {"[::1"};
    struct zp_watch_spec s = {"_acme-challenge.x.test.", "other.", "v", NULL, 0, NULL, 0, 0};
    struct call c;

    (void)state;
    w = zp_watcher_new(1, &err);
    call_init(&c);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 100, on_done, &c, &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    s.zone = "test.";
    s.nameservers = bad;
    s.n_nameservers = 1;
    zp_err_clear(&err);
    assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 100, on_done, &c, &err), -1);
    assert_non_null(strstr(err.msg, "[::1"));
    zp_watcher_free(w);
    assert_int_equal(call_count(&c), 0);
}

static unsigned thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    unsigned n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A thousand watches at once, four workers: every caller answered exactly once. */
#define MANY 1000

static void test_thousand(void **state)
{
    struct zp_watcher *w;
    struct two t;
    struct call *c = zp_xcalloc(MANY, sizeof(*c));
    struct zp_err err = {0};
    unsigned i, complete = 0, before;

    (void)state;
    two_start(&t, F_VALUE, F_NXDOMAIN);
    before = thread_count(); /* main, the fakes, and whatever a sanitizer runs */
    w = zp_watcher_new(4, &err);
    for (i = 0; i < MANY; i++) {
        char fqdn[64], value[32];
        struct zp_watch_spec s;
        snprintf(fqdn, sizeof(fqdn), "_acme-challenge.m%u.test.", i);
        snprintf(value, sizeof(value), "v-m%u", i);
        s = spec_for(&t, fqdn, value);
        call_init(&c[i]);
        assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 60000, on_done, &c[i], &err), 0);
    }
    /* All of them wait on B now, and hold no thread: the four workers are all there is. */
    settle(4);
    for (i = 0; i < MANY; i++)
        assert_int_equal(call_count(&c[i]), 0);
    assert_int_equal(thread_count(), before + 4);
    fake_set(t.b, F_VALUE);
    zp_clock_advance(1000);
    for (i = 0; i < MANY; i++) {
        call_wait(&c[i]);
        complete += c[i].rep.complete != 0;
    }
    assert_int_equal(complete, MANY);
    print_message("    %u watches, 4 workers, %u threads in the process\n", MANY, thread_count());
    zp_watcher_free(w);
    for (i = 0; i < MANY; i++)
        assert_int_equal(call_count(&c[i]), 1);
    free(c);
    two_stop(&t);
}

/*
 * A waiting watch costs a few KB, not the tens of KB of a full report: the
 * per-nameserver state is sized by the nameservers there are, and a report
 * exists only while its callers are being answered.
 */
#define WATCH_BYTES_MAX 4096u

static void test_thousand_memory(void **state)
{
    struct zp_watcher *w;
    struct two t;
    struct call *c = zp_xcalloc(MANY, sizeof(*c));
    struct zp_err err = {0};
    size_t before, during;
    unsigned i;

    (void)state;
    two_start(&t, F_VALUE, F_NXDOMAIN);
    w = zp_watcher_new(4, &err);
    assert_non_null(w);
    for (i = 0; i < MANY; i++)
        call_init(&c[i]);
    settle(4); /* the workers have started and allocated what they keep */
    before = heap_in_use();
    for (i = 0; i < MANY; i++) {
        char fqdn[64], value[32];
        struct zp_watch_spec s;
        snprintf(fqdn, sizeof(fqdn), "_acme-challenge.k%u.test.", i);
        snprintf(value, sizeof(value), "v-k%u", i);
        s = spec_for(&t, fqdn, value);
        assert_int_equal(zp_watcher_wait(w, &s, zp_now_ms() + 60000, on_done, &c[i], &err), 0);
    }
    /* Every watch has asked both servers by now, and still waits on B. */
    settle(4);
    during = heap_in_use();
    for (i = 0; i < MANY; i++)
        assert_int_equal(call_count(&c[i]), 0);
    print_message("    %u waiting watches: %zu bytes each\n", MANY,
                  during > before ? (during - before) / MANY : 0);
    assert_true(during < before + (size_t)MANY * WATCH_BYTES_MAX);
    zp_watcher_free(w);
    for (i = 0; i < MANY; i++) {
        assert_int_equal(call_count(&c[i]), 1);
        assert_false(c[i].rep.complete);
    }
    free(c);
    two_stop(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_on_two),
        cmocka_unit_test(test_deadline_names_laggard),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_silence_times_out),
        cmocka_unit_test(test_silence_same_sentence_whatever_the_timing),
        cmocka_unit_test(test_lag_same_sentence_whatever_the_rounds),
        cmocka_unit_test(test_refused_port),
        cmocka_unit_test(test_shared_and_forget),
        cmocka_unit_test(test_free_answers_waiters),
        cmocka_unit_test(test_reenter),
        cmocka_unit_test(test_discovery_failure),
        cmocka_unit_test(test_bad_spec),
        cmocka_unit_test(test_thousand),
        cmocka_unit_test(test_thousand_memory),
    };

    zp_log_set_level(ZP_LOG_WARN);
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
