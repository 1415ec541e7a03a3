/*
 * test_gauth.c — Google service-account assertions: the key file's
 * fields, the JWT's exact header and claims, and its RS256 signature
 * checked two ways against a key generated for the test run
 * (OpenSSL's verify, and the PKCS#1 v1.5 encoding rebuilt by hand); then
 * the token cache against a token endpoint in a thread.
 */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "providers/gauth.h"

#define EMAIL "zoneproof-dns@zp-test.iam.gserviceaccount.com"
#define NOW 1767322800LL

static EVP_PKEY *test_key; /* RSA 2048, made once for the run */
static char *test_pem;     /* its PKCS#8 PEM */

static char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &p);
    out = zp_xstrndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

static int setup(void **state)
{
    test_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (test_key == NULL)
        return -1;
    test_pem = pem_of(test_key);
    return 0;
}

static int teardown(void **state)
{
    EVP_PKEY_free(test_key);
    free(test_pem);
    return 0;
}

/* A key file's JSON with the given type, key and token_uri (NULL: left out). */
static char *key_json(const char *type, const char *pem, const char *kid, const char *uri)
{
    cJSON *j = cJSON_CreateObject();
    char *s;

    cJSON_AddStringToObject(j, "type", type);
    cJSON_AddStringToObject(j, "project_id", "zp-test");
    if (kid)
        cJSON_AddStringToObject(j, "private_key_id", kid);
    if (pem)
        cJSON_AddStringToObject(j, "private_key", pem);
    cJSON_AddStringToObject(j, "client_email", EMAIL);
    if (uri)
        cJSON_AddStringToObject(j, "token_uri", uri);
    s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

/* Decodes base64url without padding; returns the length. */
static size_t b64url_dec(const char *s, size_t n, unsigned char *out)
{
    char *t = zp_xcalloc(1, n + 4);
    size_t m = n, pad = 0;
    int len;

    for (size_t i = 0; i < n; i++)
        t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (m % 4) {
        t[m++] = '=';
        pad++;
    }
    len = EVP_DecodeBlock(out, (unsigned char *)t, (int)m);
    free(t);
    assert_true(len >= 0);
    return (size_t)len - pad;
}

static void key_file_fields(void **state)
{
    struct zp_gauth_key k;
    struct zp_err err = {0};
    char *j;

    j = key_json("service_account", test_pem, "kid-1", NULL);
    assert_int_equal(zp_gauth_key_parse(j, strlen(j), "serviceAccountFile", "/k.json", &k, &err),
                     0);
    assert_string_equal(k.client_email, EMAIL);
    assert_string_equal(k.private_key_id, "kid-1");
    assert_string_equal(k.token_uri, ZP_GAUTH_TOKEN_URI); /* the default */
    assert_string_equal(k.private_key, test_pem);
    zp_gauth_key_free(&k);
    free(j);

    j = key_json("authorized_user", NULL, NULL, NULL);
    assert_int_equal(zp_gauth_key_parse(j, strlen(j), "serviceAccountFile", "/k.json", &k, &err),
                     -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_non_null(strstr(err.msg, "serviceAccountFile: /k.json holds a credential of type "
                                    "\"authorized_user\", not a service-account key"));
    free(j);

    zp_err_clear(&err);
    j = key_json("service_account", NULL, "kid-1", NULL);
    assert_int_equal(zp_gauth_key_parse(j, strlen(j), "serviceAccountFile", "/k.json", &k, &err),
                     -1);
    assert_non_null(strstr(err.msg, "has no private_key"));
    free(j);

    zp_err_clear(&err);
    j = key_json("service_account", test_pem, "kid-1", "http://oauth2.example/token");
    assert_int_equal(zp_gauth_key_parse(j, strlen(j), "serviceAccountFile", "/k.json", &k, &err),
                     -1);
    assert_non_null(strstr(err.msg, "token_uri that is not https://"));
    free(j);

    zp_err_clear(&err);
    assert_int_equal(zp_gauth_key_parse("{nope", 5, "serviceAccountFile", "/k.json", &k, &err), -1);
    assert_non_null(strstr(err.msg, "serviceAccountFile: /k.json is not JSON"));
}

/* Splits a JWT into its three parts; returns them decoded (header and claims as strings). */
static void jwt_split(const char *jwt, char *hdr, char *claims, unsigned char *sig, size_t *siglen,
                      size_t *signed_len)
{
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    size_t n;

    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));
    assert_null(strpbrk(jwt, "=+/ \n"));
    n = b64url_dec(jwt, (size_t)(d1 - jwt), (unsigned char *)hdr);
    hdr[n] = '\0';
    n = b64url_dec(d1 + 1, (size_t)(d2 - d1 - 1), (unsigned char *)claims);
    claims[n] = '\0';
    *siglen = b64url_dec(d2 + 1, strlen(d2 + 1), sig);
    *signed_len = (size_t)(d2 - jwt);
}

/* RSASSA-PKCS1-v1_5 by hand (RFC 8017 8.2.2): sig^e mod n must be 00 01 FF.. 00 DigestInfo H. */
static int pkcs1_ok(EVP_PKEY *key, const unsigned char *msg, size_t len, const unsigned char *sig,
                    size_t siglen)
{
    static const unsigned char di[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                       0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    BIGNUM *n = NULL, *e = NULL, *s = BN_bin2bn(sig, (int)siglen, NULL), *m = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    unsigned char em[512], want[512];
    size_t k;
    int ok;

    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    k = (size_t)BN_num_bytes(n);
    assert_int_equal(siglen, k);
    assert_int_equal(BN_mod_exp(m, s, e, n, ctx), 1);
    assert_int_equal(BN_bn2binpad(m, em, (int)k), (int)k);
    want[0] = 0x00;
    want[1] = 0x01;
    memset(want + 2, 0xff, k - 3 - sizeof(di) - 32);
    want[k - sizeof(di) - 32 - 1] = 0x00;
    memcpy(want + k - sizeof(di) - 32, di, sizeof(di));
    EVP_Digest(msg, len, want + k - 32, NULL, EVP_sha256(), NULL);
    ok = memcmp(em, want, k) == 0;
    BN_free(n);
    BN_free(e);
    BN_free(s);
    BN_free(m);
    BN_CTX_free(ctx);
    return ok;
}

static void jwt_header_claims_and_signature(void **state)
{
    struct zp_gauth_key k;
    struct zp_err err = {0};
    struct zp_buf jwt;
    char hdr[512], claims[1024], *j;
    unsigned char sig[512];
    size_t siglen, signed_len;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    j = key_json("service_account", test_pem, "kid-1", NULL);
    assert_int_equal(zp_gauth_key_parse(j, strlen(j), "serviceAccountFile", "/k.json", &k, &err),
                     0);
    zp_buf_init(&jwt, 16384);
    assert_int_equal(zp_gauth_jwt(&k, ZP_GAUTH_SCOPE_DNS, ZP_GAUTH_TOKEN_URI, NOW, &jwt, &err), 0);
    jwt_split(zp_buf_str(&jwt), hdr, claims, sig, &siglen, &signed_len);
    assert_string_equal(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid-1\"}");
    assert_string_equal(claims,
                        "{\"iss\":\"" EMAIL "\","
                        "\"scope\":\"https://www.googleapis.com/auth/ndev.clouddns.readwrite\","
                        "\"aud\":\"https://oauth2.googleapis.com/token\","
                        "\"iat\":1767322800,\"exp\":1767326400}");

    /* OpenSSL's own verification, with the public half only. */
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, test_key), 1);
    assert_int_equal(EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt.data, signed_len),
                     1);
    /* And the encoding rebuilt by hand, which a verifier in any language checks. */
    assert_true(pkcs1_ok(test_key, (const unsigned char *)jwt.data, signed_len, sig, siglen));
    sig[siglen / 2] ^= 1;
    assert_false(pkcs1_ok(test_key, (const unsigned char *)jwt.data, signed_len, sig, siglen));

    EVP_MD_CTX_free(md);
    zp_buf_free_secret(&jwt);
    zp_gauth_key_free(&k);
    free(j);
}

static void jwt_without_kid(void **state)
{
    struct zp_gauth_key k;
    struct zp_err err = {0};
    struct zp_buf jwt;
    char hdr[512], claims[1024], *j;
    unsigned char sig[512];
    size_t siglen, signed_len;

    j = key_json("service_account", test_pem, NULL, "https://oauth2.example.test/token");
    assert_int_equal(zp_gauth_key_parse(j, strlen(j), "serviceAccountFile", "/k.json", &k, &err),
                     0);
    zp_buf_init(&jwt, 16384);
    assert_int_equal(zp_gauth_jwt(&k, "s", k.token_uri, NOW, &jwt, &err), 0);
    jwt_split(zp_buf_str(&jwt), hdr, claims, sig, &siglen, &signed_len);
    assert_string_equal(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    assert_non_null(strstr(claims, "\"aud\":\"https://oauth2.example.test/token\""));
    assert_true(pkcs1_ok(test_key, (const unsigned char *)jwt.data, signed_len, sig, siglen));
    zp_buf_free_secret(&jwt);
    zp_gauth_key_free(&k);
    free(j);
}

/* Writes text to a temporary file; returns its path (free it, unlink it). */
static char *temp_file(const char *text)
{
    char *path = zp_xstrdup("/tmp/zp-gauth-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void check_at_configuration_time(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *ec_pem = pem_of(ec), *j, *path;
    struct zp_err err = {0};

    j = key_json("service_account", test_pem, "kid-1", NULL);
    path = temp_file(j);
    assert_int_equal(zp_gauth_check(path, "serviceAccountFile", &err), 0);
    unlink(path);
    free(path);
    free(j);

    j = key_json("service_account", ec_pem, "kid-1", NULL);
    path = temp_file(j);
    assert_int_equal(zp_gauth_check(path, "serviceAccountFile", &err), -1);
    assert_non_null(strstr(err.msg, "is not an RSA key"));
    unlink(path);
    free(path);
    free(j);

    zp_err_clear(&err);
    j = key_json("service_account",
                 "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "kid-1", NULL);
    path = temp_file(j);
    assert_int_equal(zp_gauth_check(path, "serviceAccountFile", &err), -1);
    assert_non_null(strstr(err.msg, "is not a PEM private key"));
    unlink(path);
    free(path);
    free(j);

    zp_err_clear(&err);
    assert_int_equal(zp_gauth_check("/nonexistent/sa.json", "serviceAccountFile", &err), -1);
    assert_non_null(strstr(err.msg, "serviceAccountFile: cannot open /nonexistent/sa.json"));

    EVP_PKEY_free(ec);
    free(ec_pem);
}

/* ---- a token endpoint in a thread ------------------------------------------------------- */

/* A jwt-bearer grant whose assertion starts with a JSON header ("{" is "ey" in base64). */
#define GRANT_PREFIX "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ey"

struct endpoint {
    int fd;
    unsigned short port;
    pthread_t thread;
    int requests;       /* token requests answered */
    int bad_grant;      /* requests whose body was not a jwt-bearer grant */
    const char *answer; /* JSON body to send; "%d" is replaced by the request number */
    int status;
};

static void *endpoint_run(void *arg)
{
    struct endpoint *e = arg;
    char req[32768], body[512], head[256];

    for (;;) {
        int c = accept(e->fd, NULL, NULL);
        size_t n = 0;
        ssize_t k;
        const char *cl, *end;

        if (c < 0)
            break;
        /* Headers, then Content-Length bytes of form. */
        while ((k = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
            n += (size_t)k;
            req[n] = '\0';
            end = strstr(req, "\r\n\r\n");
            cl = strcasestr(req, "Content-Length:");
            if (end && cl && n >= (size_t)(end + 4 - req) + strtoul(cl + 15, NULL, 10))
                break;
        }
        end = strstr(req, "\r\n\r\n");
        e->requests++;
        if (end == NULL || strncmp(end + 4, GRANT_PREFIX, strlen(GRANT_PREFIX)) != 0)
            e->bad_grant++;
        /* answer with "%d" replaced by the request number (not a printf format: -Wformat=2). */
        {
            const char *at = strstr(e->answer, "%d");
            int len = at ? (int)(at - e->answer) : (int)strlen(e->answer);
            snprintf(body, sizeof(body), "%.*s%d%s", len, e->answer, e->requests, at ? at + 2 : "");
            if (at == NULL)
                zp_strlcpy(body, e->answer, sizeof(body));
        }
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 e->status, strlen(body));
        assert_true(write(c, head, strlen(head)) > 0);
        assert_true(write(c, body, strlen(body)) > 0);
        close(c);
    }
    return NULL;
}

static void endpoint_start(struct endpoint *e)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);

    e->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(e->fd >= 0);
    assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(e->fd, 8), 0);
    assert_int_equal(getsockname(e->fd, (struct sockaddr *)&a, &len), 0);
    e->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&e->thread, NULL, endpoint_run, e), 0);
}

static void endpoint_stop(struct endpoint *e)
{
    shutdown(e->fd, SHUT_RDWR);
    close(e->fd);
    pthread_join(e->thread, NULL);
}

static void token_cache(void **state)
{
    struct endpoint e = {.status = 200,
                         .answer = "{\"access_token\":\"ya29.tok-%d\",\"expires_in\":3599,"
                                   "\"token_type\":\"Bearer\"}"};
    struct zp_err err = {0};
    struct zp_gauth *g = zp_gauth_new();
    char *j = key_json("service_account", test_pem, "kid-1", NULL), *path = temp_file(j);
    char url[64], who[256], *tok = NULL;
    uint64_t deadline = zp_now_ms() + 10000;
    FILE *f;

    endpoint_start(&e);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/token", e.port);
    struct zp_gauth_src src = {.key_file = path,
                               .setting = "serviceAccountFile",
                               .token_endpoint = url,
                               .scope = ZP_GAUTH_SCOPE_DNS,
                               .rate_key = "test:gauth",
                               .rate = 100,
                               .burst = 100};

    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.tok-1");
    assert_string_equal(who, EMAIL);
    zp_free_secret(tok);
    /* Cached: no second request. */
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.tok-1");
    assert_int_equal(e.requests, 1);
    /* Refused by the API: forgotten, so the next call buys a new one. */
    zp_gauth_forget(g, tok);
    zp_free_secret(tok);
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.tok-2");
    zp_free_secret(tok);
    /* A rotated key file (the same account, another key id) is not served the old token. */
    free(j);
    j = key_json("service_account", test_pem, "kid-2", NULL);
    f = fopen(path, "w");
    fputs(j, f);
    fclose(f);
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.tok-3");
    zp_free_secret(tok);
    assert_int_equal(e.bad_grant, 0);

    /* A token is kept until it expires (the clock is manual: it moves when told), not after. */
    e.answer = "{\"access_token\":\"ya29.short-%d\",\"expires_in\":1}";
    zp_gauth_forget(g, "ya29.tok-3");
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.short-4");
    zp_free_secret(tok);
    zp_clock_advance(999);
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.short-4");
    zp_free_secret(tok);
    zp_clock_advance(1);
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), 0);
    assert_string_equal(tok, "ya29.short-5");
    zp_free_secret(tok);

    /* Google's refusal of a deleted key, and a token that could not go in a header. */
    e.status = 400;
    e.answer = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}";
    zp_gauth_forget(g, "ya29.short-5");
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), -1);
    assert_int_equal(err.kind, ZP_EAUTH);
    assert_non_null(strstr(err.msg, "Google rejected the key of service account " EMAIL));
    assert_null(tok);
    zp_err_clear(&err);
    e.status = 200;
    e.answer = "{\"access_token\":\"ya29 x\\r\\nX-Evil: 1\",\"expires_in\":3599}";
    assert_int_equal(zp_gauth_token(g, &src, deadline, &tok, who, sizeof(who), &err), -1);
    assert_non_null(strstr(err.msg, "without a usable access_token"));

    endpoint_stop(&e);
    zp_gauth_free(g);
    unlink(path);
    free(path);
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_file_fields), cmocka_unit_test(jwt_header_claims_and_signature),
        cmocka_unit_test(jwt_without_kid), cmocka_unit_test(check_at_configuration_time),
        cmocka_unit_test(token_cache),
    };
    zp_clock_set_mode(ZP_CLOCK_MANUAL); /* token lifetimes run out when a test advances */
    return cmocka_run_group_tests(tests, setup, teardown);
}
