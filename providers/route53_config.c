/*
 * route53_config.c — the configuration of one route53 instance: who signs
 * (an IAM user's access key, or ambient credentials from STS), the hosted
 * zone, the region and the endpoint, each checked at start with a sentence
 * that names the setting. Nothing here changes after start but the
 * ambient credential cache, which is awssts.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/awssts.h"
#include "providers/common.h"
#include "providers/route53_config_int.h"
#include "providers/route53_int.h"
#include "providers/settings.h"

#define R53_ENDPOINT "https://route53.amazonaws.com"
#define R53_POLL_MAX_MS 4000u /* pollInterval's default */
#define UPPER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int all_of(const char *s, const char *set, size_t min, size_t max)
{
    size_t n = strlen(s);

    return n >= min && n <= max && strspn(s, set) == n;
}

int zp_r53_id_ok(const char *id)
{
    return all_of(id, UPPER_DIGITS, 1, R53_ID_MAX - 1);
}

/*
 * Read as written; the checks below give the sentences. accessKeyId, roleArn and stsEndpoint
 * stay NULL when absent: which of them are set says who signs.
 */
const struct zp_setting zp_r53_settings[] = {
    ZP_SET_D(struct zp_r53_cfg, "pollInterval", poll_max_ms, R53_POLL_MAX_MS,
             ZP_POLL_INTERVAL_MIN_MS, ZP_POLL_INTERVAL_MAX_MS),
    ZP_SET_S(struct zp_r53_cfg, "accessKeyId", key_id, 0),
    ZP_SET_S(struct zp_r53_cfg, "hostedZoneId", zone_id, 0),
    ZP_SET_SD(struct zp_r53_cfg, "region", region, "us-east-1"),
    ZP_SET_S(struct zp_r53_cfg, "roleArn", role_arn, 0),
    ZP_SET_S(struct zp_r53_cfg, "stsEndpoint", sts_endpoint, 0),
    ZP_SET_C(struct zp_r53_cfg, "secretAccessKey", secret, 0),
    ZP_SET_E(struct zp_r53_cfg, endpoint, ca, R53_ENDPOINT),
    ZP_SET_O(struct zp_r53_cfg, host),
    ZP_SET_LAST,
};

void zp_r53_config_free(void *p)
{
    struct zp_r53_cfg *cfg = p;

    if (cfg != NULL)
        zp_awssts_free(cfg->sts);
    zp_settings_free(zp_r53_settings, cfg);
}

/* Who signs: a whole access key pair, or nothing of one and maybe roleArn and stsEndpoint. */
static int r53_check_credentials(const struct zp_r53_cfg *cfg, const struct zp_ynode *node,
                                 const char *path, struct zp_err *err)
{
    const char *akid = cfg->key_id, *role = cfg->role_arn, *sts = cfg->sts_endpoint;

    /* Half a key pair is a mistake, not a wish for ambient credentials. */
    if ((akid == NULL) != !zp_cred_set(&cfg->secret))
        return zp_y_fail(node, path, err,
                         "%s is set but %s is not: set both for an IAM user's access key, or "
                         "neither for ambient credentials (IRSA web identity)",
                         akid ? "accessKeyId" : cfg->secret.setting,
                         akid ? "secretAccessKeyFile or secretAccessKeySecretRef" : "accessKeyId");
    if (akid != NULL && (role != NULL || sts != NULL))
        return zp_y_fail(zp_y_get(node, role ? "roleArn" : "stsEndpoint"), path, err,
                         "%s applies to ambient credentials only; remove it, or remove accessKeyId "
                         "and the secret access key (secretAccessKeyFile or "
                         "secretAccessKeySecretRef)",
                         role ? "roleArn" : "stsEndpoint");
    if (role != NULL && strncmp(role, "arn:aws", 7) != 0)
        return zp_y_fail(
            zp_y_get(node, "roleArn"), path, err,
            "roleArn \"%s\" is not a role ARN (like arn:aws:iam::123456789012:role/dns)", role);
    if (sts != NULL && strncmp(sts, "https://", 8) != 0 && strncmp(sts, "http://", 7) != 0)
        return zp_y_fail(zp_y_get(node, "stsEndpoint"), path, err,
                         "stsEndpoint \"%s\" must start with https://", sts);
    /* Never echo a wrong accessKeyId: it may be the secret access key pasted in the wrong place. */
    if (akid != NULL && !all_of(akid, UPPER_DIGITS, 16, 128))
        return zp_y_fail(zp_y_get(node, "accessKeyId"), path, err,
                         "accessKeyId must be an access key ID (capital letters and digits, like "
                         "AKIAIOSFODNN7EXAMPLE); the secret access key belongs in "
                         "secretAccessKeyFile or secretAccessKeySecretRef");
    return 0;
}

/* hostedZoneId, with or without "/hostedzone/"; absent: found by the zone's name per request. */
static int r53_check_zone_id(struct zp_r53_cfg *cfg, const struct zp_ynode *node, const char *path,
                             struct zp_err *err)
{
    char *zid = cfg->zone_id;

    if (zid == NULL)
        return 0;
    if (strncmp(zid, "/hostedzone/", 12) == 0)
        memmove(zid, zid + 12, strlen(zid + 12) + 1);
    if (!zp_r53_id_ok(zid))
        return zp_y_fail(zp_y_get(node, "hostedZoneId"), path, err,
                         "hostedZoneId \"%s\" is not a hosted zone ID (like "
                         "Z0123456789ABCDEFGHIJ, as the Route 53 console shows it)",
                         zid);
    return 0;
}

/* The authority of endpoint (read by the table) is the Host header that is signed. */
static int r53_check_endpoint(struct zp_r53_cfg *cfg, const struct zp_ynode *node, const char *path,
                              struct zp_err *err)
{
    const char *auth = strstr(cfg->endpoint, "://") + 3;
    size_t hn = strcspn(auth, "/?#");

    if (hn == 0 || memchr(auth, '@', hn) != NULL || auth[hn] == '?' || auth[hn] == '#')
        return zp_y_fail(zp_y_get(node, "endpoint"), path, err,
                         "endpoint \"%s\" must be scheme://host[:port][/path], without user, "
                         "query or fragment",
                         cfg->endpoint);
    cfg->host = zp_xstrndup(auth, hn);
    cfg->prefix = auth + hn;
    return 0;
}

/* For ambient credentials: the STS endpoint without trailing slashes and an empty cache. */
static void r53_set_signer(struct zp_r53_cfg *cfg, const char *path)
{
    char *sts = cfg->sts_endpoint;
    size_t n = sts ? strlen(sts) : 0;

    if (cfg->key_id != NULL)
        return;
    while (n > 0 && sts[n - 1] == '/')
        sts[--n] = '\0';
    cfg->sts = zp_awssts_new();
    zp_log(ZP_LOG_INFO, "route53 uses ambient credentials", ZP_S("provider", path),
           ZP_S("role", cfg->role_arn ? cfg->role_arn : "AWS_ROLE_ARN"), ZP_END);
}

int zp_r53_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                        struct zp_err *err)
{
    struct zp_r53_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    int rc = -1;

    if (zp_settings_parse(node, path, zp_r53_settings, cfg, err) == -1 ||
        r53_check_credentials(cfg, node, path, err) == -1 ||
        r53_check_zone_id(cfg, node, path, err) == -1)
        goto out;
    if (!all_of(cfg->region, "abcdefghijklmnopqrstuvwxyz0123456789-", 1, 32)) {
        zp_y_fail(zp_y_get(node, "region"), path, err,
                  "region \"%s\" is not an AWS region name (Route 53 signs with us-east-1; "
                  "cn-northwest-1 for China)",
                  cfg->region);
        goto out;
    }
    if (r53_check_endpoint(cfg, node, path, err) == -1)
        goto out;
    r53_set_signer(cfg, path);
    cfg->rs = &zp_r53_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    zp_r53_config_free(cfg);
    return rc;
}
