/*
 * test_watch_explain.c — the propagation sentence and the JSON report: each
 * state names the server, what it answered and the dig command, and one
 * report always gives the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "solver/watch.h"

#define FQDN "_acme-challenge.example.test."
#define DIG "Check with: dig +norec @127.0.0.1 -p 5302 _acme-challenge.example.test. TXT"

static struct zp_watch_report *report_new(void)
{
    struct zp_watch_report *r = zp_xcalloc(1, sizeof(*r));

    zp_strlcpy(r->fqdn, FQDN, sizeof(r->fqdn));
    zp_strlcpy(r->zone, "example.test.", sizeof(r->zone));
    zp_strlcpy(r->value, "the-key", sizeof(r->value));
    r->n = 2;
    zp_strlcpy(r->ns[0].name, "ns1.example.test.", sizeof(r->ns[0].name));
    zp_strlcpy(r->ns[0].addr, "127.0.0.1:5301", sizeof(r->ns[0].addr));
    r->ns[0].state = ZP_NS_HAS_VALUE;
    zp_strlcpy(r->ns[1].name, "ns2.example.test.", sizeof(r->ns[1].name));
    zp_strlcpy(r->ns[1].addr, "127.0.0.1:5302", sizeof(r->ns[1].addr));
    return r;
}

static void explain(const struct zp_watch_report *r, struct zp_err *e)
{
    zp_err_clear(e);
    assert_int_equal(zp_watch_explain(r, e), -1);
    assert_int_equal(e->kind, ZP_EPROPAGATION);
    assert_true(strlen(e->msg) < ZP_ERR_MSG_MAX - 1);
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);

    return a >= b && strcmp(s + a - b, tail) == 0;
}

/*
 * ns2 in state s: the sentence names ns2 and its address, contains every
 * string of want, ends with the dig command, and is byte-identical when the
 * same report is explained again (also with another elapsed time).
 */
static void check_state(struct zp_watch_report *r, const char *const *want)
{
    struct zp_err e1, e2;

    explain(r, &e1);
    assert_non_null(strstr(e1.msg, "ns2.example.test (127.0.0.1:5302)"));
    assert_non_null(strstr(e1.msg, "not yet served by 1 of 2 authoritative nameservers"));
    assert_null(strstr(e1.msg, "ns1.example.test"));
    for (; *want != NULL; want++) {
        if (strstr(e1.msg, *want) == NULL)
            fail_msg("\"%s\" not in: %s", *want, e1.msg);
    }
    assert_true(ends_with(e1.msg, DIG));
    r->elapsed_ms += 777;
    explain(r, &e2);
    assert_string_equal(e1.msg, e2.msg);
    free(r);
}

static void test_nxdomain(void **state)
{
    struct zp_watch_report *r = report_new();
    struct zp_err e;

    (void)state;
    r->ns[1].state = ZP_NS_NXDOMAIN;
    r->ns[1].rcode = 3;
    explain(r, &e);
    assert_string_equal(
        e.msg,
        "TXT value for _acme-challenge.example.test. is not yet served by 1 of 2 authoritative "
        "nameservers: ns2.example.test (127.0.0.1:5302) answers NXDOMAIN (a secondary that "
        "has not transferred the zone yet? check NOTIFY/IXFR from the primary). " DIG);
    check_state(r, (const char *const[]){"NXDOMAIN", NULL});
}

/* A server only the parent lists gets that hint, whatever came first. */
static void test_parent_only(void **state)
{
    struct zp_watch_report *r = report_new();
    struct zp_err e;

    (void)state;
    r->ns[1].state = ZP_NS_NXDOMAIN;
    r->ns[1].rcode = 3;
    r->ns[1].parent_only = 1;
    explain(r, &e);
    assert_string_equal(
        e.msg,
        "TXT value for _acme-challenge.example.test. is not yet served by 1 of 2 authoritative "
        "nameservers: ns2.example.test (127.0.0.1:5302) answers NXDOMAIN (only the parent's "
        "delegation lists this server, not the zone's own NS records: resolvers and the CA ask it "
        "too; load the zone there, or remove it from the delegation at the registrar). " DIG);
    free(r);
}

static void test_nodata(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_NODATA;
    check_state(r, (const char *const[]){"no TXT record", "NOTIFY/IXFR", NULL});
}

static void test_other(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_OTHER;
    r->ns[1].n_other = 2;
    zp_strlcpy(r->ns[1].other[0], "old-key-1", sizeof(r->ns[1].other[0]));
    r->ns[1].other_ttl[0] = 60;
    zp_strlcpy(r->ns[1].other[1], "old-key-2", sizeof(r->ns[1].other[1]));
    r->ns[1].other_ttl[1] = 120;
    check_state(r, (const char *const[]){"other TXT values", "\"old-key-1\" (TTL 60)",
                                         "\"old-key-2\" (TTL 120)", NULL});
}

static void test_servfail(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_SERVFAIL;
    r->ns[1].rcode = 2;
    check_state(r, (const char *const[]){"SERVFAIL", "failed to load the zone", "DNSSEC", NULL});
    /* The server's Extended DNS Error, when it sent one, comes first. */
    r = report_new();
    r->ns[1].state = ZP_NS_SERVFAIL;
    r->ns[1].rcode = 2;
    snprintf(r->ns[1].detail, sizeof(r->ns[1].detail), "Extended DNS Error 20: Not Authoritative");
    check_state(r, (const char *const[]){"answers SERVFAIL (Extended DNS Error 20: Not "
                                         "Authoritative) (the server failed",
                                         NULL});
}

static void test_refused(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_REFUSED;
    r->ns[1].rcode = 5;
    check_state(r, (const char *const[]){"REFUSED", "refuses queries for the zone",
                                         "authoritative for example.test.", "ACL", NULL});
}

static void test_notauth(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_NOTAUTH;
    check_state(r, (const char *const[]){"without authority", "not authoritative",
                                         "lame delegation", NULL});
}

static void test_timeout(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_TIMEOUT; /* no detail: how long it waited varies (issue #9) */
    check_state(r, (const char *const[]){"does not answer (firewall? server down?)", NULL});
}

static void test_error(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_ERROR;
    zp_strlcpy(r->ns[1].detail, "connection refused: nothing listens on that port",
               sizeof(r->ns[1].detail));
    check_state(r, (const char *const[]){"connection refused", NULL});
}

static void test_pending(void **state)
{
    struct zp_watch_report *r = report_new();

    (void)state;
    r->ns[1].state = ZP_NS_PENDING;
    check_state(r, (const char *const[]){"has not answered yet", NULL});
}

/* Explicit servers are named by their address alone; port 53 needs no -p; IPv6 brackets go. */
static void test_explicit_v6(void **state)
{
    struct zp_watch_report *r = report_new();
    struct zp_err e;

    (void)state;
    zp_strlcpy(r->ns[1].name, "::1", sizeof(r->ns[1].name));
    zp_strlcpy(r->ns[1].addr, "[::1]:53", sizeof(r->ns[1].addr));
    r->ns[1].state = ZP_NS_NXDOMAIN;
    explain(r, &e);
    assert_non_null(strstr(e.msg, ": [::1]:53 answers NXDOMAIN"));
    assert_true(ends_with(e.msg, "Check with: dig +norec @::1 _acme-challenge.example.test. TXT"));
    free(r);
}

static void test_complete_and_discovery(void **state)
{
    struct zp_watch_report *r = report_new();
    struct zp_err e;

    (void)state;
    r->ns[1].state = ZP_NS_HAS_VALUE;
    r->complete = 1;
    zp_err_clear(&e);
    assert_int_equal(zp_watch_explain(r, &e), 0);
    assert_false(zp_err_isset(&e));

    memset(r, 0, sizeof(*r));
    zp_strlcpy(r->fqdn, FQDN, sizeof(r->fqdn));
    zp_strlcpy(r->discovery_error,
               "cannot find the authoritative nameservers of example.test.: "
               "asked 127.0.0.2:53 for example.test. NS (recursion desired): no answer; set "
               "propagation.resolvers ...",
               sizeof(r->discovery_error));
    explain(r, &e);
    assert_non_null(strstr(e.msg, "cannot be checked"));
    assert_non_null(strstr(e.msg, "asked 127.0.0.2:53 for example.test. NS"));
    free(r);
}

/* Sixteen laggards: the hint once per state, under the size limit, the rest summarized. */
static void test_many(void **state)
{
    struct zp_watch_report *r = report_new();
    struct zp_err e1, e2;
    const char *p;
    int hints = 0;
    size_t i;

    (void)state;
    r->n = ZP_WATCH_MAX_NS;
    for (i = 0; i < r->n; i++) {
        struct zp_ns_status *st = &r->ns[i];
        unsigned k;
        snprintf(st->name, sizeof(st->name),
                 "ns%zu.a-rather-long-nameserver-name-for-the-"
                 "sentence-budget.example.test.",
                 i);
        snprintf(st->addr, sizeof(st->addr), "[2001:db8:ffff:ffff:ffff:ffff:ffff:%zx]:53", i);
        st->state = i % 2 ? ZP_NS_OTHER : ZP_NS_NXDOMAIN;
        st->n_other = i % 2 ? ZP_WATCH_MAX_OTHER : 0;
        for (k = 0; k < st->n_other; k++) {
            memset(st->other[k], 'a' + (int)k, 60);
            st->other[k][60] = '\0';
            st->other_ttl[k] = 300;
        }
    }
    explain(r, &e1);
    assert_true(strlen(e1.msg) <= ZP_ERR_MSG_MAX - 600);
    assert_non_null(strstr(e1.msg, "16 of 16"));
    assert_non_null(strstr(e1.msg, "more ("));
    /* No server serves it: the hint says so once, not that one secondary lags. */
    assert_null(strstr(e1.msg, "a secondary that has not transferred"));
    for (p = e1.msg; (p = strstr(p, "no server serves it yet")) != NULL; p++)
        hints++;
    assert_int_equal(hints, 1);
    assert_non_null(strstr(e1.msg, "Check with: dig +norec @2001:db8:ffff:ffff:ffff:ffff:ffff:0 "
                                   "_acme-challenge.example.test. TXT"));
    explain(r, &e2);
    assert_string_equal(e1.msg, e2.msg);
    free(r);
}

static void test_json(void **state)
{
    struct zp_watch_report *r = report_new();
    struct zp_buf b;
    cJSON *o, *ns, *n1, *vals;

    (void)state;
    r->ns[1].state = ZP_NS_OTHER;
    r->ns[1].n_other = 1;
    zp_strlcpy(r->ns[1].other[0], "old \"quoted\" key", sizeof(r->ns[1].other[0]));
    r->ns[1].other_ttl[0] = 60;
    zp_buf_init(&b, 1 << 20);
    assert_int_equal(zp_watch_report_json(r, &b), 0);
    o = cJSON_Parse(zp_buf_str(&b));
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "fqdn")->valuestring, FQDN);
    assert_string_equal(cJSON_GetObjectItem(o, "zone")->valuestring, "example.test.");
    assert_string_equal(cJSON_GetObjectItem(o, "value")->valuestring, "the-key");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "complete")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "discoveryError")));
    ns = cJSON_GetObjectItem(o, "nameservers");
    assert_int_equal(cJSON_GetArraySize(ns), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ns, 0), "state")->valuestring,
                        "HAS_VALUE");
    n1 = cJSON_GetArrayItem(ns, 1);
    assert_string_equal(cJSON_GetObjectItem(n1, "name")->valuestring, "ns2.example.test.");
    assert_string_equal(cJSON_GetObjectItem(n1, "addr")->valuestring, "127.0.0.1:5302");
    assert_string_equal(cJSON_GetObjectItem(n1, "state")->valuestring, "OTHER");
    assert_int_equal(cJSON_GetObjectItem(n1, "rcode")->valueint, 0);
    assert_non_null(cJSON_GetObjectItem(n1, "detail"));
    vals = cJSON_GetObjectItem(n1, "values");
    assert_int_equal(cJSON_GetArraySize(vals), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(vals, 0), "value")->valuestring,
                        "old \"quoted\" key");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(vals, 0), "ttl")->valueint, 60);
    cJSON_Delete(o);

    zp_buf_reset(&b);
    zp_strlcpy(r->discovery_error, "no resolver answered", sizeof(r->discovery_error));
    assert_int_equal(zp_watch_report_json(r, &b), 0);
    o = cJSON_Parse(zp_buf_str(&b));
    assert_string_equal(cJSON_GetObjectItem(o, "discoveryError")->valuestring,
                        "no resolver answered");
    cJSON_Delete(o);
    zp_buf_free(&b);
    free(r);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(zp_ns_state_name(ZP_NS_PENDING), "PENDING");
    assert_string_equal(zp_ns_state_name(ZP_NS_HAS_VALUE), "HAS_VALUE");
    assert_string_equal(zp_ns_state_name(ZP_NS_NXDOMAIN), "NXDOMAIN");
    assert_string_equal(zp_ns_state_name(ZP_NS_NODATA), "NODATA");
    assert_string_equal(zp_ns_state_name(ZP_NS_OTHER), "OTHER");
    assert_string_equal(zp_ns_state_name(ZP_NS_SERVFAIL), "SERVFAIL");
    assert_string_equal(zp_ns_state_name(ZP_NS_REFUSED), "REFUSED");
    assert_string_equal(zp_ns_state_name(ZP_NS_NOTAUTH), "NOTAUTH");
    assert_string_equal(zp_ns_state_name(ZP_NS_TIMEOUT), "TIMEOUT");
    assert_string_equal(zp_ns_state_name(ZP_NS_ERROR), "ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nxdomain),    cmocka_unit_test(test_parent_only),
        cmocka_unit_test(test_nodata),      cmocka_unit_test(test_other),
        cmocka_unit_test(test_servfail),    cmocka_unit_test(test_refused),
        cmocka_unit_test(test_notauth),     cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_error),       cmocka_unit_test(test_pending),
        cmocka_unit_test(test_explicit_v6), cmocka_unit_test(test_complete_and_discovery),
        cmocka_unit_test(test_many),        cmocka_unit_test(test_json),
        cmocka_unit_test(test_state_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
