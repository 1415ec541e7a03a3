/*
 * azauth.h — Microsoft Entra ID (Azure AD) application tokens: the OAuth2
 * client-credentials grant with a client secret read from a file, cached
 * per provider instance.
 */
#ifndef ZP_PROVIDERS_AZAUTH_H
#define ZP_PROVIDERS_AZAUTH_H

#include <stddef.h>
#include <stdint.h>

struct zp_cred;
struct zp_err;
struct zp_prov_call;

/* Where one instance gets its tokens. */
struct zp_azauth_src {
    const char *authority; /* "https://login.microsoftonline.com", no trailing slash */
    const char *tenant;    /* tenant id or domain */
    const char *client_id; /* the application (client) id */
    /* clientSecretFile or clientSecretSecretRef, read on every call with call; NULL or unset:
     * workload identity */
    const struct zp_cred *secret;
    const struct zp_prov_call *call;
    const char *federated_file; /* without a secret: the projected service-account token */
    const char *scope;          /* "https://management.azure.com/.default" */
    const char *ca_file;        /* may be NULL */
    const char *rate_key;       /* the account's token bucket */
    double rate, burst;
};

struct zp_azauth;

struct zp_azauth *zp_azauth_new(void);
void zp_azauth_free(struct zp_azauth *a);

/*
 * A bearer token for src: from the cache while the secret file is
 * unchanged and the token has some minutes left, else a new one. *token is
 * a copy (zp_free_secret it).
 */
int zp_azauth_token(struct zp_azauth *a, const struct zp_azauth_src *src, uint64_t deadline_ms,
                    char **token, struct zp_err *err);
/* Drops token from the cache if it is still the cached one (the API refused it). */
void zp_azauth_forget(struct zp_azauth *a, const char *token);

#endif
