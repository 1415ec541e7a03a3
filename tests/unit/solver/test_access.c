/*
 * test_access.c — the trust model (solver/access.h): which namespaces may
 * use a provider instance, and which names it may write, whether the
 * request routes by dnsZones or names the instance; and that every
 * mistake in namespaces:/firstLabels: is refused at load with the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "solver/access.h"
#include "solver/challenge.h"
#include "solver/config.h"
#include "solver/router.h"

static char secret_path[64];

static int setup(void **state)
{
    int fd;

    (void)state;
    snprintf(secret_path, sizeof(secret_path), "/tmp/zp-access-secret-XXXXXX");
    fd = mkstemp(secret_path);
    if (fd < 0)
        return -1;
    if (write(fd, "h8mTBe3nXxuQ9Fgbh9sQKZ8oOOV4mhH0Y3bZZs3dJwA=\n", 45) != 45)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(secret_path);
    return 0;
}

/* One rfc2136 instance per entry of extra ("name|zone|more yaml"). */
static int load(const char *top, const char *const *inst, struct zp_config **cfg,
                struct zp_err *err)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text), "%sproviders:\n", top);

    for (size_t i = 0; inst[i] != NULL; i += 3)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "- name: %s\n  type: rfc2136\n  dnsZones: [%s]\n"
                              "  nameserver: 127.0.0.1\n  tsigKeyName: k\n  tsigSecretFile: %s\n%s",
                              inst[i], inst[i + 1], secret_path, inst[i + 2]);
    zp_err_clear(err);
    return zp_config_parse("config.yaml", text, strlen(text), cfg, err);
}

/* A challenge as the API delivers it, routed and checked as the solver does. */
static int use(const struct zp_config *cfg, const char *ns, const char *fqdn, const char *provider,
               struct zp_err *err)
{
    struct zp_challenge ch;
    const struct zp_instance *inst;

    assert_int_equal(zp_challenge_make(&ch, ZP_PRESENT, fqdn, NULL, "v", provider, err), 0);
    ch.from_api = ns != NULL;
    snprintf(ch.resource_namespace, sizeof(ch.resource_namespace), "%s", ns ? ns : "");
    zp_err_clear(err);
    inst = zp_route(cfg, ch.fqdn, ch.provider, NULL, err);
    if (inst == NULL)
        return -1;
    return zp_access_check(cfg, inst, &ch, err);
}

static void without_namespaces_only_cluster_issuers(void **state)
{
    static const char *const inst[] = {"lab", "example.test", "", NULL};
    struct zp_config *cfg;
    struct zp_err err;

    (void)state;
    assert_int_equal(load("", inst, &cfg, &err), 0);
    assert_int_equal(use(cfg, "cert-manager", "_acme-challenge.www.example.test", "", &err), 0);
    assert_int_equal(use(cfg, "web", "_acme-challenge.www.example.test", "", &err), -1);
    assert_int_equal(err.kind, ZP_EPERM);
    assert_non_null(strstr(err.msg, "namespace \"web\" may not use provider instance \"lab\""));
    assert_non_null(strstr(err.msg, "add \"web\" to the instance's namespaces"));
    /* The CLI holds the credentials itself: no namespace to check. */
    assert_int_equal(use(cfg, NULL, "_acme-challenge.www.example.test", "", &err), 0);
    zp_config_free(cfg);

    /* ClusterIssuers' namespace is cert-manager's --cluster-resource-namespace. */
    assert_int_equal(load("clusterResourceNamespace: certs\n", inst, &cfg, &err), 0);
    assert_int_equal(use(cfg, "certs", "_acme-challenge.example.test", "", &err), 0);
    assert_int_equal(use(cfg, "cert-manager", "_acme-challenge.example.test", "", &err), -1);
    zp_config_free(cfg);
}

static void namespaces_listed_or_all(void **state)
{
    static const char *const inst[] = {"team", "team.test", "  namespaces: [web, shop]\n",
                                       "open", "open.test", "  namespaces: [\"*\"]\n",
                                       NULL};
    struct zp_config *cfg;
    struct zp_err err;

    (void)state;
    assert_int_equal(load("", inst, &cfg, &err), 0);
    assert_int_equal(use(cfg, "shop", "_acme-challenge.team.test", "", &err), 0);
    assert_int_equal(use(cfg, "cert-manager", "_acme-challenge.team.test", "", &err), -1);
    assert_non_null(strstr(err.msg, "(its namespaces: web, shop)"));
    assert_int_equal(use(cfg, "anyone", "_acme-challenge.open.test", "", &err), 0);
    /* Naming an instance in config.provider is no way around its list. */
    assert_int_equal(use(cfg, "evil", "_acme-challenge.team.test", "team", &err), -1);
    zp_config_free(cfg);
}

static void names_only_challenge_labels_inside_dns_zones(void **state)
{
    static const char *const inst[] = {
        "lab",   "example.test",     "  namespaces: [\"*\"]\n",
        "slow",  "slow.test",        "  namespaces: [\"*\"]\n",
        "cname", "acme.example.net", "  namespaces: [\"*\"]\n  firstLabels: [\"*\"]\n",
        NULL};
    struct zp_config *cfg;
    struct zp_err err;

    (void)state;
    assert_int_equal(load("", inst, &cfg, &err), 0);
    assert_int_equal(use(cfg, "web", "_validation-persist.example.test", "", &err), 0);
    assert_int_equal(use(cfg, "web", "_ACME-Challenge.www.example.test", "", &err), 0);
    /* The apex and an ordinary name are never written. */
    assert_int_equal(use(cfg, "web", "example.test", "", &err), -1);
    assert_non_null(strstr(err.msg, "first label is one of _acme-challenge, _validation-persist"));
    assert_int_equal(use(cfg, "web", "www.example.test", "", &err), -1);
    /* config.provider names lab, but the name is in slow's zone. */
    assert_int_equal(use(cfg, "web", "_acme-challenge.esc.slow.test", "lab", &err), -1);
    assert_non_null(strstr(err.msg, "writes only inside its dnsZones (example.test.)"));
    /* A challenge zone reached through a CNAME: any first label, when the instance says so. */
    assert_int_equal(use(cfg, "web", "d420c923-bbd7.acme.example.net", "", &err), 0);
    zp_config_free(cfg);
}

static void mistakes_refused_at_load(void **state)
{
    static const struct {
        const char *more, *want;
    } cases[] = {
        {"  namespaces: []\n", "an empty namespaces or firstLabels list would allow nothing"},
        {"  namespaces: [web, \"*\"]\n", "namespaces: \"*\" allows every namespace name"},
        {"  namespaces: [Web]\n", "namespaces[0]: \"Web\" is not a valid namespace name"},
        {"  firstLabels: [\"a.b\"]\n", "firstLabels[0]: \"a.b\" is not a valid DNS label"},
    };
    struct zp_config *cfg;
    struct zp_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *inst[] = {"lab", "example.test", cases[i].more, NULL};
        assert_int_equal(load("", inst, &cfg, &err), -1);
        assert_non_null(strstr(err.msg, "providers[0]"));
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_namespaces_only_cluster_issuers),
        cmocka_unit_test(namespaces_listed_or_all),
        cmocka_unit_test(names_only_challenge_labels_inside_dns_zones),
        cmocka_unit_test(mistakes_refused_at_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
