/*
 * kubeconfig.h — what a kubeconfig says for its current context: the
 * cluster's server and CA, and the user's token or client certificate.
 * Pure data, parsed once at start; the credentials are wiped on cleanup.
 */
#ifndef ZP_K8S_KUBECONFIG_H
#define ZP_K8S_KUBECONFIG_H

struct zp_buf;
struct zp_err;

struct zp_kubeconfig {
    char *context; /* names, for messages */
    char *cluster;
    char *user;
    char *server;             /* https://host:port */
    char *namespace;          /* the context's, else "default" */
    char *ca_file;            /* certificate-authority, made absolute */
    struct zp_buf *ca_data;   /* certificate-authority-data, decoded; NULL if absent */
    char *cert_file;          /* client-certificate */
    struct zp_buf *cert_data; /* client-certificate-data, decoded */
    char *key_file;           /* client-key */
    struct zp_buf *key_data;  /* client-key-data, decoded (a secret) */
    char *token;              /* a secret */
    char *token_file;         /* tokenFile */
};

/*
 * Reads a kubeconfig (YAML) and picks current-context. Relative paths are
 * taken from the file's directory, as kubectl does. Refuses exec and
 * auth-provider users and basic auth: zoneproof runs no plugins.
 */
int zp_kubeconfig_parse(const char *path, struct zp_kubeconfig *kc, struct zp_err *err);
void zp_kubeconfig_cleanup(struct zp_kubeconfig *kc);

#endif
