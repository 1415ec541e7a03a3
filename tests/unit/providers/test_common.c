/*
 * test_common.c — TXT quoting and comparison as the APIs store values
 * (quoted or raw, split into character-strings), and endpoint settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/yaml.h"
#include "providers/common.h"

static void quoting(void **state)
{
    struct zp_buf b;

    zp_buf_init(&b, 256);
    assert_int_equal(zp_txt_quote("abc-_123", &b), 0);
    assert_string_equal(zp_buf_str(&b), "\"abc-_123\"");
    zp_buf_reset(&b);
    assert_int_equal(zp_txt_quote("a\"b\\c", &b), 0);
    assert_string_equal(zp_buf_str(&b), "\"a\\\"b\\\\c\"");
    zp_buf_free(&b);
}

static void equality_across_api_forms(void **state)
{
    assert_true(zp_txt_equal("\"abc\"", "abc"));       /* Cloudflare, PowerDNS, Route 53 */
    assert_true(zp_txt_equal("abc", "abc"));           /* DigitalOcean, Linode, Azure */
    assert_true(zp_txt_equal("\"ab\" \"c\"", "abc"));  /* split character-strings */
    assert_true(zp_txt_equal("\"a\\\"b\"", "a\"b"));
    assert_false(zp_txt_equal("\"abc\"", "ab"));
    assert_false(zp_txt_equal("\"ab\"", "abc"));
    assert_false(zp_txt_equal("\"abcd\"", "abc"));
    assert_false(zp_txt_equal("abc ", "abc"));
    assert_false(zp_txt_equal("\"abc", "abc"));
    assert_true(zp_txt_equal("\"abc", "\"abc"));      /* not quoted: compared as is */
}

static void endpoint_settings(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err = {0};
    char *ep = NULL, *ca = NULL;
    const char *y1 = "endpoint: https://api.example.com/v4/\n";
    const char *y2 = "endpoint: ftp://x\n";
    const char *y3 = "caFile: /nonexistent/ca.pem\n";

    assert_int_equal(zp_yaml_load_string("c.yaml", y1, strlen(y1), &doc, &err), 0);
    assert_int_equal(zp_endpoint_parse(doc.root, "providers[0]", "https://default", &ep, &ca,
                                       &err), 0);
    assert_string_equal(ep, "https://api.example.com/v4");
    assert_null(ca);
    free(ep);
    zp_yaml_free(&doc);

    assert_int_equal(zp_yaml_load_string("c.yaml", y2, strlen(y2), &doc, &err), 0);
    assert_int_equal(zp_endpoint_parse(doc.root, "providers[0]", "https://default", &ep, &ca,
                                       &err), -1);
    assert_non_null(strstr(err.msg, "c.yaml:1: providers[0]: endpoint \"ftp://x\" must start with"));
    zp_yaml_free(&doc);

    zp_err_clear(&err);
    assert_int_equal(zp_yaml_load_string("c.yaml", y3, strlen(y3), &doc, &err), 0);
    assert_int_equal(zp_endpoint_parse(doc.root, "providers[0]", "https://default", &ep, &ca,
                                       &err), -1);
    assert_non_null(strstr(err.msg, "caFile /nonexistent/ca.pem cannot be read"));
    zp_yaml_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting),
        cmocka_unit_test(equality_across_api_forms),
        cmocka_unit_test(endpoint_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
