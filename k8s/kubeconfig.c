/*
 * kubeconfig.c — a kubeconfig's current context as zoneproof uses it: the
 * server, its CA, and a token, token file or client certificate, with
 * kubectl's rule for relative paths; credential plugins refused; every
 * scalar of the parsed document wiped, since it held the credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "k8s/kubeconfig.h"

static void wipe_tree(struct zp_ynode *n)
{
    if (n == NULL)
        return;
    if (n->scalar != NULL)
        zp_wipe(n->scalar, strlen(n->scalar));
    for (size_t i = 0; i < n->n; i++)
        wipe_tree(n->items[i]);
}

/* kubectl reads relative paths from the kubeconfig's directory. */
static char *resolve(const char *kubeconfig, const char *p)
{
    const char *slash = strrchr(kubeconfig, '/');

    if (p[0] == '/' || slash == NULL)
        return zp_xstrdup(p);
    return zp_xasprintf("%.*s/%s", (int)(slash - kubeconfig), kubeconfig, p);
}

/* The field map of the entry of root[list] whose name is name, e.g. contexts[].context. */
static const struct zp_ynode *named(const struct zp_ynode *root, const char *list,
                                    const char *field, const char *name, struct zp_err *err)
{
    const struct zp_ynode *seq = zp_y_get(root, list), *e, *m;
    const char *s;

    for (size_t i = 0; seq != NULL && seq->type == ZP_Y_SEQ && i < seq->n; i++) {
        e = seq->items[i];
        s = NULL;
        if (zp_y_str(e, list, "name", 0, &s, err) == -1)
            return NULL;
        if (s == NULL || strcmp(s, name) != 0)
            continue;
        m = zp_y_get(e, field);
        if (m == NULL || m->type != ZP_Y_MAP) {
            zp_y_fail(e, list, err, "the entry \"%s\" has no %s mapping", name, field);
            return NULL;
        }
        return m;
    }
    zp_y_fail(seq ? seq : root, list, err, "no entry named \"%s\"", name);
    return NULL;
}

/* An optional path setting and its -data twin; the data is decoded. */
static int file_or_data(const struct zp_ynode *m, const char *path, const char *key,
                        const char *kubeconfig, char **file, struct zp_buf **data,
                        struct zp_err *err)
{
    char dkey[64];
    const char *s = NULL;
    const struct zp_ynode *n;

    snprintf(dkey, sizeof(dkey), "%s-data", key);
    if (zp_y_str(m, path, dkey, 0, &s, err) == -1)
        return -1;
    if (s != NULL && *s != '\0') {
        n = zp_y_get(m, dkey);
        *data = zp_xcalloc(1, sizeof(**data));
        zp_buf_init(*data, ZP_YAML_MAX_BYTES);
        if (zp_b64_decode(s, strlen(s), ZP_B64_LINES, *data, err) == -1) {
            zp_err_clear(err);
            return zp_y_fail(n, path, err, "%s is not valid base64", dkey);
        }
        return 0;
    }
    s = NULL;
    if (zp_y_str(m, path, key, 0, &s, err) == -1)
        return -1;
    if (s != NULL && *s != '\0')
        *file = resolve(kubeconfig, s);
    return 0;
}

static int parse_user(const struct zp_ynode *u, const char *path, const char *file,
                      struct zp_kubeconfig *kc, struct zp_err *err)
{
    static const char *const plugins[] = {"exec", "auth-provider", "username", "password", NULL};
    const char *s = NULL;

    for (size_t i = 0; plugins[i] != NULL; i++) {
        if (zp_y_get(u, plugins[i]) != NULL)
            return zp_y_fail(zp_y_get(u, plugins[i]), path, err,
                             "%s is not supported (zoneproof runs no credential plugins): use "
                             "token, tokenFile or client-certificate and client-key",
                             plugins[i]);
    }
    if (file_or_data(u, path, "client-certificate", file, &kc->cert_file, &kc->cert_data, err) ==
            -1 ||
        file_or_data(u, path, "client-key", file, &kc->key_file, &kc->key_data, err) == -1)
        return -1;
    if ((kc->cert_file || kc->cert_data) != (kc->key_file || kc->key_data))
        return zp_y_fail(u, path, err,
                         "client-certificate and client-key go together: set both or neither");
    if (zp_y_str(u, path, "token", 0, &s, err) == -1)
        return -1;
    if (s != NULL && *s != '\0')
        kc->token = zp_xstrdup(s);
    s = NULL;
    if (zp_y_str(u, path, "tokenFile", 0, &s, err) == -1)
        return -1;
    if (s != NULL && *s != '\0' && kc->token == NULL)
        kc->token_file = resolve(file, s);
    /* Either is the cluster credential itself: say so when others can read it. */
    if (kc->token_file != NULL)
        zp_file_warn_readable(kc->token_file, "kubeconfig tokenFile");
    if (kc->key_file != NULL)
        zp_file_warn_readable(kc->key_file, "kubeconfig client-key");
    return 0;
}

int zp_kubeconfig_parse(const char *file, struct zp_kubeconfig *kc, struct zp_err *err)
{
    struct zp_ydoc doc = {0};
    const struct zp_ynode *root, *ctx, *cl, *u;
    const char *s = NULL;
    char path[320];
    int skip = 0, rc = -1;

    memset(kc, 0, sizeof(*kc));
    /* The one place a kubeconfig comes from is serve's flag. */
    if (zp_yaml_load_file(file, "--kubeconfig", &doc, err) == -1)
        goto out;
    root = doc.root;
    if (root == NULL || root->type != ZP_Y_MAP) {
        zp_err_set(err, ZP_ECONFIG, "%s: not a kubeconfig (expected a mapping)", file);
        goto out;
    }
    if (zp_y_str(root, "kubeconfig", "current-context", 1, &s, err) == -1)
        goto out;
    kc->context = zp_xstrdup(s);
    if ((ctx = named(root, "contexts", "context", kc->context, err)) == NULL)
        goto out;
    snprintf(path, sizeof(path), "contexts[\"%s\"].context", kc->context);
    s = NULL;
    if (zp_y_str(ctx, path, "cluster", 1, &s, err) == -1)
        goto out;
    kc->cluster = zp_xstrdup(s);
    s = NULL;
    if (zp_y_str(ctx, path, "user", 0, &s, err) == -1)
        goto out;
    kc->user = s ? zp_xstrdup(s) : NULL;
    s = NULL;
    if (zp_y_str(ctx, path, "namespace", 0, &s, err) == -1)
        goto out;
    kc->namespace = zp_xstrdup(s && *s ? s : "default");

    if ((cl = named(root, "clusters", "cluster", kc->cluster, err)) == NULL)
        goto out;
    snprintf(path, sizeof(path), "clusters[\"%s\"].cluster", kc->cluster);
    s = NULL;
    if (zp_y_str(cl, path, "server", 1, &s, err) == -1)
        goto out;
    if (strncmp(s, "https://", 8) != 0) {
        zp_y_fail(zp_y_get(cl, "server"), path, err,
                  "server must be an https:// URL (the credentials must not travel in clear)");
        goto out;
    }
    /* "https://" alone (or "https:///x") names no host: it would become "https:/". */
    if (s[8] == '\0' || s[8] == '/') {
        zp_y_fail(zp_y_get(cl, "server"), path, err,
                  "server \"%s\" names no host; write https://HOST[:PORT]", s);
        goto out;
    }
    kc->server = zp_xstrndup(s, strlen(s) - (s[strlen(s) - 1] == '/'));
    if (zp_y_bool(cl, path, "insecure-skip-tls-verify", 0, &skip, err) == -1)
        goto out;
    if (skip) {
        zp_y_fail(zp_y_get(cl, "insecure-skip-tls-verify"), path, err,
                  "insecure-skip-tls-verify is not supported: set certificate-authority");
        goto out;
    }
    if (file_or_data(cl, path, "certificate-authority", file, &kc->ca_file, &kc->ca_data, err) ==
        -1)
        goto out;
    if (kc->user != NULL) {
        if ((u = named(root, "users", "user", kc->user, err)) == NULL)
            goto out;
        snprintf(path, sizeof(path), "users[\"%s\"].user", kc->user);
        if (parse_user(u, path, file, kc, err) == -1)
            goto out;
    }
    rc = 0;
out:
    wipe_tree(doc.root);
    zp_yaml_free(&doc);
    if (rc == -1)
        zp_kubeconfig_cleanup(kc);
    return rc;
}

static void free_data(struct zp_buf *b)
{
    if (b == NULL)
        return;
    zp_buf_free_secret(b);
    free(b);
}

void zp_kubeconfig_cleanup(struct zp_kubeconfig *kc)
{
    free(kc->context);
    free(kc->cluster);
    free(kc->user);
    free(kc->server);
    free(kc->namespace);
    free(kc->ca_file);
    free(kc->cert_file);
    free(kc->key_file);
    free(kc->token_file);
    free_data(kc->ca_data);
    free_data(kc->cert_data);
    free_data(kc->key_data);
    zp_free_secret(kc->token);
    memset(kc, 0, sizeof(*kc));
}
