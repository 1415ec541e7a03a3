/*
 * route53_config_int.h — what route53.c uses of route53_config.c: the
 * settings of one route53 instance, read and checked once at start, and
 * the shape of a Route 53 id, which replies are held to as well; and the
 * one thing route53_config.c uses of route53.c, its rrset.h steps.
 */
#ifndef ZP_PROVIDERS_ROUTE53_CONFIG_INT_H
#define ZP_PROVIDERS_ROUTE53_CONFIG_INT_H

#include <stdint.h>

#include "providers/common.h"
#include "providers/settings.h"

struct zp_awssts;
struct zp_err;
struct zp_rs_ops;
struct zp_ynode;

struct zp_r53_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls, with zp_r53_rs */
    char *key_id;
    struct zp_cred secret; /* secretAccessKeyFile or secretAccessKeySecretRef */
    char *zone_id;         /* without "/hostedzone/"; NULL: found by the zone's name */
    char *region;
    char *endpoint; /* scheme://authority[/prefix], no trailing slash */
    char *ca;
    char *host;         /* the authority of endpoint: the signed Host header */
    const char *prefix; /* into endpoint: a path prefix, usually "" */
    /* Ambient (key_id == NULL): STS settings and the credential cache, the only mutable state. */
    char *sts_endpoint;
    char *role_arn;
    struct zp_awssts *sts;
    uint64_t poll_max_ms; /* pollInterval: the longest wait between two GetChange polls */
};

/* route53.c's steps for rrset.h, which every struct zp_r53_cfg starts with. */
extern const struct zp_rs_ops zp_r53_rs;

/*
 * The settings read as a table (settings.h); zp_r53_config_parse checks them and derives the
 * rest. route53.c names it in its zp_provider_ops (.settings): the keys the solver accepts.
 */
extern const struct zp_setting zp_r53_settings[];

/* A route53 instance's settings into a new struct zp_r53_cfg in *cfgp. */
int zp_r53_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                        struct zp_err *err);
void zp_r53_config_free(void *p);
/*
 * Whether id (without "/hostedzone/" or "/change/") is a hosted zone or
 * change id: capital letters and digits, shorter than R53_ID_MAX.
 */
int zp_r53_id_ok(const char *id);

#endif
