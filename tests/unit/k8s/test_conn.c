/*
 * test_conn.c — the pure steps of conn.c's header check (k8s/conn_int.h):
 * the end of a header block, the Content-Length and Transfer-Encoding
 * rules, and the method and path logged for a refusal. Every input is
 * copied to a buffer of its exact size with no NUL after it, as a request
 * arrives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "k8s/conn_int.h"

/* s without its NUL, in a buffer of its own: freed by the caller. */
static char *bytes(const char *s, size_t *n)
{
    char *p;

    *n = strlen(s);
    p = zp_xmalloc(*n ? *n : 1);
    memcpy(p, s, *n);
    return p;
}

static void framing(const char *s, struct zp_conn_framing *f)
{
    size_t n;
    char *p = bytes(s, &n);

    zp_conn_framing(p, n, f);
    /* cl points into p: read what the test needs before it goes. */
    if (f->cl != NULL) {
        static char cl[64];
        assert_true(f->cl >= p && f->cl + f->cl_len <= p + n);
        assert_true(f->cl_len < sizeof(cl));
        memcpy(cl, f->cl, f->cl_len);
        cl[f->cl_len] = '\0';
        f->cl = cl;
    }
    free(p);
}

/* ---- the end of the block ------------------------------------------------------- */

static long block_end(const char *s)
{
    size_t n, end = 99;
    char *p = bytes(s, &n);
    int rc = zp_conn_block_end(p, n, &end);

    free(p);
    if (rc == -1) {
        assert_int_equal(end, 0);
        return -1;
    }
    assert_true(end <= n);
    return (long)end;
}

static void test_block_end(void **state)
{
    (void)state;
    assert_int_equal(block_end("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 27);
    assert_int_equal(block_end("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"), 27);
    assert_int_equal(block_end("GET / HTTP/1.1\nHost: x\n\n"), 24);
    assert_int_equal(block_end("GET / HTTP/1.1\r\n\r\n"), 18);
    assert_int_equal(block_end("GET / HTTP/1.1\r\nHost: x\n\r\n"), 26);
    /* not all here */
    assert_int_equal(block_end(""), -1);
    assert_int_equal(block_end("GET / HTTP/1.1"), -1);
    assert_int_equal(block_end("GET / HTTP/1.1\r\nHost: x\r\n"), -1);
    assert_int_equal(block_end("GET / HTTP/1.1\r\nHost: x\r\n\r"), -1);
    /* a CR alone ends no line: "\r\r\n" is not empty */
    assert_int_equal(block_end("GET / HTTP/1.1\r\n\r\r\n"), -1);
    assert_int_equal(block_end("GET / HTTP/1.1\r\n\r\r\n\r\n"), 21);
    /* an empty first line does not end the block */
    assert_int_equal(block_end("\r\n"), -1);
    assert_int_equal(block_end("\r\n\r\n"), 4);
    assert_int_equal(block_end("\n\n"), 2);
}

/* ---- framing -------------------------------------------------------------------- */

static void test_content_length(void **state)
{
    struct zp_conn_framing f;

    (void)state;
    framing("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 512\r\n\r\n", &f);
    assert_false(f.conflict);
    assert_false(f.te);
    assert_string_equal(f.cl, "512");
    assert_int_equal(f.length, 512);
    assert_int_equal(f.first, 16);
    /* trimmed, any case */
    framing("POST /x HTTP/1.1\r\ncontent-LENGTH \t:\t 7 \t\r\n\r\n", &f);
    assert_false(f.conflict);
    assert_string_equal(f.cl, "7");
    /* none */
    framing("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &f);
    assert_null(f.cl);
    assert_false(f.conflict);
    assert_false(f.te);
}

static void test_content_length_twice(void **state)
{
    struct zp_conn_framing f;

    (void)state;
    framing("POST /x HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n", &f);
    assert_true(f.conflict);
    framing("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n", &f);
    assert_true(f.conflict);
    framing("POST /x HTTP/1.1\r\nContent-Length: 5\r\nX: y\r\ncontent-length:5\r\n\r\n", &f);
    assert_false(f.conflict);
    assert_string_equal(f.cl, "5");
    assert_int_equal(f.length, 5);
    /* a bad value after a good one */
    framing("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: x\r\n\r\n", &f);
    assert_true(f.conflict);
}

static void test_content_length_not_digits(void **state)
{
    static const char *const bad[] = {"+5", "-1", "5a", "0x10", "1 2", "", " ", "1,1", "5\x01"};
    struct zp_conn_framing f;
    char req[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req), "POST /x HTTP/1.1\r\nContent-Length: %s\r\n\r\n", bad[i]);
        framing(req, &f);
        assert_true(f.conflict);
        assert_null(f.cl);
    }
}

static void test_content_length_big(void **state)
{
    struct zp_conn_framing f;

    (void)state;
    framing("POST /x HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", &f);
    assert_false(f.conflict);
    assert_true(f.length == UINT64_MAX);
    framing("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &f);
    assert_false(f.conflict);
    assert_true(f.length == UINT64_MAX);
    assert_int_equal(f.cl_len, 23);
    framing("POST /x HTTP/1.1\r\nContent-Length: 0000000000000000000000001\r\n\r\n", &f);
    assert_int_equal(f.length, 1);
    assert_int_equal(f.cl_len, 25);
}

static void test_transfer_encoding(void **state)
{
    struct zp_conn_framing f;

    (void)state;
    framing("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &f);
    assert_true(f.te);
    assert_null(f.cl);
    assert_false(f.conflict);
    /* with a Content-Length, before or after: check_block refuses te && cl */
    framing("POST /x HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", &f);
    assert_true(f.te);
    assert_non_null(f.cl);
    framing("POST /x HTTP/1.1\r\ntransfer-encoding : identity\r\nContent-Length: 4\r\n\r\n", &f);
    assert_true(f.te);
    assert_non_null(f.cl);
}

static void test_framing_lines(void **state)
{
    struct zp_conn_framing f;

    (void)state;
    /* continuations and lines without a colon are not headers */
    framing("POST /x HTTP/1.1\r\nX: a\r\n Content-Length: 7\r\n\tTransfer-Encoding: chunked\r\n"
            "Content-Length 9\r\n\r\n",
            &f);
    assert_null(f.cl);
    assert_false(f.te);
    assert_false(f.conflict);
    /* bare LF line ends, and a last line with no LF */
    framing("POST /x HTTP/1.1\nContent-Length: 3\nContent-Length: 4", &f);
    assert_true(f.conflict);
    assert_int_equal(f.first, 16);
    /* no LF at all: the request line only */
    framing("GET /x HTTP/1.1\r\r", &f);
    assert_int_equal(f.first, 15);
    assert_null(f.cl);
    /* the request line is never a header */
    framing("Content-Length: x\r\n\r\n", &f);
    assert_false(f.conflict);
    assert_int_equal(f.first, 17);
    framing("", &f);
    assert_int_equal(f.first, 0);
}

/* ---- the request line ------------------------------------------------------------- */

static void request_line(const char *s, char *method, size_t msz, char *path, size_t psz)
{
    size_t n;
    char *p = bytes(s, &n);

    memset(method, 'x', msz);
    memset(path, 'x', psz);
    zp_conn_request_line(p, n, method, msz, path, psz);
    free(p);
}

static void test_request_line(void **state)
{
    char method[16], path[256];

    (void)state;
    request_line("POST /apis/acme.example.com/v1alpha1/zp HTTP/1.1", method, sizeof(method), path,
                 sizeof(path));
    assert_string_equal(method, "POST");
    assert_string_equal(path, "/apis/acme.example.com/v1alpha1/zp");
    request_line("GET /healthz", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "GET");
    assert_string_equal(path, "/healthz");
    request_line("GET /a\rb HTTP/1.1", method, sizeof(method), path, sizeof(path));
    assert_string_equal(path, "/a");
    request_line("GET /a\nb HTTP/1.1", method, sizeof(method), path, sizeof(path));
    assert_string_equal(path, "/a");
    request_line(" /x HTTP/1.1", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "");
    assert_string_equal(path, "/x");
    request_line("GET ", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "GET");
    assert_string_equal(path, "");
}

static void test_request_line_no_space(void **state)
{
    char method[16], path[256];

    (void)state;
    request_line("GARBAGE", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "");
    assert_string_equal(path, "");
    request_line("", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "");
    assert_string_equal(path, "");
    request_line("GET\r /x HTTP/1.1", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "");
    assert_string_equal(path, "");
}

static void test_request_line_long(void **state)
{
    char method[16], path[8], line[600];

    (void)state;
    snprintf(line, sizeof(line), "GET /%0500d HTTP/1.1", 0);
    request_line(line, method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "GET");
    assert_string_equal(path, "/000000");
    /* a method that does not fit is left out; the path is still there */
    request_line("PROPPATCHEXTENDED /x HTTP/1.1", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "");
    assert_string_equal(path, "/x");
    request_line("FIFTEENCHARSXYZ /x", method, sizeof(method), path, sizeof(path));
    assert_string_equal(method, "FIFTEENCHARSXYZ");
    /* buffers of one byte hold the NUL only */
    request_line("GET /x", method, 1, path, 1);
    assert_int_equal(method[0], '\0');
    assert_int_equal(path[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_end),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_content_length_twice),
        cmocka_unit_test(test_content_length_not_digits),
        cmocka_unit_test(test_content_length_big),
        cmocka_unit_test(test_transfer_encoding),
        cmocka_unit_test(test_framing_lines),
        cmocka_unit_test(test_request_line),
        cmocka_unit_test(test_request_line_no_space),
        cmocka_unit_test(test_request_line_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
