/*
 * fuzz_route53.c — the XML replies read with expat by route53_xml.c:
 * Route 53's ListResourceRecordSets and error replies. Any bytes give a
 * set, "not found", or a refusal; an accepted set always round-trips into a
 * change batch. (STS's reply, read by the same reader, is fuzz_auth's.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "providers/route53_int.h"

static void rrset(const struct zp_xml *x)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_xml x;
    char code[64], msg[256], why[160] = "";

    if (zp_r53_xml_parse((const char *)data, size, 4096, &x, why, sizeof(why)) == 0) {
        for (size_t i = 0; i < x.n; i++)
            if (x.e[i].end <= i || x.e[i].end > x.n || x.e[i].text == NULL)
                abort(); /* every element closed, inside its parent */
        rrset(&x);
    } else if (why[0] == '\0' || x.n != 0) {
        abort();
    }
    zp_xml_free(&x);
    zp_r53_error_parse((const char *)data, size, code, sizeof(code), msg, sizeof(msg));
    return 0;
}
