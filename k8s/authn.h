/*
 * authn.h — front-proxy authentication, as the Kubernetes generic apiserver
 * does it: the client certificate must chain to the request-header CA with
 * clientAuth usage and carry an allowed CN; only then are the X-Remote-*
 * headers believed. Without that, they are ignored entirely.
 *
 * The CA bundle and the lists come from flags and files, or from the
 * cluster's ConfigMap, which can change them at run time: a swap takes a
 * lock, and each request works on the settings it started with.
 *
 * Threads: any; the server calls from its event-loop thread.
 */
#ifndef ZP_K8S_AUTHN_H
#define ZP_K8S_AUTHN_H

#include <stddef.h>

#include <openssl/ssl.h>

struct evkeyvalq;
struct zp_err;
struct zp_authn;

struct zp_authn_cfg {
    const char *client_ca_file; /* NULL (and no PEM): nobody is authenticated */
    const char *client_ca_pem;  /* instead of a file: the bundle itself (ConfigMap) */
    size_t client_ca_pem_len;
    char *const *allowed_names; /* empty: any CN the CA signed */
    size_t n_allowed_names;
    char *const *username_headers;
    size_t n_username_headers;
    char *const *group_headers;
    size_t n_group_headers;
    char *const *extra_prefixes;
    size_t n_extra_prefixes;
};

struct zp_extra {
    char *key; /* lower case, %-unescaped */
    char **values;
    size_t n_values;
};

struct zp_identity {
    char *user;
    char **groups; /* ends with system:authenticated */
    size_t n_groups;
    struct zp_extra *extra;
    size_t n_extra;
};

#define ZP_GROUP_AUTHENTICATED "system:authenticated"
#define ZP_GROUP_MASTERS "system:masters"

/* Copies cfg. Fails when the CA file or PEM is given but holds no usable certificate. */
struct zp_authn *zp_authn_new(const struct zp_authn_cfg *cfg, struct zp_err *err);
void zp_authn_free(struct zp_authn *a);

/*
 * Replaces the CA bundle (cfg's PEM; none: nobody is authenticated) and the
 * lists at run time; requests already being checked finish with the old
 * ones. A bundle that does not load leaves everything as it was (-1). A
 * file-backed authenticator stops following its file.
 */
int zp_authn_update(struct zp_authn *a, const struct zp_authn_cfg *cfg, struct zp_err *err);

/*
 * The subjects of the CA bundle in use, for the TLS CertificateRequest
 * (a Go client sends its certificate only to a server that names its CA).
 * A copy for SSL_set_client_CA_list(), or NULL when there is no bundle.
 */
STACK_OF(X509_NAME) * zp_authn_ca_names(struct zp_authn *a);

/*
 * Re-reads the CA file when it changed (or always, with force). Returns 1
 * when a new CA bundle is in use, 0 when nothing changed, -1 when the new
 * file is unusable: the old bundle stays and err says why.
 */
int zp_authn_reload(struct zp_authn *a, int force, struct zp_err *err);

/*
 * Authenticates one request from its TLS connection and headers. Returns 0
 * and fills id (release with zp_identity_cleanup), or -1 with the reason in
 * err: for the log only; callers answer a plain 401.
 */
int zp_authn_request(struct zp_authn *a, SSL *ssl, const struct evkeyvalq *headers,
                     struct zp_identity *id, struct zp_err *err);

/*
 * The certificate half for a connection's peer (zp_authn_verify_cert on
 * its certificate and chain). A success is remembered in ssl for a minute,
 * while the settings stay the same: the next requests on the connection
 * skip the signature checks.
 */
int zp_authn_verify_ssl(struct zp_authn *a, SSL *ssl, struct zp_err *err);

/*
 * The certificate half: leaf (with the peer's intermediates in chain, which
 * may be NULL) verified for clientAuth against the CA bundle, and its CN
 * checked against the allowed names.
 */
int zp_authn_verify_cert(struct zp_authn *a, X509 *leaf, STACK_OF(X509) * chain,
                         struct zp_err *err);

/*
 * The header half, pure: user = first non-empty value among the username
 * headers; groups = every non-empty value of every group header (one group
 * per header line, never split at commas); extra = headers with a prefix,
 * key lowercased and %-unescaped. Adds system:authenticated. Fails when no
 * username header is present.
 */
int zp_authn_headers(const struct zp_authn_cfg *cfg, const struct evkeyvalq *headers,
                     struct zp_identity *id, struct zp_err *err);

/* Go's url.PathUnescape; a malformed escape keeps the text as it came. Caller frees. */
char *zp_authn_unescape(const char *s);

int zp_identity_in_group(const struct zp_identity *id, const char *group);
void zp_identity_cleanup(struct zp_identity *id);

#endif
