/*
 * test_psl.c — the Public Suffix List check against a small list the test
 * writes (so the verdicts do not move with the system's list version):
 * ICANN and PRIVATE sections, wildcard and exception rules, TLDs by the
 * default rule, exact sentences, load errors; and that the system's list
 * loads and knows co.uk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/mem.h"
#include "solver/psl.h"

/* libpsl reads the section markers only in this shape: BEGIN, rules, END, per section. */
static const char list_text[] = "// a test list\n"
                                "// ===BEGIN ICANN DOMAINS===\n"
                                "uk\n"
                                "co.uk\n"
                                "com\n"
                                "io\n"
                                "// wildcard and exception\n"
                                "*.ck\n"
                                "!www.ck\n"
                                "// ===END ICANN DOMAINS===\n"
                                "// ===BEGIN PRIVATE DOMAINS===\n"
                                "github.io\n"
                                "blogspot.co.uk\n"
                                "// ===END PRIVATE DOMAINS===\n";

struct fixture {
    char dir[64];
    char path[128];
    struct zp_psl *psl;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    struct fixture *fx = zp_xcalloc(1, sizeof(*fx));
    struct zp_err err = {0};

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/zp-psl-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/list.dat", fx->dir);
    write_file(fx->path, list_text);
    assert_int_equal(zp_psl_load(fx->path, &fx->psl, &err), 0);
    assert_string_equal(zp_psl_source(fx->psl), fx->path);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    static const char *const made[] = {"empty.dat", "comments.dat", "flat.dat"};
    struct fixture *fx = *state;
    char p[160];

    zp_psl_free(fx->psl);
    unlink(fx->path);
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", fx->dir, made[i]);
        unlink(p);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void check(const struct zp_psl *p, const char *name, enum zp_verdict v, const char *cause,
                  const char *fix)
{
    struct zp_check c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(zp_psl_check(p, name, &c), 0);
    assert_string_equal(c.id, "psl");
    assert_string_equal(c.cause, cause);
    assert_string_equal(c.fix, fix);
    assert_int_equal(c.verdict, v);
}

static void test_icann_suffix_fails(void **state)
{
    struct fixture *fx = *state;

    check(fx->psl, "co.uk.", ZP_CHECK_FAIL,
          "co.uk. is a public suffix (ICANN section of the "
          "Public Suffix List): CAs refuse to issue certificates for it",
          "request names in a domain you registered under co.uk., not co.uk. itself");
    check(fx->psl, "*.co.uk.", ZP_CHECK_FAIL,
          "*.co.uk. would cover every domain registered "
          "under the public suffix co.uk. (ICANN section of the Public Suffix List): CAs refuse "
          "to issue it",
          "request the wildcard one level lower, under a domain you registered "
          "(*.<your-domain>.co.uk.)");
    /* Case and the trailing dot do not matter. */
    check(fx->psl, "CO.UK", ZP_CHECK_FAIL,
          "co.uk. is a public suffix (ICANN section of the "
          "Public Suffix List): CAs refuse to issue certificates for it",
          "request names in a domain you registered under co.uk., not co.uk. itself");
    /* A wildcard rule makes every label below it a suffix. */
    check(fx->psl, "foo.ck.", ZP_CHECK_FAIL,
          "foo.ck. is a public suffix (ICANN section of the "
          "Public Suffix List): CAs refuse to issue certificates for it",
          "request names in a domain you registered under foo.ck., not foo.ck. itself");
}

static void test_tlds_fail(void **state)
{
    struct fixture *fx = *state;

    check(fx->psl, "com.", ZP_CHECK_FAIL,
          "com. is a public suffix (a top-level domain): CAs "
          "refuse to issue certificates for it",
          "request names in a domain you registered under com., not com. itself");
    /* Not in the list: the default rule. */
    check(fx->psl, "internal.", ZP_CHECK_FAIL,
          "internal. is a public suffix (a top-level "
          "domain): CAs refuse to issue certificates for it",
          "request names in a domain you registered under internal., not internal. itself");
    check(fx->psl, "*.com.", ZP_CHECK_FAIL,
          "*.com. would cover every domain registered under "
          "the public suffix com. (a top-level domain): CAs refuse to issue it",
          "request the wildcard one level lower, under a domain you registered "
          "(*.<your-domain>.com.)");
}

static void test_private_section_warns(void **state)
{
    struct fixture *fx = *state;

    check(fx->psl, "x.github.io.", ZP_CHECK_WARN,
          "x.github.io. sits directly under the public "
          "suffix github.io. (private section of the Public Suffix List): each name there "
          "belongs to a different customer of that platform, and the platform's zone is "
          "usually not one a customer can write to",
          "use a name in a domain you registered, "
          "or write the challenge where github.io. lets its customers (some accept a CNAME "
          "from _acme-challenge.x.github.io. to a zone you control)");
    check(fx->psl, "www.x.github.io.", ZP_CHECK_WARN,
          "www.x.github.io. is in x.github.io., "
          "directly under the public suffix github.io. (private section of the Public Suffix "
          "List): each name there belongs to a different customer of that platform, and the "
          "platform's zone is usually not one a customer can write to",
          "use a name in a "
          "domain you registered, or write the challenge where github.io. lets its customers "
          "(some accept a CNAME from _acme-challenge.x.github.io. to a zone you control)");
    check(fx->psl, "*.x.github.io.", ZP_CHECK_WARN,
          "*.x.github.io. is in x.github.io., "
          "directly under the public suffix github.io. (private section of the Public Suffix "
          "List): each name there belongs to a different customer of that platform, and the "
          "platform's zone is usually not one a customer can write to",
          "use a name in a "
          "domain you registered, or write the challenge where github.io. lets its customers "
          "(some accept a CNAME from _acme-challenge.x.github.io. to a zone you control)");
    /* A private entry below an ICANN one. */
    check(fx->psl, "x.blogspot.co.uk.", ZP_CHECK_WARN,
          "x.blogspot.co.uk. sits directly under "
          "the public suffix blogspot.co.uk. (private section of the Public Suffix List): each "
          "name there belongs to a different customer of that platform, and the platform's "
          "zone is usually not one a customer can write to",
          "use a name in a domain you "
          "registered, or write the challenge where blogspot.co.uk. lets its customers (some "
          "accept a CNAME from _acme-challenge.x.blogspot.co.uk. to a zone you control)");
}

static void test_private_entry_itself_warns(void **state)
{
    struct fixture *fx = *state;

    check(fx->psl, "github.io.", ZP_CHECK_WARN,
          "github.io. is a public suffix (private section "
          "of the Public Suffix List): only the platform behind it controls its zone, and some "
          "CAs refuse such names",
          "use a name in a domain you registered, unless you run this "
          "platform");
    check(fx->psl, "*.github.io.", ZP_CHECK_WARN,
          "*.github.io. would cover every customer of "
          "the platform behind the public suffix github.io. (private section of the Public "
          "Suffix List): only that platform controls the zone, and some CAs refuse such "
          "wildcards",
          "use a name in a domain you registered, unless you run this platform");
}

static void test_registrable_ok(void **state)
{
    struct fixture *fx = *state;

    check(fx->psl, "www.example.com.", ZP_CHECK_OK, "registrable domain example.com.", "");
    check(fx->psl, "WWW.Example.COM", ZP_CHECK_OK, "registrable domain example.com.", "");
    check(fx->psl, "example.co.uk.", ZP_CHECK_OK, "registrable domain example.co.uk.", "");
    check(fx->psl, "*.example.co.uk.", ZP_CHECK_OK, "registrable domain example.co.uk.", "");
    check(fx->psl, "a.b.example.io.", ZP_CHECK_OK, "registrable domain example.io.", "");
    /* The exception rule: www.ck is registrable although *.ck is a suffix. */
    check(fx->psl, "www.ck.", ZP_CHECK_OK, "registrable domain www.ck.", "");
    check(fx->psl, "a.foo.ck.", ZP_CHECK_OK, "registrable domain a.foo.ck.", "");
}

static void test_bad_names(void **state)
{
    struct fixture *fx = *state;
    struct zp_check c;
    int priv = 7;

    assert_int_equal(zp_psl_check(fx->psl, "bad name", &c), -1);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "\"bad name\" is not a DNS name");
    assert_int_equal(zp_psl_check(fx->psl, ".", &c), -1);
    assert_int_equal(zp_psl_check(fx->psl, "*.", &c), -1);
    assert_int_equal(zp_psl_check(fx->psl, "a.*.example.com.", &c), -1);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "bad name", &priv), -1);
    assert_int_equal(priv, 0);
}

static void test_is_suffix(void **state)
{
    struct fixture *fx = *state;
    int priv = -1;

    assert_int_equal(zp_psl_is_suffix(fx->psl, "co.uk.", &priv), 1);
    assert_int_equal(priv, 0);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "github.io.", &priv), 1);
    assert_int_equal(priv, 1);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "blogspot.co.uk", &priv), 1);
    assert_int_equal(priv, 1);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "com.", &priv), 1);
    assert_int_equal(priv, 0);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "internal.", &priv), 1);
    assert_int_equal(priv, 0);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "foo.ck.", &priv), 1);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "www.ck.", &priv), 0);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "example.com.", &priv), 0);
    assert_int_equal(priv, 0);
    assert_int_equal(zp_psl_is_suffix(fx->psl, "x.github.io.", NULL), 0);
}

static void test_load_errors(void **state)
{
    struct fixture *fx = *state;
    struct zp_psl *p = (struct zp_psl *)1;
    struct zp_err err = {0};
    char path[160], want[512];

    assert_int_equal(zp_psl_load("/nonexistent/zp/list.dat", &p, &err), -1);
    assert_null(p);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_string_equal(err.msg, "cannot read the Public Suffix List /nonexistent/zp/list.dat: "
                                 "No such file or directory");
    snprintf(path, sizeof(path), "%s/empty.dat", fx->dir);
    write_file(path, "");
    zp_err_clear(&err);
    assert_int_equal(zp_psl_load(path, &p, &err), -1);
    snprintf(want, sizeof(want),
             "the Public Suffix List %s is empty or is a DAFSA file this "
             "libpsl cannot read",
             path);
    assert_string_equal(err.msg, want);
    snprintf(path, sizeof(path), "%s/comments.dat", fx->dir);
    write_file(path, "// only a comment\n\n");
    zp_err_clear(&err);
    assert_int_equal(zp_psl_load(path, &p, &err), -1);
    snprintf(want, sizeof(want), "the Public Suffix List %s holds no suffix rule", path);
    assert_string_equal(err.msg, want);
}

static void test_rules_outside_sections(void **state)
{
    struct fixture *fx = *state;
    struct zp_psl *p = NULL;
    struct zp_err err = {0};
    char path[160];
    int priv = -1;

    /* No markers: the rules still count, as ICANN ones. */
    snprintf(path, sizeof(path), "%s/flat.dat", fx->dir);
    write_file(path, "example\nfoo.example\n");
    assert_int_equal(zp_psl_load(path, &p, &err), 0);
    assert_int_equal(zp_psl_is_suffix(p, "foo.example.", &priv), 1);
    assert_int_equal(priv, 0);
    check(p, "a.foo.example.", ZP_CHECK_OK, "registrable domain a.foo.example.", "");
    zp_psl_free(p);
}

static void test_system_list(void **state)
{
    struct zp_psl *p = NULL;
    struct zp_err err = {0};
    int priv = -1;

    assert_int_equal(zp_psl_load(NULL, &p, &err), 0);
    assert_true(zp_psl_source(p)[0] != '\0');
    assert_int_equal(zp_psl_is_suffix(p, "co.uk.", &priv), 1);
    assert_int_equal(priv, 0);
    assert_int_equal(zp_psl_is_suffix(p, "github.io.", &priv), 1);
    assert_int_equal(priv, 1);
    check(p, "www.example.co.uk.", ZP_CHECK_OK, "registrable domain example.co.uk.", "");
    zp_psl_free(p);
    zp_psl_free(NULL);
}

static void test_system_dafsa_file(void **state)
{
    static const char dafsa[] = "/usr/share/publicsuffix/public_suffix_list.dafsa";
    struct zp_psl *p = NULL;
    struct zp_err err = {0};
    struct stat st;
    int priv = -1;

    if (stat(dafsa, &st) != 0)
        skip();
    /* A DAFSA has no rule count to check: it must load and answer. */
    assert_int_equal(zp_psl_load(dafsa, &p, &err), 0);
    assert_int_equal(zp_psl_is_suffix(p, "co.uk.", &priv), 1);
    assert_int_equal(zp_psl_is_suffix(p, "github.io.", &priv), 1);
    assert_int_equal(priv, 1);
    zp_psl_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_icann_suffix_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlds_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_section_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_entry_itself_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registrable_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_is_suffix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_outside_sections, setup, teardown),
        cmocka_unit_test(test_system_list),
        cmocka_unit_test(test_system_dafsa_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
