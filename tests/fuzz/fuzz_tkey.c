/*
 * fuzz_tkey.c — a DNS server's answer to a GSS-TSIG key negotiation, as
 * providers/gss.c reads it (zp_gss_tkey_parse: the TKEY RR's token,
 * expiration and error), and the same bytes as a reply whose signature is
 * checked with Samba's layout allowed (zp_tsig_verify with lax set, which
 * reads the message a second time when the RFC's layout fails). Checks
 * that a parsed token fits its cap and that a verdict is one the caller
 * knows.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/gss.h"
#include "providers/tsig.h"

#define KEY "0123456789abcdef.sig-zoneproof."
#define TOKEN_MAX 16384
#define SECRET "ZnV6ei10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5"
#define NOW 1700000000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_tsig_key key = {
        .name = KEY, .secret = SECRET, .secret_len = sizeof(SECRET) - 1, .lax = 1};
    struct zp_tsig_mac req = {.len = 32};
    enum zp_tsig_check check = ZP_TSIG_OK;
    struct zp_err err = {0};
    struct zp_buf tok;
    uint32_t expire = 0;
    unsigned tkey_error = 0;
    int rcode = 0;

    zp_buf_init(&tok, TOKEN_MAX);
    if (zp_gss_tkey_parse(data, size, KEY, &tok, &expire, &tkey_error, &rcode) == ZP_GSS_TKEY_OK &&
        (tok.len > TOKEN_MAX || tkey_error > 0xffff))
        abort();
    zp_buf_free(&tok);
    key.alg = zp_tsig_alg_find("hmac-sha256");
    for (size_t i = 0; i < req.len; i++)
        req.mac[i] = (uint8_t)(i + 1);
    if (zp_tsig_verify(&key, &req, NOW, data, size, &check, &err) == -1 ||
        (unsigned)check > ZP_TSIG_BADTIME)
        abort();
    return 0;
}
