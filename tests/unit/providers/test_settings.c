/*
 * test_settings.c — a provider's settings table (providers/settings.h):
 * every kind of row read from YAML with its default, the sentences a user
 * sees for a missing or wrong setting, both forms of a credential, the
 * keys the solver is told, and a free that leaves nothing behind (the
 * suite runs under AddressSanitizer in CI).
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
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/settings.h"

/* A configuration with a field of every kind. */
struct t_cfg {
    char *name;
    char *region;
    char *zone;
    char *bare;
    struct zp_cred token;
    char *endpoint;
    char *ca;
    unsigned long rpm;
    int verbose;
    uint64_t poll_ms;
    char **args;
    size_t n_args;
    char *derived;
};

static const struct zp_setting t_settings[] = {
    ZP_SET_S(struct t_cfg, "name", name, 1),
    ZP_SET_SD(struct t_cfg, "region", region, "us-east-1"),
    ZP_SET_Z(struct t_cfg, "zone", zone, 0),
    ZP_SET_ZB(struct t_cfg, "bareZone", bare, 0),
    ZP_SET_C(struct t_cfg, "apiToken", token, 0),
    ZP_SET_E(struct t_cfg, endpoint, ca, "https://api.example.net/v1"),
    ZP_SET_U(struct t_cfg, "requestsPerMinute", rpm, 60, 1, 6000),
    ZP_SET_B(struct t_cfg, "verbose", verbose, 1),
    ZP_SET_D(struct t_cfg, "pollInterval", poll_ms, 2000, 100, 60000),
    ZP_SET_L(struct t_cfg, "args", args, n_args, 0),
    ZP_SET_O(struct t_cfg, derived),
    ZP_SET_LAST,
};

/* A file with a credential in it, removed at the end of the run. */
static char cred_file[] = "/tmp/zp-settings-XXXXXX";

static int setup(void **state)
{
    int fd = mkstemp(cred_file);

    if (fd == -1 || write(fd, "t0ken\n", 6) != 6 || close(fd) == -1)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    unlink(cred_file);
    return 0;
}

/* Parses text with t_settings; the new configuration, or NULL with the sentence in err. */
static struct t_cfg *parse(const char *text, struct zp_err *err)
{
    struct zp_ydoc doc;
    struct t_cfg *cfg = calloc(1, sizeof(*cfg));

    assert_non_null(cfg);
    zp_err_clear(err);
    assert_int_equal(zp_yaml_load_string("c.yaml", text, strlen(text), &doc, err), 0);
    if (zp_settings_parse(doc.root, "providers[0]", t_settings, cfg, err) == -1) {
        zp_settings_free(t_settings, cfg);
        cfg = NULL;
    }
    zp_yaml_free(&doc);
    return cfg;
}

static void each_kind_read(void **state)
{
    char text[512];
    struct zp_err err = {0};
    struct t_cfg *cfg;

    snprintf(text, sizeof(text),
             "name: a\nregion: eu-west-1\nzone: Example.COM\nbareZone: example.org.\n"
             "apiTokenFile: %s\nendpoint: https://dns.example.com/api/\ncaFile: %s\n"
             "requestsPerMinute: 120\nverbose: false\npollInterval: 5s\nargs: [x, y]\n",
             cred_file, cred_file);
    cfg = parse(text, &err);
    assert_non_null(cfg);
    assert_string_equal(cfg->name, "a");
    assert_string_equal(cfg->region, "eu-west-1");
    assert_string_equal(cfg->zone, "example.com.");
    assert_string_equal(cfg->bare, "example.org");
    assert_true(zp_cred_set(&cfg->token));
    assert_string_equal(cfg->token.file, cred_file);
    assert_string_equal(cfg->token.setting, "apiTokenFile");
    assert_string_equal(cfg->endpoint, "https://dns.example.com/api");
    assert_string_equal(cfg->ca, cred_file);
    assert_int_equal(cfg->rpm, 120);
    assert_int_equal(cfg->verbose, 0);
    assert_int_equal(cfg->poll_ms, 5000);
    assert_int_equal(cfg->n_args, 2);
    assert_string_equal(cfg->args[0], "x");
    assert_string_equal(cfg->args[1], "y");
    assert_null(cfg->args[2]);
    /* What the provider derives itself is freed with the rest. */
    cfg->derived = zp_xstrdup("host.example.com");
    zp_settings_free(t_settings, cfg);
}

static void defaults_applied(void **state)
{
    struct zp_err err = {0};
    struct t_cfg *cfg = parse("name: a\n", &err);

    assert_non_null(cfg);
    assert_string_equal(cfg->region, "us-east-1");
    assert_null(cfg->zone);
    assert_null(cfg->bare);
    assert_false(zp_cred_set(&cfg->token));
    assert_string_equal(cfg->endpoint, "https://api.example.net/v1");
    assert_null(cfg->ca);
    assert_int_equal(cfg->rpm, 60);
    assert_int_equal(cfg->verbose, 1);
    assert_int_equal(cfg->poll_ms, 2000);
    assert_null(cfg->args);
    assert_int_equal(cfg->n_args, 0);
    zp_settings_free(t_settings, cfg);
}

/* Each refusal names the file, line, entry and setting, as the hand-written parsers did. */
static void sentences(void **state)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"region: x\n", "c.yaml:1: providers[0]: name is required"},
        {"name: \"\"\n", "providers[0]: name must not be empty"},
        {"name: a\nzone: bad..zone\n",
         "c.yaml:2: providers[0]: zone \"bad..zone\" is not a domain name: has an empty label"},
        {"name: a\nbareZone: \"a b\"\n", "providers[0]: bareZone \"a b\" is not a domain name: "},
        {"name: a\nendpoint: ftp://x\n", "providers[0]: endpoint \"ftp://x\" must start with"},
        {"name: a\ncaFile: /nonexistent/ca.pem\n", "caFile /nonexistent/ca.pem cannot be read"},
        {"name: a\nrequestsPerMinute: 0\n", "providers[0]: requestsPerMinute"},
        {"name: a\npollInterval: 1ms\n", "providers[0]: pollInterval"},
        {"name: a\nverbose: maybe\n", "providers[0]: verbose"},
        {"name: a\nargs: {a: b}\n", "providers[0]: args must be a list of strings"},
        {"name: a\napiTokenFile: /nonexistent/token\n", "/nonexistent/token"},
    };
    struct zp_err err = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_null(parse(cases[i].text, &err));
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg);
        assert_int_equal(err.kind, ZP_ECONFIG);
    }
}

static const struct zp_setting t_required[] = {
    ZP_SET_C(struct t_cfg, "apiToken", token, 1),
    ZP_SET_Z(struct t_cfg, "zone", zone, 1),
    ZP_SET_LAST,
};

static void required_credential_and_zone(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err = {0};
    struct t_cfg *cfg = calloc(1, sizeof(*cfg));
    const char *text = "zone: example.com\n";

    assert_non_null(cfg);
    assert_int_equal(zp_yaml_load_string("c.yaml", text, strlen(text), &doc, &err), 0);
    assert_int_equal(zp_settings_parse(doc.root, "providers[0]", t_required, cfg, &err), -1);
    assert_non_null(strstr(err.msg, "providers[0]: apiTokenFile or apiTokenSecretRef is required"));
    zp_settings_free(t_required, cfg);
    zp_yaml_free(&doc);
}

static void credential_from_secret_ref(void **state)
{
    struct zp_err err = {0};
    struct t_cfg *cfg = parse("name: a\napiTokenSecretRef: {name: dns, key: token}\n", &err);

    assert_non_null(cfg);
    assert_true(zp_cred_set(&cfg->token));
    assert_null(cfg->token.file);
    assert_string_equal(cfg->token.ref_name, "dns");
    assert_string_equal(cfg->token.ref_key, "token");
    assert_string_equal(cfg->token.setting, "apiTokenSecretRef");
    zp_settings_free(t_settings, cfg);

    assert_null(
        parse("name: a\napiTokenFile: /x\napiTokenSecretRef: {name: dns, key: token}\n", &err));
    assert_non_null(strstr(err.msg, "apiTokenFile and apiTokenSecretRef are both set"));
}

static int has(const char **keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return 1;
    return 0;
}

static void keys_listed(void **state)
{
    static const char *const want[] = {
        "name",
        "region",
        "zone",
        "bareZone",
        "apiTokenFile",
        "caFile",
        "pollInterval",
        "args",
        "apiTokenSecretRef",
        "endpoint",
        "requestsPerMinute",
        "verbose",
    };
    const char *keys[32], *few[3];
    size_t n = zp_settings_keys(t_settings, keys, 32);

    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++)
        if (!has(keys, n, want[i]))
            fail_msg("%s is not listed", want[i]);
    /* Too small an array: the count still tells, and nothing is written past it. */
    assert_int_equal(zp_settings_keys(t_settings, few, 3), n);
    assert_string_equal(few[0], "name");
    assert_int_equal(zp_settings_keys(NULL, keys, 32), 0);
}

static const struct zp_setting t_ca[] = {
    ZP_SET_CA(struct t_cfg, ca),
    ZP_SET_LAST,
};
static const struct zp_setting t_ep[] = {
    ZP_SET_E(struct t_cfg, endpoint, ca, "https://x"),
    ZP_SET_LAST,
};

/* Parses text with tab into msg: its sentence, or else the caFile read ("" when none). */
static const char *parse_ca(const struct zp_setting *tab, const char *text, char *msg, size_t msgsz)
{
    struct zp_ydoc doc;
    struct zp_err err = {0};
    struct t_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    int rc;

    assert_int_equal(zp_yaml_load_string("c.yaml", text, strlen(text), &doc, &err), 0);
    rc = zp_settings_parse(doc.root, "p", tab, cfg, &err);
    zp_strlcpy(msg, rc == -1 ? err.msg : cfg->ca ? cfg->ca : "", msgsz);
    zp_settings_free(tab, cfg);
    zp_yaml_free(&doc);
    return msg;
}

/* caFile alone: the endpoint row's sentences, and no endpoint key. */
static void cafile_alone(void **state)
{
    static const char *const bad[] = {"caFile: /nonexistent/ca.pem\n", "caFile: /tmp\n",
                                      "caFile: [a]\n"};
    char text[256], a[512], b[512];
    const char *keys[4];

    assert_int_equal(zp_settings_keys(t_ca, keys, 4), 1);
    assert_string_equal(keys[0], "caFile");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(strstr(parse_ca(t_ca, bad[i], a, sizeof(a)), "caFile"));
        assert_string_equal(a, parse_ca(t_ep, bad[i], b, sizeof(b)));
    }
    snprintf(text, sizeof(text), "caFile: %s\nendpoint: ftp://x\n", cred_file);
    assert_string_equal(parse_ca(t_ca, text, a, sizeof(a)), cred_file);
    assert_string_equal(parse_ca(t_ca, "endpoint: x\n", a, sizeof(a)), "");
}

static void free_null(void **state)
{
    zp_settings_free(t_settings, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_kind_read),
        cmocka_unit_test(defaults_applied),
        cmocka_unit_test(sentences),
        cmocka_unit_test(required_credential_and_zone),
        cmocka_unit_test(credential_from_secret_ref),
        cmocka_unit_test(keys_listed),
        cmocka_unit_test(cafile_alone),
        cmocka_unit_test(free_null),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
