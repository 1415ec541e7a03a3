/*
 * test_router.c — choosing the provider instance by dnsZones, with
 * cert-manager's rules: label-wise, case-insensitive, most specific wins,
 * ties go to the first listed, an explicit instance name wins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/err.h"
#include "solver/config.h"
#include "solver/router.h"

static char *z_a[] = {"example.com.", NULL};
static char *z_b[] = {"sub.example.com.", "example.org.", NULL};
static char *z_c[] = {"example.com.", NULL};

static struct zp_instance insts[] = {
    {.name = "apex", .zones = z_a, .n_zones = 1},
    {.name = "sub", .zones = z_b, .n_zones = 2},
    {.name = "dup", .zones = z_c, .n_zones = 1},
};
static struct zp_config cfg = {.inst = insts, .n_inst = 3};

static const char *route(const char *fqdn, const char *provider, const char **zone,
                         struct zp_err *err)
{
    const struct zp_instance *in;

    zp_err_clear(err);
    in = zp_route(&cfg, fqdn, provider, zone, err);
    return in ? in->name : NULL;
}

static void most_specific_wins(void **state)
{
    struct zp_err err;
    const char *zone;

    assert_string_equal(route("_acme-challenge.www.example.com.", NULL, &zone, &err), "apex");
    assert_string_equal(zone, "example.com.");
    assert_string_equal(route("_acme-challenge.x.SUB.example.com.", NULL, &zone, &err), "sub");
    assert_string_equal(zone, "sub.example.com.");
    assert_string_equal(route("_acme-challenge.example.org.", NULL, &zone, &err), "sub");
    assert_string_equal(zone, "example.org.");
}

static void ties_keep_the_first(void **state)
{
    struct zp_err err;

    assert_string_equal(route("_acme-challenge.example.com.", NULL, NULL, &err), "apex");
}

static void suffix_is_label_wise(void **state)
{
    struct zp_err err;

    assert_null(route("_acme-challenge.badexample.com.", NULL, NULL, &err));
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_non_null(strstr(err.msg, "no provider is configured for "
                                    "_acme-challenge.badexample.com."));
    /* the refusal lists what is configured, so the fix is obvious */
    assert_non_null(strstr(err.msg, "example.com. (apex)"));
    assert_non_null(strstr(err.msg, "example.org. (sub)"));
}

static void explicit_instance(void **state)
{
    struct zp_err err;
    const char *zone = "unset";

    assert_string_equal(route("_acme-challenge.example.com.", "dup", &zone, &err), "dup");
    assert_string_equal(zone, "example.com.");
    assert_string_equal(route("_acme-challenge.elsewhere.net.", "sub", &zone, &err), "sub");
    assert_null(zone); /* the request's resolvedZone must then say where */
    assert_null(route("_acme-challenge.example.com.", "nope", NULL, &err));
    assert_non_null(strstr(err.msg, "no such instance (configured: apex, sub, dup)"));
}

/* The webhook's sentences talk to the Issuer; the command line's name its flags. */
static void sentences_follow_the_caller(void **state)
{
    struct zp_err err;

    assert_null(route("_acme-challenge.example.net.", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "or name the provider in the Issuer's config"));
    assert_null(route("_acme-challenge.example.com.", "nope", NULL, &err));
    assert_non_null(strstr(err.msg, "the Issuer names provider \"nope\""));
    cfg.cli = 1;
    assert_null(route("_acme-challenge.example.net.", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "or pass --provider NAME and --zone ZONE"));
    assert_null(strstr(err.msg, "Issuer"));
    assert_null(route("_acme-challenge.example.com.", "nope", NULL, &err));
    assert_string_equal(err.msg, "--provider \"nope\" names no instance of zoneproof's "
                                 "configuration (configured: apex, sub, dup)");
    cfg.cli = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(most_specific_wins),          cmocka_unit_test(ties_keep_the_first),
        cmocka_unit_test(suffix_is_label_wise),        cmocka_unit_test(explicit_instance),
        cmocka_unit_test(sentences_follow_the_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
