/*
 * secrets.c — a Secret's key read through the Kubernetes API for a
 * provider's secretRef: names checked before they go into a URL, the value
 * base64-decoded (base/base64.h, line breaks skipped as Go's StdEncoding
 * does), every copy of the reply wiped, and errors that say what to create
 * or which permission to grant.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "k8s/kclient.h"
#include "k8s/secrets.h"
#include "k8s/secrets_int.h"

#define LIST_MAX 1024 /* the key list in a message */

int zp_secret_valid_name(const char *s, int label)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > (label ? 63u : 253u))
        return 0;
    if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '-' || (!label && c == '.')))
            return 0;
    }
    return 1;
}

int zp_secret_valid_key(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 253 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* "a, b, c" (key names are not secret), cut politely when long. */
static void key_list(const cJSON *data, char *out, size_t outsz)
{
    const cJSON *it;
    size_t used = 0;

    out[0] = '\0';
    cJSON_ArrayForEach(it, data)
    {
        if (it->string == NULL) /* data is an array, not a map: it names no keys */
            continue;
        size_t n = strlen(it->string);
        if (used + n + 8 >= outsz) {
            zp_strlcpy(out + used, ", ...", outsz - used);
            return;
        }
        used += (size_t)snprintf(out + used, outsz - used, "%s%s", used ? ", " : "", it->string);
    }
}

int zp_secret_from_reply(const cJSON *reply, const char *ns, const char *name, const char *key,
                         struct zp_buf *out, struct zp_err *err)
{
    const cJSON *data, *item;
    char keys[LIST_MAX];

    data = cJSON_GetObjectItemCaseSensitive(reply, "data");
    item = cJSON_GetObjectItemCaseSensitive(data, key);
    if (!cJSON_IsString(item)) {
        key_list(data, keys, sizeof(keys));
        if (keys[0] == '\0')
            return zp_err_set(err, ZP_ENOTFOUND, "secret %s/%s has no key \"%s\": it holds no data",
                              ns, name, key);
        return zp_err_set(err, ZP_ENOTFOUND, "secret %s/%s has no key \"%s\"; its keys are: %s", ns,
                          name, key, keys);
    }
    if (out->max == 0 || out->max > ZP_SECRET_MAX)
        out->max = ZP_SECRET_MAX;
    if (zp_b64_decode(item->valuestring, strlen(item->valuestring), ZP_B64_LINES, out, err) == -1) {
        zp_err_clear(err);
        zp_buf_free_secret(out);
        return zp_err_set(err, ZP_EINVAL, "secret %s/%s: key \"%s\" is not valid base64", ns, name,
                          key);
    }
    return 0;
}

int zp_secret_get(void *arg, const char *ns, const char *name, const char *key, struct zp_buf *out,
                  struct zp_err *err)
{
    struct zp_kclient *k = arg;
    struct zp_kobj obj = {
        .verb = "get",
        .group = "",
        .version = "v1",
        .resource = "secrets",
        .ns = ns,
        .name = name,
    };
    cJSON *reply = NULL;
    int rc = -1;

    if (k == NULL) {
        zp_err_set(err, ZP_ECONFIG,
                   "secretRef needs a Kubernetes API server: run in a cluster "
                   "or pass --kubeconfig, or use the *File option");
        goto out;
    }
    if (ns == NULL || *ns == '\0') {
        zp_err_set(err, ZP_EINVAL,
                   "cannot read secret %s: the request names no namespace "
                   "(resourceNamespace is empty)",
                   name ? name : "");
        goto out;
    }
    if (!zp_secret_valid_name(ns, 1) || !zp_secret_valid_name(name, 0)) {
        zp_err_set(err, ZP_EINVAL,
                   "secret %s/%s: not a valid namespace and Secret name (lower-case letters, "
                   "digits, '-' and '.')",
                   ns, name ? name : "");
        goto out;
    }
    if (!zp_secret_valid_key(key)) {
        zp_err_set(err, ZP_EINVAL,
                   "secret %s/%s: \"%s\" is not a valid key (letters, digits, "
                   "'-', '_' and '.')",
                   ns, name, key ? key : "");
        goto out;
    }
    if (zp_kclient_call(k, &obj, NULL, zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS, 1, &reply, err) == -1)
        goto out;
    if (zp_secret_from_reply(reply, ns, name, key, out, err) == -1)
        goto out;
    rc = 0;
out:
    zp_kclient_json_free_secret(reply);
    return rc;
}
