/*
 * challenge.c — the ChallengeRequest: decoding cert-manager's JSON and
 * validating every field before anything touches DNS. Each refusal names
 * the field and says what would be accepted.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "base/dname.h"
#include "base/err.h"
#include "base/jsonstrict.h"
#include "base/mem.h"
#include "solver/challenge.h"

const char *zp_action_name(enum zp_action a)
{
    return a == ZP_PRESENT ? "Present" : "CleanUp";
}

/*
 * cert-manager sends base64url without padding (43 characters); the
 * conformance fixture sends "123d==". Accept the base64url alphabet with up
 * to two '=' at the end: anything else in a TXT value we publish would be a
 * sign of a confused caller.
 */
static int check_key(const char *key, const char *field, struct zp_err *err)
{
    size_t n = strlen(key), pad = 0;

    if (n == 0)
        return zp_err_set(err, ZP_EINVAL, "%s is empty: expected the base64url TXT value", field);
    if (n > ZP_KEY_MAX)
        return zp_err_set(err, ZP_EINVAL, "%s is %zu characters long; a TXT value holds at most %d",
                          field, n, ZP_KEY_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        if (c == '=' && i > 0) {
            pad++;
            continue;
        }
        if (!ok || pad > 0)
            return zp_err_set(err, ZP_EINVAL,
                              "%s has the character '%c' at position %zu: expected "
                              "base64url (A-Z a-z 0-9 - _)",
                              field, (c >= 0x20 && c < 0x7f) ? c : '?', i + 1);
    }
    if (pad > 2)
        return zp_err_set(err, ZP_EINVAL, "%s ends with %zu '=': at most 2 expected", field, pad);
    return 0;
}

static int check_names(struct zp_challenge *ch, const char *fqdn, const char *zone,
                       const char *fqdn_field, const char *zone_field, struct zp_err *err)
{
    char why[160];

    if (fqdn == NULL || *fqdn == '\0')
        return zp_err_set(err, ZP_EINVAL,
                          "%s is missing: expected the name to write, such as "
                          "_acme-challenge.example.com.",
                          fqdn_field);
    if (zp_dname_check(fqdn, 1, why, sizeof(why)) == -1)
        return zp_err_set(err, ZP_EINVAL, "%s \"%.253s\" %s", fqdn_field, fqdn, why);
    zp_dname_canon(fqdn, ch->fqdn, sizeof(ch->fqdn));
    ch->zone[0] = '\0';
    if (zone == NULL || *zone == '\0')
        return 0;
    if (zp_dname_check(zone, 1, why, sizeof(why)) == -1)
        return zp_err_set(err, ZP_EINVAL, "%s \"%.253s\" %s", zone_field, zone, why);
    zp_dname_canon(zone, ch->zone, sizeof(ch->zone));
    if (!zp_dname_in_zone(ch->fqdn, ch->zone))
        return zp_err_set(err, ZP_EINVAL, "%s %s is not inside %s %s", fqdn_field, ch->fqdn,
                          zone_field, ch->zone);
    return 0;
}

/* A string member, or NULL when absent; -1 when present with another type. */
static int get_string(const cJSON *obj, const char *name, const char **out, struct zp_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return zp_err_set(err, ZP_EINVAL, "request.%s must be a string", name);
    *out = v->valuestring;
    return 0;
}

static int copy_field(char *dst, size_t dstsz, const char *src, const char *name,
                      struct zp_err *err)
{
    if (src == NULL) {
        dst[0] = '\0';
        return 0;
    }
    if (zp_strlcpy(dst, src, dstsz) >= dstsz)
        return zp_err_set(err, ZP_EINVAL, "request.%s is longer than %zu characters", name,
                          dstsz - 1);
    return 0;
}

/*
 * The Issuer's config may only name a provider instance: credentials and
 * settings live in zoneproof's own file, where they are validated at start
 * and never travel through the Kubernetes API in clear.
 */
static int parse_issuer_config(const cJSON *cfg, struct zp_challenge *ch, struct zp_err *err)
{
    const cJSON *it;

    if (cfg == NULL || cJSON_IsNull(cfg))
        return 0;
    if (!cJSON_IsObject(cfg))
        return zp_err_set(err, ZP_EINVAL,
                          "request.config must be a JSON object such as "
                          "{\"provider\": \"<name>\"}");
    cJSON_ArrayForEach(it, cfg)
    {
        if (strcmp(it->string, "provider") == 0) {
            if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
                return zp_err_set(err, ZP_EINVAL,
                                  "config.provider must name a provider instance from "
                                  "zoneproof's configuration");
            if (copy_field(ch->provider, sizeof(ch->provider), it->valuestring, "config.provider",
                           err) == -1)
                return -1;
        } else {
            return zp_err_set(err, ZP_EINVAL,
                              "config.%.64s is not a zoneproof setting: the Issuer's config may "
                              "only name a provider instance ({\"provider\": \"<name>\"}); "
                              "provider settings belong in zoneproof's configuration file",
                              it->string);
        }
    }
    return 0;
}

int zp_challenge_from_json(const cJSON *req, struct zp_challenge *ch, struct zp_err *err)
{
    const char *uid, *action, *type, *dns_name, *key, *ns, *fqdn, *zone;
    const cJSON *amb;

    memset(ch, 0, sizeof(*ch));
    ch->from_api = 1;
    if (req == NULL || !cJSON_IsObject(req) || req->child == NULL)
        return zp_err_set(err, ZP_EINVAL, "payload request field cannot be empty");
    if (get_string(req, "uid", &uid, err) == -1 || get_string(req, "action", &action, err) == -1 ||
        get_string(req, "type", &type, err) == -1 ||
        get_string(req, "dnsName", &dns_name, err) == -1 ||
        get_string(req, "key", &key, err) == -1 ||
        get_string(req, "resourceNamespace", &ns, err) == -1 ||
        get_string(req, "resolvedFQDN", &fqdn, err) == -1 ||
        get_string(req, "resolvedZone", &zone, err) == -1)
        return -1;
    if (action == NULL)
        return zp_err_set(err, ZP_EINVAL, "request.action is missing: expected Present or CleanUp");
    if (strcmp(action, "Present") == 0)
        ch->action = ZP_PRESENT;
    else if (strcmp(action, "CleanUp") == 0)
        ch->action = ZP_CLEANUP;
    else
        return zp_err_set(err, ZP_EINVAL,
                          "request.action \"%.32s\" is unknown: expected Present or CleanUp",
                          action);
    if (type != NULL && type[0] != '\0' && strcmp(type, "dns-01") != 0)
        return zp_err_set(err, ZP_EINVAL, "request.type \"%.32s\" is not dns-01", type);
    amb = cJSON_GetObjectItemCaseSensitive(req, "allowAmbientCredentials");
    if (amb != NULL && !cJSON_IsBool(amb) && !cJSON_IsNull(amb))
        return zp_err_set(err, ZP_EINVAL, "request.allowAmbientCredentials must be true or false");
    ch->allow_ambient = cJSON_IsTrue(amb);

    if (copy_field(ch->uid, sizeof(ch->uid), uid, "uid", err) == -1 ||
        copy_field(ch->dns_name, sizeof(ch->dns_name), dns_name, "dnsName", err) == -1 ||
        copy_field(ch->resource_namespace, sizeof(ch->resource_namespace), ns, "resourceNamespace",
                   err) == -1)
        return -1;
    if (check_key(key ? key : "", "request.key", err) == -1)
        return -1;
    zp_strlcpy(ch->key, key, sizeof(ch->key));
    if (check_names(ch, fqdn, zone, "request.resolvedFQDN", "request.resolvedZone", err) == -1)
        return -1;
    return parse_issuer_config(cJSON_GetObjectItemCaseSensitive(req, "config"), ch, err);
}

int zp_challenge_from_body(const char *body, size_t len, struct zp_challenge *ch,
                           struct zp_err *err)
{
    cJSON *root = NULL;
    int rc = -1;

    memset(ch, 0, sizeof(*ch));
    if (len == 0) {
        zp_err_set(err, ZP_EINVAL, "the request body is empty: expected a ChallengePayload");
        goto out;
    }
    /* Strict, so that no field reads one way here and another in a Go webhook. */
    if (zp_json_strict_parse(body, len, &root, err) == -1) {
        zp_err_wrap(err, "request body");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        zp_err_set(err, ZP_EINVAL, "the request body must be a JSON object: a ChallengePayload");
        goto out;
    }
    /* zp_challenge_from_json refuses a missing or empty request as Go does. */
    rc = zp_challenge_from_json(cJSON_GetObjectItemCaseSensitive(root, "request"), ch, err);
out:
    cJSON_Delete(root);
    return rc;
}

int zp_challenge_make(struct zp_challenge *ch, enum zp_action action, const char *fqdn,
                      const char *zone, const char *key, const char *provider, struct zp_err *err)
{
    char fq[ZP_DNAME_MAX + 1], zn[ZP_DNAME_MAX + 1];

    memset(ch, 0, sizeof(*ch));
    ch->action = action;
    if (fqdn == NULL || zp_dname_canon(fqdn, fq, sizeof(fq)) == -1)
        return zp_err_set(err, ZP_EINVAL, "--fqdn is missing or too long");
    if (zone != NULL && zp_dname_canon(zone, zn, sizeof(zn)) == -1)
        return zp_err_set(err, ZP_EINVAL, "--zone is too long");
    if (check_names(ch, fq, zone ? zn : NULL, "--fqdn", "--zone", err) == -1)
        return -1;
    if (check_key(key ? key : "", "--key", err) == -1)
        return -1;
    zp_strlcpy(ch->key, key, sizeof(ch->key));
    if (provider != NULL &&
        copy_field(ch->provider, sizeof(ch->provider), provider, "provider", err) == -1)
        return -1;
    return 0;
}

int zp_challenge_make_txt(struct zp_challenge *ch, enum zp_action action, const char *fqdn,
                          const char *zone, const char *value, const char *field,
                          const char *provider, struct zp_err *err)
{
    size_t n = value ? strlen(value) : 0;

    if (zp_challenge_make(ch, action, fqdn, zone, "x", provider, err) == -1)
        return -1;
    if (n == 0 || n > ZP_TXT_MAX)
        return zp_err_set(err, ZP_EINVAL, "%s is %zu characters long; it must be 1 to %d", field, n,
                          ZP_TXT_MAX);
    for (size_t i = 0; i < n; i++)
        if (value[i] < 0x20 || value[i] > 0x7e || value[i] == '"' || value[i] == '\\')
            return zp_err_set(err, ZP_EINVAL,
                              "%s has a quote, a backslash or a byte outside printable ASCII at "
                              "position %zu",
                              field, i + 1);
    zp_strlcpy(ch->key, value, sizeof(ch->key));
    return 0;
}
