/*
 * test_redact.c — the sanitizer upstream bodies pass before they are
 * logged: the call's own secret values in every form a server echoes them,
 * bearer tokens, sensitive pairs in JSON, forms, queries, headers and XML,
 * the cut to size (never half a secret, never half a character), and that
 * ordinary text passes unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/redact.h"

static char out[4096];

static const char *red(const char *text, const char *const *secrets)
{
    return zp_redact(text, strlen(text), secrets, out, sizeof(out));
}

static void call_secrets_in_every_form(void **state)
{
    const char *const secrets[] = {"cf-T0ken/with+odd=chars", "ab", NULL};

    /* Cloudflare's error body that echoed the token (issue #8). */
    assert_string_equal(
        red("{\"errors\":[{\"message\":\"Invalid token cf-T0ken/with+odd=chars\"}]}", secrets),
        "{\"errors\":[{\"message\":\"Invalid token [REDACTED]\"}]}");
    assert_string_equal(red("bad: cf-T0ken%2Fwith%2Bodd%3Dchars", secrets), "bad: [REDACTED]");
    assert_string_equal(red("\"cf-T0ken\\/with+odd=chars\"", secrets), "\"[REDACTED]\"");
    /* Twice, at the very start and end. */
    assert_string_equal(red("cf-T0ken/with+odd=chars cf-T0ken/with+odd=chars", secrets),
                        "[REDACTED] [REDACTED]");
    /* Too short a value to tell from words is skipped: "ab" stays. */
    assert_string_equal(red("about ab", secrets), "about ab");
    assert_string_equal(red("plain text", NULL), "plain text");
}

static void generic_patterns(void **state)
{
    assert_string_equal(red("Authorization: Bearer eyJhbGciOi.x-y_z~+/=\r\nHost: a", NULL),
                        "Authorization: [REDACTED]\r\nHost: a");
    assert_string_equal(red("sent bearer abc.def and more", NULL),
                        "sent bearer [REDACTED] and more");
    assert_string_equal(
        red("{\"apiKey\": \"k1\", \"name\": \"x\", \"client_secret\":\"s\\\"1\"}", NULL),
        "{\"apiKey\": \"[REDACTED]\", \"name\": \"x\", \"client_secret\":\"[REDACTED]\"}");
    assert_string_equal(red("{\"Password\": 12345, \"ttl\": 60}", NULL),
                        "{\"Password\": [REDACTED], \"ttl\": 60}");
    assert_string_equal(red("{\"credentials\": {\"token\": \"t\"}}", NULL),
                        "{\"credentials\": {\"token\": \"[REDACTED]\"}}");
    assert_string_equal(red("https://h/p?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&n=2", NULL),
                        "https://h/p?X-Amz-Signature=[REDACTED]&X-Amz-Credential=[REDACTED]&n=2");
    assert_string_equal(red("grant_type=x&refresh_token=r1;access_token='q'", NULL),
                        "grant_type=x&refresh_token=[REDACTED];access_token='[REDACTED]'");
    assert_string_equal(red("X-Auth-Key: k9 X-Auth-Email: a@b", NULL),
                        "X-Auth-Key: [REDACTED] X-Auth-Email: a@b");
    assert_string_equal(red("<Error><SecretAccessKey>wJal/r</SecretAccessKey><Code>X</Code>"
                            "<ApiKey attr=\"1\">k</ApiKey><Token/></Error>",
                            NULL),
                        "<Error><SecretAccessKey>[REDACTED]</SecretAccessKey><Code>X</Code>"
                        "<ApiKey attr=\"1\">[REDACTED]</ApiKey><Token/></Error>");
    /* JSON that a message carries inside a JSON string. */
    assert_string_equal(red("{\"m\":\"{\\\"token\\\":\\\"t2\\\"}\"}", NULL),
                        "{\"m\":\"{\\\"token\\\":\\\"[REDACTED]\\\"}\"}");
    /* Ordinary words that name no pair pass. */
    assert_string_equal(red("{\"code\":9109,\"message\":\"Invalid access token\"}", NULL),
                        "{\"code\":9109,\"message\":\"Invalid access token\"}");
}

static void cut_to_size(void **state)
{
    const char *const secrets[] = {"s3cr3t-value", NULL};
    char small[16];
    char text[64];

    /* The secret starts inside the kept part: it is redacted before the cut, not cut in half. */
    zp_redact("0123456789s3cr3t-value", 22, secrets, small, sizeof(small));
    assert_string_equal(small, "0123456789[REDA");
    /* A cut never splits a character; NUL bytes become blanks. */
    memcpy(text, "aaaaaaaaaaaaaa\xe2\x82\xac", 17);
    zp_redact(text, 17, NULL, small, sizeof(small));
    assert_string_equal(small, "aaaaaaaaaaaaaa");
    zp_redact("a\0b", 3, NULL, small, sizeof(small));
    assert_string_equal(small, "a b");
    zp_redact(NULL, 0, NULL, small, sizeof(small));
    assert_string_equal(small, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(call_secrets_in_every_form),
        cmocka_unit_test(generic_patterns),
        cmocka_unit_test(cut_to_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
