/*
 * test_powerdns.c — which PowerDNS versions edit one record server-side
 * (EXTEND/PRUNE, 5.1+), and the API URL built from the endpoint setting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "providers/powerdns_int.h"

static void versions(void **state)
{
    (void)state;
    assert_false(zp_pdns_version_modern("4.7.3"));
    assert_false(zp_pdns_version_modern("4.9.4"));
    assert_false(zp_pdns_version_modern("5.0.1"));
    assert_true(zp_pdns_version_modern("5.1.0"));
    assert_true(zp_pdns_version_modern("5.1.0-alpha1"));
    assert_true(zp_pdns_version_modern("5.2.3"));
    assert_true(zp_pdns_version_modern("6.0.0"));
    /* Unknown shapes take the path every version has. */
    assert_false(zp_pdns_version_modern("master"));
    assert_false(zp_pdns_version_modern(""));
    assert_false(zp_pdns_version_modern("5"));
    assert_false(zp_pdns_version_modern(NULL));
}

static void api_urls(void **state)
{
    static const char *const cases[][2] = {
        {"http://127.0.0.1:8081", "http://127.0.0.1:8081/api/v1"},
        {"https://pdns.example.com/pdns", "https://pdns.example.com/pdns/api/v1"},
        {"http://127.0.0.1:8081/api", "http://127.0.0.1:8081/api/v1"},
        {"http://127.0.0.1:8081/api/v1", "http://127.0.0.1:8081/api/v1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *u = zp_pdns_api_url(cases[i][0]);
        assert_string_equal(u, cases[i][1]);
        free(u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),
        cmocka_unit_test(api_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
