/*
 * krb.c — the Kerberos identity of an rfc2136 instance that signs with
 * GSS-TSIG: its settings and, for each negotiation, a GSS credential.
 *
 * Why zoneproof asks the KDC itself (MIT's krb5 API) instead of letting
 * gss_init_sec_context do it: the GSS mechanism finds KDCs from the
 * process's one krb5.conf and takes initial tickets only from a keytab
 * named by a path. Here each instance has its own KDCs (a profile built in
 * memory from realm and kdc, or its own krb5ConfigFile), its keytab may be
 * a Secret, and the tickets must not touch disk. So one negotiation makes
 * a krb5 context on that profile, loads the keytab into a memfd, gets the
 * TGT and the DNS server's ticket into a MEMORY cache, and hands that cache
 * to GSS (gss_krb5_import_cred); gss_init_sec_context then finds the
 * ticket there and never calls a KDC. Each step's failure has its own
 * sentence: the KDC's answer tells which setting to fix.
 *
 * Threads: zp_krb is read-only after the parse; a negotiation's krb5
 * context and cache belong to the thread that negotiates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <profile.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/krb.h"
#include "providers/rfc2136_int.h"
#include "providers/settings.h"

#define KRB_KEYTAB_MAX 65536 /* a keytab holds a few keys: well under this */
#define KRB_NAME_MAX 512
#define KRB_SKEW_S 300           /* Kerberos' default clockskew, and TSIG's fudge */
#define KRB_REPLY_MAX (1u << 20) /* an AD ticket with a large PAC is tens of KB */
#define KRB_KDC_TRY_MS 3000u     /* a KDC's time before the next is asked; the last has the rest */

struct zp_krb {
    char *principal; /* as written */
    char *client;    /* with its realm */
    char *realm;
    struct zp_cred keytab;
    char *conf_file;
    char **kdc;
    size_t nkdc;
    char *server; /* serverPrincipal, or NULL: DNS/<MNAME>@realm */
};

static const struct zp_setting krb_settings[] = {
    ZP_SET_S(struct zp_krb, "principal", principal, 1),
    ZP_SET_CM(struct zp_krb, "keytab", keytab, 1, KRB_KEYTAB_MAX),
    ZP_SET_S(struct zp_krb, "krb5ConfigFile", conf_file, 0),
    ZP_SET_S(struct zp_krb, "realm", realm, 0),
    ZP_SET_L(struct zp_krb, "kdc", kdc, nkdc, 0),
    ZP_SET_S(struct zp_krb, "serverPrincipal", server, 0),
    ZP_SET_O(struct zp_krb, client),
    ZP_SET_LAST,
};

static const char *const krb_keys[] = {"principal",       "keytabFile", "keytabSecretRef",
                                       "krb5ConfigFile",  "realm",      "kdc",
                                       "serverPrincipal", NULL};

int zp_krb_per_namespace(const struct zp_krb *k)
{
    return k->keytab.ref_name != NULL;
}

const char *zp_krb_principal(const struct zp_krb *k)
{
    return k->client;
}

/* ---- the profile: the KDCs of the settings, nothing from the system ----------------------- */

/*
 * MIT asks its profile for relations by path ("realms", REALM, "kdc");
 * this answers from the settings and says "none" to the rest, so nothing
 * is looked up in DNS and the TGT and tickets go over TCP (an AD ticket
 * with its PAC outgrows UDP). kdc_timesync off: a clock skew is reported,
 * not silently compensated (the DNS server checks the clock too).
 */
static long krb_prof_get(void *cb, const char *const *names, char ***ret)
{
    const struct zp_krb *k = cb;
    const char *one = NULL;
    size_t n = 0;

    if (names[0] == NULL || names[1] == NULL)
        return PROF_NO_RELATION;
    if (strcmp(names[0], "libdefaults") == 0 && names[2] == NULL) {
        if (strcmp(names[1], "default_realm") == 0)
            one = k->realm;
        else if (strcmp(names[1], "dns_lookup_kdc") == 0 || strcmp(names[1], "kdc_timesync") == 0 ||
                 strcmp(names[1], "dns_lookup_realm") == 0 || strcmp(names[1], "rdns") == 0 ||
                 strcmp(names[1], "dns_canonicalize_hostname") == 0)
            one = "false";
        else if (strcmp(names[1], "udp_preference_limit") == 0)
            one = "1";
    } else if (strcmp(names[0], "realms") == 0 && names[2] != NULL && names[3] == NULL &&
               strcmp(names[1], k->realm) == 0 && strcmp(names[2], "kdc") == 0) {
        n = k->nkdc;
    }
    if (one == NULL && n == 0)
        return PROF_NO_RELATION;
    *ret = zp_xcalloc(n + 2, sizeof(char *));
    if (one != NULL)
        (*ret)[0] = zp_xstrdup(one);
    for (size_t i = 0; i < n; i++)
        (*ret)[i] = zp_xstrdup(k->kdc[i]);
    return 0;
}

static void krb_prof_free(void *cb, char **values)
{
    (void)cb;
    for (size_t i = 0; values != NULL && values[i] != NULL; i++)
        free(values[i]);
    free(values);
}

/* A krb5 context on the instance's KDCs: its krb5ConfigFile, the settings, or the system's. */
static int krb_context(const struct zp_krb *k, krb5_context *kctx, struct zp_err *err)
{
    static struct profile_vtable vt = {
        .minor_ver = 1, .get_values = krb_prof_get, .free_values = krb_prof_free};
    profile_t prof = NULL;
    long code;

    if (k->conf_file != NULL)
        code = profile_init_path(k->conf_file, &prof);
    else if (k->nkdc > 0)
        code = profile_init_vtable(&vt, (void *)k, &prof);
    else
        code = 0;
    if (code == 0)
        code = prof != NULL ? krb5_init_context_profile(prof, 0, kctx) : krb5_init_context(kctx);
    if (prof != NULL)
        profile_release(prof);
    if (code != 0)
        return zp_err_set(err, ZP_ECONFIG, "cannot set up Kerberos from %s: %s",
                          k->conf_file ? "kerberos.krb5ConfigFile" : "the system's krb5.conf",
                          error_message(code));
    return 0;
}

/* ---- configuration ------------------------------------------------------------------------ */

/* The realm: the setting, else the principal's. */
static int krb_check_names(struct zp_krb *k, const struct zp_ynode *node, const char *path,
                           struct zp_err *err)
{
    const char *at = strrchr(k->principal, '@');

    if (k->principal[0] == '\0' || at == k->principal || (at != NULL && at[1] == '\0') ||
        strlen(k->principal) >= KRB_NAME_MAX)
        return zp_y_fail(zp_y_get(node, "principal"), path, err,
                         "kerberos.principal \"%s\" is not a Kerberos principal such as "
                         "acme-solver@CORP.EXAMPLE",
                         k->principal);
    if (k->realm == NULL && at == NULL)
        return zp_y_fail(zp_y_get(node, "principal"), path, err,
                         "kerberos.principal \"%s\" names no realm; write it as name@REALM or set "
                         "kerberos.realm",
                         k->principal);
    if (k->realm == NULL)
        k->realm = zp_xstrdup(at + 1);
    if (at != NULL) {
        k->client = zp_xstrdup(k->principal);
    } else {
        size_t n = strlen(k->principal) + strlen(k->realm) + 2;
        k->client = zp_xmalloc(n);
        snprintf(k->client, n, "%s@%s", k->principal, k->realm);
    }
    if (k->conf_file != NULL && k->nkdc > 0)
        return zp_y_fail(zp_y_get(node, "kdc"), path, err,
                         "kerberos.kdc and kerberos.krb5ConfigFile both name KDCs; keep one");
    for (size_t i = 0; i < k->nkdc; i++) {
        char host[256], why[192];
        unsigned port;
        if (zp_hostport_parse(k->kdc[i], 88, host, sizeof(host), &port, why, sizeof(why)) == -1)
            return zp_y_fail(zp_y_get(node, "kdc"), path, err,
                             "kerberos.kdc \"%s\" is not host:port: %s; write host, host:port, "
                             "IPv4:port or [IPv6]:port (port 88 when none is given)",
                             k->kdc[i], why);
    }
    if (k->server != NULL && strchr(k->server, '/') == NULL)
        return zp_y_fail(zp_y_get(node, "serverPrincipal"), path, err,
                         "kerberos.serverPrincipal \"%s\" is not a service principal such as "
                         "DNS/dc1.corp.example@CORP.EXAMPLE",
                         k->server);
    if (k->conf_file != NULL && access(k->conf_file, R_OK) == -1)
        return zp_y_fail(zp_y_get(node, "krb5ConfigFile"), path, err,
                         "kerberos.krb5ConfigFile: cannot read %s: %s", k->conf_file,
                         strerror(errno));
    return 0;
}

void zp_krb_free(struct zp_krb *k)
{
    zp_settings_free(krb_settings, k); /* every field, the keytab's too, and k */
}

/* The keytab's bytes in an anonymous memory file named FILE:/proc/self/fd/N for krb5. */
static int krb_keytab_open(const struct zp_krb *k, const struct zp_prov_call *call,
                           krb5_context kctx, krb5_keytab *kt, int *fd, struct zp_err *err)
{
    char name[64];
    struct zp_buf b;
    int rc = -1;

    zp_buf_init(&b, KRB_KEYTAB_MAX);
    *fd = -1;
    if (zp_cred_read(&k->keytab, call, &b, err) == -1)
        goto out;
    if (b.len < 2 || (uint8_t)b.data[0] != 5 || ((uint8_t)b.data[1] != 1 && b.data[1] != 2)) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s is not a Kerberos keytab (export one with ktpass or samba-tool domain "
                   "exportkeytab, or kadmin's ktadd)",
                   k->keytab.setting, k->keytab.where);
        goto out;
    }
    if ((*fd = memfd_create("zoneproof-keytab", MFD_CLOEXEC)) == -1 ||
        write(*fd, b.data, b.len) != (ssize_t)b.len) {
        zp_err_set(err, ZP_EINTERNAL, "cannot hold the keytab in memory: %s", strerror(errno));
        goto out;
    }
    snprintf(name, sizeof(name), "FILE:/proc/self/fd/%d", *fd);
    if (krb5_kt_resolve(kctx, name, kt) != 0) {
        zp_err_set(err, ZP_EINTERNAL, "cannot open the keytab held in memory");
        goto out;
    }
    rc = 0;
out:
    zp_buf_free_secret(&b);
    return rc;
}

/* At configuration time: a keytab file must hold a key of the principal. */
static int krb_check_keytab(const struct zp_krb *k, const struct zp_ynode *node, const char *path,
                            struct zp_err *err)
{
    krb5_context kctx = NULL;
    krb5_keytab kt = NULL;
    krb5_principal client = NULL;
    krb5_keytab_entry ent;
    struct zp_err e = {0};
    int fd = -1, rc = -1;
    krb5_error_code code;

    if (k->keytab.file == NULL)
        return 0;
    if (krb5_init_context(&kctx) != 0)
        return zp_err_set(err, ZP_EINTERNAL, "cannot start Kerberos");
    if (krb_keytab_open(k, NULL, kctx, &kt, &fd, &e) == -1) {
        zp_y_fail(zp_y_get(node, "keytabFile"), path, err, "%s", e.msg);
        goto out;
    }
    if ((code = krb5_parse_name(kctx, k->client, &client)) != 0) {
        zp_y_fail(zp_y_get(node, "principal"), path, err,
                  "kerberos.principal \"%s\" does not parse: %s", k->client, error_message(code));
        goto out;
    }
    code = krb5_kt_get_entry(kctx, kt, client, 0, 0, &ent);
    if (code != 0) {
        zp_y_fail(zp_y_get(node, "keytabFile"), path, err,
                  "kerberos.keytabFile %s holds no key for %s; export one for that principal "
                  "(Windows: ktpass -princ %s; Samba: samba-tool domain exportkeytab FILE "
                  "--principal=%s)",
                  k->keytab.file, k->client, k->client, k->client);
        goto out;
    }
    krb5_free_keytab_entry_contents(kctx, &ent);
    rc = 0;
out:
    krb5_free_principal(kctx, client);
    if (kt != NULL)
        krb5_kt_close(kctx, kt);
    if (fd != -1)
        close(fd);
    krb5_free_context(kctx);
    return rc;
}

int zp_krb_parse(const struct zp_ynode *node, const char *path, struct zp_krb **out,
                 struct zp_err *err)
{
    struct zp_krb *k = zp_xcalloc(1, sizeof(*k));
    char sub[256];
    int rc = -1;

    snprintf(sub, sizeof(sub), "%s.kerberos", path);
    if (zp_y_check_keys(node, sub, krb_keys, err) == -1 ||
        zp_settings_parse(node, sub, krb_settings, k, err) == -1)
        goto out;
    k->keytab.binary = 1;
    if (krb_check_names(k, node, sub, err) == -1 || krb_check_keytab(k, node, sub, err) == -1)
        goto out;
    *out = k;
    k = NULL;
    rc = 0;
out:
    zp_krb_free(k);
    return rc;
}

int zp_krb_server(const struct zp_krb *k, const char *mname, char *out, size_t n,
                  struct zp_err *err)
{
    size_t len;

    if (k->server != NULL) {
        snprintf(out, n, "%s", k->server);
        return 0;
    }
    if (mname == NULL || mname[0] == '\0')
        return zp_err_set(err, ZP_ECONFIG,
                          "the zone's SOA names no primary server, so the DNS server's Kerberos "
                          "name is unknown; set kerberos.serverPrincipal (DNS/<server's "
                          "name>@%s)",
                          k->realm);
    len = strlen(mname);
    if (len > 0 && mname[len - 1] == '.')
        len--;
    snprintf(out, n, "DNS/%.*s@%s", (int)len, mname, k->realm);
    for (char *p = out + 4; *p != '\0' && *p != '@'; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return 0;
}

/* ---- the exchange with the KDCs, bounded by the call's deadline ---------------------------- */

/*
 * MIT 1.20's own transport waits for a KDC that accepts and never answers
 * for about 25 s per request (its passes, and 10 s on an open TCP
 * connection), whatever the challenge's time, and has no setting to
 * shorten it. Through krb5_set_kdc_send_hook zoneproof sends a request
 * itself when it knows the realm's KDCs (kerberos.kdc, or the kdc lines of
 * the krb5.conf): over TCP, one KDC after another, each given its share of
 * the time left (at most KRB_KDC_TRY_MS while another is left to ask), the
 * one that answered last asked first. Other realms (a referral), KDCs
 * found in DNS and the forms it does not speak (udp/, https:// for a KDC
 * proxy) go to MIT's transport.
 */
struct krb_route {
    const char *realm;
    char *const *kdc; /* the realm's KDCs */
    size_t n;         /* 0: MIT's transport */
    char **owned;     /* kdc, when read from the profile */
    uint64_t deadline_ms;
    size_t first;  /* the KDC that answered last */
    int timed_out; /* a KDC was still silent when its time was up */
};

/* A KDC entry's host[:port] ("tcp/" taken off), or NULL for a form MIT's transport must take. */
static const char *krb_kdc_hostport(const char *entry)
{
    if (strncmp(entry, "tcp/", 4) == 0)
        entry += 4;
    return strchr(entry, '/') == NULL ? entry : NULL; /* udp/..., https://... */
}

/* One request to the KDC at entry (krb_kdc_hostport's forms) before deadline. */
static enum zp_rfc_net krb_ask(const char *entry, const krb5_data *msg, uint64_t deadline,
                               struct zp_buf *reply)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    enum zp_rfc_net net = ZP_RFC_NET_ERROR;
    char host[256], port[8];
    unsigned p;
    int eno = 0;

    if (zp_hostport_split(krb_kdc_hostport(entry), 88, host, sizeof(host), &p) == -1)
        return ZP_RFC_NET_ERROR;
    snprintf(port, sizeof(port), "%u", p);
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return ZP_RFC_NET_ERROR;
    for (const struct addrinfo *ai = res; ai != NULL && net != ZP_RFC_NET_OK; ai = ai->ai_next)
        net = zp_rfc_stream(ai, 4, (const uint8_t *)msg->data, msg->length, KRB_REPLY_MAX, deadline,
                            reply, &eno);
    freeaddrinfo(res);
    return net;
}

/* Whether reply is a KRB-ERROR saying the KDC cannot serve now (MIT asks the next one). */
static int krb_unavailable(krb5_context kctx, const struct zp_buf *reply)
{
    krb5_data d = {.data = reply->data, .length = (unsigned)reply->len};
    krb5_error *e = NULL;
    int u;

    if (reply->len == 0 || (uint8_t)reply->data[0] != 0x7e || krb5_rd_error(kctx, &d, &e) != 0)
        return 0;
    u = e->error == (krb5_ui_4)(KRB5KDC_ERR_SVC_UNAVAILABLE - ERROR_TABLE_BASE_krb5);
    krb5_free_error(kctx, e);
    return u;
}

static krb5_error_code krb_send(krb5_context kctx, void *data, const krb5_data *realm,
                                const krb5_data *msg, krb5_data **new_msg, krb5_data **reply_out)
{
    struct krb_route *r = data;
    struct zp_buf b;
    krb5_error_code code = KRB5_KDC_UNREACH;

    (void)new_msg;
    if (r->n == 0 || realm->length != strlen(r->realm) ||
        memcmp(realm->data, r->realm, realm->length) != 0)
        return 0;
    zp_buf_init(&b, KRB_REPLY_MAX);
    for (size_t i = 0; i < r->n && code != 0; i++) {
        size_t at = (r->first + i) % r->n;
        uint64_t left = zp_ms_left(r->deadline_ms);
        enum zp_rfc_net net;

        if (left == 0) {
            r->timed_out = 1;
            break;
        }
        if (i + 1 < r->n) /* another KDC is left to ask: this one gets its share, capped */
            left = left / (r->n - i) < KRB_KDC_TRY_MS ? left / (r->n - i) : KRB_KDC_TRY_MS;
        net = krb_ask(r->kdc[at], msg, zp_now_ms() + left, &b);
        r->timed_out |= net == ZP_RFC_NET_TIMEOUT;
        if (net != ZP_RFC_NET_OK || krb_unavailable(kctx, &b))
            continue;
        *reply_out = zp_xmalloc(sizeof(**reply_out)); /* MIT frees both with free() */
        (*reply_out)->magic = KV5M_DATA;
        (*reply_out)->length = (unsigned)b.len;
        (*reply_out)->data = zp_xmalloc(b.len + 1);
        memcpy((*reply_out)->data, b.data, b.len);
        r->first = at;
        code = 0;
    }
    zp_buf_free(&b);
    return code;
}

/* Routes kctx's requests for k's realm through krb_send, until krb_route_end. */
static void krb_route_begin(const struct zp_krb *k, krb5_context kctx, uint64_t deadline_ms,
                            struct krb_route *r)
{
    const char *names[] = {"realms", k->realm, "kdc", NULL};
    profile_t prof = NULL;

    memset(r, 0, sizeof(*r));
    r->realm = k->realm;
    r->deadline_ms = deadline_ms;
    if (k->nkdc > 0) {
        r->kdc = k->kdc;
        r->n = k->nkdc;
    } else if (krb5_get_profile(kctx, &prof) == 0 &&
               profile_get_values(prof, names, &r->owned) == 0) {
        r->kdc = r->owned;
        while (r->owned[r->n] != NULL)
            r->n++;
    }
    if (prof != NULL)
        profile_release(prof);
    for (size_t i = 0; i < r->n; i++)
        if (krb_kdc_hostport(r->kdc[i]) == NULL)
            r->n = 0; /* udp/ or a URL: all of the realm's requests to MIT's transport */
    krb5_set_kdc_send_hook(kctx, krb_send, r);
}

static void krb_route_end(krb5_context kctx, struct krb_route *r)
{
    krb5_set_kdc_send_hook(kctx, NULL, NULL);
    if (r->owned != NULL)
        profile_free_list(r->owned);
    r->owned = NULL;
}

/* ---- tickets ------------------------------------------------------------------------------ */

/* Where the KDCs come from, for sentences. */
static const char *krb_kdc_source(const struct zp_krb *k)
{
    return k->conf_file ? "kerberos.krb5ConfigFile"
           : k->nkdc    ? "kerberos.kdc"
                        : "kerberos.kdc (the system's krb5.conf is used without it)";
}

/* The sentence for what the KDC (or the keytab) answered to the TGT or the ticket for server. */
static int krb_kdc_fail(const struct zp_krb *k, krb5_error_code code, const char *server,
                        struct zp_err *err)
{
    const char *who = k->client, *where = k->keytab.where, *realm = k->realm;

    zp_log(ZP_LOG_WARN, "kerberos refused", ZP_S("principal", who), ZP_S("server", server),
           ZP_S("krb5", error_message(code)), ZP_END);
    switch (code) {
    case KRB5_KDC_UNREACH:
    case KRB5_REALM_CANT_RESOLVE:
    case KRB5_REALM_UNKNOWN:
        return zp_err_set(err, ZP_ETRANSIENT,
                          "cannot reach a Kerberos KDC for realm %s; check %s, that the KDC (the "
                          "domain controller) is up and that TCP port 88 is open from this host",
                          realm, krb_kdc_source(k));
    case KRB5KRB_AP_ERR_SKEW:
        return zp_err_set(err, ZP_EAUTH,
                          "the Kerberos KDC for realm %s refused %s because the clocks of this "
                          "host and the KDC differ by more than the allowed skew (5 minutes by "
                          "default); fix NTP on this host and on the domain controller",
                          realm, who);
    case KRB5_KT_NOTFOUND:
    case KRB5_KT_END:
        return zp_err_set(
            err, ZP_ECONFIG,
            "kerberos.%s: %s holds no key for %s; export one for that principal (Windows: "
            "ktpass -princ %s; Samba: samba-tool domain exportkeytab FILE "
            "--principal=%s)",
            k->keytab.setting, where, who, who, who);
    case KRB5_KT_KVNONOTFOUND:
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
    case KRB5KDC_ERR_ETYPE_NOSUPP:
        return zp_err_set(err, ZP_EAUTH,
                          "the Kerberos KDC for realm %s does not accept the key of %s in %s: the "
                          "account's password, and so its key version (kvno), changed after the "
                          "keytab was exported; export a new keytab and update kerberos.%s",
                          realm, who, where, k->keytab.setting);
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
        return zp_err_set(err, ZP_EAUTH,
                          "the Kerberos KDC for realm %s does not know principal %s; check "
                          "kerberos.principal, or create the account",
                          realm, who);
    case KRB5KDC_ERR_CLIENT_REVOKED:
    case KRB5KDC_ERR_KEY_EXP:
        return zp_err_set(err, ZP_EAUTH,
                          "the Kerberos KDC for realm %s refuses %s: the account is disabled, "
                          "locked out or its password expired; enable it (and set its password "
                          "never to expire), then export a new keytab",
                          realm, who);
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
        return zp_err_set(err, ZP_ECONFIG,
                          "the Kerberos KDC for realm %s knows no service principal %s, so no "
                          "ticket for the DNS server can be had; set kerberos.serverPrincipal to "
                          "the DNS server's name (list them: setspn -L <the DC's account> on "
                          "Windows, samba-tool spn list <account> on Samba) or register it "
                          "(setspn -S, samba-tool spn add)",
                          realm, server);
    default:
        return zp_err_set(err, ZP_EAUTH,
                          "the Kerberos KDC for realm %s refused a ticket for %s to %s: %s", realm,
                          who, server, error_message(code));
    }
}

/* Whether the KDC's time t (a ticket's authtime) is further from ours than Kerberos allows. */
static int krb_skewed(krb5_timestamp t)
{
    long long d = (long long)(uint32_t)t - (long long)time(NULL);

    return d > KRB_SKEW_S || d < -KRB_SKEW_S;
}

/* The TGT with the keytab into cc, then the ticket for server, which lands there too. */
static krb5_error_code krb_tickets(const struct zp_krb *k, const struct zp_prov_call *call,
                                   krb5_context kctx, krb5_ccache cc, krb5_principal client,
                                   const char *server, const struct krb_route *r,
                                   struct zp_err *err)
{
    krb5_get_init_creds_opt *opt = NULL;
    krb5_keytab kt = NULL;
    krb5_creds tgt, in, *svc = NULL;
    krb5_principal srv = NULL;
    krb5_error_code code;
    int fd = -1;

    memset(&tgt, 0, sizeof(tgt));
    memset(&in, 0, sizeof(in));
    if (krb_keytab_open(k, call, kctx, &kt, &fd, err) == -1)
        return -1;
    if ((code = krb5_cc_initialize(kctx, cc, client)) != 0 ||
        (code = krb5_get_init_creds_opt_alloc(kctx, &opt)) != 0 ||
        (code = krb5_get_init_creds_opt_set_out_ccache(kctx, opt, cc)) != 0)
        goto out;
    krb5_get_init_creds_opt_set_forwardable(opt, 0);
    if ((code = krb5_get_init_creds_keytab(kctx, &tgt, client, kt, 0, NULL, opt)) != 0)
        goto out;
    /*
     * MIT's client takes the KDC's time for its pre-authentication, so a
     * skewed clock passes the KDC and fails only at the DNS server, as a
     * bare TKEY refusal. The ticket's authtime is the KDC's clock: compare.
     */
    if (krb_skewed(tgt.times.authtime)) {
        code = KRB5KRB_AP_ERR_SKEW;
        goto out;
    }
    if ((code = krb5_parse_name(kctx, server, &srv)) != 0)
        goto out;
    in.client = client;
    in.server = srv;
    code = krb5_get_credentials(kctx, 0, cc, &in, &svc);
out:
    if (code == KRB5_KDC_UNREACH && r->timed_out)
        zp_err_set(err, ZP_ETIMEOUT,
                   "no Kerberos KDC for realm %s answered in time; check %s, that the KDC (the "
                   "domain controller) is up and answering, and that TCP port 88 is open from "
                   "this host",
                   k->realm, krb_kdc_source(k));
    else if (code != 0)
        krb_kdc_fail(k, code, server, err);
    krb5_free_creds(kctx, svc);
    krb5_free_principal(kctx, srv);
    krb5_free_cred_contents(kctx, &tgt);
    krb5_get_init_creds_opt_free(kctx, opt);
    if (kt != NULL)
        krb5_kt_close(kctx, kt);
    if (fd != -1)
        close(fd);
    return code != 0 ? -1 : 0;
}

int zp_krb_acquire(const struct zp_krb *k, const struct zp_prov_call *call, const char *server,
                   uint64_t deadline_ms, struct zp_krb_cred *out, struct zp_err *err)
{
    krb5_context kctx = NULL;
    krb5_ccache cc = NULL;
    krb5_principal client = NULL;
    gss_buffer_desc name = {.length = strlen(server), .value = (void *)server};
    struct krb_route route;
    OM_uint32 major, minor;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (zp_ms_left(deadline_ms) == 0)
        return zp_err_set(err, ZP_ETIMEOUT, "no time was left to ask the Kerberos KDC for %s",
                          k->client);
    if (krb_context(k, &kctx, err) == -1)
        return -1;
    krb_route_begin(k, kctx, deadline_ms, &route);
    if (krb5_parse_name(kctx, k->client, &client) != 0 ||
        krb5_cc_new_unique(kctx, "MEMORY", NULL, &cc) != 0) {
        zp_err_set(err, ZP_EINTERNAL, "cannot set up a memory credential cache for %s", k->client);
        goto out;
    }
    if (krb_tickets(k, call, kctx, cc, client, server, &route, err) == -1)
        goto out;
    major = gss_krb5_import_cred(&minor, cc, client, NULL, &out->cred);
    if (major == GSS_S_COMPLETE)
        major = gss_import_name(&minor, &name, GSS_KRB5_NT_PRINCIPAL_NAME, &out->target);
    if (GSS_ERROR(major)) {
        zp_err_set(err, ZP_EINTERNAL, "cannot make a GSS-API credential of the tickets of %s",
                   k->client);
        goto out;
    }
    out->kctx = kctx;
    out->cc = cc;
    kctx = NULL;
    cc = NULL;
    rc = 0;
out:
    krb_route_end(kctx != NULL ? kctx : out->kctx, &route); /* out keeps kctx: no hook left */
    krb5_free_principal(kctx, client);
    if (rc == -1)
        zp_krb_release(out);
    if (cc != NULL)
        krb5_cc_destroy(kctx, cc);
    if (kctx != NULL)
        krb5_free_context(kctx);
    return rc;
}

void zp_krb_release(struct zp_krb_cred *c)
{
    OM_uint32 minor;

    if (c->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &c->cred);
    if (c->target != GSS_C_NO_NAME)
        gss_release_name(&minor, &c->target);
    if (c->cc != NULL)
        krb5_cc_destroy(c->kctx, c->cc);
    if (c->kctx != NULL)
        krb5_free_context(c->kctx);
    memset(c, 0, sizeof(*c));
}

/* One line of GSS-API's text for status code v of type t, into out. */
static void krb_gss_text(OM_uint32 v, int t, char *out, size_t n)
{
    OM_uint32 minor, more = 0;
    gss_buffer_desc b = GSS_C_EMPTY_BUFFER;

    out[0] = '\0';
    if (gss_display_status(&minor, v, t, GSS_C_NO_OID, &more, &b) == GSS_S_COMPLETE) {
        snprintf(out, n, "%.*s", (int)b.length, (const char *)b.value);
        gss_release_buffer(&minor, &b);
    }
}

int zp_krb_gss_fail(const struct zp_krb *k, uint32_t major, uint32_t minor, const char *nameserver,
                    const char *server, struct zp_err *err)
{
    char mj[160], mn[200];

    krb_gss_text(major, GSS_C_GSS_CODE, mj, sizeof(mj));
    krb_gss_text(minor, GSS_C_MECH_CODE, mn, sizeof(mn));
    zp_log(ZP_LOG_WARN, "gss-api failed", ZP_S("nameserver", nameserver), ZP_S("server", server),
           ZP_S("major", mj), ZP_S("minor", mn), ZP_END);
    if ((krb5_error_code)minor == KRB5KRB_AP_ERR_SKEW)
        return krb_kdc_fail(k, KRB5KRB_AP_ERR_SKEW, server, err);
    if ((krb5_error_code)minor == KRB5KRB_AP_ERR_MODIFIED ||
        (krb5_error_code)minor == KRB5KRB_AP_ERR_BADKEYVER)
        return zp_err_set(err, ZP_EAUTH,
                          "%s could not read the Kerberos ticket for %s: its own key for that "
                          "name differs from the KDC's (BIND: the keytab of tkey-gssapi-keytab is "
                          "stale; Windows/Samba: the SPN is registered on another account); make "
                          "the server's key current, or set kerberos.serverPrincipal to the name "
                          "the server holds",
                          nameserver, server);
    return zp_err_set(err, ZP_EAUTH, "the GSS-TSIG negotiation with %s as %s for %s failed: %s%s%s",
                      nameserver, k->client, server, mj, mn[0] ? ": " : "", mn);
}
