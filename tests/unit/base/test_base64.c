/*
 * test_base64.c — the one base64: the RFC 4648 section 10 vectors in both
 * alphabets, the bytes where the alphabets differ, decoding as Secret data
 * is written (line breaks skipped) and as a TSIG secret is (strict), the
 * refusals and their sentences (which never quote the input), out's cap,
 * and a value longer than the decoder's chunk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"

/* RFC 4648 section 10. */
static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
/* Where the alphabets differ: 62 and 63 in every position. */
static const unsigned char hi[] = {0xfb, 0xff, 0xbf};

static void encode_vectors(void **state)
{
    struct zp_buf b;

    zp_buf_init(&b, 256);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        zp_buf_reset(&b);
        assert_int_equal(zp_b64_encode(plain[i], strlen(plain[i]), &b), 0);
        assert_string_equal(zp_buf_str(&b), std[i]);
        assert_non_null(b.data); /* even the empty encoding is a string */
        zp_buf_reset(&b);
        assert_int_equal(zp_b64url_encode(plain[i], strlen(plain[i]), &b), 0);
        assert_string_equal(zp_buf_str(&b), url[i]);
    }
    zp_buf_reset(&b);
    assert_int_equal(zp_b64_encode(hi, 3, &b), 0);
    assert_string_equal(zp_buf_str(&b), "+/+/");
    zp_buf_reset(&b);
    assert_int_equal(zp_b64_encode(hi, 2, &b), 0);
    assert_string_equal(zp_buf_str(&b), "+/8=");
    zp_buf_reset(&b);
    assert_int_equal(zp_b64url_encode(hi, 3, &b), 0);
    assert_string_equal(zp_buf_str(&b), "-_-_");
    zp_buf_reset(&b);
    assert_int_equal(zp_b64url_encode(hi, 2, &b), 0);
    assert_string_equal(zp_buf_str(&b), "-_8");
    zp_buf_free(&b);

    /* Appends, and stops at the cap. */
    zp_buf_init(&b, 6);
    assert_int_equal(zp_buf_puts(&b, "x."), 0);
    assert_int_equal(zp_b64_encode("f", 1, &b), 0);
    assert_string_equal(zp_buf_str(&b), "x.Zg==");
    assert_int_equal(zp_b64_encode("f", 1, &b), -1);
    zp_buf_free(&b);
}

static void decode_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        struct zp_buf b;
        struct zp_err err = {0};
        zp_buf_init(&b, 256);
        assert_int_equal(zp_b64_decode(std[i], strlen(std[i]), 0, &b, &err), 0);
        assert_string_equal(zp_buf_str(&b), plain[i]);
        assert_non_null(b.data); /* an empty value is still a string */
        assert_int_equal(zp_b64_decoded_len(std[i], strlen(std[i]), 0), (long)strlen(plain[i]));
        zp_buf_free(&b);
    }
}

/* As Secret data and kubeconfig -data values are written (Go's StdEncoding). */
static void decode_with_line_breaks(void **state)
{
    static const char *const ok[][2] = {
        {"Zm9v\nYmFy\r\n", "foobar"},
        {"Zm9v\r\nYmFy\n", "foobar"},
        {"\n\n", ""},
        {"c2VjcmV0LXRva2Vu", "secret-token"},
        {"Zm\n8=", "fo"},
    };
    struct zp_err err = {0};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct zp_buf b;
        zp_buf_init(&b, 1024);
        assert_int_equal(zp_b64_decode(ok[i][0], strlen(ok[i][0]), ZP_B64_LINES, &b, &err), 0);
        assert_string_equal(zp_buf_str(&b), ok[i][1]);
        assert_int_equal(zp_b64_decoded_len(ok[i][0], strlen(ok[i][0]), ZP_B64_LINES),
                         (long)strlen(ok[i][1]));
        zp_buf_free(&b);
    }
    /* Strict, as a TSIG secret must be: a line break is a stray character. */
    assert_int_equal(zp_b64_decoded_len("Zm9v\nYmFy", 9, 0), -1);
}

static void decode_refusals(void **state)
{
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"Zg=", "not valid base64 (its length or padding is wrong)"},
        {"Zm9", "not valid base64 (its length or padding is wrong)"},
        {"Z", "not valid base64 (its length or padding is wrong)"},
        {"Zm===", "not valid base64 (its length or padding is wrong)"},
        {"====", "not valid base64 (its length or padding is wrong)"},
        {"Z===", "not valid base64 (its length or padding is wrong)"},
        {"Zm9v!", "not valid base64 (at byte 4)"},
        {"Zg==Zg==", "not valid base64 (at byte 4)"},
        {"Zm 9v", "not valid base64 (at byte 2)"},
        {"-_8=", "not valid base64 (at byte 0)"}, /* the URL-safe alphabet is not this one */
        {"Zm9v\tYmFy", "not valid base64 (at byte 4)"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (unsigned flags = 0; flags <= ZP_B64_LINES; flags++) {
            struct zp_buf b;
            struct zp_err err = {0};
            zp_buf_init(&b, 1024);
            assert_int_equal(zp_b64_decode(bad[i].in, strlen(bad[i].in), flags, &b, &err), -1);
            assert_int_equal(err.kind, ZP_EINVAL);
            assert_string_equal(err.msg, bad[i].msg);
            assert_null(strstr(err.msg, bad[i].in)); /* the value never appears in a message */
            assert_int_equal(zp_b64_decoded_len(bad[i].in, strlen(bad[i].in), flags), -1);
            zp_buf_free(&b);
        }
    }
    /* The TSIG check: empty decodes to nothing, which its caller refuses. */
    assert_int_equal(zp_b64_decoded_len("", 0, 0), 0);
    assert_int_equal(zp_b64_decoded_len("abc", 3, 0), -1);
}

static void decode_cap_and_long_values(void **state)
{
    unsigned char raw[3000];
    struct zp_buf enc, dec;
    struct zp_err err = {0};

    zp_buf_init(&dec, 2);
    assert_int_equal(zp_b64_decode("Zm9v", 4, 0, &dec, &err), -1);
    assert_string_equal(err.msg, "the decoded value is larger than 2 bytes");
    zp_buf_free(&dec);

    /* Longer than the decoder's chunk, in both alphabets' encoders and back. */
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(i * 7 + (i >> 8));
    zp_buf_init(&enc, 8192);
    zp_buf_init(&dec, sizeof(raw));
    assert_int_equal(zp_b64_encode(raw, sizeof(raw), &enc), 0);
    assert_int_equal(enc.len, 4000);
    zp_err_clear(&err);
    assert_int_equal(zp_b64_decode(enc.data, enc.len, 0, &dec, &err), 0);
    assert_int_equal(dec.len, sizeof(raw));
    assert_memory_equal(dec.data, raw, sizeof(raw));
    assert_int_equal(zp_b64_decoded_len(enc.data, enc.len, 0), (long)sizeof(raw));

    /* One byte over the cap, found at the last chunk. */
    zp_buf_free(&dec);
    zp_buf_init(&dec, sizeof(raw) - 1);
    assert_int_equal(zp_b64_decode(enc.data, enc.len, 0, &dec, &err), -1);
    assert_non_null(strstr(err.msg, "larger than 2999 bytes"));
    zp_buf_free_secret(&dec);

    zp_buf_reset(&enc);
    assert_int_equal(zp_b64url_encode(raw, sizeof(raw), &enc), 0);
    assert_int_equal(enc.len, 4000);
    assert_null(memchr(enc.data, '+', enc.len));
    assert_null(memchr(enc.data, '/', enc.len));
    zp_buf_free(&enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_vectors),
        cmocka_unit_test(decode_vectors),
        cmocka_unit_test(decode_with_line_breaks),
        cmocka_unit_test(decode_refusals),
        cmocka_unit_test(decode_cap_and_long_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
