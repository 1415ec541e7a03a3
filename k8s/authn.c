/*
 * authn.c — the front-proxy identity of a request: who kube-apiserver says
 * the caller is, believed only when kube-apiserver proved itself with a
 * client certificate from the request-header CA. Mirrors k8s.io/apiserver's
 * x509 verifier and headerrequest authenticator, including its dynamic CA:
 * the settings can be swapped while requests are being checked.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/authn.h"
#include "k8s/tls.h"

/*
 * A chain verified on a connection, remembered in its SSL: the next
 * requests on it skip the signature checks (about a third of a
 * millisecond each) while the settings that verified it are still the
 * current ones, for at most VERIFIED_TTL_MS, so that an expiry or a
 * narrower allowed-names list still takes effect on a long-lived
 * connection.
 */
#define VERIFIED_TTL_MS 60000u

struct verified {
    uint64_t gen; /* the settings' generation; never 0 */
    uint64_t at_ms;
};

static atomic_uint_fast64_t next_gen = 1;
static int verified_idx = -1;
static pthread_once_t verified_once = PTHREAD_ONCE_INIT;

/* One generation of settings, shared by the requests that started with it. */
struct settings {
    uint64_t gen;                /* unique to this object, for struct verified */
    unsigned refs;               /* under zp_authn.mu */
    struct zp_authn_cfg cfg;     /* the lists, owned; the CA fields are unused */
    X509_STORE *store;           /* NULL: nobody is authenticated */
    STACK_OF(X509_NAME) * names; /* the bundle's subjects, for the TLS CertificateRequest */
};

struct zp_authn {
    pthread_mutex_t mu; /* guards cur and every settings' refs */
    struct settings *cur;
    char *ca_file; /* the file followed by zp_authn_reload(), or NULL */
    struct zp_file_stamp stamp;
};

static char **copy_list(char *const *src, size_t n)
{
    char **dst = zp_xcalloc(n + 1, sizeof(*dst));

    for (size_t i = 0; i < n; i++)
        dst[i] = zp_xstrdup(src[i]);
    return dst;
}

static void free_list(char **list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static struct settings *settings_new(const struct zp_authn_cfg *cfg, X509_STORE *store,
                                     STACK_OF(X509_NAME) * names)
{
    struct settings *s = zp_xcalloc(1, sizeof(*s));
    struct zp_authn_cfg *c = &s->cfg;

    s->refs = 1;
    s->gen = atomic_fetch_add(&next_gen, 1);
    c->allowed_names = copy_list(cfg->allowed_names, cfg->n_allowed_names);
    c->n_allowed_names = cfg->n_allowed_names;
    c->username_headers = copy_list(cfg->username_headers, cfg->n_username_headers);
    c->n_username_headers = cfg->n_username_headers;
    c->group_headers = copy_list(cfg->group_headers, cfg->n_group_headers);
    c->n_group_headers = cfg->n_group_headers;
    c->extra_prefixes = copy_list(cfg->extra_prefixes, cfg->n_extra_prefixes);
    c->n_extra_prefixes = cfg->n_extra_prefixes;
    s->store = store;
    s->names = names;
    zp_tls_expiry_client_ca(store);
    return s;
}

static void settings_free(struct settings *s)
{
    free_list((char **)s->cfg.allowed_names, s->cfg.n_allowed_names);
    free_list((char **)s->cfg.username_headers, s->cfg.n_username_headers);
    free_list((char **)s->cfg.group_headers, s->cfg.n_group_headers);
    free_list((char **)s->cfg.extra_prefixes, s->cfg.n_extra_prefixes);
    X509_STORE_free(s->store);
    sk_X509_NAME_pop_free(s->names, X509_NAME_free);
    free(s);
}

static struct settings *settings_get(struct zp_authn *a)
{
    struct settings *s;

    pthread_mutex_lock(&a->mu);
    s = a->cur;
    s->refs++;
    pthread_mutex_unlock(&a->mu);
    return s;
}

static void settings_put(struct zp_authn *a, struct settings *s)
{
    int last;

    pthread_mutex_lock(&a->mu);
    last = --s->refs == 0;
    pthread_mutex_unlock(&a->mu);
    if (last)
        settings_free(s);
}

static void settings_swap(struct zp_authn *a, struct settings *s)
{
    struct settings *old;

    pthread_mutex_lock(&a->mu);
    old = a->cur;
    a->cur = s;
    pthread_mutex_unlock(&a->mu);
    if (old != NULL)
        settings_put(a, old);
}

static X509_STORE *new_store(void)
{
    X509_STORE *store = X509_STORE_new();

    if (store == NULL)
        abort(); /* allocation only */
    /*
     * Every certificate in the bundle is a trust anchor, as in Go's
     * x509.VerifyOptions.Roots: a front-proxy CA that is itself an
     * intermediate of some root must work without that root in the file.
     */
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    return store;
}

static int load_file(const char *path, X509_STORE **storep, STACK_OF(X509_NAME) * *namesp,
                     struct zp_err *err)
{
    X509_STORE *store = new_store();
    char why[256];
    int rc = -1;

    /* OpenSSL would block on a FIFO; a missing file gets the sentence below. */
    if (access(path, F_OK) == 0 &&
        zp_file_check_regular(path, "--requestheader-client-ca-file", err) == -1)
        goto out;
    if (X509_STORE_load_file(store, path) != 1) {
        unsigned long e = ERR_peek_last_error();
        ERR_error_string_n(e, why, sizeof(why));
        zp_err_set(err, ZP_ECONFIG,
                   "cannot load --requestheader-client-ca-file %s: %s (expected the PEM "
                   "front-proxy CA bundle, key requestheader-client-ca-file of ConfigMap "
                   "kube-system/extension-apiserver-authentication)",
                   path, e ? why : "no certificate found");
        goto out;
    }
    *namesp = SSL_load_client_CA_file(path);
    *storep = store;
    store = NULL;
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_free(store);
    return rc;
}

static int load_pem(const char *pem, size_t len, X509_STORE **storep, STACK_OF(X509_NAME) * *namesp,
                    struct zp_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_STORE *store = new_store();
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    X509 *x;
    int n = 0, rc = -1;

    if (bio == NULL || names == NULL)
        abort(); /* allocation only */
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        X509_NAME *dup = X509_NAME_dup(X509_get_subject_name(x));
        /* A certificate listed twice is already in the store: not an error. */
        X509_STORE_add_cert(store, x);
        if (dup == NULL || sk_X509_NAME_push(names, dup) == 0)
            abort(); /* allocation only */
        X509_free(x);
        n++;
    }
    if (n == 0) {
        zp_err_set(err, ZP_ECONFIG, "the front-proxy CA bundle holds no PEM certificate");
        goto out;
    }
    *storep = store;
    *namesp = names;
    store = NULL;
    names = NULL;
    rc = 0;
out:
    ERR_clear_error();
    BIO_free(bio);
    X509_STORE_free(store);
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return rc;
}

struct zp_authn *zp_authn_new(const struct zp_authn_cfg *cfg, struct zp_err *err)
{
    struct zp_authn *a = zp_xcalloc(1, sizeof(*a));
    int rc = -1;

    pthread_mutex_init(&a->mu, NULL);
    a->cur = settings_new(cfg, NULL, NULL);
    if (cfg->client_ca_file != NULL && *cfg->client_ca_file != '\0') {
        a->ca_file = zp_xstrdup(cfg->client_ca_file);
        if (zp_authn_reload(a, 1, err) == -1)
            goto out;
    } else if (cfg->client_ca_pem != NULL && cfg->client_ca_pem_len > 0) {
        if (zp_authn_update(a, cfg, err) == -1)
            goto out;
    } else {
        zp_log(ZP_LOG_WARN, "no front-proxy CA: every request under /apis is refused", ZP_END);
    }
    rc = 0;
out:
    if (rc == -1) {
        zp_authn_free(a);
        a = NULL;
    }
    return a;
}

void zp_authn_free(struct zp_authn *a)
{
    if (a == NULL)
        return;
    settings_swap(a, NULL);
    free(a->ca_file);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int zp_authn_reload(struct zp_authn *a, int force, struct zp_err *err)
{
    struct zp_file_stamp now;
    X509_STORE *store = NULL;
    STACK_OF(X509_NAME) *names = NULL;
    struct settings *cur;

    if (a->ca_file == NULL)
        return 0;
    zp_file_stamp_get(a->ca_file, &now);
    /* Unchanged, good or broken: a broken file was reported when it appeared. */
    if (!force && zp_file_stamp_same(&now, &a->stamp))
        return 0;
    a->stamp = now;
    if (load_file(a->ca_file, &store, &names, err) == -1)
        return -1;
    cur = settings_get(a);
    settings_swap(a, settings_new(&cur->cfg, store, names));
    settings_put(a, cur);
    zp_log(ZP_LOG_INFO, "front-proxy CA loaded", ZP_S("file", a->ca_file), ZP_END);
    return 1;
}

int zp_authn_update(struct zp_authn *a, const struct zp_authn_cfg *cfg, struct zp_err *err)
{
    X509_STORE *store = NULL;
    STACK_OF(X509_NAME) *names = NULL;

    if (cfg->client_ca_pem != NULL && cfg->client_ca_pem_len > 0 &&
        load_pem(cfg->client_ca_pem, cfg->client_ca_pem_len, &store, &names, err) == -1)
        return -1;
    settings_swap(a, settings_new(cfg, store, names));
    free(a->ca_file);
    a->ca_file = NULL;
    return 0;
}

STACK_OF(X509_NAME) * zp_authn_ca_names(struct zp_authn *a)
{
    struct settings *s = settings_get(a);
    STACK_OF(X509_NAME) *dup = s->names ? SSL_dup_CA_list(s->names) : NULL;

    settings_put(a, s);
    return dup;
}

/* The subject's CN as Go reads it (the last CN attribute), or NULL. Caller frees. */
static char *subject_cn(X509 *x)
{
    X509_NAME *name = X509_get_subject_name(x);
    unsigned char *utf8 = NULL;
    char *cn = NULL;
    int idx = -1, i, n;

    while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
        idx = i;
    if (idx < 0)
        return NULL;
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    /* An embedded NUL could make "front-proxy-client\0evil" pass a string compare. */
    if (n >= 0 && utf8 != NULL && strlen((char *)utf8) == (size_t)n)
        cn = zp_xstrndup((char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return cn;
}

static int verify_with(const struct settings *s, X509 *leaf, STACK_OF(X509) * chain,
                       struct zp_err *err)
{
    X509_STORE_CTX *vc = NULL;
    char *cn = NULL;
    int rc = -1, allowed;

    if (s->store == NULL) {
        zp_err_set(err, ZP_EAUTH,
                   "front-proxy authentication is not configured "
                   "(no request-header CA)");
        goto out;
    }
    if (leaf == NULL) {
        zp_err_set(err, ZP_EAUTH, "no client certificate");
        goto out;
    }
    cn = subject_cn(leaf);
    if ((vc = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_CTX_init(vc, s->store, leaf, chain) != 1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot set up certificate verification");
        goto out;
    }
    /* clientAuth: a serving certificate from the same CA is not a front proxy. */
    X509_STORE_CTX_set_purpose(vc, X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(vc) != 1) {
        zp_err_set(err, ZP_EAUTH, "client certificate CN=%s not accepted: %s", cn ? cn : "(none)",
                   X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)));
        goto out;
    }
    allowed = s->cfg.n_allowed_names == 0;
    for (size_t i = 0; !allowed && cn != NULL && i < s->cfg.n_allowed_names; i++)
        allowed = strcmp(cn, s->cfg.allowed_names[i]) == 0;
    if (!allowed) {
        zp_err_set(err, ZP_EAUTH,
                   "client certificate CN=%s is not in --requestheader-allowed-names",
                   cn ? cn : "(none)");
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(vc);
    free(cn);
    return rc;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *zp_authn_unescape(const char *s)
{
    size_t n = strlen(s), j = 0;
    char *out = zp_xmalloc(n + 1);

    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[j++] = s[i];
            continue;
        }
        if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 ||
            hexval((unsigned char)s[i + 2]) < 0) {
            /* Go's PathUnescape fails as a whole; the key is then kept as sent. */
            memcpy(out, s, n + 1);
            return out;
        }
        out[j++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
        i += 2;
    }
    out[j] = '\0';
    return out;
}

static void push(char ***list, size_t *n, const char *s)
{
    *list = zp_xrealloc(*list, (*n + 2) * sizeof(**list));
    (*list)[(*n)++] = zp_xstrdup(s);
    (*list)[*n] = NULL;
}

static struct zp_extra *extra_slot(struct zp_identity *id, char *key)
{
    for (size_t i = 0; i < id->n_extra; i++) {
        if (strcmp(id->extra[i].key, key) == 0) {
            free(key);
            return &id->extra[i];
        }
    }
    id->extra = zp_xrealloc(id->extra, (id->n_extra + 1) * sizeof(*id->extra));
    memset(&id->extra[id->n_extra], 0, sizeof(*id->extra));
    id->extra[id->n_extra].key = key;
    return &id->extra[id->n_extra++];
}

int zp_authn_headers(const struct zp_authn_cfg *cfg, const struct evkeyvalq *headers,
                     struct zp_identity *id, struct zp_err *err)
{
    struct evkeyval *kv;

    memset(id, 0, sizeof(*id));
    /* Go's Header.Get: the first line of each name, names in order. */
    for (size_t i = 0; id->user == NULL && i < cfg->n_username_headers; i++) {
        TAILQ_FOREACH(kv, headers, next)
        {
            if (strcasecmp(kv->key, cfg->username_headers[i]) == 0) {
                if (kv->value[0] != '\0')
                    id->user = zp_xstrdup(kv->value);
                break;
            }
        }
    }
    if (id->user == NULL)
        return zp_err_set(err, ZP_EAUTH, "the front proxy sent no user name (%s)",
                          cfg->n_username_headers ? cfg->username_headers[0] : "no header set");
    for (size_t i = 0; i < cfg->n_group_headers; i++) {
        TAILQ_FOREACH(kv, headers, next)
        {
            if (strcasecmp(kv->key, cfg->group_headers[i]) == 0 && kv->value[0] != '\0')
                push(&id->groups, &id->n_groups, kv->value);
        }
    }
    if (!zp_identity_in_group(id, ZP_GROUP_AUTHENTICATED))
        push(&id->groups, &id->n_groups, ZP_GROUP_AUTHENTICATED);
    /* Prefixes first, then headers: the order Go gives the values of one key. */
    for (size_t i = 0; i < cfg->n_extra_prefixes; i++) {
        size_t plen = strlen(cfg->extra_prefixes[i]);
        TAILQ_FOREACH(kv, headers, next)
        {
            if (plen == 0 || strncasecmp(kv->key, cfg->extra_prefixes[i], plen) != 0)
                continue;
            char *lower = zp_xstrdup(kv->key + plen);
            for (char *p = lower; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            struct zp_extra *x = extra_slot(id, zp_authn_unescape(lower));
            free(lower);
            push(&x->values, &x->n_values, kv->value);
        }
    }
    return 0;
}

int zp_authn_verify_cert(struct zp_authn *a, X509 *leaf, STACK_OF(X509) * chain, struct zp_err *err)
{
    struct settings *s = settings_get(a);
    int rc = verify_with(s, leaf, chain, err);

    settings_put(a, s);
    return rc;
}

static void verified_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                          void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    free(ptr);
}

static void verified_init(void)
{
    verified_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, verified_free);
    if (verified_idx == -1)
        abort(); /* allocation only */
}

/* verify_with on ssl's peer, or what it found on this connection a moment ago. */
static int verify_ssl(const struct settings *s, SSL *ssl, struct zp_err *err)
{
    struct verified *v;
    uint64_t now = zp_now_ms();

    if (ssl == NULL)
        return verify_with(s, NULL, NULL, err);
    pthread_once(&verified_once, verified_init);
    v = SSL_get_ex_data(ssl, verified_idx);
    if (v != NULL && v->gen == s->gen && now - v->at_ms < VERIFIED_TTL_MS)
        return 0;
    if (verify_with(s, SSL_get0_peer_certificate(ssl), SSL_get_peer_cert_chain(ssl), err) == -1)
        return -1;
    if (v == NULL) {
        v = zp_xcalloc(1, sizeof(*v));
        SSL_set_ex_data(ssl, verified_idx, v);
    }
    v->gen = s->gen;
    v->at_ms = now;
    return 0;
}

int zp_authn_verify_ssl(struct zp_authn *a, SSL *ssl, struct zp_err *err)
{
    struct settings *s = settings_get(a);
    int rc = verify_ssl(s, ssl, err);

    settings_put(a, s);
    return rc;
}

int zp_authn_request(struct zp_authn *a, SSL *ssl, const struct evkeyvalq *headers,
                     struct zp_identity *id, struct zp_err *err)
{
    struct settings *s = settings_get(a);
    int rc = -1;

    memset(id, 0, sizeof(*id));
    if (verify_ssl(s, ssl, err) == 0)
        rc = zp_authn_headers(&s->cfg, headers, id, err);
    settings_put(a, s);
    return rc;
}

int zp_identity_in_group(const struct zp_identity *id, const char *group)
{
    for (size_t i = 0; i < id->n_groups; i++)
        if (strcmp(id->groups[i], group) == 0)
            return 1;
    return 0;
}

void zp_identity_cleanup(struct zp_identity *id)
{
    free(id->user);
    free_list(id->groups, id->n_groups);
    for (size_t i = 0; i < id->n_extra; i++) {
        free(id->extra[i].key);
        free_list(id->extra[i].values, id->extra[i].n_values);
    }
    free(id->extra);
    memset(id, 0, sizeof(*id));
}
