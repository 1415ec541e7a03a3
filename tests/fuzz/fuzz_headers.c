/*
 * fuzz_headers.c — a reply's raw header lines as libcurl hands them over
 * ("Name: value\r\n"): the first byte picks the status (429, 503 or 200),
 * the rest are the headers. Feeds the header lookup and the wait read from
 * Retry-After and the rate-limit reset headers. Checks that a header value
 * fits its buffer and that no wait exceeds one hour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/httpc.h"
#include "base/httpc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {429, 503, 200};
    static const char *const names[] = {"Retry-After", "RateLimit-Reset", "X-RateLimit-Reset",
                                        "Ratelimit",   "Content-Type",    ""};
    struct zp_http_resp r;
    char v[128];
    const char *got;

    if (size == 0)
        return 0;
    zp_http_resp_init(&r);
    r.status = statuses[data[0] % 3];
    if (size - 1 > ZP_HTTP_HEADERS_MAX || zp_buf_append(&r.headers, data + 1, size - 1) == -1)
        goto out;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        got = zp_http_header(&r, names[i], v, sizeof(v));
        if (got != NULL && (got != v || strlen(v) >= sizeof(v)))
            abort();
    }
    if (zp_http_retry_after(&r) > 3600u * 1000u)
        abort();
out:
    zp_http_resp_free(&r);
    return 0;
}
