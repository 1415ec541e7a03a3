/*
 * test_gss.c — the GSS-TSIG context cache (providers/gss.c) on a manual
 * clock: one context serves update after update; it is renewed
 * ZP_GSS_RENEW_MS before it expires (half its life when that is shorter),
 * never after; a context the server refused is forgotten and the next call
 * negotiates; a failed negotiation keeps nothing; a context still held by
 * a caller outlives its replacement; many threads at once negotiate once;
 * two namespaces (a keytab from each one's Secret) never share a context.
 * The negotiation itself is the test's (zp_gss_cache_fake); the real one
 * runs against a KDC, BIND and Samba in integration.test_gss_tsig.
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
#include "providers/gss.h"

#define HOUR_MS (3600u * 1000u)

struct fake {
    uint64_t life_ms; /* what the next negotiation gives */
    int fail;         /* the next negotiations fail */
    int calls;
};

static int fake_negotiate(void *arg, uint64_t *life_ms, struct zp_err *err)
{
    struct fake *f = arg;

    f->calls++;
    if (f->fail)
        return zp_err_set(err, ZP_EAUTH, "the KDC refused (test)");
    *life_ms = f->life_ms;
    return 0;
}

/* One zp_gss_get in scope: the context (released at once unless keep) and whether it was new. */
static struct zp_gss_ctx *get_in(struct zp_gss_cache *c, const char *scope, int *fresh, int keep)
{
    struct zp_gss_peer peer = {.nameserver = "test"};
    struct zp_gss_ctx *ctx = NULL;
    struct zp_err err = {0};

    assert_int_equal(zp_gss_get(c, scope, &peer, NULL, &ctx, fresh, &err), 0);
    assert_non_null(ctx);
    if (!keep)
        zp_gss_put(c, ctx);
    return ctx;
}

static struct zp_gss_ctx *get(struct zp_gss_cache *c, int *fresh, int keep)
{
    return get_in(c, NULL, fresh, keep);
}

static int setup(void **state)
{
    (void)state;
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    zp_clock_set_mode(ZP_CLOCK_REAL);
    return 0;
}

static void reused_then_renewed_before_expiry(void **state)
{
    struct fake f = {.life_ms = HOUR_MS};
    struct zp_gss_cache *c = zp_gss_cache_new();
    struct zp_gss_ctx *first, *ctx;
    int fresh;

    (void)state;
    zp_gss_cache_fake(c, fake_negotiate, &f);
    first = get(c, &fresh, 0);
    assert_true(fresh);
    for (int i = 0; i < 100; i++) {
        ctx = get(c, &fresh, 0);
        assert_ptr_equal(ctx, first);
        assert_false(fresh);
    }
    /* One second before the renewal margin: still the same context. */
    zp_clock_advance(HOUR_MS - ZP_GSS_RENEW_MS - 1000u);
    assert_ptr_equal(get(c, &fresh, 0), first);
    assert_false(fresh);
    /* Inside the margin: a new one, although the old has five minutes left. */
    zp_clock_advance(1000u);
    get(c, &fresh, 0);
    assert_true(fresh);
    assert_int_equal(zp_gss_negotiations(c), 2);
    assert_int_equal(f.calls, 2);
    zp_gss_cache_free(c);
}

static void short_life_renews_at_half(void **state)
{
    struct fake f = {.life_ms = 120u * 1000u}; /* a two-minute ticket */
    struct zp_gss_cache *c = zp_gss_cache_new();
    int fresh;

    (void)state;
    zp_gss_cache_fake(c, fake_negotiate, &f);
    get(c, &fresh, 0);
    zp_clock_advance(59u * 1000u);
    get(c, &fresh, 0);
    assert_false(fresh); /* not renewed on every call though its life < the margin */
    zp_clock_advance(1000u);
    get(c, &fresh, 0);
    assert_true(fresh);
    zp_gss_cache_free(c);
}

static void refused_context_is_forgotten(void **state)
{
    struct fake f = {.life_ms = HOUR_MS};
    struct zp_gss_cache *c = zp_gss_cache_new();
    struct zp_gss_ctx *held, *next;
    int fresh;

    (void)state;
    zp_gss_cache_fake(c, fake_negotiate, &f);
    held = get(c, &fresh, 1);
    zp_gss_drop(c, held); /* the server answered BADKEY */
    next = get(c, &fresh, 1);
    assert_true(fresh);
    assert_ptr_not_equal(next, held);
    /* The caller still holding the refused one may use it until it lets go (ASan: no
     * use after free). */
    assert_non_null(zp_gss_key_name(held));
    assert_false(zp_gss_expired(held));
    zp_gss_put(c, held);
    zp_gss_put(c, next);
    assert_int_equal(zp_gss_negotiations(c), 2);
    zp_gss_cache_free(c);
}

static void failed_negotiation_keeps_nothing(void **state)
{
    struct fake f = {.life_ms = HOUR_MS, .fail = 1};
    struct zp_gss_cache *c = zp_gss_cache_new();
    struct zp_gss_peer peer = {.nameserver = "test"};
    struct zp_gss_ctx *ctx = NULL;
    struct zp_err err = {0};
    int fresh = -1;

    (void)state;
    zp_gss_cache_fake(c, fake_negotiate, &f);
    assert_int_equal(zp_gss_get(c, NULL, &peer, NULL, &ctx, &fresh, &err), -1);
    assert_null(ctx);
    assert_string_equal(err.msg, "the KDC refused (test)");
    assert_int_equal(zp_gss_negotiations(c), 0);
    /* The next call tries again rather than remembering the failure. */
    f.fail = 0;
    get(c, &fresh, 0);
    assert_true(fresh);
    assert_int_equal(f.calls, 2);
    zp_gss_cache_free(c);
}

static void namespaces_never_share(void **state)
{
    struct fake f = {.life_ms = HOUR_MS};
    struct zp_gss_cache *c = zp_gss_cache_new();
    struct zp_gss_ctx *a, *b;
    int fresh;
    char ns[16];

    (void)state;
    zp_gss_cache_fake(c, fake_negotiate, &f);
    a = get_in(c, "team-a", &fresh, 0);
    assert_true(fresh);
    b = get_in(c, "team-b", &fresh, 0);
    assert_true(fresh);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(get_in(c, "team-a", &fresh, 0), a);
    assert_false(fresh);
    /* Past the cap the oldest scope gives way; the others keep theirs. */
    for (int i = 0; i < 70; i++) {
        snprintf(ns, sizeof(ns), "ns-%d", i);
        zp_clock_advance(1000u);
        get_in(c, ns, &fresh, 0);
        assert_true(fresh);
    }
    get_in(c, "ns-69", &fresh, 0);
    assert_false(fresh);
    get_in(c, "team-a", &fresh, 0);
    assert_true(fresh);
    zp_gss_cache_free(c);
}

static void *worker(void *arg)
{
    int fresh;

    for (int i = 0; i < 50; i++)
        get(arg, &fresh, 0);
    return NULL;
}

static void threads_share_one_negotiation(void **state)
{
    struct fake f = {.life_ms = HOUR_MS};
    struct zp_gss_cache *c = zp_gss_cache_new();
    pthread_t t[8];

    (void)state;
    zp_gss_cache_fake(c, fake_negotiate, &f);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, c), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(zp_gss_negotiations(c), 1);
    assert_int_equal(f.calls, 1);
    zp_gss_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reused_then_renewed_before_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(short_life_renews_at_half, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_context_is_forgotten, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_negotiation_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(threads_share_one_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(namespaces_never_share, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
