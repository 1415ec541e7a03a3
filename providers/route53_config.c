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

#define R53_ENDPOINT "https://route53.amazonaws.com"
#define R53_POLL_MAX_MS 4000u /* pollInterval's default */
#define UPPER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* The settings as written; NULL when absent. */
struct r53_given {
    const char *akid, *zid, *region, *role, *sts;
};

static int all_of(const char *s, const char *set, size_t min, size_t max)
{
    size_t n = strlen(s);

    return n >= min && n <= max && strspn(s, set) == n;
}

int zp_r53_id_ok(const char *id)
{
    return all_of(id, UPPER_DIGITS, 1, R53_ID_MAX - 1);
}

void zp_r53_config_free(void *p)
{
    struct zp_r53_cfg *cfg = p;

    if (cfg == NULL)
        return;
    free(cfg->key_id);
    zp_cred_free(&cfg->secret);
    free(cfg->zone_id);
    free(cfg->region);
    free(cfg->endpoint);
    free(cfg->ca);
    free(cfg->host);
    free(cfg->sts_endpoint);
    free(cfg->role_arn);
    zp_awssts_free(cfg->sts);
    free(cfg);
}

/* Who signs: a whole access key pair, or nothing of one and maybe roleArn and stsEndpoint. */
static int r53_parse_credentials(struct zp_r53_cfg *cfg, const struct zp_ynode *node,
                                 const char *path, const struct r53_given *g, struct zp_err *err)
{
    const char *akid = g->akid, *role = g->role, *sts = g->sts;

    /* Half a key pair is a mistake, not a wish for ambient credentials. */
    if ((akid == NULL) != (zp_y_get(node, "secretAccessKeyFile") == NULL &&
                           zp_y_get(node, "secretAccessKeySecretRef") == NULL))
        return zp_y_fail(node, path, err,
                         "%s is set but %s is not: set both for an IAM user's access key, or "
                         "neither for ambient credentials (IRSA web identity)",
                         akid
                             ? "accessKeyId"
                             : (zp_y_get(node, "secretAccessKeyFile") ? "secretAccessKeyFile"
                                                                      : "secretAccessKeySecretRef"),
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
    return zp_cred_parse(node, path, "secretAccessKey", 0, &cfg->secret, err);
}

/* hostedZoneId, with or without "/hostedzone/"; absent: found by the zone's name per request. */
static int r53_parse_zone_id(struct zp_r53_cfg *cfg, const struct zp_ynode *node, const char *path,
                             const char *zid, struct zp_err *err)
{
    if (zid == NULL)
        return 0;
    if (strncmp(zid, "/hostedzone/", 12) == 0)
        zid += 12;
    if (!zp_r53_id_ok(zid))
        return zp_y_fail(zp_y_get(node, "hostedZoneId"), path, err,
                         "hostedZoneId \"%s\" is not a hosted zone ID (like "
                         "Z0123456789ABCDEFGHIJ, as the Route 53 console shows it)",
                         zid);
    cfg->zone_id = zp_xstrdup(zid);
    return 0;
}

/* endpoint and caFile; the authority of endpoint is the Host header that is signed. */
static int r53_parse_endpoint(struct zp_r53_cfg *cfg, const struct zp_ynode *node, const char *path,
                              struct zp_err *err)
{
    const char *auth;
    size_t hn;

    if (zp_endpoint_parse(node, path, R53_ENDPOINT, &cfg->endpoint, &cfg->ca, err) == -1)
        return -1;
    auth = strstr(cfg->endpoint, "://") + 3;
    hn = strcspn(auth, "/?#");
    if (hn == 0 || memchr(auth, '@', hn) != NULL || auth[hn] == '?' || auth[hn] == '#')
        return zp_y_fail(zp_y_get(node, "endpoint"), path, err,
                         "endpoint \"%s\" must be scheme://host[:port][/path], without user, "
                         "query or fragment",
                         cfg->endpoint);
    cfg->host = zp_xstrndup(auth, hn);
    cfg->prefix = auth + hn;
    return 0;
}

/* The access key, or for ambient credentials the STS settings and an empty credential cache. */
static void r53_set_signer(struct zp_r53_cfg *cfg, const char *path, const struct r53_given *g)
{
    const char *sts = g->sts, *role = g->role;
    size_t n = sts ? strlen(sts) : 0;

    if (g->akid != NULL) {
        cfg->key_id = zp_xstrdup(g->akid);
        return;
    }
    while (n > 0 && sts[n - 1] == '/')
        n--;
    cfg->sts_endpoint = sts ? zp_xstrndup(sts, n) : NULL;
    cfg->role_arn = role ? zp_xstrdup(role) : NULL;
    cfg->sts = zp_awssts_new();
    zp_log(ZP_LOG_INFO, "route53 uses ambient credentials", ZP_S("provider", path),
           ZP_S("role", role ? role : "AWS_ROLE_ARN"), ZP_END);
}

int zp_r53_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                        struct zp_err *err)
{
    struct zp_r53_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    struct r53_given g = {.region = "us-east-1"};
    int rc = -1;

    cfg->poll_max_ms = R53_POLL_MAX_MS;
    if (zp_y_duration(node, path, "pollInterval", 0, ZP_POLL_INTERVAL_MIN_MS,
                      ZP_POLL_INTERVAL_MAX_MS, &cfg->poll_max_ms, err) == -1 ||
        zp_y_str(node, path, "accessKeyId", 0, &g.akid, err) == -1 ||
        zp_y_str(node, path, "hostedZoneId", 0, &g.zid, err) == -1 ||
        zp_y_str(node, path, "region", 0, &g.region, err) == -1 ||
        zp_y_str(node, path, "roleArn", 0, &g.role, err) == -1 ||
        zp_y_str(node, path, "stsEndpoint", 0, &g.sts, err) == -1)
        goto out;
    if (r53_parse_credentials(cfg, node, path, &g, err) == -1 ||
        r53_parse_zone_id(cfg, node, path, g.zid, err) == -1)
        goto out;
    if (!all_of(g.region, "abcdefghijklmnopqrstuvwxyz0123456789-", 1, 32)) {
        zp_y_fail(zp_y_get(node, "region"), path, err,
                  "region \"%s\" is not an AWS region name (Route 53 signs with us-east-1; "
                  "cn-northwest-1 for China)",
                  g.region);
        goto out;
    }
    if (r53_parse_endpoint(cfg, node, path, err) == -1)
        goto out;
    cfg->region = zp_xstrdup(g.region);
    r53_set_signer(cfg, path, &g);
    cfg->rs = &zp_r53_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    zp_r53_config_free(cfg);
    return rc;
}
