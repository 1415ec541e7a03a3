/*
 * test_metrics.c — the exposition Prometheus reads: names, label escaping,
 * cumulative histogram buckets, the cap on label sets, collectors, the
 * process metrics and the /proc/self/stat reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/metrics.h"
#include "base/metrics_int.h"

static struct zp_metric calls =
    ZP_COUNTER("test_calls_total", "Calls made.\nSecond line \\ here.", "provider,code");
static struct zp_metric temp = ZP_GAUGE("test_temperature_celsius", "A gauge.", "");
static const double buckets[] = {0.1, 1, 10};
static struct zp_metric lat = ZP_HISTOGRAM("test_wait_seconds", "Waits.", "provider", buckets);
static struct zp_metric wide = ZP_COUNTER("test_wide_total", "Many label sets.", "server");
static struct zp_metric unused __attribute__((unused)) =
    ZP_COUNTER("test_unused_total", "Never used.", "x");

static char *expose(struct zp_buf *b)
{
    zp_buf_init(b, 1u << 22);
    assert_int_equal(zp_metrics_write(b), 0);
    return (char *)zp_buf_str(b);
}

static void test_counter_labels_escaped(void **state)
{
    struct zp_buf b;
    char *t;

    (void)state;
    zp_metric_inc(&calls, "cf", "2xx");
    zp_metric_add(&calls, 2.0, "cf", "2xx");
    zp_metric_add(&calls, -5.0, "cf", "2xx"); /* a counter never goes down */
    zp_metric_inc(&calls, "we\"ird\\\n", NULL);
    t = expose(&b);
    assert_non_null(strstr(t, "# HELP test_calls_total Calls made.\\nSecond line \\\\ here.\n"));
    assert_non_null(strstr(t, "# TYPE test_calls_total counter\n"));
    assert_non_null(strstr(t, "test_calls_total{provider=\"cf\",code=\"2xx\"} 3\n"));
    assert_non_null(strstr(t, "test_calls_total{provider=\"we\\\"ird\\\\\\n\",code=\"\"} 1\n"));
    assert_null(strstr(t, "test_unused_total"));
    zp_buf_free(&b);
}

static void test_gauge_and_histogram(void **state)
{
    struct zp_buf b;
    char *t;

    (void)state;
    zp_metric_set(&temp, 21.5, ZP_NOLABEL);
    zp_metric_observe(&lat, 0.05, "a");
    zp_metric_observe(&lat, 0.1, "a"); /* on the bound: counted in le="0.1" */
    zp_metric_observe(&lat, 5, "a");
    zp_metric_observe(&lat, 100, "a");
    t = expose(&b);
    assert_non_null(strstr(t, "# TYPE test_temperature_celsius gauge\ntest_temperature_celsius "
                              "21.5\n"));
    assert_non_null(strstr(t, "# TYPE test_wait_seconds histogram\n"
                              "test_wait_seconds_bucket{provider=\"a\",le=\"0.1\"} 2\n"
                              "test_wait_seconds_bucket{provider=\"a\",le=\"1\"} 2\n"
                              "test_wait_seconds_bucket{provider=\"a\",le=\"10\"} 3\n"
                              "test_wait_seconds_bucket{provider=\"a\",le=\"+Inf\"} 4\n"
                              "test_wait_seconds_sum{provider=\"a\"} 105.15\n"
                              "test_wait_seconds_count{provider=\"a\"} 4\n"));
    zp_buf_free(&b);
}

static void test_series_cap(void **state)
{
    struct zp_buf b;
    char name[32], *t, *p;
    size_t n = 0;

    (void)state;
    for (unsigned i = 0; i < ZP_METRIC_SERIES_MAX + 10; i++) {
        snprintf(name, sizeof(name), "10.0.%u.%u:53", i / 256, i % 256);
        zp_metric_inc(&wide, name);
    }
    t = expose(&b);
    for (p = t; (p = strstr(p, "\ntest_wide_total{")) != NULL; p++)
        n++;
    assert_int_equal(n, ZP_METRIC_SERIES_MAX);
    assert_non_null(strstr(t, "zoneproof_metrics_series_dropped_total 10\n"));
    zp_buf_free(&b);
}

static int collected;
static void collect(void *arg)
{
    collected++;
    zp_metric_set(&temp, *(double *)arg, ZP_NOLABEL);
}

static void test_collector(void **state)
{
    struct zp_buf b;
    double v = 7;
    char *t;

    (void)state;
    zp_metrics_collector_add(collect, &v);
    t = expose(&b);
    assert_int_equal(collected, 1);
    assert_non_null(strstr(t, "test_temperature_celsius 7\n"));
    zp_buf_free(&b);
    zp_metrics_collector_remove(collect, &v);
    expose(&b);
    assert_int_equal(collected, 1);
    zp_buf_free(&b);
}

static void test_process_metrics(void **state)
{
    struct zp_buf b;
    char *t, *p;

    (void)state;
    zp_metrics_build_info("1.2.3");
    t = expose(&b);
    p = strstr(t, "\nprocess_resident_memory_bytes ");
    assert_non_null(p);
    assert_true(strtod(p + 31, NULL) > 100000);
    p = strstr(t, "\nprocess_open_fds ");
    assert_non_null(p);
    assert_true(strtod(p + 18, NULL) >= 3);
    assert_non_null(strstr(t, "\nprocess_threads 1\n"));
    assert_non_null(strstr(t, "zoneproof_build_info{version=\"1.2.3\",openssl=\"3."));
    zp_buf_free(&b);
}

static void test_procstat_parse(void **state)
{
    /* A command with spaces and a ')' of its own; fields from 3 on. */
    static const char line[] = "4242 (zone proof) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
                               "250 50 0 0 20 0 7 0 12345 104857600 2560 18446744073709551615";
    struct zp_procstat st;

    (void)state;
    assert_int_equal(zp_procstat_parse(line, strlen(line), &st), 0);
    assert_int_equal(st.utime, 250);
    assert_int_equal(st.stime, 50);
    assert_int_equal(st.threads, 7);
    assert_int_equal(st.starttime, 12345);
    assert_int_equal(st.vsize, 104857600);
    assert_int_equal(st.rss, 2560);
    assert_int_equal(zp_procstat_parse("4242 (zp S 1", 12, &st), -1);
    assert_int_equal(zp_procstat_parse("4242 (zp) S 1 2", 15, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_labels_escaped),
        cmocka_unit_test(test_gauge_and_histogram),
        cmocka_unit_test(test_series_cap),
        cmocka_unit_test(test_collector),
        cmocka_unit_test(test_process_metrics),
        cmocka_unit_test(test_procstat_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
