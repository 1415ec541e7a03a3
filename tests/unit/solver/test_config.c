/*
 * test_config.c — the configuration file: the documented example loads
 * exactly as written, per-provider propagation overrides merge over the
 * global block, and every mistake is refused with file:line and the fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "providers/provider.h"
#include "solver/config.h"
#include "solver/persist.h"
#include "solver/watch.h"

static char secret_path[64];

static int setup(void **state)
{
    int fd;

    snprintf(secret_path, sizeof(secret_path), "/tmp/zp-cfg-secret-XXXXXX");
    fd = mkstemp(secret_path);
    if (fd < 0)
        return -1;
    /* base64 of 32 bytes, as in a BIND key file */
    if (write(fd, "h8mTBe3nXxuQ9Fgbh9sQKZ8oOOV4mhH0Y3bZZs3dJwA=\n", 45) != 45)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    unlink(secret_path);
    return 0;
}

/* The secret file's path stands where the YAML says %s. */
static int parse(const char *yaml, struct zp_config **cfg, struct zp_err *err)
{
    char text[4096];
    const char *mark = strstr(yaml, "%s");

    if (mark == NULL)
        snprintf(text, sizeof(text), "%s", yaml);
    else
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(mark - yaml), yaml, secret_path, mark + 2);
    zp_err_clear(err);
    return zp_config_parse("config.yaml", text, strlen(text), cfg, err);
}

/* The example of docs/configuration.md, exactly as written there. */
static const char documented[] =
    "groupName: acme.zoneproof.test\n"
    "propagation:\n"
    "  mode: wait            # wait | skip\n"
    "  timeout: 25s          # Present's budget; capped at 50s\n"
    "  resolvers: [\"127.0.0.1:5353\"]   # for NS discovery; default /etc/resolv.conf\n"
    "  nameservers: []       # explicit authoritative servers host:port; default: discover\n"
    "providers:\n"
    "  - name: lab\n"
    "    type: rfc2136\n"
    "    dnsZones: [\"example.test\"]\n"
    "    nameserver: \"127.0.0.1:5353\"\n"
    "    tsigKeyName: acme-key\n"
    "    tsigAlgorithm: hmac-sha256\n"
    "    tsigSecretFile: %s\n"
    "    ttl: 60\n"
    "    propagation:        # optional per-provider override of the block above\n"
    "      nameservers: [\"127.0.0.1:5353\"]\n";

static void documented_example(void **state)
{
    struct zp_config *cfg;
    struct zp_err err;
    const struct zp_instance *in;

    if (parse(documented, &cfg, &err) == -1)
        fail_msg("%s", err.msg);
    assert_string_equal(cfg->group_name, "acme.zoneproof.test");
    assert_string_equal(cfg->solver_name, "zoneproof");
    assert_int_equal(cfg->prop.mode, ZP_PROP_WAIT);
    assert_int_equal(cfg->prop.timeout_ms, 25000);
    assert_int_equal(cfg->prop.n_resolvers, 1);
    assert_int_equal(cfg->prop.n_nameservers, 0);
    assert_int_equal(cfg->n_inst, 1);
    in = zp_config_instance(cfg, "lab");
    assert_non_null(in);
    assert_string_equal(in->ops->type, "rfc2136");
    assert_string_equal(in->zones[0], "example.test.");
    assert_int_equal(in->ttl, 60);
    /* the override replaces nameservers and inherits the rest */
    assert_int_equal(in->prop.n_nameservers, 1);
    assert_string_equal(in->prop.nameservers[0], "127.0.0.1:5353");
    assert_int_equal(in->prop.n_resolvers, 1);
    assert_int_equal(in->prop.timeout_ms, 25000);
    zp_config_free(cfg);
}

static void timeout_is_capped(void **state)
{
    struct zp_config *cfg;
    struct zp_err err;

    assert_int_equal(parse("propagation: {timeout: 2m}\nproviders:\n- name: a\n  type: rfc2136\n"
                           "  dnsZones: [a.test]\n  nameserver: 127.0.0.1\n  tsigKeyName: k\n"
                           "  tsigSecretFile: %s\n",
                           &cfg, &err),
                     0);
    assert_int_equal(cfg->prop.timeout_ms, ZP_PROP_TIMEOUT_MAX_MS);
    assert_int_equal(cfg->inst[0].prop.timeout_ms, ZP_PROP_TIMEOUT_MAX_MS);
    zp_config_free(cfg);
}

struct refusal {
    const char *yaml;
    const char *want;
};

/* Each YAML is refused with a sentence holding want. */
static void refusals(const struct refusal *cases, size_t n)
{
    struct zp_config *cfg;
    struct zp_err err;

    for (size_t i = 0; i < n; i++) {
        cfg = NULL;
        assert_int_equal(parse(cases[i].yaml, &cfg, &err), -1);
        assert_null(cfg);
        assert_int_equal(err.kind, ZP_ECONFIG);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: got \"%s\"\nwant \"%s\"", i, err.msg, cases[i].want);
    }
}

static void mistakes_cite_file_line_and_setting(void **state)
{
    static const struct refusal cases[] = {
        {"providers: []\n", "config.yaml:1: configuration: providers must be a non-empty list"},
        {"", "config.yaml: must be a YAML mapping"},
        {"groupname: x\n", "config.yaml:1: configuration: unknown setting \"groupname\""},
        {"groupName: nodots\nproviders: [{name: a}]\n", "groupName \"nodots\" must be a DNS-style"},
        {"propagation: {mode: later}\nproviders: [{name: a}]\n",
         "config.yaml:1: propagation: mode must be wait or skip, not \"later\""},
        {"propagation:\n  timeout: soon\nproviders: [{name: a}]\n",
         "config.yaml:2: propagation: timeout must be a duration such as 25s"},
        {"propagation:\n  nameservers: [\"ns:99999\"]\nproviders: [{name: a}]\n",
         "propagation: nameservers[0]: \"ns:99999\" is not host:port"},
        {"providers:\n- name: a\n  type: route66\n  dnsZones: [a.test]\n",
         "config.yaml:3: providers[0]: unknown type \"route66\" (known: rfc2136"},
        {"providers:\n- type: rfc2136\n", "config.yaml:2: providers[0]: name is required"},
        {"providers:\n- name: A B\n  type: rfc2136\n", "name \"A B\" must be 1-63 lower-case"},
        {"providers:\n- name: a\n  type: rfc2136\n  nameserver: 127.0.0.1\n  tsigKeyName: k\n"
         "  tsigSecretFile: %s\n",
         "config.yaml:2: providers[0]: dnsZones is required"},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [\"bad zone\"]\n",
         "config.yaml:4: providers[0]: dnsZones[0]: \"bad zone\" has the character ' '"},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n  ttl: 0\n",
         "config.yaml:5: providers[0]: ttl must be a whole number from 1 to 86400"},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n  tll: 60\n",
         "config.yaml:5: providers[0]: unknown setting \"tll\""},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n  nameserver: 127.0.0.1\n"
         "  tsigKeyName: k\n  tsigSecretFile: %s\n- name: a\n  type: rfc2136\n",
         "config.yaml:8: providers[1]: name \"a\" is already used by providers[0]"},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n  propagation:\n"
         "    mode: skip\n    timout: 5s\n",
         "config.yaml:7: providers[0].propagation: unknown setting \"timout\""},
        {"workers: {watch: 0}\nproviders: [{name: a}]\n",
         "workers: watch must be a whole number from 1 to 64"},
        {"dnssec: {validate: maybe}\nproviders: [{name: a}]\n",
         "config.yaml:1: dnssec: validate must be auto, true or false, not \"maybe\""},
        {"dnssec: {trustAnchor: x}\nproviders: [{name: a}]\n",
         "dnssec: unknown setting \"trustAnchor\" (known: validate, trustAnchorFile)"},
        {"caaIssuers: [\"lets encrypt\"]\nproviders: [{name: a}]\n",
         "caaIssuers[0]: \"lets encrypt\" has the character ' '"},
        {"propagation:\n  verifyResolvers: [\"a b\"]\nproviders: [{name: a}]\n",
         "config.yaml:2: propagation: verifyResolvers[0]: \"a b\" is not host:port"},
        {"propagation:\n  resolvers: [\"127.0.0.1:53\"]\n  verifyResolvers: [\"127.0.0.1:53\"]\n"
         "providers: [{name: a}]\n",
         "verifyResolvers[0]: \"127.0.0.1:53\" is also in resolvers: it sees zoneproof's view"},
    };

    refusals(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every host:port through the one parser, and no list longer than zoneproof asks. */
static void address_mistakes(void **state)
{
    static const struct refusal cases[] = {
        {"propagation:\n  resolvers: [\"not an addr\"]\nproviders: [{name: a}]\n",
         "config.yaml:2: propagation: resolvers[0]: \"not an addr\" is not host:port: it has a "
         "space"},
        {"propagation:\n  resolvers: [\"127.0.0.1: 53\"]\nproviders: [{name: a}]\n",
         "resolvers[0]: \"127.0.0.1: 53\" is not host:port: it has a space"},
        {"propagation:\n  resolvers: [\"127.0.0.1:+53\"]\nproviders: [{name: a}]\n",
         "resolvers[0]: \"127.0.0.1:+53\" is not host:port: it has port \"+53\", and a port is a "
         "number from 1 to 65535"},
        {"propagation:\n  nameservers: [\"ns1.a.test:0\"]\nproviders: [{name: a}]\n",
         "nameservers[0]: \"ns1.a.test:0\" is not host:port: it has port 0"},
        {"propagation:\n  verifyResolvers: [\"::1:53\"]\nproviders: [{name: a}]\n",
         "verifyResolvers[0]: \"::1:53\" is not host:port: it has two ':'"},
        {"propagation:\n  resolvers: [\"[::1]53\"]\nproviders: [{name: a}]\n",
         "resolvers[0]: \"[::1]53\" is not host:port: it has \"53\" after ']'"},
        {"propagation:\n  nameservers: [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, "
         "a14, a15, a16, a17]\nproviders: [{name: a}]\n",
         "config.yaml:2: propagation: nameservers lists 17 servers, more than the 16 zoneproof can "
         "ask; list at most 16"},
        {"propagation:\n  resolvers: [r1, r2, r3, r4, r5, r6, r7, r8, r9]\nproviders: [{name: "
         "a}]\n",
         "propagation: resolvers lists 9 servers, more than the 8 zoneproof can ask"},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n  propagation:\n"
         "    nameservers: [\"127.0.0.1:99999\"]\n",
         "config.yaml:6: providers[0].propagation: nameservers[0]: \"127.0.0.1:99999\" is not "
         "host:port"},
        {"providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n"
         "  nameserver: \"127.0.0.1: 53\"\n",
         "config.yaml:5: providers[0]: nameserver \"127.0.0.1: 53\" is not host:port: it has a "
         "space"},
    };

    (void)state;
    refusals(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every accepted form, at the limits. */
static void addresses_accepted(void **state)
{
    struct zp_config *cfg;
    struct zp_err err;

    (void)state;
    assert_int_equal(parse("propagation:\n  resolvers: [\"[::1]:5353\", \"10.0.0.1\", "
                           "\"dns.a.test:65535\", \"[2001:db8::1]\"]\n"
                           "  nameservers: [n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, "
                           "n13, n14, n15, \"n16:1\"]\n"
                           "providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n"
                           "  nameserver: \"[::1]:5300\"\n  tsigKeyName: k\n"
                           "  tsigSecretFile: %s\n",
                           &cfg, &err),
                     0);
    assert_int_equal(cfg->prop.n_resolvers, 4);
    assert_int_equal(cfg->prop.n_nameservers, 16);
    zp_config_free(cfg);
}

/* A provider that loads, after workers: the caps are all a case changes (%s: the secret). */
#define CAPS_PROVIDER                                                                              \
    "providers:\n- name: a\n  type: rfc2136\n  dnsZones: [a.test]\n  nameserver: 127.0.0.1\n"      \
    "  tsigKeyName: k\n  tsigSecretFile: %s\n"

/*
 * The caps, workers.maxWatches, workers.maxQueriesPerWatch and
 * workers.maxQueued: absent, the documented defaults; any whole number from 1 to 1000000
 * loads as written; anything else is refused with file:line, the key and
 * the range to pick from, quoting what was written.
 */
static unsigned cap_of(const struct zp_config *cfg, size_t k)
{
    return k == 0 ? cfg->max_watches : k == 1 ? cfg->watch_queries : cfg->max_queued;
}

static void watcher_caps(void **state)
{
    static const char *const keys[] = {"maxWatches", "maxQueriesPerWatch", "maxQueued"};
    static const unsigned defaults[] = {ZP_WATCH_MAX_DEFAULT, ZP_WATCH_QUERY_BUDGET_DEFAULT,
                                        ZP_QUEUED_DEFAULT};
    static const char *const good[] = {"1", "64", "1000000"};
    static const char *const bad[] = {
        "0",
        "-1",
        "-0",
        "many",
        "1.5",
        "1e6",
        "0x10",
        "\" 5\"",
        "1000001",
        "\"\"",
        "null",
        "4294967297",
        "18446744073709551616",
    };
    struct zp_config *cfg;
    struct zp_err err;
    char yaml[1024], want[256];

    (void)state;
    assert_int_equal(parse(CAPS_PROVIDER, &cfg, &err), 0);
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(cap_of(cfg, k), defaults[k]);
    zp_config_free(cfg);
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
            snprintf(yaml, sizeof(yaml), "workers:\n  %s: %s\n%s", keys[k], good[i], CAPS_PROVIDER);
            if (parse(yaml, &cfg, &err) == -1)
                fail_msg("%s: %s: %s", keys[k], good[i], err.msg);
            for (size_t o = 0; o < 3; o++)
                assert_int_equal(cap_of(cfg, o), o == k ? strtoul(good[i], NULL, 10) : defaults[o]);
            zp_config_free(cfg);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            const char *shown = strcmp(bad[i], "\"\"") == 0     ? ""
                                : strcmp(bad[i], "\" 5\"") == 0 ? " 5"
                                                                : bad[i];
            snprintf(yaml, sizeof(yaml), "workers:\n  %s: %s\n%s", keys[k], bad[i], CAPS_PROVIDER);
            snprintf(want, sizeof(want),
                     "config.yaml:2: workers: %s must be a whole number from 1 to 1000000, "
                     "not \"%s\"",
                     keys[k], shown);
            cfg = NULL;
            assert_int_equal(parse(yaml, &cfg, &err), -1);
            assert_null(cfg);
            assert_int_equal(err.kind, ZP_ECONFIG);
            if (strstr(err.msg, want) == NULL)
                fail_msg("%s: %s: got \"%s\"\nwant \"%s\"", keys[k], bad[i], err.msg, want);
        }
        /* Not a number at all: a list or a mapping is named as such. */
        snprintf(yaml, sizeof(yaml), "workers:\n  %s: [1]\n%s", keys[k], CAPS_PROVIDER);
        assert_int_equal(parse(yaml, &cfg, &err), -1);
        snprintf(want, sizeof(want),
                 "config.yaml:2: workers: %s must be a single value, not a list", keys[k]);
        assert_non_null(strstr(err.msg, want));
    }
}

/* A FIFO as the configuration: refused before any read, the flag named. */
static void fifo_refused(void **state)
{
    struct zp_config *cfg = NULL;
    struct zp_err err = {0};
    char dir[] = "/tmp/zp-cfg-XXXXXX", fifo[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/config.yaml", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(zp_config_load_as(fifo, "--config", &cfg, &err), -1);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "--config: "));
    assert_non_null(strstr(err.msg, "is a FIFO (named pipe), not a regular file"));
    unlink(fifo);
    rmdir(dir);
}

static void missing_file(void **state)
{
    struct zp_config *cfg;
    struct zp_err err = {0};

    assert_int_equal(zp_config_load("/nonexistent/zoneproof.yaml", &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "configuration file: cannot open /nonexistent/zoneproof.yaml"));
}

/* The rfc2136 instance "lab" for example.test, then the YAML of a persist: list. */
#define PERSIST_PROVIDERS                                                                          \
    "providers:\n- name: lab\n  type: rfc2136\n  dnsZones: [example.test]\n"                       \
    "  nameserver: 127.0.0.1\n  tsigKeyName: k\n  tsigSecretFile: %s\n"

static void persist_list(void **state)
{
    static const char yaml[] = PERSIST_PROVIDERS
        "persistInterval: 2m\n"
        "persist:\n"
        "- name: www.example.test\n  issuer: LetsEncrypt.org.\n"
        "  accountURI: https://acme-v02.api.letsencrypt.org/acme/acct/42\n"
        "- name: \"*.app.example.test\"\n  issuer: pki.goog\n"
        "  accountURI: https://dv.acme-v02.api.pki.goog/account/x7\n"
        "  persistUntil: 2099-01-01T00:00:00Z\n  provider: lab\n  zone: example.test\n"
        "- name: api.example.test\n  issuer: pki.goog\n"
        "  accountURI: https://dv.acme-v02.api.pki.goog/account/x7\n  wildcard: true\n";
    struct zp_config *cfg = NULL;
    struct zp_err err;
    char v[1024];

    if (parse(yaml, &cfg, &err) == -1)
        fail_msg("%s", err.msg);
    assert_int_equal(cfg->persist_interval_ms, 120000);
    assert_int_equal(cfg->n_persist, 3);
    assert_string_equal(cfg->persist[0].issuer, "letsencrypt.org");
    assert_null(cfg->persist[0].provider);
    assert_null(cfg->persist[0].zone);
    assert_int_equal(cfg->persist[0].until, 0);
    zp_persist_value(&cfg->persist[0], v, sizeof(v));
    assert_string_equal(v, "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/"
                           "acme/acct/42");
    assert_int_equal(cfg->persist[1].until, 4070908800LL);
    assert_string_equal(cfg->persist[1].provider, "lab");
    assert_string_equal(cfg->persist[1].zone, "example.test");
    zp_persist_value(&cfg->persist[1], v, sizeof(v));
    assert_string_equal(v, "pki.goog; accounturi=https://dv.acme-v02.api.pki.goog/account/x7; "
                           "policy=wildcard; persistUntil=4070908800");
    assert_int_equal(cfg->persist[2].wildcard, 1);
    zp_config_free(cfg);

    /* Without persist: nothing to keep, and the interval's default. */
    assert_int_equal(parse(PERSIST_PROVIDERS, &cfg, &err), 0);
    assert_int_equal(cfg->n_persist, 0);
    assert_int_equal(cfg->persist_interval_ms, ZP_PERSIST_INTERVAL_DEFAULT_MS);
    zp_config_free(cfg);
}

static void persist_mistakes(void **state)
{
    static const struct refusal cases[] = {
        {PERSIST_PROVIDERS "persist: {name: a}\n",
         "config.yaml:8: persist: must be a list of records"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n",
         "config.yaml:9: persist[0]: accountURI is required"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: http://acme.ca.example/acct/1\n",
         "config.yaml:11: persist[0]: accountURI \"http://acme.ca.example/acct/1\" is not an "
         "https URL with a host"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/a;b\n",
         "persist[0]: accountURI has a space, ';', a quote"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: localhost\n"
                           "  accountURI: https://acme.ca.example/acct/1\n",
         "config.yaml:10: persist[0]: issuer \"localhost\" is not a CA's issuer domain name"},
        {PERSIST_PROVIDERS
         "persist:\n- name: a.example.test\n  issuer: ca.example\n"
         "  accountURI: https://acme.ca.example/acct/1\n  persistUntil: 2001-01-01T00:00:00Z\n",
         "config.yaml:12: persist[0]: persistUntil \"2001-01-01T00:00:00Z\" is not in the future"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n  persistUntil: soon\n",
         "persist[0]: persistUntil \"soon\" is neither a unix time nor an RFC 3339 date"},
        {PERSIST_PROVIDERS "persist:\n- name: a.*.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n",
         "config.yaml:9: persist[0]: name \"a.*.example.test\" has a '*' that is not the whole"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n  provider: cf\n",
         "config.yaml:12: persist[0]: provider \"cf\" is not the name of one of the providers"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n  wildcard: maybe\n",
         "persist[0]: wildcard must be true or false"},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n  acount: x\n",
         "config.yaml:12: persist[0]: unknown setting \"acount\""},
        {PERSIST_PROVIDERS "persist:\n- name: a.example.test\n  issuer: ca.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n"
                           "- name: A.example.test\n  issuer: CA.example\n"
                           "  accountURI: https://acme.ca.example/acct/1\n",
         "config.yaml:12: persist[1]: the same name, issuer and accountURI as persist[0]"},
        {PERSIST_PROVIDERS "persistInterval: 1s\n",
         "config.yaml:8: configuration: persistInterval must be between 10s and 24h"},
    };

    refusals(cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(documented_example),
        cmocka_unit_test(timeout_is_capped),
        cmocka_unit_test(mistakes_cite_file_line_and_setting),
        cmocka_unit_test(address_mistakes),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(addresses_accepted),
        cmocka_unit_test(fifo_refused),
        cmocka_unit_test(watcher_caps),
        cmocka_unit_test(persist_list),
        cmocka_unit_test(persist_mistakes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
