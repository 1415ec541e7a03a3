/*
 * test_edgegrid.c — Akamai EdgeGrid signing (providers/edgegrid.c) against
 * Akamai's own vectors: the data to sign and the Authorization header of
 * each request case, the signing key and the content hash.
 *
 * The values are copied as data from akamai/AkamaiOPEN-edgegrid-python
 * (commit 7111af5), files akamai/edgegrid/test/testdata.json (credentials,
 * timestamp, nonce, max_body 2048, headers_to_sign, sign_key_test,
 * content_hash_test of body "test_body") and akamai/edgegrid/test/testcases.json
 * (expectedDataToSign, expectedAuthorization). The one case left out,
 * "Header with leading and interior spaces", is one the Python client
 * refuses before signing (failsWithMessage). Long bodies of one repeated
 * character are built here rather than spelled out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "providers/edgegrid.h"

#define HOST "akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net"
#define TS "20140321T19:34:21+0000"
#define NONCE "nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
#define MAX_BODY 2048
#define AUTH_PREFIX                                                                                \
    "EG1-HMAC-SHA256 client_token=akab-client-token-xxx-xxxxxxxxxxxxxxxx;access_token=akab-"       \
    "access-token-xxx-xxxxxxxxxxxxxxxx;timestamp=" TS ";nonce=" NONCE ";signature="

static const struct zp_eg_creds creds = {
    .client_token = "akab-client-token-xxx-xxxxxxxxxxxxxxxx",
    .access_token = "akab-access-token-xxx-xxxxxxxxxxxxxxxx",
    .client_secret = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=",
};

static const char *const sign_names[] = {"X-Test1", "X-Test2", "X-Test3", NULL};

struct eg_case {
    const char *name;
    const char *method;
    const char *path;
    const char *headers[5]; /* besides Host, which the host field carries */
    const char *body;       /* NULL: see fill */
    char fill;              /* body of fill_len copies of fill */
    size_t fill_len;
    const char *canon;     /* the signed headers of expectedDataToSign */
    const char *hash;      /* the content hash of expectedDataToSign */
    const char *signature; /* of expectedAuthorization */
};

static const struct eg_case cases[] = {
    {"simple GET",
     "GET",
     "/",
     {NULL},
     NULL,
     0,
     0,
     "",
     "",
     "tL+y4hxyHxgWVD30X3pWnGKHcPzmrIF+LThiAOhMxYU="},
    {"GET with querystring",
     "GET",
     "/testapi/v1/t1?p1=1&p2=2",
     {NULL},
     NULL,
     0,
     0,
     "",
     "",
     "hKDH1UlnQySSHjvIcZpDMbQHihTQ0XyVAKZaApabdeA="},
    {"POST inside limit",
     "POST",
     "/testapi/v1/t3",
     {NULL},
     "datadatadatadatadatadatadatadata",
     0,
     0,
     "",
     "fDimoYqXOLntG3If/Z0K2aS9I19Pkv9P5OMCoL8lY0w=",
     "hXm4iCxtpN22m4cbZb4lVLW5rhX8Ca82vCFqXzSTPe4="},
    {"POST too large",
     "POST",
     "/testapi/v1/t3",
     {NULL},
     NULL,
     'd',
     2049,
     "",
     "iysZKJ78BqF0NvDrpv9Hc3pJBWC5f5apR4qUK/Qfo5k=",
     "6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY="},
    {"POST length equals max_body",
     "POST",
     "/testapi/v1/t3",
     {NULL},
     NULL,
     'd',
     2048,
     "",
     "iysZKJ78BqF0NvDrpv9Hc3pJBWC5f5apR4qUK/Qfo5k=",
     "6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY="},
    {"POST empty body",
     "POST",
     "/testapi/v1/t6",
     {NULL},
     "",
     0,
     0,
     "",
     "",
     "1gEDxeQGD5GovIkJJGcBaKnZ+VaPtrc4qBUHixjsPCQ="},
    {"Simple header signing with GET",
     "GET",
     "/testapi/v1/t4",
     {"X-Test1: test-simple-header"},
     NULL,
     0,
     0,
     "x-test1:test-simple-header",
     "",
     "8F9AybcRw+PLxnvT+H0JRkjROrrUgsxJTnRXMzqvcwY="},
    {"Header containing spaces",
     "GET",
     "/testapi/v1/t4",
     {"X-Test1: \"     test-header-with-spaces     \""},
     NULL,
     0,
     0,
     "x-test1:\" test-header-with-spaces \"",
     "",
     "ucq2AbjCNtobHfCTuS38fdkl5UDdWHZhQX46fYR8CqI="},
    {"Headers out of order",
     "GET",
     "/testapi/v1/t4",
     {"X-Test2: t2", "X-Test1: t1", "X-Test3: t3"},
     NULL,
     0,
     0,
     "x-test1:t1\tx-test2:t2\tx-test3:t3",
     "",
     "Wus73Nx8jOYM+kkBFF2q8D1EATRIMr0WLWwpLBgkBqY="},
    {"Extra header",
     "GET",
     "/testapi/v1/t5",
     {"X-Test2: t2", "X-Test1: t1", "X-Test3: t3", "X-Extra: this won't be included"},
     NULL,
     0,
     0,
     "x-test1:t1\tx-test2:t2\tx-test3:t3",
     "",
     "Knd/jc0A5Ghhizjayr0AUUvl2MZjBpS3FDSzvtq4Ixc="},
    {"PUT test",
     "PUT",
     "/testapi/v1/t6",
     {NULL},
     NULL,
     'P',
     31,
     "",
     "",
     "GNBWEYSEWOLtu+7dD52da2C39aX/Jchpon3K/AmBqBU="},
    {"PATCH test",
     "PATCH",
     "/testapi/v1/t6",
     {NULL},
     NULL,
     'P',
     31,
     "",
     "",
     "JIl05ImY1AOnMtmw+9LKgaFA8mnzsEKabbnHmI8LsQ4="},
    {"GET with query params",
     "GET",
     "/testapi/v1/configs/111?from=12345&limit=200000",
     {NULL},
     NULL,
     0,
     0,
     "",
     "",
     "XM+hsuSs6nuy/5eDRty1IjtVCAdr8xPFRAZ/b8RXDm8="},
    {"GET with query params and separator in path",
     "GET",
     "/testapi/v1/configs/111;222;333?from=12345&limit=200000",
     {NULL},
     NULL,
     0,
     0,
     "",
     "",
     "pmQF7Is2+O4r/mMojPR4yeF58BrempNNoBX5/DT0Fxs="},
};

static void check_case(const struct eg_case *c)
{
    static char filled[4096];
    struct zp_buf data, auth;
    char want[8192];
    struct zp_eg_req r = {.method = c->method,
                          .scheme = "https",
                          .host = HOST,
                          .path_query = c->path,
                          .headers = c->headers,
                          .sign_names = sign_names,
                          .max_body = MAX_BODY,
                          .timestamp = TS,
                          .nonce = NONCE};

    if (c->body == NULL && c->fill_len > 0) {
        memset(filled, c->fill, c->fill_len);
        r.body = filled;
        r.body_len = c->fill_len;
    } else if (c->body != NULL) {
        r.body = c->body;
        r.body_len = strlen(c->body);
    }
    zp_buf_init(&data, 64 * 1024);
    zp_buf_init(&auth, 4096);
    /* expectedDataToSign is the data to sign with an empty unsigned header. */
    snprintf(want, sizeof(want), "%s\thttps\t" HOST "\t%s\t%s\t%s\t", c->method, c->path, c->canon,
             c->hash);
    assert_int_equal(zp_eg_data_to_sign(&r, "", &data), 0);
    if (strcmp(zp_buf_str(&data), want) != 0)
        fail_msg("%s: data to sign\n got %s\nwant %s", c->name, zp_buf_str(&data), want);
    snprintf(want, sizeof(want), AUTH_PREFIX "%s", c->signature);
    assert_int_equal(zp_eg_authorization(&creds, &r, &auth), 0);
    if (strcmp(zp_buf_str(&auth), want) != 0)
        fail_msg("%s: authorization\n got %s\nwant %s", c->name, zp_buf_str(&auth), want);
    zp_buf_free(&data);
    zp_buf_free(&auth);
}

static void test_testcases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
}

/* testdata.json: sign_key_test, content_hash_test (body "test_body"). */
static void test_signing_key_and_content_hash(void **state)
{
    struct zp_buf b;

    (void)state;
    zp_buf_init(&b, 256);
    assert_int_equal(zp_eg_signing_key(creds.client_secret, TS, &b), 0);
    assert_string_equal(zp_buf_str(&b), "znsRMDBRqTXGJ7Ojip3/h2FGPu3LuoMYWgv9PKEnE/o=");
    zp_buf_reset(&b);
    assert_int_equal(zp_eg_content_hash("POST", "test_body", 9, MAX_BODY, &b), 0);
    assert_string_equal(zp_buf_str(&b), "REPGqEEubBHzJMhwqDZtbt515/ntEvAMNriNR53zcdY=");
    zp_buf_reset(&b);
    /* Only POST bodies are hashed. */
    assert_int_equal(zp_eg_content_hash("PUT", "test_body", 9, MAX_BODY, &b), 0);
    assert_string_equal(zp_buf_str(&b), "");
    zp_buf_free(&b);
}

/* testdata.json's "timestamp" is the format; the nonce is a fresh version-4 UUID each time. */
static void test_timestamp_and_nonce(void **state)
{
    char ts[ZP_EG_TS_LEN + 1], n1[ZP_EG_NONCE_LEN + 1], n2[ZP_EG_NONCE_LEN + 1];

    (void)state;
    zp_eg_timestamp(1395430461, ts); /* 2014-03-21 19:34:21 UTC */
    assert_string_equal(ts, TS);
    assert_int_equal(zp_eg_nonce(n1), 0);
    assert_int_equal(zp_eg_nonce(n2), 0);
    assert_int_equal(strlen(n1), ZP_EG_NONCE_LEN);
    assert_int_equal(n1[14], '4');
    assert_true(n1[8] == '-' && n1[13] == '-' && n1[18] == '-' && n1[23] == '-');
    assert_string_not_equal(n1, n2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_testcases),
        cmocka_unit_test(test_signing_key_and_content_hash),
        cmocka_unit_test(test_timestamp_and_nonce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
