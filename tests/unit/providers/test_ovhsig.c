/*
 * test_ovhsig.c — the OVH signature against the published example: the
 * three requests of vectors/ovh_sig.py, printed the way that script prints
 * them, must give its output (vectors/ovh_sig_output.txt) byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "providers/ovhsig.h"

#define AS "EXAMPLEapplicationSECRET0000000"
#define CK "EXAMPLEconsumerKEY00000000000000"
#define URL "https://eu.api.ovh.com/1.0/domain/zone/example.com/record"
#define BODY                                                                                       \
    "{\"fieldType\":\"TXT\",\"subDomain\":\"_acme-challenge\",\"target\":\"abc\",\"ttl\":60}"
#define TS "1767322800"

/* vectors/ovh_sig_output.txt, verbatim. */
static const char expected[] =
    "POST https://eu.api.ovh.com/1.0/domain/zone/example.com/record\n"
    "  body: {\"fieldType\":\"TXT\",\"subDomain\":\"_acme-challenge\",\"target\":\"abc\","
    "\"ttl\":60}\n"
    "  X-Ovh-Signature: $1$807a2f3b5b0d6703b6325a8942172e989bb1bd20\n"
    "GET https://eu.api.ovh.com/1.0/domain/zone/example.com/record?fieldType=TXT&subDomain="
    "_acme-challenge\n"
    "  body: (empty)\n"
    "  X-Ovh-Signature: $1$482571405fc4659c710aaec18068707d762d7607\n"
    "DELETE https://eu.api.ovh.com/1.0/domain/zone/example.com/record/5390038375\n"
    "  body: (empty)\n"
    "  X-Ovh-Signature: $1$13422db5275f3f1688119fd73f5a0491177c7f40\n";

static void vectors_reproduced(void **state)
{
    static const struct {
        const char *method, *url, *body;
    } reqs[] = {
        {"POST", URL, BODY},
        {"GET", URL "?fieldType=TXT&subDomain=_acme-challenge", ""},
        {"DELETE", URL "/5390038375", ""},
    };
    struct zp_buf out;
    char sig[ZP_OVH_SIG_SIZE];

    zp_buf_init(&out, 4096);
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        assert_int_equal(zp_ovh_sign(AS, CK, reqs[i].method, reqs[i].url, reqs[i].body,
                                     strlen(reqs[i].body), TS, sig),
                         0);
        assert_int_equal(strlen(sig), ZP_OVH_SIG_SIZE - 1);
        zp_buf_printf(&out, "%s %s\n  body: %s\n  X-Ovh-Signature: %s\n", reqs[i].method,
                      reqs[i].url, reqs[i].body[0] ? reqs[i].body : "(empty)", sig);
    }
    assert_string_equal(zp_buf_str(&out), expected);
    zp_buf_free(&out);
}

/* No body and an empty body sign the same: both are the empty string between the "+". */
static void null_body_is_empty(void **state)
{
    char a[ZP_OVH_SIG_SIZE], b[ZP_OVH_SIG_SIZE];

    assert_int_equal(zp_ovh_sign(AS, CK, "DELETE", URL "/5390038375", NULL, 0, TS, a), 0);
    assert_int_equal(zp_ovh_sign(AS, CK, "DELETE", URL "/5390038375", "", 0, TS, b), 0);
    assert_string_equal(a, b);
    assert_string_equal(a, "$1$13422db5275f3f1688119fd73f5a0491177c7f40");
}

/* Only body_len bytes are signed: the body need not be a C string of that length. */
static void body_length_is_honoured(void **state)
{
    char a[ZP_OVH_SIG_SIZE], b[ZP_OVH_SIG_SIZE];
    const char *longer = BODY "trailing bytes that were not sent";

    assert_int_equal(zp_ovh_sign(AS, CK, "POST", URL, longer, strlen(BODY), TS, a), 0);
    assert_int_equal(zp_ovh_sign(AS, CK, "POST", URL, BODY, strlen(BODY), TS, b), 0);
    assert_string_equal(a, b);
    assert_string_equal(a, "$1$807a2f3b5b0d6703b6325a8942172e989bb1bd20");
}

/* Every input counts: a one-byte change anywhere gives another signature. */
static void every_part_is_signed(void **state)
{
    char base[ZP_OVH_SIG_SIZE], s[ZP_OVH_SIG_SIZE];

    assert_int_equal(zp_ovh_sign(AS, CK, "POST", URL, BODY, strlen(BODY), TS, base), 0);
    assert_int_equal(zp_ovh_sign(AS "x", CK, "POST", URL, BODY, strlen(BODY), TS, s), 0);
    assert_string_not_equal(base, s);
    assert_int_equal(zp_ovh_sign(AS, CK "x", "POST", URL, BODY, strlen(BODY), TS, s), 0);
    assert_string_not_equal(base, s);
    assert_int_equal(zp_ovh_sign(AS, CK, "PUT", URL, BODY, strlen(BODY), TS, s), 0);
    assert_string_not_equal(base, s);
    assert_int_equal(zp_ovh_sign(AS, CK, "POST", URL "/", BODY, strlen(BODY), TS, s), 0);
    assert_string_not_equal(base, s);
    assert_int_equal(zp_ovh_sign(AS, CK, "POST", URL, BODY, strlen(BODY) - 1, TS, s), 0);
    assert_string_not_equal(base, s);
    assert_int_equal(zp_ovh_sign(AS, CK, "POST", URL, BODY, strlen(BODY), "1767322801", s), 0);
    assert_string_not_equal(base, s);
    /* The "+" separators are part of it: moving bytes across a boundary changes it. */
    assert_int_equal(zp_ovh_sign(AS "+" CK, "", "POST", URL, BODY, strlen(BODY), TS, s), 0);
    assert_string_not_equal(base, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors_reproduced),
        cmocka_unit_test(null_body_is_empty),
        cmocka_unit_test(body_length_is_honoured),
        cmocka_unit_test(every_part_is_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
