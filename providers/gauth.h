/*
 * gauth.h — Google service-account credentials: the JSON key file, the
 * RS256-signed JWT made from it, and the OAuth2 access token it is traded
 * for (jwt-bearer grant), cached per provider instance.
 */
#ifndef ZP_PROVIDERS_GAUTH_H
#define ZP_PROVIDERS_GAUTH_H

#include <stddef.h>
#include <stdint.h>

struct zp_buf;
struct zp_err;
struct zp_cred;
struct zp_prov_call;

#define ZP_GAUTH_TOKEN_URI "https://oauth2.googleapis.com/token"
#define ZP_GAUTH_SCOPE_DNS "https://www.googleapis.com/auth/ndev.clouddns.readwrite"

/* The fields of a key file that matter. private_key is a secret. */
struct zp_gauth_key {
    char *client_email;
    char *private_key_id; /* may be NULL: the JWT then has no kid */
    char *private_key;    /* PEM (PKCS#8 "BEGIN PRIVATE KEY") */
    char *token_uri;      /* ZP_GAUTH_TOKEN_URI when the file has none */
};

/*
 * Parses a service-account JSON key file; setting and file name it in
 * errors. The private key is not loaded here; zp_gauth_jwt does that.
 */
int zp_gauth_key_parse(const char *json, size_t len, const char *setting, const char *file,
                       struct zp_gauth_key *k, struct zp_err *err);
/* Wipes the private key and frees everything. */
void zp_gauth_key_free(struct zp_gauth_key *k);

/*
 * The signed assertion "b64url(header).b64url(claims).b64url(sig)": header
 * {"alg":"RS256","typ":"JWT","kid":…}, claims {iss, scope, aud, iat: now,
 * exp: now + 3600}, RSASSA-PKCS1-v1_5 with SHA-256. out is a secret for
 * as long as the token it buys: the caller wipes it.
 */
int zp_gauth_jwt(const struct zp_gauth_key *k, const char *scope, const char *aud, long long now,
                 struct zp_buf *out, struct zp_err *err);

/* At configuration time: file holds a usable key (parses, RSA private key loads). */
int zp_gauth_check(const char *file, const char *setting, struct zp_err *err);

/* Where one instance gets its tokens. */
struct zp_gauth_src {
    const char *key_file; /* serviceAccountFile: read on every call; NULL: cred or ambient */
    const char *setting;  /* its setting's name, for messages */
    /* Instead of key_file: serviceAccountFile or serviceAccountSecretRef, read with call. */
    const struct zp_cred *cred;
    const struct zp_prov_call *call;
    const char *token_endpoint; /* NULL: the key file's token_uri */
    const char *scope;
    const char *ca_file;  /* may be NULL */
    const char *rate_key; /* the account's token bucket */
    double rate, burst;
};

/*
 * Ambient credentials (neither key_file nor a set cred): the token of the instance's service
 * account from the metadata server, as GKE Workload Identity serves it.
 * The server is GCE_METADATA_HOST (host[:port]) when set, as Google's
 * libraries do, else metadata.google.internal; always plain HTTP.
 */
#define ZP_GAUTH_METADATA_HOST "metadata.google.internal"
#define ZP_GAUTH_AMBIENT_WHO "of this pod (GKE Workload Identity)"

/* One instance's token cache: the only mutable state of a provider instance. */
struct zp_gauth;

struct zp_gauth *zp_gauth_new(void);
void zp_gauth_free(struct zp_gauth *g);

/*
 * A bearer token for src, from the cache while the key file is unchanged
 * and the token has some minutes left, else a new one. *token is a copy
 * (zp_free_secret it); who receives the account's client_email.
 */
int zp_gauth_token(struct zp_gauth *g, const struct zp_gauth_src *src, uint64_t deadline_ms,
                   char **token, char *who, size_t whosz, struct zp_err *err);
/* Drops token from the cache if it is still the cached one (the API refused it). */
void zp_gauth_forget(struct zp_gauth *g, const char *token);

#endif
