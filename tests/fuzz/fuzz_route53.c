/*
 * fuzz_route53.c — Route 53's ListResourceRecordSets and error replies:
 * any bytes give a set, "not found", or a refusal; an accepted set always
 * round-trips into a change batch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "providers/route53_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_r53_rrset set;
    struct zp_buf why, batch;
    char code[64], msg[256];

    memset(&set, 0, sizeof(set));
    zp_buf_init(&why, 1024);
    zp_buf_init(&batch, 1 << 20);
    if (zp_r53_rrset_parse((const char *)data, size, "_acme-challenge.example.test.", &set, &why) ==
            0 &&
        set.found) {
        char **v = zp_xcalloc(set.n + 1, sizeof(*v));
        size_t n = zp_r53_rrset_next(&set, 0, "value", "\"value\"", v);
        if (n > set.n + 1 ||
            zp_r53_batch("_acme-challenge.example.test.", &set, v, n, 60, &batch) == -1)
            abort();
        free(v);
    }
    zp_r53_rrset_free(&set);
    zp_r53_error_parse((const char *)data, size, code, sizeof(code), msg, sizeof(msg));
    zp_buf_free(&why);
    zp_buf_free(&batch);
    return 0;
}
