/*
 * krb.h — the Kerberos identity of an rfc2136 instance that signs with
 * GSS-TSIG (RFC 3645): its `kerberos` settings, and for one negotiation a
 * GSS-API credential made from them.
 *
 * zoneproof gets its own tickets: the keytab's bytes (a file or a Secret,
 * read again at every negotiation) go into an anonymous memory file, the
 * TGT and the DNS server's service ticket into a memory credential cache,
 * and the KDC is found from the settings, never from KRB5CCNAME, the
 * system's krb5.conf (unless krb5ConfigFile names it) or DNS SRV records.
 * Nothing lands on disk.
 */
#ifndef ZP_PROVIDERS_KRB_H
#define ZP_PROVIDERS_KRB_H

#include <stdint.h>

#include <gssapi/gssapi.h>

struct zp_err;
struct zp_prov_call;
struct zp_ynode;

/* The settings of one instance; read-only once parsed, shared by every thread. */
struct zp_krb;

/* What one negotiation needs: a credential and the name of the DNS server's service. */
struct zp_krb_cred {
    gss_cred_id_t cred;
    gss_name_t target;
    void *kctx; /* the krb5_context and memory cache the credential lives in */
    void *cc;
};

/* Parses the mapping `kerberos` of the instance at path; -1 with the sentence naming the key. */
int zp_krb_parse(const struct zp_ynode *kerberos, const char *path, struct zp_krb **out,
                 struct zp_err *err);
void zp_krb_free(struct zp_krb *k);

/* Whether the keytab is a Secret, read in each request's namespace (so a context is too). */
int zp_krb_per_namespace(const struct zp_krb *k);

/* The client principal as configured, with its realm ("acme-solver@CORP.EXAMPLE"). */
const char *zp_krb_principal(const struct zp_krb *k);

/*
 * The DNS server's service principal into out: kerberos.serverPrincipal,
 * or DNS/<mname>@<realm> when mname (the zone's SOA MNAME) is given. -1
 * when neither is known.
 */
int zp_krb_server(const struct zp_krb *k, const char *mname, char *out, size_t n,
                  struct zp_err *err);

/*
 * Gets a TGT with the keytab and a ticket for server into a memory cache,
 * and makes the GSS credential of both. The KDC requests end by
 * deadline_ms (zp_now_ms clock) when the realm's KDCs are listed
 * (kerberos.kdc or the krb5.conf's kdc lines); KDCs found in DNS are the
 * Kerberos library's to wait for. -1 with the sentence of what the KDC or
 * the keytab refused, or of a KDC that did not answer in time.
 */
int zp_krb_acquire(const struct zp_krb *k, const struct zp_prov_call *call, const char *server,
                   uint64_t deadline_ms, struct zp_krb_cred *out, struct zp_err *err);
void zp_krb_release(struct zp_krb_cred *c);

/*
 * The sentence for a failed gss_init_sec_context (major, minor) while
 * negotiating with nameserver for server.
 */
int zp_krb_gss_fail(const struct zp_krb *k, uint32_t major, uint32_t minor, const char *nameserver,
                    const char *server, struct zp_err *err);

#endif
