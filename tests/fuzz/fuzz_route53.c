/*
 * fuzz_route53.c — the XML replies read with expat by route53_xml.c:
 * Route 53's ListResourceRecordSets and error replies, and AWS STS's
 * AssumeRoleWithWebIdentity reply (awssts.c reads it with the same
 * reader). Any bytes give a set, "not found", or a refusal; an accepted set
 * always round-trips into a change batch; accepted STS credentials are all
 * non-empty, and a refusal says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "providers/awssts.h"
#include "providers/awssts_int.h"
#include "providers/route53_int.h"

static void rrset(const struct zp_r53_xml *x)
{
    struct zp_r53_rrset set;
    struct zp_buf why, batch;

    zp_buf_init(&why, 1024);
    zp_buf_init(&batch, 1 << 20);
    if (zp_r53_rrset_read(x, "_acme-challenge.example.test.", &set, &why) == 0 && set.found) {
        char **v = zp_xcalloc(set.n + 1, sizeof(*v));
        size_t n = zp_r53_rrset_next(&set, 0, "value", "\"value\"", v);
        if (n > set.n + 1 ||
            zp_r53_batch("_acme-challenge.example.test.", &set, v, n, 60, &batch) == -1)
            abort();
        free(v);
    } else if (set.found || set.n != 0) {
        abort();
    }
    zp_r53_rrset_free(&set);
    zp_buf_free(&why);
    zp_buf_free(&batch);
}

static void sts(const uint8_t *data, size_t size)
{
    struct zp_err err = {0};
    struct zp_awssts_creds c = {0};
    struct zp_buf body;
    time_t expires = 0;

    zp_buf_init(&body, 1u << 20);
    if (zp_buf_append(&body, data, size) == -1)
        abort();
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_r53_xml x;
    char code[64], msg[256], why[160] = "";

    if (zp_r53_xml_parse((const char *)data, size, 4096, &x, why, sizeof(why)) == 0) {
        for (size_t i = 0; i < x.n; i++)
            if (x.e[i].end <= i || x.e[i].end > x.n || x.e[i].text == NULL)
                abort(); /* every element closed, inside its parent */
        rrset(&x);
    } else if (why[0] == '\0' || x.n != 0) {
        abort();
    }
    zp_r53_xml_free(&x);
    zp_r53_error_parse((const char *)data, size, code, sizeof(code), msg, sizeof(msg));
    sts(data, size);
    return 0;
}
