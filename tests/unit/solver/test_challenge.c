/*
 * test_challenge.c — decoding cert-manager's ChallengeRequest: what it
 * really sends is accepted, and every malformed field is refused with a
 * sentence that names the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "solver/challenge.h"

#define KEY43 "q3V9mZ0xY1n2b3c4d5e6f7g8h9i0jKLMNOPQRSTUVWX"

static int decode(const char *json, struct zp_challenge *ch, struct zp_err *err)
{
    cJSON *root = cJSON_Parse(json);
    int rc;

    assert_non_null(root);
    zp_err_clear(err);
    rc = zp_challenge_from_json(cJSON_GetObjectItem(root, "request"), ch, err);
    cJSON_Delete(root);
    return rc;
}

static void what_cert_manager_sends(void **state)
{
    struct zp_challenge ch;
    struct zp_err err;

    assert_int_equal(decode("{\"request\":{\"uid\":\"\",\"action\":\"Present\",\"type\":\"dns-01\","
                            "\"dnsName\":\"example.com\",\"key\":\"" KEY43 "\","
                            "\"resourceNamespace\":\"web\",\"resolvedFQDN\":"
                            "\"_acme-challenge.Example.com.\",\"resolvedZone\":\"example.com.\","
                            "\"allowAmbientCredentials\":false,\"config\":{\"provider\":\"lab\"}}}",
                            &ch, &err),
                     0);
    assert_int_equal(ch.action, ZP_PRESENT);
    assert_string_equal(ch.fqdn, "_acme-challenge.example.com.");
    assert_string_equal(ch.zone, "example.com.");
    assert_string_equal(ch.key, KEY43);
    assert_string_equal(ch.resource_namespace, "web");
    assert_string_equal(ch.provider, "lab");
    assert_false(ch.allow_ambient);

    /* The conformance fixture: empty uid and type, a padded key, no config. */
    assert_int_equal(decode("{\"request\":{\"uid\":\"\",\"action\":\"CleanUp\",\"type\":\"\","
                            "\"dnsName\":\"example.com\",\"key\":\"123d==\","
                            "\"resolvedFQDN\":\"cert-manager-dns01-tests.example.com.\","
                            "\"resolvedZone\":\"example.com.\",\"allowAmbientCredentials\":true,"
                            "\"apiVersion\":\"ignored\"}}",
                            &ch, &err),
                     0);
    assert_int_equal(ch.action, ZP_CLEANUP);
    assert_true(ch.allow_ambient);
    assert_string_equal(ch.provider, "");
}

static void refusals_name_the_field(void **state)
{
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        {"{\"request\":{}}", "payload request field cannot be empty"},
        {"{\"request\":null}", "payload request field cannot be empty"},
        {"{}", "payload request field cannot be empty"},
        {"{\"request\":{\"action\":\"present\",\"key\":\"a\",\"resolvedFQDN\":\"a.b.\"}}",
         "request.action \"present\" is unknown: expected Present or CleanUp"},
        {"{\"request\":{\"key\":\"a\"}}", "request.action is missing"},
        {"{\"request\":{\"action\":\"Present\",\"resolvedFQDN\":\"a.b.\"}}",
         "request.key is empty"},
        {"{\"request\":{\"action\":\"Present\",\"key\":\"ab\\\"cd\",\"resolvedFQDN\":\"a.b.\"}}",
         "request.key has the character '\"' at position 3"},
        {"{\"request\":{\"action\":\"Present\",\"key\":\"abc\"}}",
         "request.resolvedFQDN is missing"},
        {"{\"request\":{\"action\":\"Present\",\"key\":\"abc\",\"resolvedFQDN\":\"a.example.com\"}"
         "}",
         "request.resolvedFQDN \"a.example.com\" must end with a dot"},
        {"{\"request\":{\"action\":\"Present\",\"key\":\"abc\",\"resolvedFQDN\":\"_acme-challenge."
         "example.com.\",\"resolvedZone\":\"example.org.\"}}",
         "request.resolvedFQDN _acme-challenge.example.com. is not inside request.resolvedZone "
         "example.org."},
        {"{\"request\":{\"action\":\"Present\",\"key\":\"abc\",\"resolvedFQDN\":\"a.b.\","
         "\"config\":{\"apiKeySecretRef\":{\"name\":\"x\"}}}}",
         "config.apiKeySecretRef is not a zoneproof setting"},
        {"{\"request\":{\"action\":\"Present\",\"key\":\"abc\",\"resolvedFQDN\":\"a.b.\","
         "\"config\":\"lab\"}}",
         "request.config must be a JSON object"},
        {"{\"request\":{\"action\":\"Present\",\"key\":123,\"resolvedFQDN\":\"a.b.\"}}",
         "request.key must be a string"},
        {"{\"request\":{\"action\":\"Present\",\"type\":\"http-01\",\"key\":\"a\","
         "\"resolvedFQDN\":\"a.b.\"}}",
         "request.type \"http-01\" is not dns-01"},
    };
    struct zp_challenge ch;
    struct zp_err err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(decode(cases[i].json, &ch, &err), -1);
        assert_int_equal(err.kind, ZP_EINVAL);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg, cases[i].want);
    }
}

static void long_key_is_refused(void **state)
{
    char json[1024], key[300];
    struct zp_challenge ch;
    struct zp_err err;

    memset(key, 'a', 256);
    key[256] = '\0';
    snprintf(json, sizeof(json),
             "{\"request\":{\"action\":\"Present\",\"key\":\"%s\",\"resolvedFQDN\":\"a.b.\"}}",
             key);
    assert_int_equal(decode(json, &ch, &err), -1);
    assert_non_null(strstr(err.msg, "at most 255"));
}

/* The request cert-manager sends, with fields and a tail to wrap around it. */
#define REQ_HEAD "{\"apiVersion\":\"webhook.acme.cert-manager.io/v1alpha1\",\"request\":{"
#define REQ_FIELDS                                                                                 \
    "\"uid\":\"u1\",\"action\":\"Present\",\"key\":\"" KEY43 "\","                                 \
    "\"resolvedFQDN\":\"_acme-challenge.nul.example.test.\""

static int body(const char *text, struct zp_challenge *ch, struct zp_err *err)
{
    zp_err_clear(err);
    return zp_challenge_from_body(text, strlen(text), ch, err);
}

static void the_body_is_one_strict_json_document(void **state)
{
    struct zp_challenge ch;
    struct zp_err err;

    (void)state;
    /* Whitespace around the document and between its tokens is JSON. */
    assert_int_equal(body(" \r\n\t" REQ_HEAD REQ_FIELDS "}}\r\n \t", &ch, &err), 0);
    assert_string_equal(ch.fqdn, "_acme-challenge.nul.example.test.");
    assert_int_equal(body("{ \"request\" :\n { " REQ_FIELDS " } }\n", &ch, &err), 0);

    assert_int_equal(body(REQ_HEAD REQ_FIELDS "}}garbage", &ch, &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    assert_string_equal(err.msg, "request body: trailing bytes after the JSON document");
    assert_int_equal(body(REQ_HEAD REQ_FIELDS "}}" REQ_HEAD REQ_FIELDS "}}", &ch, &err), -1);
    assert_string_equal(err.msg, "request body: trailing bytes after the JSON document");

    /* Go keeps the last of two keys, cJSON finds the first: neither is taken. */
    assert_int_equal(body(REQ_HEAD REQ_FIELDS ",\"uid\":\"u2\"}}", &ch, &err), -1);
    assert_string_equal(err.msg, "request body: duplicate key \"uid\" in request");
    assert_int_equal(body("{\"request\":{" REQ_FIELDS "},\"request\":{" REQ_FIELDS "}}", &ch, &err),
                     -1);
    assert_string_equal(err.msg, "request body: duplicate key \"request\" in the top-level object");

    /* The name would end at the NUL and write _acme-challenge.nul.example.test. */
    assert_int_equal(body(REQ_HEAD REQ_FIELDS "}}", &ch, &err), 0);
    assert_int_equal(body(REQ_HEAD
                          "\"uid\":\"u1\",\"action\":\"Present\",\"key\":\"" KEY43 "\","
                          "\"resolvedFQDN\":\"_acme-challenge.nul.example.test.\\u0000.evil.\"}}",
                          &ch, &err),
                     -1);
    assert_string_equal(err.msg, "request body: a string contains a NUL character (\\u0000)");

    assert_int_equal(body("{\"request\":", &ch, &err), -1);
    assert_non_null(strstr(err.msg, "request body: not valid JSON"));
    assert_int_equal(body("", &ch, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(body("[]", &ch, &err), -1);
    assert_non_null(strstr(err.msg, "must be a JSON object"));
}

static void cli_challenge(void **state)
{
    struct zp_challenge ch;
    struct zp_err err = {0};

    assert_int_equal(
        zp_challenge_make(&ch, ZP_PRESENT, "_acme-challenge.Example.test", NULL, KEY43, NULL, &err),
        0);
    assert_string_equal(ch.fqdn, "_acme-challenge.example.test.");
    assert_string_equal(ch.zone, "");
    assert_int_equal(
        zp_challenge_make(&ch, ZP_PRESENT, "x.example.test", "other.test", KEY43, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--fqdn x.example.test. is not inside --zone other.test."));
    zp_err_clear(&err);
    assert_int_equal(zp_challenge_make(&ch, ZP_CLEANUP, "x.example.test", NULL, "a b", NULL, &err),
                     -1);
    assert_non_null(strstr(err.msg, "--key has the character ' '"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(what_cert_manager_sends),
        cmocka_unit_test(refusals_name_the_field),
        cmocka_unit_test(long_key_is_refused),
        cmocka_unit_test(the_body_is_one_strict_json_document),
        cmocka_unit_test(cli_challenge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
