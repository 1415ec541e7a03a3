/*
 * test_err_buf.c — the error type keeps the innermost sentence and takes
 * context; buffers refuse to grow past their cap instead of truncating.
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

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"

static void first_error_wins_and_wraps(void **state)
{
    struct zp_err e = {0};

    assert_int_equal(zp_err_set(&e, ZP_EAUTH, "token for zone %s rejected", "example.com."), -1);
    zp_err_set(&e, ZP_ETRANSIENT, "outer failure");
    assert_int_equal(e.kind, ZP_EAUTH);
    zp_err_wrap(&e, "cf (cloudflare)");
    assert_string_equal(e.msg, "cf (cloudflare): token for zone example.com. rejected");
    assert_string_equal(zp_errkind_name(e.kind), "Unauthorized");
    assert_false(zp_errkind_retryable(e.kind));
    assert_true(zp_errkind_retryable(ZP_ERATELIMIT));
    zp_err_clear(&e);
    zp_err_wrap(&e, "nothing to wrap");
    assert_string_equal(e.msg, "");
}

static void wrap_never_overflows(void **state)
{
    struct zp_err e = {0};
    char big[ZP_ERR_MSG_MAX + 100];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    zp_err_set(&e, ZP_EINVAL, "%s", big);
    assert_int_equal(strlen(e.msg), ZP_ERR_MSG_MAX - 1);
    zp_err_wrap(&e, "prefix");
    assert_int_equal(strlen(e.msg), ZP_ERR_MSG_MAX - 1);
    assert_memory_equal(e.msg, "prefix: xxx", 11);
}

static void buffer_cap(void **state)
{
    struct zp_buf b;

    zp_buf_init(&b, 8);
    assert_string_equal(zp_buf_str(&b), "");
    assert_int_equal(zp_buf_puts(&b, "12345"), 0);
    assert_int_equal(zp_buf_printf(&b, "%d", 678), 0);
    assert_int_equal(zp_buf_puts(&b, "9"), -1); /* refused, not truncated */
    assert_string_equal(zp_buf_str(&b), "12345678");
    zp_buf_free(&b);
}

/* Once an append is refused, every later one is too, even one that would fit. */
static void failure_is_sticky(void **state)
{
    struct zp_buf b;

    zp_buf_init(&b, 8);
    assert_true(zp_buf_ok(&b));
    assert_int_equal(zp_buf_puts(&b, "1234"), 0);
    assert_true(zp_buf_ok(&b));
    assert_int_equal(zp_buf_puts(&b, "56789"), -1);
    assert_false(zp_buf_ok(&b));
    assert_int_equal(zp_buf_puts(&b, "5"), -1);
    assert_int_equal(zp_buf_append(&b, "5", 1), -1);
    assert_int_equal(zp_buf_printf(&b, "%d", 5), -1);
    assert_int_equal(zp_buf_append(&b, "", 0), -1);
    assert_int_equal(zp_http_escape("5", &b), -1);
    assert_false(zp_buf_ok(&b));
    assert_string_equal(zp_buf_str(&b), "1234");
    assert_int_equal(b.len, 4);
    zp_buf_free(&b);
}

/*
 * A builder that ignores each result and asks once at the end never gets a
 * different string: a piece that did not fit is not skipped over by the
 * smaller pieces after it (".../dnsZones/" + "/TXT/name" would address the zone).
 */
static void builder_gets_prefix_and_one_failure(void **state)
{
    struct zp_buf url;
    char big[64];

    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    zp_buf_init(&url, 40);
    zp_buf_puts(&url, "https://dns.example/zones/");
    zp_http_escape(big, &url);
    zp_buf_puts(&url, "/TXT/");
    zp_buf_printf(&url, "%s", "_acme-challenge");
    assert_false(zp_buf_ok(&url));
    assert_null(strstr(zp_buf_str(&url), "TXT"));
    assert_int_equal(strncmp(zp_buf_str(&url), "https://dns.example/zones/zzzz", 30), 0);
    zp_buf_free(&url);

    /* an escape cut halfway leaves no half-encoded byte followed by more text */
    zp_buf_init(&url, 5);
    zp_buf_puts(&url, "a=");
    zp_http_escape("b c", &url); /* "b%20c": the "%20" does not fit */
    zp_buf_puts(&url, "&");
    assert_false(zp_buf_ok(&url));
    assert_string_equal(zp_buf_str(&url), "a=b");
    zp_buf_free(&url);
}

/* Reset, free and take start over: the failure goes with the contents. */
static void reset_free_take_clear_failure(void **state)
{
    struct zp_buf b;
    char *s;

    zp_buf_init(&b, 4);
    assert_int_equal(zp_buf_puts(&b, "12345"), -1);
    zp_buf_reset(&b);
    assert_true(zp_buf_ok(&b));
    assert_int_equal(zp_buf_puts(&b, "1234"), 0);
    assert_string_equal(zp_buf_str(&b), "1234");

    assert_int_equal(zp_buf_puts(&b, "5"), -1);
    zp_buf_free(&b);
    assert_true(zp_buf_ok(&b));
    assert_int_equal(b.max, 4);
    assert_int_equal(zp_buf_puts(&b, "ab"), 0);

    assert_int_equal(zp_buf_puts(&b, "cde"), -1);
    s = zp_buf_take(&b);
    assert_string_equal(s, "ab");
    free(s);
    assert_true(zp_buf_ok(&b));
    assert_int_equal(zp_buf_puts(&b, "abcd"), 0);
    zp_buf_free(&b);

    /* filled exactly to its cap, the buffer is whole, and nothing more still fits */
    zp_buf_init(&b, 4);
    assert_int_equal(zp_buf_puts(&b, "1234"), 0);
    assert_int_equal(zp_buf_printf(&b, "%s", ""), 0);
    assert_true(zp_buf_ok(&b));
    zp_buf_free(&b);
}

static void trim_and_read_file(void **state)
{
    struct zp_buf b;
    struct zp_err e = {0};
    char path[] = "/tmp/zp-test-XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "  c2VjcmV0\n", 11), 11);
    close(fd);
    zp_buf_init(&b, 64);
    assert_int_equal(zp_buf_read_file(&b, path, 64, "tsigSecretFile", &e), 0);
    zp_buf_trim(&b);
    assert_string_equal(zp_buf_str(&b), "c2VjcmV0");
    zp_buf_free_secret(&b);

    zp_buf_init(&b, 4);
    assert_int_equal(zp_buf_read_file(&b, path, 4, "tsigSecretFile", &e), -1);
    assert_non_null(strstr(e.msg, "tsigSecretFile"));
    assert_non_null(strstr(e.msg, "larger than 4 bytes"));
    zp_buf_free(&b);
    unlink(path);

    zp_err_clear(&e);
    zp_buf_init(&b, 64);
    assert_int_equal(zp_buf_read_file(&b, "/nonexistent/secret", 64, "apiTokenFile", &e), -1);
    assert_int_equal(e.kind, ZP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "apiTokenFile: cannot open /nonexistent/secret"));
    zp_buf_free(&b);
}

/* A FIFO with no writer would block open() and read() forever: refused at once instead. */
static void read_file_refuses_non_regular(void **state)
{
    struct zp_buf b;
    struct zp_err e = {0};
    char dir[] = "/tmp/zp-test-XXXXXX", fifo[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    zp_buf_init(&b, 64);
    assert_int_equal(zp_buf_read_file(&b, fifo, 64, "--config", &e), -1);
    assert_int_equal(e.kind, ZP_ECONFIG);
    assert_non_null(strstr(e.msg, "--config: "));
    assert_non_null(strstr(e.msg, "is a FIFO (named pipe), not a regular file"));
    zp_err_clear(&e);
    assert_int_equal(zp_file_check_regular(fifo, "--tls-cert-file", &e), -1);
    assert_non_null(strstr(e.msg, "--tls-cert-file: "));
    zp_err_clear(&e);
    assert_int_equal(zp_buf_read_file(&b, "/dev/zero", 64, "tsigSecretFile", &e), -1);
    assert_non_null(strstr(e.msg, "/dev/zero is a character device, not a regular file"));
    zp_err_clear(&e);
    assert_int_equal(zp_buf_read_file(&b, dir, 64, "tsigSecretFile", &e), -1);
    assert_non_null(strstr(e.msg, "is a directory, not a regular file"));
    assert_int_equal(b.len, 0);
    zp_buf_free(&b);
    unlink(fifo);
    rmdir(dir);
}

/* The warning's text from a file readable by others, "" from one only its owner reads. */
static void warn_text(const char *path, mode_t mode, char *out, size_t outsz)
{
    char logp[] = "/tmp/zp-log-XXXXXX";
    int fd = mkstemp(logp);
    ssize_t n;

    assert_true(fd >= 0);
    assert_int_equal(chmod(path, mode), 0);
    zp_log_set_fd(fd);
    zp_file_warn_readable(path, "tsigSecretFile");
    zp_log_set_fd(2);
    n = pread(fd, out, outsz - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(logp);
}

static void secret_file_mode_warning(void **state)
{
    char path[] = "/tmp/zp-test-XXXXXX", got[1024], want[128];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    warn_text(path, 0644, got, sizeof(got));
    assert_non_null(strstr(got, "secret file is readable by group or others"));
    assert_non_null(strstr(got, "\"setting\":\"tsigSecretFile\""));
    assert_non_null(strstr(got, "\"mode\":\"0644\""));
    snprintf(want, sizeof(want), "chmod 600 %s", path);
    assert_non_null(strstr(got, want));
    assert_non_null(strstr(got, "defaultMode"));
    warn_text(path, 0600, got, sizeof(got));
    assert_string_equal(got, "");
    warn_text(path, 0400, got, sizeof(got));
    assert_string_equal(got, "");
    unlink(path);
}

static void durations(void **state)
{
    uint64_t ms;

    assert_int_equal(zp_duration_parse("25s", &ms), 0);
    assert_int_equal(ms, 25000);
    assert_int_equal(zp_duration_parse("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(zp_duration_parse("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(zp_duration_parse("7", &ms), 0);
    assert_int_equal(ms, 7000);
    assert_int_equal(zp_duration_parse("-1s", &ms), -1);
    assert_int_equal(zp_duration_parse("1.5s", &ms), -1);
    assert_int_equal(zp_duration_parse("s", &ms), -1);
    assert_int_equal(zp_duration_parse("10 s", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_error_wins_and_wraps),
        cmocka_unit_test(wrap_never_overflows),
        cmocka_unit_test(buffer_cap),
        cmocka_unit_test(failure_is_sticky),
        cmocka_unit_test(builder_gets_prefix_and_one_failure),
        cmocka_unit_test(reset_free_take_clear_failure),
        cmocka_unit_test(trim_and_read_file),
        cmocka_unit_test(read_file_refuses_non_regular),
        cmocka_unit_test(secret_file_mode_warning),
        cmocka_unit_test(durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
