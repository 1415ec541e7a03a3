/*
 * test_log.c — every line the logger writes is one valid JSON object
 * (parsed back with cJSON): quotes, control characters and bytes that are
 * not UTF-8 in any string (U+FFFD in their place), and lines that would
 * pass 8 KB, which lose the tail of a string or whole fields, say
 * "truncated":true, and still parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

/* The one line the call wrote, parsed; fails the test unless it is one valid JSON object. */
static cJSON *one_line(int fds[2], size_t *len)
{
    static char buf[16384];
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    cJSON *j;

    assert_true(n > 0);
    buf[n] = '\0';
    *len = (size_t)n;
    assert_int_equal(buf[n - 1], '\n');
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1); /* one line */
    j = cJSON_ParseWithOpts(buf, NULL, 1);            /* nothing but blanks after the object */
    assert_non_null(j);
    assert_true(cJSON_IsObject(j));
    return j;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void escapes_and_utf8(void **state)
{
    int fds[2];
    size_t len;
    cJSON *j;

    assert_int_equal(pipe(fds), 0);
    zp_log_set_fd(fds[1]);
    zp_log(ZP_LOG_WARN, "m\"sg\\", ZP_S("ctl", "a\nb\tc\r\x01\x7f"),
           ZP_S("user", "ok \xc3\xa9 bad \xff\xfe over \xc0\xaf sur \xed\xa0\x80 cut \xe2\x82"),
           ZP_S("none", NULL), ZP_I("n", -42), ZP_B("b", 1), ZP_S("k\"ey\xff", "v"), ZP_END);
    j = one_line(fds, &len);
    assert_string_equal(str(j, "level"), "warn");
    assert_string_equal(str(j, "msg"), "m\"sg\\");
    assert_string_equal(str(j, "ctl"), "a\nb\tc\r\x01\x7f");
    /* Valid é stays; each byte that begins no well-formed sequence is one U+FFFD. */
    assert_string_equal(str(j, "user"), "ok \xc3\xa9 bad \xef\xbf\xbd\xef\xbf\xbd over "
                                        "\xef\xbf\xbd\xef\xbf\xbd sur \xef\xbf\xbd\xef\xbf\xbd"
                                        "\xef\xbf\xbd cut \xef\xbf\xbd\xef\xbf\xbd");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "none")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "n")->valuedouble, -42);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "b")));
    assert_string_equal(str(j, "k\"ey\xef\xbf\xbd"), "v");
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "truncated"));
    cJSON_Delete(j);
    close(fds[0]);
    close(fds[1]);
    zp_log_set_fd(2);
}

/* A long string is cut (whole characters) and later fields that do not fit are left out. */
static void long_lines_stay_json(void **state)
{
    static char big[20000];
    int fds[2];
    size_t len;
    cJSON *j;

    assert_int_equal(pipe(fds), 0);
    zp_log_set_fd(fds[1]);
    /* Every size around the cap, with characters that take 1, 2 (é), 3 (€) and 6 (\u0001) bytes. */
    for (size_t n = 7900; n < 8300; n += 1) {
        static const char *const units[] = {"a",    "b",        "\"",          "\\",
                                            "\x01", "\xc3\xa9", "\xe2\x82\xac"};
        size_t k = 0;
        for (size_t i = 0; k < n; i++) {
            const char *u = units[i % 7];
            memcpy(big + k, u, strlen(u));
            k += strlen(u);
        }
        big[k] = '\0';
        zp_log(ZP_LOG_ERROR, "long", ZP_I("before", 1), ZP_S("body", big), ZP_I("status", 500),
               ZP_END);
        j = one_line(fds, &len);
        assert_true(len <= 8192);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "before")->valuedouble, 1);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "body"));
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "truncated")))
            assert_true(strlen(str(j, "body")) < n);
        else
            assert_string_equal(str(j, "body"), big);
        cJSON_Delete(j);
    }
    /* Many small fields: those that do not fit go, whole. */
    memset(big, 'x', 3000);
    big[3000] = '\0';
    zp_log(ZP_LOG_ERROR, big, ZP_S("a", big), ZP_S("b", big), ZP_I("c", 7), ZP_S("d", big),
           ZP_B("e", 0), ZP_END);
    j = one_line(fds, &len);
    assert_true(len <= 8192);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "truncated")));
    assert_string_equal(str(j, "msg"), big);
    assert_string_equal(str(j, "a"), big);
    cJSON_Delete(j);
    /* A message longer than the line itself. */
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    zp_log(ZP_LOG_ERROR, big, ZP_I("c", 7), ZP_END);
    j = one_line(fds, &len);
    assert_true(len <= 8192);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "truncated")));
    cJSON_Delete(j);
    close(fds[0]);
    close(fds[1]);
    zp_log_set_fd(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_and_utf8),
        cmocka_unit_test(long_lines_stay_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
