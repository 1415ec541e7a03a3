/*
 * fuzz_challenge.c — the ChallengePayload body as kube-apiserver forwards
 * it: any bytes must decode to a valid challenge or a refusal, never a
 * crash, and an accepted challenge must satisfy the invariants the
 * providers rely on.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/dname.h"
#include "base/err.h"
#include "solver/challenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_challenge ch;
    struct zp_err err = {0};
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);

    if (root == NULL)
        return 0;
    if (zp_challenge_from_json(cJSON_GetObjectItemCaseSensitive(root, "request"), &ch, &err) == 0) {
        char why[160];
        if (zp_dname_check(ch.fqdn, 1, why, sizeof(why)) != 0 || ch.key[0] == '\0')
            abort();
        if (ch.zone[0] && !zp_dname_in_zone(ch.fqdn, ch.zone))
            abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    cJSON_Delete(root);
    return 0;
}
