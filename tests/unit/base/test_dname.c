/*
 * test_dname.c — DNS name validation, label-wise zone matching and
 * host:port parsing, the rules routing and validation depend on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/dname.h"

static void check_accepts_and_refuses(void **state)
{
    char why[160];

    assert_int_equal(zp_dname_check("_acme-challenge.example.com.", 1, why, sizeof(why)), 0);
    assert_int_equal(zp_dname_check("example.com", 0, why, sizeof(why)), 0);
    assert_int_equal(zp_dname_check("example.com", 1, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "must end with a dot"));
    assert_int_equal(zp_dname_check("a..b.", 1, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "empty label"));
    assert_int_equal(zp_dname_check("exa mple.com.", 1, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "' '"));
    assert_int_equal(zp_dname_check(".", 1, why, sizeof(why)), -1);
    assert_int_equal(zp_dname_check("", 0, why, sizeof(why)), -1);

    char label[80];
    memset(label, 'a', 64);
    memcpy(label + 64, ".com.", sizeof(".com."));
    assert_int_equal(zp_dname_check(label, 1, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "63"));
}

static void in_zone_is_label_wise_and_case_insensitive(void **state)
{
    assert_true(zp_dname_in_zone("_acme-challenge.example.com.", "example.com."));
    assert_true(zp_dname_in_zone("_acme-challenge.Example.COM", "example.com."));
    assert_true(zp_dname_in_zone("example.com.", "example.com"));
    assert_false(zp_dname_in_zone("_acme-challenge.badexample.com.", "example.com."));
    assert_false(zp_dname_in_zone("example.com.", "sub.example.com."));
    assert_true(zp_dname_in_zone("anything.example.", "."));
}

static void relative_names(void **state)
{
    char out[ZP_DNAME_MAX];

    assert_int_equal(
        zp_dname_relative("_acme-challenge.www.example.com.", "example.com.", out, sizeof(out)), 0);
    assert_string_equal(out, "_acme-challenge.www");
    assert_int_equal(zp_dname_relative("example.com.", "Example.com", out, sizeof(out)), 0);
    assert_string_equal(out, "@");
    assert_int_equal(zp_dname_relative("x.example.org.", "example.com.", out, sizeof(out)), -1);
}

static void canon_and_labels(void **state)
{
    char out[ZP_DNAME_MAX];

    assert_int_equal(zp_dname_canon("WWW.Example.COM", out, sizeof(out)), 0);
    assert_string_equal(out, "www.example.com.");
    assert_int_equal(zp_dname_canon("a.b.", out, sizeof(out)), 0);
    assert_string_equal(out, "a.b.");
    assert_int_equal(zp_dname_labels("a.b.c."), 3);
    assert_int_equal(zp_dname_labels("."), 0);
}

static void hostport(void **state)
{
    char host[64];
    unsigned port;

    assert_int_equal(zp_hostport_split("127.0.0.1:5353", 53, host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 5353);
    assert_int_equal(zp_hostport_split("ns1.example.com", 53, host, sizeof(host), &port), 0);
    assert_string_equal(host, "ns1.example.com");
    assert_int_equal(port, 53);
    assert_int_equal(zp_hostport_split("[::1]:5300", 53, host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 5300);
    assert_int_equal(zp_hostport_split("[2001:db8::1]", 53, host, sizeof(host), &port), 0);
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 53);
    assert_int_equal(zp_hostport_split("host:0", 53, host, sizeof(host), &port), -1);
    assert_int_equal(zp_hostport_split("host:99999", 53, host, sizeof(host), &port), -1);
    assert_int_equal(zp_hostport_split("host:", 53, host, sizeof(host), &port), -1);
    assert_int_equal(zp_hostport_split("[::1", 53, host, sizeof(host), &port), -1);
    assert_int_equal(zp_hostport_split("", 53, host, sizeof(host), &port), -1);
}

/* What the parser refuses, and the reason each time (a config error quotes it). */
static void hostport_strict(void **state)
{
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"not an addr", "has a space"},
        {"127.0.0.1: 53", "has a space"},
        {" 127.0.0.1:53", "has a space"},
        {"127.0.0.1:+53", "has port \"+53\""},
        {"127.0.0.1:0x35", "has port \"0x35\""},
        {"127.0.0.1:0", "has port 0"},
        {"127.0.0.1:65536", "has port 65536"},
        {"127.0.0.1:", "has port \"\""},
        {"::1:53", "two ':'"},
        {"2001:db8::1", "two ':'"},
        {"[::1]53", "after ']'"},
        {"[::1", "without a closing ']'"},
        {"[ns1.example.com]:53", "only an IPv6 address"},
        {":53", "has no host"},
        {"ns_1!.example:53", "neither an IP address nor a host name"},
    };
    char host[64], why[160];
    unsigned port;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(
            zp_hostport_parse(bad[i].in, 53, host, sizeof(host), &port, why, sizeof(why)), -1);
        if (strstr(why, bad[i].why) == NULL)
            fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].in, why, bad[i].why);
    }
    assert_int_equal(zp_hostport_parse("[::1]", 5353, host, sizeof(host), &port, why, sizeof(why)),
                     0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 5353);
    assert_int_equal(
        zp_hostport_parse("ns1.example.com:65535", 53, host, sizeof(host), &port, why, sizeof(why)),
        0);
    assert_int_equal(port, 65535);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_accepts_and_refuses),
        cmocka_unit_test(in_zone_is_label_wise_and_case_insensitive),
        cmocka_unit_test(relative_names),
        cmocka_unit_test(canon_and_labels),
        cmocka_unit_test(hostport),
        cmocka_unit_test(hostport_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
