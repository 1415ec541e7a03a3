/*
 * fuzz_challenge.c — the ChallengePayload body as kube-apiserver forwards
 * it, through the same strict reading as the server (base/jsonstrict.h):
 * any bytes must decode to a valid challenge or a refusal, never a crash;
 * an accepted challenge must satisfy the invariants the providers rely on,
 * and an accepted body must hold no NUL and nothing after its document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/dname.h"
#include "base/err.h"
#include "solver/challenge.h"

/* What the strict reading promises of any body it accepts. */
static void check_accepted_body(const uint8_t *data, size_t size)
{
    const uint8_t *last = data + size;

    if (memchr(data, '\0', size) != NULL)
        abort();
    while (last > data &&
           (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\n' || last[-1] == '\r'))
        last--;
    if (last == data || last[-1] != '}')
        abort(); /* one object, then only whitespace */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_challenge ch;
    struct zp_err err = {0};

    if (zp_challenge_from_body((const char *)data, size, &ch, &err) == 0) {
        char why[160];
        if (zp_dname_check(ch.fqdn, 1, why, sizeof(why)) != 0 || ch.key[0] == '\0')
            abort();
        if (ch.zone[0] && !zp_dname_in_zone(ch.fqdn, ch.zone))
            abort();
        check_accepted_body(data, size);
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    return 0;
}
