/*
 * test_jsonstrict.c — the strict JSON reading: whitespace around one
 * document is accepted; trailing bytes, a second document, a duplicate key
 * at any depth, a \u0000 escape in a string or key and a zero byte are
 * refused with a sentence that names the problem; an escaped backslash
 * before "u0000" is not a NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonstrict.h"

/* Parses text (its strlen), frees the tree; returns what the parse did. */
static int parse(const char *text, struct zp_err *err)
{
    cJSON *root = NULL;
    int rc;

    zp_err_clear(err);
    rc = zp_json_strict_parse(text, strlen(text), &root, err);
    if (rc == 0)
        assert_non_null(root);
    else
        assert_null(root);
    cJSON_Delete(root);
    return rc;
}

static void refused(const char *text, const char *msg)
{
    struct zp_err err;

    assert_int_equal(parse(text, &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void whitespace_around_one_document(void **state)
{
    struct zp_err err;

    (void)state;
    assert_int_equal(parse("{\"a\":1}", &err), 0);
    assert_int_equal(parse(" \t\r\n{ \"a\" : [ 1 , {\"b\":2} ] }\r\n\t ", &err), 0);
    assert_int_equal(parse("[1,2]\n", &err), 0);
    /* Equal values under different keys, and the same key in sibling objects. */
    assert_int_equal(parse("{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":[{\"x\":1},{\"x\":2}]}", &err),
                     0);
    /* Keys that differ only in case or by a prefix are different keys. */
    assert_int_equal(parse("{\"uid\":1,\"UID\":2,\"uidx\":3,\"\":4}", &err), 0);
}

static void trailing_bytes(void **state)
{
    static const char msg[] = "trailing bytes after the JSON document";

    (void)state;
    refused("{\"a\":1}garbage", msg);
    refused("{\"a\":1}{\"a\":2}", msg);
    refused("{\"a\":1}\n{\"a\":2}\n", msg);
    refused("{}}", msg);
    refused("1 2", msg);
    refused("{} \f", msg); /* form feed: cJSON skips it, JSON does not allow it */
}

static void duplicate_keys(void **state)
{
    (void)state;
    refused("{\"request\":{\"uid\":\"a\",\"action\":\"Present\",\"uid\":\"b\"}}",
            "duplicate key \"uid\" in request");
    refused("{\"kind\":\"a\",\"kind\":\"b\"}", "duplicate key \"kind\" in the top-level object");
    refused("{\"request\":{\"config\":{\"provider\":\"a\",\"provider\":\"b\"}}}",
            "duplicate key \"provider\" in request.config");
    refused("{\"a\":[1,{\"x\":1,\"x\":1}]}", "duplicate key \"x\" in a[1]");
    refused("[{\"\":1,\"\":2}]", "duplicate key \"\" in [0]");
}

/* An object too large for pairwise comparison to be cheap; the sort finds its one duplicate. */
static void duplicate_in_a_large_object(void **state)
{
    enum { N = 5000 };
    char *text = malloc(N * 16 + 32);
    size_t len = 0;
    struct zp_err err;

    (void)state;
    assert_non_null(text);
    text[len++] = '{';
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, 32, "\"k%d\":%d,", i, i);
    memcpy(text + len, "\"k4321\":0}", 11);
    assert_int_equal(parse(text, &err), -1);
    assert_string_equal(err.msg, "duplicate key \"k4321\" in the top-level object");
    free(text);
}

static void nul_characters(void **state)
{
    static const char msg[] = "a string contains a NUL character (\\u0000)";
    static const char zero[] = "{\"a\":\"x\0y\"}";
    cJSON *root = NULL;
    struct zp_err err = {0};

    (void)state;
    refused("{\"resolvedFQDN\":\"nul.example.test.\\u0000.evil.\"}", msg);
    refused("{\"a\":\"\\u0000\"}", msg);
    refused("{\"a\\u0000b\":1}", msg);
    refused("[\"\\\\\\u0000\"]", msg); /* \\ then \u0000: the second is a NUL */
    /* The text \u0000 after an escaped backslash, and after an escaped quote. */
    assert_int_equal(parse("{\"a\":\"\\\\u0000\"}", &err), 0);
    assert_int_equal(parse("{\"a\":\"\\\"\\\\u0000\"}", &err), 0);
    /* Outside a string, \u0000 is not an escape but bytes that do not belong there. */
    refused("{\"a\":1}\\u0000", "trailing bytes after the JSON document");
    assert_int_equal(zp_json_strict_parse(zero, sizeof(zero) - 1, &root, &err), -1);
    assert_null(root);
    assert_string_equal(err.msg, "a zero byte is not allowed in JSON text");
}

static void invalid_json(void **state)
{
    (void)state;
    refused("{\"a\":x}", "not valid JSON (error at byte 5)");
    refused("", "not valid JSON (error at byte 0)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whitespace_around_one_document),
        cmocka_unit_test(trailing_bytes),
        cmocka_unit_test(duplicate_keys),
        cmocka_unit_test(duplicate_in_a_large_object),
        cmocka_unit_test(nul_characters),
        cmocka_unit_test(invalid_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
