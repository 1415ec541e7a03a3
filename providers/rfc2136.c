/*
 * rfc2136.c — the rfc2136 provider: one DNS UPDATE (RFC 2136) per call to
 * the zone's primary, signed with TSIG (RFC 8945) when a key is configured.
 *
 * Present adds exactly one RR and cleanup deletes exactly that RR (class
 * NONE): the server's own semantics make both idempotent and leave sibling
 * values alone, so no lock and no read-modify-write are needed. An RRset
 * delete before the add would wipe the other value of an apex + wildcard
 * pair that validates at the same name.
 *
 * ldns builds the messages and tsig.c signs them and checks the replies'
 * signatures (ldns would leave the key in freed memory); the exchange is
 * rfc2136_net.c's rather than ldns_resolver_send_pkt's, because that call
 * throws the reply away when its signature does not verify, and an
 * unsigned BADKEY or BADSIG reply is exactly the one whose TSIG error tells
 * the user what to fix. Nothing is shared between calls.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/gss.h"
#include "providers/krb.h"
#include "providers/provider.h"
#include "providers/rfc2136_int.h"
#include "providers/settings.h"
#include "providers/tsig.h"

#define RFC_SECRET_MAX 4096 /* a BIND secret is under 100 bytes; anything larger is a mistake */
#define RFC_TIMEOUT_DEFAULT_MS 5000u
#define RFC_TIMEOUT_MAX_MS 60000u
#define RFC_TXT_MAX 1024 /* octets of one TXT value, split into 255-octet strings */

/*
 * Read by hand once the key name is known good: a secret without a key
 * name is that mistake; kerberos only with tsigAlgorithm gss-tsig.
 */
static const char *const rfc_keys[] = {ZP_CRED_KEYS("tsigSecret"), "kerberos", NULL};

/* Read as written; rfc_config_parse checks how they go together. */
static const struct zp_setting rfc_settings[] = {
    ZP_SET_S(struct rfc_cfg, "nameserver", nameserver, 1),
    ZP_SET_S(struct rfc_cfg, "tsigKeyName", key, 0),
    ZP_SET_SD(struct rfc_cfg, "tsigAlgorithm", alg_name, "hmac-sha256"),
    ZP_SET_SD(struct rfc_cfg, "protocol", protocol, "udp"),
    ZP_SET_D(struct rfc_cfg, "timeout", timeout_ms, RFC_TIMEOUT_DEFAULT_MS, 100,
             RFC_TIMEOUT_MAX_MS),
    ZP_SET_Z(struct rfc_cfg, "zone", zone, 0),
    ZP_SET_O(struct rfc_cfg, key_wire),
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

/*
 * Reads the TSIG secret (file or Secret reference) into b, trimmed and
 * checked. call may be NULL for a file (at configuration time). The caller
 * wipes b.
 */
static int rfc_secret_load(const struct rfc_cfg *cfg, const struct zp_prov_call *call,
                           struct zp_buf *b, struct zp_err *err)
{
    const char *setting = cfg->secret.setting, *where = cfg->secret.where;

    if (zp_cred_read(&cfg->secret, call, b, err) == -1)
        return -1;
    if (strpbrk(b->data, "{\";") != NULL)
        return zp_err_set(err, ZP_ECONFIG,
                          "%s: %s holds a key statement; it must hold only the base64 "
                          "text between the quotes after \"secret\"",
                          setting, where);
    /* Strict (no line breaks) and not empty: the secret must be what BIND holds. */
    if (zp_b64_decoded_len(b->data, b->len, 0) <= 0)
        return zp_err_set(err, ZP_ECONFIG,
                          "%s: %s does not hold base64 text (as in the secret of a "
                          "BIND key statement)",
                          setting, where);
    return 0;
}

static void rfc_config_free(void *p)
{
    struct rfc_cfg *cfg = p;

    if (cfg != NULL) {
        zp_cred_free(&cfg->secret);
        zp_krb_free(cfg->krb);
        zp_gss_cache_free(cfg->gss);
    }
    zp_settings_free(rfc_settings, cfg);
}

static int rfc_check_nameserver(struct rfc_cfg *cfg, const struct zp_ynode *node, const char *path,
                                struct zp_err *err)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *ai = NULL;
    const char *s = cfg->nameserver;
    char why[192];

    if (zp_hostport_parse(s, 53, cfg->host, sizeof(cfg->host), &cfg->port, why, sizeof(why)) == -1)
        return zp_y_fail(zp_y_get(node, "nameserver"), path, err,
                         "nameserver \"%s\" is not host:port: %s; write host, host:port, "
                         "IPv4:port or [IPv6]:port",
                         s, why);
    cfg->numeric = getaddrinfo(cfg->host, NULL, &hints, &ai) == 0;
    if (ai != NULL)
        freeaddrinfo(ai);
    return 0;
}

/* GSS-TSIG: the kerberos settings, and none of the shared key's. */
static int rfc_check_gss(struct rfc_cfg *cfg, const struct zp_ynode *node, const char *path,
                         struct zp_err *err)
{
    const char *shared = cfg->key                                ? "tsigKeyName"
                         : zp_y_get(node, "tsigSecretFile")      ? "tsigSecretFile"
                         : zp_y_get(node, "tsigSecretSecretRef") ? "tsigSecretSecretRef"
                                                                 : NULL;

    if (cfg->alg->digest != NULL)
        return zp_y_fail(zp_y_get(node, "kerberos"), path, err,
                         "kerberos is for tsigAlgorithm: gss-tsig (Kerberos, as Active Directory "
                         "and BIND's tkey-gssapi-keytab use); remove it or set tsigAlgorithm");
    if (shared != NULL)
        return zp_y_fail(zp_y_get(node, shared), path, err,
                         "%s is for a shared TSIG key; with tsigAlgorithm %s the key is "
                         "negotiated with Kerberos: remove %s",
                         shared, cfg->alg->name, shared);
    if (zp_y_get(node, "kerberos") == NULL)
        return zp_y_fail(node, path, err,
                         "tsigAlgorithm %s needs kerberos (principal and keytabFile or "
                         "keytabSecretRef at least)",
                         cfg->alg->name);
    if (zp_krb_parse(zp_y_get(node, "kerberos"), path, &cfg->krb, err) == -1)
        return -1;
    cfg->gss = zp_gss_cache_new();
    return 0;
}

/* The key name, algorithm and secret: all of them for signed updates, or none. */
static int rfc_check_tsig(struct rfc_cfg *cfg, const struct zp_ynode *node, const char *path,
                          struct zp_err *err)
{
    const char *key = cfg->key, *given;
    struct zp_err ferr = {0};
    struct zp_buf secret;
    char why[128], canon[ZP_DNAME_MAX];
    int rc = -1;

    zp_buf_init(&secret, RFC_SECRET_MAX);
    given = zp_y_get(node, "tsigSecretFile")        ? "tsigSecretFile"
            : zp_y_get(node, "tsigSecretSecretRef") ? "tsigSecretSecretRef"
                                                    : NULL;
    cfg->alg = zp_tsig_alg_find(cfg->alg_name);
    if (cfg->alg == NULL) {
        zp_y_fail(zp_y_get(node, "tsigAlgorithm"), path, err,
                  "tsigAlgorithm \"%s\" is not supported (use hmac-sha256, hmac-sha512, "
                  "gss-tsig for Kerberos (Active Directory), or for old servers hmac-sha1 or "
                  "hmac-md5)",
                  cfg->alg_name);
        goto out;
    }
    if (cfg->alg->digest == NULL || zp_y_get(node, "kerberos") != NULL) {
        rc = rfc_check_gss(cfg, node, path, err);
        goto out;
    }
    if (key == NULL) {
        if (given != NULL || zp_y_get(node, "tsigAlgorithm") != NULL) {
            zp_y_fail(node, path, err, "%s needs tsigKeyName (the name of the key on the server)",
                      given != NULL ? given : "tsigAlgorithm");
            goto out;
        }
        zp_log(ZP_LOG_WARN,
               "rfc2136: no tsigKeyName, updates are sent unsigned; any host that can reach the "
               "server may then change the zone",
               ZP_S("provider", path), ZP_END);
        rc = 0;
        goto out;
    }
    if (zp_dname_check(key, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(key, canon, sizeof(canon)) == -1) {
        zp_y_fail(zp_y_get(node, "tsigKeyName"), path, err,
                  "tsigKeyName \"%s\" is not a valid key name: %s", key, why);
        goto out;
    }
    if (given == NULL) {
        zp_y_fail(node, path, err,
                  "tsigKeyName needs tsigSecretFile (a file holding the key's base64 secret) or "
                  "tsigSecretSecretRef (a Secret in the Issuer's namespace)");
        goto out;
    }
    if (zp_cred_parse(node, path, "tsigSecret", 1, &cfg->secret, err) == -1)
        goto out;
    cfg->key_wire = zp_xstrdup(canon);
    /*
     * A file is checked now so a typo fails at start; a Secret can only be
     * read for a request (its namespace is the request's). Both are read
     * again on every call because Secrets rotate.
     */
    if (cfg->secret.file != NULL && rfc_secret_load(cfg, NULL, &secret, &ferr) == -1) {
        zp_y_fail(zp_y_get(node, "tsigSecretFile"), path, err, "%s", ferr.msg);
        goto out;
    }
    if (cfg->alg->weak)
        zp_log(ZP_LOG_WARN, "rfc2136: tsigAlgorithm is insecure; move the key to hmac-sha256",
               ZP_S("provider", path), ZP_S("algorithm", cfg->alg->name), ZP_END);
    rc = 0;
out:
    zp_buf_free_secret(&secret);
    return rc;
}

static int rfc_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                            struct zp_err *err)
{
    struct rfc_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    int rc = -1;

    if (zp_settings_parse(node, path, rfc_settings, cfg, err) == -1 ||
        rfc_check_nameserver(cfg, node, path, err) == -1 ||
        rfc_check_tsig(cfg, node, path, err) == -1)
        goto out;
    if (strcasecmp(cfg->protocol, "udp") != 0 && strcasecmp(cfg->protocol, "tcp") != 0) {
        zp_y_fail(zp_y_get(node, "protocol"), path, err, "protocol must be udp or tcp, not \"%s\"",
                  cfg->protocol);
        goto out;
    }
    cfg->tcp = strcasecmp(cfg->protocol, "tcp") == 0;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    rfc_config_free(cfg);
    return rc;
}

/* ---- the exchange ------------------------------------------------------------------------- */

/*
 * No answer from the server, whether its own timeout or the request's
 * deadline ended the wait (timing only: one sentence, the figures logged).
 */
static int rfc_no_answer(const struct rfc_op *op, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;

    zp_log(ZP_LOG_DEBUG, "rfc2136 no answer", ZP_S("nameserver", cfg->nameserver),
           ZP_I("timeout_ms", cfg->timeout_ms), ZP_I("left_ms", zp_ms_left(op->call->deadline_ms)),
           ZP_END);
    return zp_err_set(
        err, ZP_ETRANSIENT,
        "no answer from %s to the update of TXT at %s; check nameserver, that it is "
        "reachable from this host, the firewall (port %u %s) and that the server is up",
        cfg->nameserver, op->rec->fqdn, cfg->port, cfg->tcp ? "TCP" : "UDP and TCP");
}

/* Sends q to each address of the nameserver in turn; the sentence when none answers. */
static int rfc_exchange(const struct rfc_op *op, const uint8_t *q, size_t qlen,
                        struct zp_buf *reply, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICSERV | (cfg->numeric ? AI_NUMERICHOST : 0)};
    struct addrinfo *res = NULL;
    enum zp_rfc_net net;
    char port[8];
    int rc = -1, g, eno = 0;

    snprintf(port, sizeof(port), "%u", cfg->port);
    g = getaddrinfo(cfg->host, port, &hints, &res);
    if (g != 0) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "cannot resolve nameserver %s: %s; check the name in nameserver",
                   cfg->nameserver, gai_strerror(g));
        goto out;
    }
    net = zp_rfc_send(res, cfg->tcp || op->tcp, cfg->timeout_ms, op->call->deadline_ms, q, qlen,
                      reply, &eno);
    if (net == ZP_RFC_NET_OK) {
        rc = 0;
        goto out;
    }
    /* Whether the deadline or the server's own timeout ended the wait is timing: one sentence. */
    if (net == ZP_RFC_NET_TIMEOUT || zp_ms_left(op->call->deadline_ms) == 0)
        rfc_no_answer(op, err);
    else if (net == ZP_RFC_NET_REFUSED)
        zp_err_set(err, ZP_ETRANSIENT,
                   "connection refused by %s (no DNS server listening there); check nameserver and "
                   "the server's listen-on and firewall",
                   cfg->nameserver);
    else
        zp_err_set(
            err, ZP_ETRANSIENT,
            "cannot exchange the update with %s: %s; check nameserver and the network path to it",
            cfg->nameserver, strerror(eno));
out:
    if (res != NULL)
        freeaddrinfo(res);
    return rc;
}

/* ---- the update --------------------------------------------------------------------------- */

/*
 * The probe's prerequisite: "_zoneproof-probe.<fqdn> is in use" (RFC 2136
 * 2.4.4: class ANY, type ANY, no rdata). That name never exists, so the
 * server answers NXDOMAIN after checking the key and its authority for the
 * zone, and applies nothing.
 */
static int rfc_probe_prereq(const char *fqdn, ldns_rr_list **out)
{
    char name[ZP_DNAME_MAX + 32];
    ldns_rdf *owner;
    ldns_rr *rr;

    snprintf(name, sizeof(name), "_zoneproof-probe.%s", fqdn);
    owner = ldns_dname_new_frm_str(name);
    rr = ldns_rr_new();
    *out = ldns_rr_list_new();
    if (owner == NULL || rr == NULL || *out == NULL) {
        ldns_rdf_deep_free(owner);
        ldns_rr_free(rr);
        return -1;
    }
    ldns_rr_set_owner(rr, owner);
    ldns_rr_set_type(rr, LDNS_RR_TYPE_ANY);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
    ldns_rr_set_ttl(rr, 0);
    ldns_rr_list_push_rr(*out, rr);
    return 0;
}

/*
 * The TXT rdata of value: character-strings of 255 octets, the last one
 * shorter (RFC 1035 3.3.14; the CA joins them back, draft-ietf-acme-dns-
 * persist). A deletion must carry the same strings as the addition, so the
 * split is always the same: a value split otherwise elsewhere stays.
 */
static int rfc_txt_rdata(ldns_rr *rr, const char *value, size_t vlen)
{
    size_t off = 0;

    do {
        size_t n = vlen - off > 255 ? 255 : vlen - off;
        uint8_t data[256];
        ldns_rdf *txt;

        data[0] = (uint8_t)n;
        memcpy(data + 1, value + off, n);
        txt = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, data);
        if (txt == NULL || !ldns_rr_push_rdf(rr, txt)) {
            ldns_rdf_deep_free(txt);
            return -1;
        }
        off += n;
    } while (off < vlen);
    return 0;
}

/* The UPDATE message: zone section = apex, no prerequisites, one RR to add or delete. */
static int rfc_build(const struct rfc_op *op, ldns_pkt **pktp, struct zp_err *err)
{
    size_t vlen = strlen(op->rec->value);
    ldns_rr_list *updates = NULL, *prereq = NULL;
    ldns_rdf *zone = NULL, *owner = NULL;
    ldns_rr *rr = NULL;
    uint16_t id;
    int rc = -1;

    if (vlen > RFC_TXT_MAX)
        return zp_err_set(err, ZP_EINVAL, "TXT value for %s is %zu bytes; at most %d are written",
                          op->rec->fqdn, vlen, RFC_TXT_MAX);
    zone = ldns_dname_new_frm_str(op->zone);
    owner = ldns_dname_new_frm_str(op->rec->fqdn);
    rr = ldns_rr_new();
    updates = ldns_rr_list_new();
    if (zone == NULL || owner == NULL || rr == NULL || updates == NULL ||
        rfc_txt_rdata(rr, op->rec->value, vlen) == -1) {
        zp_err_set(err, ZP_EINVAL, "cannot build an update for %s in zone %s: not valid DNS names",
                   op->rec->fqdn, op->zone);
        goto out;
    }
    ldns_rr_set_owner(rr, owner);
    owner = NULL;
    ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
    /* Deletion of one RR: class NONE, TTL 0, the same rdata (RFC 2136 2.5.4). */
    ldns_rr_set_class(rr, op->del ? LDNS_RR_CLASS_NONE : LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, op->del ? 0 : op->rec->ttl);
    ldns_rr_list_push_rr(updates, rr);
    rr = NULL;
    if (op->probe && rfc_probe_prereq(op->rec->fqdn, &prereq) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the probe for %s", op->rec->fqdn);
        goto out;
    }
    *pktp = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, prereq, updates, NULL);
    zone = NULL; /* owned by the packet (or freed) now; the lists were copied */
    if (*pktp == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the update for %s", op->rec->fqdn);
        goto out;
    }
    ldns_pkt_set_rd(*pktp, false); /* that bit is Z in an UPDATE and must be zero */
    if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
        id = ldns_get_random();
    ldns_pkt_set_id(*pktp, id);
    rc = 0;
out:
    ldns_rdf_deep_free(zone);
    ldns_rdf_deep_free(owner);
    ldns_rr_free(rr);
    ldns_rr_list_deep_free(updates);
    ldns_rr_list_deep_free(prereq);
    return rc;
}

/* The TSIG error a reply carries, 0 if none or unsigned. */
int zp_rfc_tsig_error(const ldns_pkt *reply)
{
    const ldns_rr *t = ldns_pkt_tsig(reply);

    if (t == NULL || ldns_rr_rd_count(t) < 7 || ldns_rdf_size(ldns_rr_rdf(t, 5)) != 2)
        return 0;
    return ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
}

/* The UPDATE for op in wire form into wire: rfc_build's packet, encoded. */
static int rfc_encode(const struct rfc_op *op, struct zp_buf *wire, struct zp_err *err)
{
    ldns_pkt *q = NULL;
    uint8_t *w = NULL;
    size_t wlen = 0;
    int rc = -1;

    if (rfc_build(op, &q, err) == -1)
        return -1;
    if (ldns_pkt2wire(&w, q, &wlen) == LDNS_STATUS_OK && zp_buf_append(wire, w, wlen) == 0)
        rc = 0;
    else
        zp_err_set(err, ZP_EINTERNAL, "cannot encode the update for %s", op->rec->fqdn);
    free(w);
    ldns_pkt_free(q);
    return rc;
}

/* How a request is signed: the shared key's secret, or a GSS-TSIG context. */
struct rfc_sig {
    struct zp_tsig_key key;
    struct zp_buf secret;
    struct zp_tsig_mac mac;
    struct zp_gss_ctx *ctx;
    int fresh; /* ctx was negotiated for this update */
};

/* GSS-TSIG's TKEY and SOA queries go through the update's own exchange (over TCP if tcp). */
static int rfc_gss_send(void *arg, const uint8_t *q, size_t qlen, int tcp, struct zp_buf *reply,
                        struct zp_err *err)
{
    struct rfc_op op = *(const struct rfc_op *)arg;

    op.tcp = tcp;
    return rfc_exchange(&op, q, qlen, reply, err);
}

/* The key to sign op with: the secret read now, or a context (negotiated if none is usable). */
static int rfc_key(const struct rfc_op *op, struct rfc_sig *sig, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    struct zp_gss_peer peer = {.krb = cfg->krb,
                               .alg = cfg->alg,
                               .nameserver = cfg->nameserver,
                               .zone = op->zone,
                               .deadline_ms = op->call->deadline_ms,
                               .send = rfc_gss_send,
                               .arg = (void *)op};

    sig->key.alg = cfg->alg;
    if (cfg->krb == NULL) {
        if (rfc_secret_load(cfg, op->call, &sig->secret, err) == -1)
            return -1;
        sig->key.name = cfg->key_wire;
        sig->key.secret = sig->secret.data;
        sig->key.secret_len = sig->secret.len;
        return 0;
    }
    if (zp_gss_get(cfg->gss, zp_krb_per_namespace(cfg->krb) ? op->call->resource_namespace : NULL,
                   &peer, op->call, &sig->ctx, &sig->fresh, err) == -1)
        return -1;
    sig->key.name = zp_gss_key_name(sig->ctx);
    sig->key.mic = zp_gss_mic(sig->ctx);
    sig->key.lax = 1;
    return 0;
}

/*
 * The signed UPDATE for op in wire, once the name is inside the zone and
 * the deadline has time left; sig keeps the key and the request's MAC,
 * for checking the reply.
 */
static int rfc_prepare(const struct rfc_op *op, struct zp_buf *wire, struct rfc_sig *sig,
                       struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    const struct zp_record *rec = op->rec;

    if (!zp_dname_in_zone(rec->fqdn, op->zone))
        return zp_err_set(err, ZP_ECONFIG, "%s is not inside zone %s; %s", rec->fqdn, op->zone,
                          cfg->zone
                              ? "set zone to the apex of the zone that holds it, or remove zone"
                              : zp_prov_zone_unheld(op->call));
    if (zp_ms_left(op->call->deadline_ms) == 0)
        return rfc_no_answer(op, err);
    if (rfc_encode(op, wire, err) == -1)
        return -1;
    if (cfg->key == NULL && cfg->krb == NULL)
        return 0;
    if (sig->key.name == NULL && rfc_key(op, sig, err) == -1)
        return -1;
    if (zp_tsig_sign(&sig->key, (uint64_t)time(NULL), wire, &sig->mac, err) == -1) {
        zp_err_wrap(err, "cannot sign the update for %s with %s (%s)", rec->fqdn,
                    cfg->krb ? zp_krb_principal(cfg->krb) : cfg->key, cfg->alg->name);
        return -1;
    }
    return 0;
}

/* Sends wire and parses the reply: its wire form in reply (for the TSIG check), parsed in *r. */
static int rfc_transact(const struct rfc_op *op, const struct zp_buf *wire, struct zp_buf *reply,
                        ldns_pkt **r, struct zp_err *err)
{
    if (rfc_exchange(op, (const uint8_t *)wire->data, wire->len, reply, err) == -1)
        return -1;
    if (zp_tsig_wire2pkt(r, (const uint8_t *)reply->data, reply->len) != LDNS_STATUS_OK)
        return zp_err_set(err, ZP_ETRANSIENT,
                          "%s sent a reply to the update of TXT at %s that is not a DNS message",
                          op->cfg->nameserver, op->rec->fqdn);
    return 0;
}

/* The reply's signature: *check, and its TSIG error. */
static int rfc_check_sig(const struct rfc_op *op, ldns_pkt *r, const struct zp_buf *reply,
                         const struct rfc_sig *sig, enum zp_tsig_check *check, int *tsig_error,
                         struct zp_err *err)
{
    *check = ZP_TSIG_UNSIGNED;
    *tsig_error = 0;
    if (sig->key.name == NULL)
        return 0;
    *tsig_error = zp_rfc_tsig_error(r);
    if (zp_tsig_verify(&sig->key, &sig->mac, (uint64_t)time(NULL), (const uint8_t *)reply->data,
                       reply->len, check, err) == -1)
        return -1;
    if (*check == ZP_TSIG_OK_LAX)
        zp_log(ZP_LOG_DEBUG,
               "rfc2136: the server signs without the request MAC's length (Samba, Active "
               "Directory); accepted",
               ZP_S("server", op->cfg->nameserver), ZP_END);
    return 0;
}

/*
 * What the reply r (reply in wire form) to a request signed as sig says,
 * once logged: 0 for an update applied by a server that proved it holds
 * the key, or a probe refused as designed.
 */
static int rfc_judge(const struct rfc_op *op, ldns_pkt *r, const struct zp_buf *reply,
                     const struct rfc_sig *sig, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    const struct zp_record *rec = op->rec;
    const char *signer = cfg->krb ? zp_krb_principal(cfg->krb) : cfg->key;
    int rcode = ldns_pkt_get_rcode(r), tsig_error, verified;
    enum zp_tsig_check check;

    if (rfc_check_sig(op, r, reply, sig, &check, &tsig_error, err) == -1)
        return -1;
    verified = check == ZP_TSIG_OK || check == ZP_TSIG_OK_LAX;
    zp_log(ZP_LOG_INFO, "rfc2136 update", ZP_S("instance", op->call->instance),
           ZP_S("action", op->probe ? "probe"
                          : op->del ? "delete"
                                    : "add"),
           ZP_S("server", cfg->nameserver), ZP_S("zone", op->zone), ZP_S("fqdn", rec->fqdn),
           ZP_S("value", rec->value), ZP_S("rcode", zp_rfc_rcode_name(rcode)),
           ZP_S("tsig_error", tsig_error ? zp_rfc_rcode_name(tsig_error) : "none"),
           ZP_B("reply_has_tsig", ldns_pkt_tsig(r) != NULL), ZP_B("signed_reply_ok", verified),
           ZP_S("reply_tsig_check", signer ? zp_tsig_check_name(check) : "none"), ZP_END);
    if (op->probe && rcode == LDNS_RCODE_NXDOMAIN && tsig_error == 0 && (!signer || verified)) {
        snprintf(err->msg, sizeof(err->msg),
                 "%s accepts %s for updates of zone %s (proven by "
                 "an update whose prerequisite fails, so nothing changed); whether the "
                 "update-policy grants TXT at %s shows only in a write test",
                 cfg->nameserver, signer ? signer : "unsigned updates", op->zone, rec->fqdn);
        return 0;
    }
    if (rcode != LDNS_RCODE_NOERROR || tsig_error != 0)
        return zp_rfc_explain(op, rcode, tsig_error, verified, err);
    /* Success is believed only when the server proves it holds the key. */
    if (signer != NULL && !verified)
        return zp_err_set(err, ZP_EAUTH,
                          "%s answered the update of TXT at %s without a valid signature of %s%s, "
                          "so the answer cannot be trusted; check that nameserver is the server "
                          "itself and not a proxy that strips or rewrites TSIG",
                          cfg->nameserver, rec->fqdn,
                          cfg->krb ? "the GSS-TSIG context of " : "key ", signer);
    return 0;
}

static void rfc_sig_done(const struct rfc_cfg *cfg, struct rfc_sig *sig)
{
    if (sig->ctx != NULL)
        zp_gss_put(cfg->gss, sig->ctx);
    zp_buf_free_secret(&sig->secret);
    memset(&sig->key, 0, sizeof(sig->key));
    sig->ctx = NULL;
}

/*
 * Whether a failed update should go again on a new GSS-TSIG context: the
 * cached one was refused by the server (it restarted or let the context
 * expire: BADKEY, BADSIG, NOTAUTH) or expired here. Once per update. A
 * refused context is forgotten either way; one negotiated for this very
 * update is not negotiated again at once (another would fare no better).
 */
static int rfc_renew(const struct rfc_cfg *cfg, struct rfc_sig *sig, int upstream)
{
    if (sig->ctx == NULL)
        return 0;
    if (!zp_gss_expired(sig->ctx) && upstream != ZP_TSIG_ERR_BADKEY &&
        upstream != ZP_TSIG_ERR_BADSIG && upstream != LDNS_RCODE_NOTAUTH)
        return 0;
    if (!sig->fresh)
        zp_log(ZP_LOG_INFO, "rfc2136: the server no longer accepts the GSS-TSIG context; renewing",
               ZP_S("server", cfg->nameserver), ZP_S("key", zp_gss_key_name(sig->ctx)), ZP_END);
    zp_gss_drop(cfg->gss, sig->ctx);
    rfc_sig_done(cfg, sig);
    return !sig->fresh;
}

/* One signed exchange of the update. */
static int rfc_update_once(const struct rfc_op *op, struct rfc_sig *sig, struct zp_err *err)
{
    struct zp_buf query, reply;
    ldns_pkt *r = NULL;
    int rc = -1;

    zp_buf_init(&query, ZP_RFC_MSG_MAX);
    zp_buf_init(&reply, ZP_RFC_MSG_MAX);
    if (rfc_prepare(op, &query, sig, err) == 0 && rfc_transact(op, &query, &reply, &r, err) == 0)
        rc = rfc_judge(op, r, &reply, sig, err);
    zp_buf_free(&query);
    zp_buf_free(&reply);
    ldns_pkt_free(r);
    return rc;
}

static int rfc_update(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                      int del, struct zp_err *err)
{
    const struct rfc_cfg *cfg = p;
    struct rfc_op op = {.cfg = cfg, .rec = rec, .call = call, .del = del != 0, .probe = del == 2};
    struct rfc_sig sig = {.mac = {.len = 0}};
    int rc;

    zp_buf_init(&sig.secret, RFC_SECRET_MAX);
    op.zone = cfg->zone ? cfg->zone : rec->zone;
    rc = rfc_update_once(&op, &sig, err);
    if (rc == -1 && rfc_renew(cfg, &sig, err->upstream)) {
        memset(err, 0, sizeof(*err));
        sig.mac.len = 0;
        rc = rfc_update_once(&op, &sig, err);
    }
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "rfc2136 update failed", ZP_S("instance", call->instance),
               ZP_S("server", cfg->nameserver), ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg),
               ZP_END);
    rfc_sig_done(cfg, &sig);
    return rc;
}

static int rfc_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                       struct zp_err *err)
{
    return rfc_update(cfg, rec, call, 0, err);
}

static int rfc_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                       struct zp_err *err)
{
    return rfc_update(cfg, rec, call, 1, err);
}

/* doctor: deletes a value that is not there, guarded by a prerequisite that fails. */
static int rfc_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    struct zp_record probe = *rec;

    probe.value = "zoneproof-credential-probe";
    return rfc_update(cfg, &probe, call, 2, err);
}

const struct zp_provider_ops zp_prov_rfc2136 = {
    .type = "rfc2136",
    .flags = 0,
    .keys = rfc_keys,
    .settings = rfc_settings,
    .config_parse = rfc_config_parse,
    .config_free = rfc_config_free,
    .present = rfc_present,
    .cleanup = rfc_cleanup,
    .verify = rfc_verify,
};
