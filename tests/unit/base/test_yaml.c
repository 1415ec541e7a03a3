/*
 * test_yaml.c — the YAML tree and its getters: every configuration error a
 * user sees comes from here, so each must cite file:line and the setting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/err.h"
#include "base/yaml.h"

static int load(const char *text, struct zp_ydoc *doc, struct zp_err *err)
{
    zp_err_clear(err);
    return zp_yaml_load_string("cfg.yaml", text, strlen(text), doc, err);
}

static void tree_and_lines(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err;
    const struct zp_ynode *p;

    assert_int_equal(load("a: 1\nlist:\n  - x\n  - \"y\"\nmap:\n  k: v\n", &doc, &err), 0);
    assert_int_equal(doc.root->type, ZP_Y_MAP);
    p = zp_y_get(doc.root, "list");
    assert_non_null(p);
    assert_int_equal(p->type, ZP_Y_SEQ);
    assert_int_equal(p->n, 2);
    assert_int_equal(p->items[1]->line, 4);
    assert_true(p->items[1]->quoted);
    assert_string_equal(zp_y_get(zp_y_get(doc.root, "map"), "k")->scalar, "v");
    assert_null(zp_y_get(doc.root, "missing"));
    zp_yaml_free(&doc);
}

static void syntax_errors_cite_the_line(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err;

    assert_int_equal(load("a: 1\nb: [1, 2\n", &doc, &err), -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_non_null(strstr(err.msg, "cfg.yaml:"));
    assert_non_null(strstr(err.msg, "not valid YAML"));

    assert_int_equal(load("a: 1\na: 2\n", &doc, &err), -1);
    assert_non_null(strstr(err.msg, "cfg.yaml:2: key \"a\" appears twice"));

    assert_int_equal(load("a: &x 1\nb: *x\n", &doc, &err), -1);
    assert_non_null(strstr(err.msg, "aliases"));

    assert_int_equal(load("a: 1\n---\nb: 2\n", &doc, &err), -1);
    assert_non_null(strstr(err.msg, "more than one YAML document"));
}

static void empty_document(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err;

    assert_int_equal(load("", &doc, &err), 0);
    assert_null(doc.root);
    zp_yaml_free(&doc);
}

static void getters(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err;
    const char *s = NULL;
    unsigned long u = 7;
    uint64_t ms = 0;
    int b = 0;
    char **list = NULL;
    size_t n = 0;

    assert_int_equal(load("name: lab\nttl: 60\non: yes\nt: 250ms\nzones: [a, b]\none: c\n"
                          "bad: -3\nbig: 100000\nd: 10 parsecs\nmap: {x: 1}\n",
                          &doc, &err),
                     0);
    assert_int_equal(zp_y_str(doc.root, "p", "name", 1, &s, &err), 0);
    assert_string_equal(s, "lab");
    assert_int_equal(zp_y_uint(doc.root, "p", "ttl", 1, 1, 86400, &u, &err), 0);
    assert_int_equal(u, 60);
    assert_int_equal(zp_y_bool(doc.root, "p", "on", 1, &b, &err), 0);
    assert_true(b);
    assert_int_equal(zp_y_duration(doc.root, "p", "t", 1, 1, 60000, &ms, &err), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(zp_y_strlist(doc.root, "p", "zones", 1, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[1], "b");
    assert_int_equal(zp_y_strlist(doc.root, "p", "one", 1, &list, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "c");
    zp_strlist_free(list);

    /* absent optional: untouched */
    u = 7;
    assert_int_equal(zp_y_uint(doc.root, "p", "nope", 0, 1, 9, &u, &err), 0);
    assert_int_equal(u, 7);

    zp_err_clear(&err);
    assert_int_equal(zp_y_uint(doc.root, "providers[0]", "bad", 1, 1, 86400, &u, &err), -1);
    assert_string_equal(err.msg, "cfg.yaml:7: providers[0]: bad must be a whole number from 1 "
                                 "to 86400, not \"-3\"");
    zp_err_clear(&err);
    assert_int_equal(zp_y_uint(doc.root, "p", "big", 1, 1, 86400, &u, &err), -1);
    assert_non_null(strstr(err.msg, "cfg.yaml:8"));
    zp_err_clear(&err);
    assert_int_equal(zp_y_duration(doc.root, "p", "d", 1, 1, 60000, &ms, &err), -1);
    assert_non_null(strstr(err.msg, "cfg.yaml:9: p: d must be a duration"));
    zp_err_clear(&err);
    assert_int_equal(zp_y_str(doc.root, "p", "map", 1, &s, &err), -1);
    assert_non_null(strstr(err.msg, "must be a single value, not a mapping"));
    zp_err_clear(&err);
    assert_int_equal(zp_y_str(doc.root, "p", "missing", 1, &s, &err), -1);
    assert_non_null(strstr(err.msg, "cfg.yaml:1: p: missing is required"));
    zp_yaml_free(&doc);
}

static void unknown_keys_are_named(void **state)
{
    static const char *const allowed[] = {"name", "type", NULL};
    struct zp_ydoc doc;
    struct zp_err err;

    assert_int_equal(load("name: a\ntpye: b\n", &doc, &err), 0);
    assert_int_equal(zp_y_check_keys(doc.root, "providers[0]", allowed, &err), -1);
    assert_string_equal(err.msg, "cfg.yaml:2: providers[0]: unknown setting \"tpye\" "
                                 "(known: name, type)");
    zp_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_and_lines),         cmocka_unit_test(syntax_errors_cite_the_line),
        cmocka_unit_test(empty_document),         cmocka_unit_test(getters),
        cmocka_unit_test(unknown_keys_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
