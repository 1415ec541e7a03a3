/*
 * test_sigv4.c — AWS Signature V4 against the reference vectors that
 * botocore produced for Route 53 (docs: providers.md Appendix A): the
 * canonical request, the string to sign, the signing key and the signature
 * of each request zoneproof sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "providers/sigv4.h"

#define DATE "20260102T030405Z"
#define HOST "route53.amazonaws.com"
#define ZONE_PATH "/2013-04-01/hostedzone/Z0123456789ABCDEFGHIJ/rrset"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct zp_sigv4_key key = {
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "route53",
};

/* upsert_body.xml, 502 bytes, no trailing newline. */
static const char upsert_body[] =
    "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
    "<ChangeBatch><Comment>dns01</Comment><Changes><Change><Action>UPSERT</Action>"
    "<ResourceRecordSet><Name>_acme-challenge.example.com.</Name><Type>TXT</Type><TTL>60</TTL>"
    "<ResourceRecords><ResourceRecord><Value>\"existing-value\"</Value></ResourceRecord>"
    "<ResourceRecord><Value>\"new-value-abc\"</Value></ResourceRecord></ResourceRecords>"
    "</ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";

/* The DELETE body of r53_sigv4_output.txt, 414 bytes. */
static const char delete_body[] =
    "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
    "<ChangeBatch><Changes><Change><Action>DELETE</Action><ResourceRecordSet>"
    "<Name>_acme-challenge.example.com.</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords>"
    "<ResourceRecord><Value>\"new-value-abc\"</Value></ResourceRecord></ResourceRecords>"
    "</ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";

static void check_signature(const char *method, const char *path, const char *const *pairs,
                            size_t npairs, const char *body, const char *canonical_query,
                            const char *signature)
{
    struct zp_buf q, auth, cr, sts;
    char want[512], want_cr[2048];
    struct zp_sigv4_req r = {.method = method,
                             .host = HOST,
                             .path = path,
                             .amz_date = DATE,
                             .body = body,
                             .body_len = body ? strlen(body) : 0};

    zp_buf_init(&q, 4096);
    zp_buf_init(&auth, 4096);
    zp_buf_init(&cr, 8192);
    zp_buf_init(&sts, 4096);
    assert_int_equal(zp_sigv4_query(pairs, npairs, &q), 0);
    assert_string_equal(zp_buf_str(&q), canonical_query);
    r.query = zp_buf_str(&q);

    /* The canonical request botocore builds for a bodiless request. */
    if (body == NULL) {
        snprintf(want_cr, sizeof(want_cr),
                 "%s\n%s\n%s\nhost:" HOST "\nx-amz-date:" DATE "\n\nhost;x-amz-date\n" EMPTY_SHA,
                 method, path, canonical_query);
        assert_int_equal(zp_sigv4_canonical_request(&key, &r, &cr), 0);
        assert_string_equal(zp_buf_str(&cr), want_cr);
    }
    assert_int_equal(zp_sigv4_authorization(&key, &r, &auth), 0);
    snprintf(want, sizeof(want),
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/route53/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature=%s",
             signature);
    assert_string_equal(zp_buf_str(&auth), want);
    zp_buf_free(&q);
    zp_buf_free(&auth);
    zp_buf_free(&cr);
    zp_buf_free(&sts);
}

static void list_hosted_zones_by_name(void **state)
{
    const char *pairs[] = {"dnsname", "example.com", "maxitems", "1"};

    check_signature("GET", "/2013-04-01/hostedzonesbyname", pairs, 2, NULL,
                    "dnsname=example.com&maxitems=1",
                    "b58441dca9506b6c1b71aeb6ccbea400dd3328516cd93966b206a25b68cbef47");
}

static void list_resource_record_sets(void **state)
{
    /* In the order botocore puts them in the URL: the canonical form sorts them. */
    const char *pairs[] = {"name", "_acme-challenge.example.com.", "type", "TXT", "maxitems", "1"};

    check_signature("GET", ZONE_PATH, pairs, 3, NULL,
                    "maxitems=1&name=_acme-challenge.example.com.&type=TXT",
                    "e1b78d80af2f771c52c63cc35c03a62cfc64d2ec165f6ca2c6711c70ef9b8e5f");
}

static void change_upsert_steps(void **state)
{
    struct zp_buf cr, sts;
    unsigned char sk[32];
    char hex[65];
    struct zp_sigv4_req r = {.method = "POST",
                             .host = HOST,
                             .path = ZONE_PATH "/",
                             .query = NULL,
                             .body = upsert_body,
                             .body_len = strlen(upsert_body),
                             .amz_date = DATE};

    assert_int_equal(strlen(upsert_body), 502);
    zp_buf_init(&cr, 8192);
    zp_buf_init(&sts, 4096);
    assert_int_equal(zp_sigv4_canonical_request(&key, &r, &cr), 0);
    assert_string_equal(zp_buf_str(&cr),
                        "POST\n" ZONE_PATH "/\n\nhost:" HOST "\nx-amz-date:" DATE "\n\n"
                        "host;x-amz-date\n"
                        "e36f29558d0714ebf9ebf929f886efe0f4b8d587909868ad76111ce1d586f82f");
    assert_int_equal(zp_sigv4_string_to_sign(&key, &r, zp_buf_str(&cr), &sts), 0);
    assert_string_equal(zp_buf_str(&sts),
                        "AWS4-HMAC-SHA256\n" DATE "\n20260102/us-east-1/route53/aws4_request\n"
                        "9033ee43322932b0d45e36dad3b817722c5f8843c3bc1f6cdf1e9278662c92e9");
    assert_int_equal(zp_sigv4_signing_key(&key, DATE, sk), 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sk[i]);
    assert_string_equal(hex, "e547e081f4e8dc5f2e0213b10e009586544c668a0d43f6896dea389e656e970a");
    zp_buf_free(&cr);
    zp_buf_free(&sts);

    check_signature("POST", ZONE_PATH "/", NULL, 0, upsert_body, "",
                    "6b00566b77dd465cc161b6ac88e4669c0977e8b1548311eb3e8ad484cfbe96a9");
}

static void change_delete(void **state)
{
    assert_int_equal(strlen(delete_body), 414);
    check_signature("POST", ZONE_PATH "/", NULL, 0, delete_body, "",
                    "d244df3b7f5e6fdb88737765f0b785dda02b0afe93f6e486ab78c9f6619621bf");
}

static void get_change(void **state)
{
    check_signature("GET", "/2013-04-01/change/C2682N5HXP0BZ4", NULL, 0, NULL, "",
                    "59e713ce25aef887bf37c5510ef4b733e03c4b0b693e0dd761076f2086cd41ee");
}

static void query_encoding(void **state)
{
    const char *pairs[] = {"b", "x y*", "a", "~-_.", "a", "%/+"};
    struct zp_buf q;

    zp_buf_init(&q, 256);
    assert_int_equal(zp_sigv4_query(pairs, 3, &q), 0);
    assert_string_equal(zp_buf_str(&q), "a=%25%2F%2B&a=~-_.&b=x%20y%2A");
    zp_buf_reset(&q);
    assert_int_equal(zp_sigv4_query(NULL, 0, &q), 0);
    assert_string_equal(zp_buf_str(&q), "");
    zp_buf_free(&q);
}

static void path_and_session_token(void **state)
{
    struct zp_sigv4_key k = key;
    struct zp_sigv4_req r = {
        .method = "GET", .host = "127.0.0.1:8443", .path = "/a b/%41", .amz_date = DATE};
    struct zp_buf cr, auth;
    char d[ZP_SIGV4_DATE_LEN + 1];

    k.session_token = "tok";
    zp_buf_init(&cr, 4096);
    zp_buf_init(&auth, 4096);
    assert_int_equal(zp_sigv4_canonical_request(&k, &r, &cr), 0);
    assert_string_equal(zp_buf_str(&cr),
                        "GET\n/a%20b/%2541\n\nhost:127.0.0.1:8443\nx-amz-date:" DATE
                        "\nx-amz-security-token:tok\n\n"
                        "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA);
    assert_int_equal(zp_sigv4_authorization(&k, &r, &auth), 0);
    assert_non_null(
        strstr(zp_buf_str(&auth), "SignedHeaders=host;x-amz-date;x-amz-security-token, "));
    assert_null(strstr(zp_buf_str(&auth), "wJalr"));
    zp_sigv4_date(1767323045, d); /* 2026-01-02T03:04:05Z */
    assert_string_equal(d, DATE);
    zp_buf_free(&cr);
    zp_buf_free(&auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_hosted_zones_by_name),
        cmocka_unit_test(list_resource_record_sets),
        cmocka_unit_test(change_upsert_steps),
        cmocka_unit_test(change_delete),
        cmocka_unit_test(get_change),
        cmocka_unit_test(query_encoding),
        cmocka_unit_test(path_and_session_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
