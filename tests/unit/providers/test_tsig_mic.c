/*
 * test_tsig_mic.c — TSIG with a MAC that is not an HMAC (providers/tsig.c's
 * mic hook, as GSS-TSIG uses it), through a stand-in MIC (SHA-256 of the
 * input, optionally with extra bytes in front): the hook makes and checks
 * the MAC over RFC 8945's input; a reply signed in Samba's layout (the
 * request MAC without its length) verifies only when the key allows it and
 * says so (ZP_TSIG_OK_LAX), never instead of the RFC's layout; a reply
 * under the other name of GSS-TSIG (gss.microsoft.com) verifies, one under
 * an HMAC name does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/tsig.h"

#define KEY "0123456789abcdef.sig-zoneproof."
#define T0 1700000000u

/* The stand-in MIC: SHA-256 over prefix (the first plen bytes) then the input. */
struct mic {
    uint8_t prefix[64];
    size_t plen;
    int makes, checks;
};

static int mic_make(void *arg, const uint8_t *d, size_t n, uint8_t *out, size_t *outlen,
                    struct zp_err *err)
{
    struct mic *m = arg;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned len = 0;

    (void)err;
    m->makes++;
    assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
    EVP_DigestUpdate(c, m->prefix, m->plen);
    EVP_DigestUpdate(c, d, n);
    EVP_DigestFinal_ex(c, out, &len);
    EVP_MD_CTX_free(c);
    *outlen = len;
    return 0;
}

static int mic_check(void *arg, const uint8_t *d, size_t n, const uint8_t *mac, size_t len, int *ok,
                     struct zp_err *err)
{
    struct mic *m = arg, plain = {.plen = 0};
    uint8_t want[ZP_TSIG_MAC_MAX];
    size_t wlen = 0;

    m->checks++;
    mic_make(&plain, d, n, want, &wlen, err);
    *ok = wlen == len && memcmp(want, mac, len) == 0;
    return 0;
}

/* A reply to be signed: a header with the QR bit, no records yet. */
static void reply_of(struct zp_buf *b)
{
    static const uint8_t hdr[12] = {0x12, 0x34, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    zp_buf_init(b, 4096);
    assert_int_equal(zp_buf_append(b, hdr, sizeof(hdr)), 0);
}

static struct zp_tsig_key key_of(const char *alg, struct zp_tsig_mic *hook, int lax)
{
    struct zp_tsig_key k = {.name = KEY, .alg = zp_tsig_alg_find(alg), .mic = hook, .lax = lax};

    assert_non_null(k.alg);
    return k;
}

/* A request MAC the reply answers, and the reply signed by the "server" with signer's MIC. */
static void signed_reply(struct mic *signer, const char *alg, struct zp_buf *b)
{
    struct zp_tsig_mic hook = {mic_make, mic_check, signer};
    struct zp_tsig_key k = key_of(alg, &hook, 0);
    struct zp_tsig_mac mac;
    struct zp_err err = {0};

    reply_of(b);
    assert_int_equal(zp_tsig_sign(&k, T0, b, &mac, &err), 0);
}

static enum zp_tsig_check verify(const char *alg, int lax, const struct zp_tsig_mac *req,
                                 const struct zp_buf *b, struct mic *checker)
{
    struct zp_tsig_mic hook = {mic_make, mic_check, checker};
    struct zp_tsig_key k = key_of(alg, &hook, lax);
    enum zp_tsig_check check = ZP_TSIG_FORMERR;
    struct zp_err err = {0};

    assert_int_equal(zp_tsig_verify(&k, req, T0, (const uint8_t *)b->data, b->len, &check, &err),
                     0);
    return check;
}

static void mic_signs_and_checks(void **state)
{
    struct mic m = {.plen = 0};
    struct zp_buf b;

    (void)state;
    signed_reply(&m, "gss-tsig", &b);
    assert_int_equal(m.makes, 1);
    /* zp_tsig_sign's input has no request MAC: verify as a reply to an unsigned request. */
    assert_int_equal(verify("gss-tsig", 0, NULL, &b, &m), ZP_TSIG_OK);
    b.data[b.len - 20] ^= 1; /* inside the MAC */
    assert_int_equal(verify("gss-tsig", 1, NULL, &b, &m), ZP_TSIG_BADSIG);
    zp_buf_free(&b);
}

/*
 * Samba's layout: the signer puts the request MAC, without its 2-byte
 * length, before the message. The RFC's layout puts the length too.
 */
static void samba_layout_only_when_allowed(void **state)
{
    struct zp_tsig_mac req = {.len = 28};
    struct mic samba = {.plen = 28}, rfc = {.plen = 30}, checker = {.plen = 0};
    struct zp_buf b;

    (void)state;
    for (size_t i = 0; i < req.len; i++)
        req.mac[i] = samba.prefix[i] = rfc.prefix[i + 2] = (uint8_t)(0xa0 + i);
    rfc.prefix[0] = 0;
    rfc.prefix[1] = 28;
    signed_reply(&samba, "gss-tsig", &b);
    assert_int_equal(verify("gss-tsig", 0, &req, &b, &checker), ZP_TSIG_BADSIG);
    checker.checks = 0;
    assert_int_equal(verify("gss-tsig", 1, &req, &b, &checker), ZP_TSIG_OK_LAX);
    assert_int_equal(checker.checks, 2); /* the RFC's layout first */
    assert_string_equal(zp_tsig_check_name(ZP_TSIG_OK_LAX), "ok-samba-layout");
    zp_buf_free(&b);
    /* A reply in the RFC's layout is ZP_TSIG_OK with or without lax, after one check. */
    signed_reply(&rfc, "gss-tsig", &b);
    checker.checks = 0;
    assert_int_equal(verify("gss-tsig", 1, &req, &b, &checker), ZP_TSIG_OK);
    assert_int_equal(checker.checks, 1);
    zp_buf_free(&b);
}

static void either_gss_name(void **state)
{
    struct mic m = {.plen = 0};
    struct zp_buf b;

    (void)state;
    signed_reply(&m, "gss.microsoft.com", &b);
    assert_int_equal(verify("gss-tsig", 0, NULL, &b, &m), ZP_TSIG_OK);
    assert_int_equal(verify("gss.microsoft.com", 0, NULL, &b, &m), ZP_TSIG_OK);
    zp_buf_free(&b);
    signed_reply(&m, "gss-tsig", &b);
    assert_int_equal(verify("gss.microsoft.com", 0, NULL, &b, &m), ZP_TSIG_OK);
    zp_buf_free(&b);
    /* Under an HMAC's name, a GSS key sees another key. */
    signed_reply(&m, "hmac-sha256", &b);
    assert_int_equal(verify("gss-tsig", 1, NULL, &b, &m), ZP_TSIG_BADKEY);
    zp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mic_signs_and_checks),
        cmocka_unit_test(samba_layout_only_when_allowed),
        cmocka_unit_test(either_gss_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
