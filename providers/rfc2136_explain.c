/*
 * rfc2136_explain.c — the sentences for an rfc2136 server's refusals: what
 * the answer shows (its rcode, its TSIG error, whether it is signed with
 * the key or the GSS-TSIG context) turned into the setting to fix.
 */
#include <ldns/ldns.h>

#include "base/err.h"
#include "providers/krb.h"
#include "providers/provider.h"
#include "providers/rfc2136_int.h"
#include "providers/tsig.h"

const char *zp_rfc_rcode_name(int rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};
    static const char *const tsig[] = {"BADSIG",  "BADKEY", "BADTIME",  "BADMODE",
                                       "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE"};

    if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
        return names[rcode];
    if (rcode >= 16 && rcode < 16 + (int)(sizeof(tsig) / sizeof(tsig[0])))
        return tsig[rcode - 16];
    return "an unknown code";
}

/*
 * The sentences below are chosen by what the answer shows — its rcode, its
 * TSIG error, and whether it is signed with the key — never by guessing the
 * server's brand, and they name the probable causes in the order that
 * answer makes likely. What BIND 9, Knot 3 and PowerDNS 4 answer to each
 * refusal (tests/integration/test_rfc2136_servers.py):
 *
 *   refusal              BIND               Knot               PowerDNS
 *   unknown key          NOTAUTH BADKEY     NOTAUTH BADKEY     REFUSED, unsigned
 *   wrong algorithm      NOTAUTH BADKEY     NOTAUTH BADKEY     REFUSED, unsigned
 *   wrong secret         NOTAUTH BADSIG     NOTAUTH BADSIG     REFUSED, unsigned
 *   key not allowed      REFUSED, signed    NOTAUTH BADKEY     REFUSED, signed
 *   unsigned, no grant   REFUSED            NOTAUTH            REFUSED
 */

/* The sentence for a TSIG error: the server refused the key, the secret or the clock. */
static int rfc_explain_tsig(const struct rfc_op *op, int tsig_error, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    const char *srv = cfg->nameserver, *fqdn = op->rec->fqdn;
    const char *key = cfg->key ? cfg->key : "(none)";
    const char *alg = cfg->alg->name;
    const char *secret = cfg->secret.setting ? cfg->secret.setting : "tsigSecretFile";

    switch (tsig_error) {
    case ZP_TSIG_ERR_BADKEY:
        /* BIND: the key or its algorithm is unknown. Knot: that, or no acl allows the update. */
        return zp_err_set(
            err, ZP_EAUTH,
            "update of TXT at %s rejected by %s: the server does not know key %s with algorithm "
            "%s, or (Knot answers the same way) no acl lets that key update TXT at %s; check "
            "tsigKeyName and tsigAlgorithm against the server's key statement, then the zone's "
            "acl (Knot: key %s, action update, update-type TXT, an update-owner that covers %s)",
            fqdn, srv, key, alg, fqdn, key, fqdn);
    case ZP_TSIG_ERR_BADSIG:
        return zp_err_set(
            err, ZP_EAUTH,
            "update of TXT at %s rejected by %s: signature rejected: %s does not hold the "
            "server's secret for key %s (or the server's algorithm differs from %s)",
            fqdn, srv, secret, key, alg);
    case ZP_TSIG_ERR_BADTIME:
        return zp_err_set(
            err, ZP_EAUTH,
            "update of TXT at %s rejected by %s: the clocks of this host and the server differ by "
            "more than %d s, so the signature of key %s is refused; fix NTP on both",
            fqdn, srv, ZP_TSIG_FUDGE, key);
    default:
        return zp_err_set(
            err, ZP_EAUTH,
            "update of TXT at %s rejected by %s: TSIG error %s (%d) for key %s; check tsigKeyName, "
            "tsigAlgorithm and %s against the server's key statement",
            fqdn, srv, zp_rfc_rcode_name(tsig_error), tsig_error, key, secret);
    }
}

/*
 * REFUSED. Signed with the key, the answer proves the server holds it: its
 * policy refuses. Not signed, to a signed update, the server did not accept
 * the key at all (PowerDNS answers an unknown key, a wrong secret and a
 * wrong algorithm so; BIND and Knot would have named a TSIG error).
 */
static int rfc_explain_refused(const struct rfc_op *op, int verified, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    const char *srv = cfg->nameserver, *fqdn = op->rec->fqdn, *key = cfg->key;
    const char *secret = cfg->secret.setting ? cfg->secret.setting : "tsigSecretFile";

    if (key == NULL)
        return zp_err_set(err, ZP_EPERM,
                          "update refused by %s: unsigned updates may not change TXT at %s; set "
                          "tsigKeyName and tsigSecretFile to a key the zone's update-policy allows "
                          "(BIND: grant <key> name %s TXT;)",
                          srv, fqdn, fqdn);
    if (verified)
        return zp_err_set(err, ZP_EPERM,
                          "update refused by %s: the key %s may not change TXT at %s (the server "
                          "holds the key: it signed its answer); allow it in the zone's update "
                          "policy (BIND: grant %s name %s TXT; in update-policy. PowerDNS: %s in "
                          "the zone's TSIG-ALLOW-DNSUPDATE metadata, this host in "
                          "allow-dnsupdate-from), or set tsigKeyName to a key that may",
                          srv, key, fqdn, key, fqdn, key);
    return zp_err_set(err, ZP_EAUTH,
                      "update of TXT at %s refused by %s in an answer not signed with key %s, so "
                      "the server did not accept the key: most likely %s does not hold the "
                      "server's secret, else tsigKeyName names a key the server does not have or "
                      "tsigAlgorithm (%s) differs from the server's (PowerDNS answers all three "
                      "this way); if all three match, the zone's update policy refuses the key",
                      fqdn, srv, key, secret, cfg->alg->name);
}

/* NOTAUTH without a TSIG error: the wrong server, or (Knot) no acl for an unsigned update. */
static int rfc_explain_notauth(const struct rfc_op *op, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    const char *srv = cfg->nameserver, *fqdn = op->rec->fqdn, *zone = op->zone;

    if (cfg->key == NULL)
        return zp_err_set(err, ZP_ENOTFOUND,
                          "update of TXT at %s rejected by %s: the server is not authoritative "
                          "(primary) for zone %s, or (Knot answers the same way) no acl lets "
                          "unsigned updates from this host change it; point nameserver at the "
                          "zone's primary or set zone, else set tsigKeyName and tsigSecretFile to "
                          "a key the zone's acl allows",
                          fqdn, srv, zone);
    return zp_err_set(err, ZP_ENOTFOUND,
                      "update of TXT at %s rejected by %s: the server is not authoritative "
                      "(primary) for zone %s; point nameserver at the zone's primary, or set "
                      "zone to the apex of the zone that holds %s",
                      fqdn, srv, zone, fqdn);
}

/* The sentence for a reply code that is not NOERROR: what the server's configuration lacks. */
static int rfc_explain_rcode(const struct rfc_op *op, int rcode, int verified, struct zp_err *err)
{
    const struct rfc_cfg *cfg = op->cfg;
    const char *srv = cfg->nameserver, *fqdn = op->rec->fqdn, *zone = op->zone;
    const char *alg = cfg->alg->name;

    switch (rcode) {
    case LDNS_RCODE_REFUSED:
        return rfc_explain_refused(op, verified, err);
    case LDNS_RCODE_NOTAUTH:
        return rfc_explain_notauth(op, err);
    case LDNS_RCODE_NOTZONE:
        return zp_err_set(err, ZP_ECONFIG,
                          "update rejected by %s: %s is not inside zone %s; set zone to the apex "
                          "of the zone that holds it, or remove zone",
                          srv, fqdn, zone);
    case LDNS_RCODE_SERVFAIL:
        return zp_err_set(err, ZP_ETRANSIENT,
                          "%s failed to apply the update of TXT at %s (SERVFAIL); the server's log "
                          "says why (zone not loaded, journal not writable)",
                          srv, fqdn);
    case LDNS_RCODE_FORMERR:
        return zp_err_set(err, ZP_ECONFIG,
                          "%s could not parse the update of TXT at %s (FORMERR); check that "
                          "nameserver is a DNS server that accepts dynamic updates (RFC 2136)%s%s",
                          srv, fqdn, cfg->key ? " with TSIG algorithm " : "", cfg->key ? alg : "");
    case LDNS_RCODE_NOTIMPL:
        return zp_err_set(err, ZP_ECONFIG,
                          "%s does not accept dynamic updates (NOTIMP) for zone %s; enable them "
                          "for the zone (BIND: update-policy; Knot: an acl with action update)",
                          srv, zone);
    default:
        return zp_err_set(err, ZP_ETRANSIENT,
                          "%s answered %s (rcode %d) to the update of TXT at %s, which an update "
                          "without prerequisites should never get",
                          srv, zp_rfc_rcode_name(rcode), rcode, fqdn);
    }
}

/* ---- GSS-TSIG ---------------------------------------------------------------------------- */

/*
 * A TSIG error to an update signed with a GSS-TSIG context: one just negotiated, or a cached
 * one the server refused and its renewal (rfc2136.c renews once).
 */
static int rfc_explain_gss_tsig(const struct rfc_op *op, int tsig_error, struct zp_err *err)
{
    const char *srv = op->cfg->nameserver, *fqdn = op->rec->fqdn;
    const char *who = zp_krb_principal(op->cfg->krb);

    if (tsig_error == ZP_TSIG_ERR_BADTIME)
        return zp_err_set(err, ZP_EAUTH,
                          "update of TXT at %s rejected by %s: the clocks of this host and the "
                          "server differ by more than %d s, so the GSS-TSIG signature of %s is "
                          "refused; fix NTP on both",
                          fqdn, srv, ZP_TSIG_FUDGE, who);
    return zp_err_set(err, ZP_EAUTH,
                      "update of TXT at %s rejected by %s: the server does not accept the "
                      "GSS-TSIG context negotiated with it for %s (TSIG error %s); check that "
                      "nameserver is one server and not several behind one address (each "
                      "negotiates its own contexts), then the server's log",
                      fqdn, srv, who, zp_rfc_rcode_name(tsig_error));
}

/* REFUSED or SERVFAIL to an update signed with a GSS-TSIG context; other codes: 1. */
static int rfc_explain_gss_rcode(const struct rfc_op *op, int rcode, int verified,
                                 struct zp_err *err)
{
    const char *srv = op->cfg->nameserver, *fqdn = op->rec->fqdn;
    const char *who = zp_krb_principal(op->cfg->krb);

    if (rcode == LDNS_RCODE_REFUSED && verified)
        return zp_err_set(err, ZP_EPERM,
                          "update refused by %s: %s may not change TXT at %s (the server "
                          "accepted its Kerberos identity: it signed its answer); allow it in the "
                          "zone's update policy (BIND: grant %s name %s TXT; in update-policy) or, "
                          "on Active Directory, give the account the right to create records in "
                          "the zone",
                          srv, who, fqdn, who, fqdn);
    if (rcode == LDNS_RCODE_REFUSED)
        return zp_err_set(err, ZP_EAUTH,
                          "update of TXT at %s refused by %s in an answer not signed with the "
                          "GSS-TSIG context of %s: the server did not accept the context, or its "
                          "update policy refuses %s",
                          fqdn, srv, who, who);
    if (rcode == LDNS_RCODE_SERVFAIL)
        return zp_err_set(err, ZP_EPERM,
                          "%s answered SERVFAIL to the signed update of TXT at %s: Active "
                          "Directory and Samba answer so when %s may not write that name, most "
                          "often because another account created it (only a name's creator may "
                          "change it); delete the name once as an administrator (or give %s "
                          "Full Control on it), else the server's log says why",
                          srv, fqdn, who, who);
    return 1;
}

int zp_rfc_explain(const struct rfc_op *op, int rcode, int tsig_error, int verified,
                   struct zp_err *err)
{
    if (op->cfg->krb != NULL && tsig_error != 0)
        rfc_explain_gss_tsig(op, tsig_error, err);
    else if (tsig_error != 0)
        rfc_explain_tsig(op, tsig_error, err);
    else if (op->cfg->krb == NULL || rfc_explain_gss_rcode(op, rcode, verified, err) == 1)
        rfc_explain_rcode(op, rcode, verified, err);
    err->upstream = tsig_error ? tsig_error : rcode;
    return -1;
}
