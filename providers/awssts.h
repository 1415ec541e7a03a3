/*
 * awssts.h — AWS temporary credentials from a web identity: STS
 * AssumeRoleWithWebIdentity with the projected service-account token that
 * IRSA (and the EKS Pod Identity webhook) mounts, cached per provider
 * instance until shortly before they expire.
 */
#ifndef ZP_PROVIDERS_AWSSTS_H
#define ZP_PROVIDERS_AWSSTS_H

#include <stddef.h>
#include <stdint.h>

struct zp_buf;
struct zp_err;

/* Where one instance gets its credentials. Every string may be NULL: then the environment's. */
struct zp_awssts_src {
    const char *endpoint;   /* stsEndpoint; NULL: from AWS_REGION and AWS_STS_REGIONAL_ENDPOINTS */
    const char *role_arn;   /* roleArn; NULL: AWS_ROLE_ARN */
    const char *token_file; /* NULL: AWS_WEB_IDENTITY_TOKEN_FILE; re-read on every exchange */
    const char *ca_file;
};

/* Temporary credentials; all three are secrets but the key id. */
struct zp_awssts_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
};

struct zp_awssts;

struct zp_awssts *zp_awssts_new(void);
void zp_awssts_free(struct zp_awssts *s);

/*
 * Credentials for src: the cached ones while they have more than five
 * minutes left, else new ones from STS. *out is a copy: wipe it with
 * zp_awssts_creds_wipe. Errors are sentences that say what to fix.
 */
int zp_awssts_get(struct zp_awssts *s, const struct zp_awssts_src *src, uint64_t deadline_ms,
                  struct zp_awssts_creds *out, struct zp_err *err);
/* Drops the cached credentials if their key id is akid (Route 53 refused them). */
void zp_awssts_forget(struct zp_awssts *s, const char *akid);
void zp_awssts_creds_wipe(struct zp_awssts_creds *c);

/* Appends the STS URL src or the environment selects (no trailing slash); -1 when out is full. */
int zp_awssts_endpoint(const struct zp_awssts_src *src, struct zp_buf *out);

#endif
