/*
 * fuzz_kapi.c — replies of the Kubernetes API server: one JSON document
 * read as a Secret (a key's base64 value), as the extension-apiserver-
 * authentication ConfigMap (the front proxy's settings, lists as JSON in
 * strings), as a SubjectAccessReview's status, and as the Status of a
 * failed call. Checks that every refusal says why, that a ConfigMap's
 * lists hold no empty names, and that a review is allowed or denied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "k8s/authsource.h"
#include "k8s/authz.h"
#include "k8s/kclient.h"
#include "k8s/secrets_int.h"

static void lists_ok(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == NULL || l[i][0] == '\0')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {403, 404, 429, 500, 401, 409};
    const struct zp_kobj obj = {.verb = "get",
                                .group = "",
                                .version = "v1",
                                .resource = "secrets",
                                .ns = "web",
                                .name = "cf-token",
                                .hint = "the zoneproof:secret-reader role"};
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    struct zp_err err = {0};
    struct zp_buf out;
    struct zp_authsrc_data d;
    struct zp_authz_answer ans;

    zp_kclient_status_error(&obj, "system:serviceaccount:cert-manager:zoneproof",
                            statuses[size % 6], (const char *)data, size, &err);
    if (err.msg[0] == '\0')
        abort();
    if (root == NULL)
        return 0;
    zp_err_clear(&err);
    zp_buf_init(&out, 0);
    if (zp_secret_from_reply(root, "web", "cf-token", "api-token", &out, &err) == -1) {
        if (err.msg[0] == '\0' || out.len != 0)
            abort();
    }
    zp_buf_free_secret(&out);
    zp_err_clear(&err);
    if (zp_authsrc_parse(root, &d, &err) == 0) {
        lists_ok(d.allowed_names, d.n_allowed_names);
        lists_ok(d.username_headers, d.n_username_headers);
        lists_ok(d.group_headers, d.n_group_headers);
        lists_ok(d.extra_prefixes, d.n_extra_prefixes);
        if (d.ca_pem != NULL && strlen(d.ca_pem) != d.ca_len)
            abort();
        zp_authsrc_data_cleanup(&d);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    memset(&ans, 0, sizeof(ans));
    zp_authz_parse(root, &ans);
    if (ans.failed ? ans.err.msg[0] == '\0' || ans.allowed : ans.allowed != 0 && ans.allowed != 1)
        abort();
    cJSON_Delete(root);
    return 0;
}
