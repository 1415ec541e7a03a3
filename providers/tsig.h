/*
 * tsig.h — TSIG (RFC 8945): signs a DNS message with a shared key and
 * checks the signature of the reply, on OpenSSL's HMAC, with the decoded
 * key only in memory that is wiped as soon as the MAC is computed.
 *
 * It works on messages in wire form and knows nothing of ldns: the caller
 * builds the message, zp_tsig_sign appends the TSIG RR, and zp_tsig_verify
 * reads the one at the end of the reply.
 */
#ifndef ZP_PROVIDERS_TSIG_H
#define ZP_PROVIDERS_TSIG_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

struct zp_buf;
struct zp_err;

#define ZP_TSIG_FUDGE 300   /* seconds of clock difference allowed either way (RFC 8945) */
#define ZP_TSIG_MAC_MAX 128 /* the longest MAC: a Kerberos MIC (28-40 bytes), hmac-sha512 (64) */

/* TSIG errors (RFC 8945 5.3), in a reply's TSIG RR. */
enum { ZP_TSIG_ERR_BADSIG = 16, ZP_TSIG_ERR_BADKEY = 17, ZP_TSIG_ERR_BADTIME = 18 };

struct zp_tsig_alg {
    const char *name;   /* as written in configuration and BIND's key statement */
    const char *wire;   /* the TSIG algorithm name, absolute */
    const char *digest; /* OpenSSL's name of the hash under the HMAC; NULL: GSS-TSIG */
    int weak;           /* MD5, SHA-1: only for old servers */
};

/*
 * A MAC that is not an HMAC: GSS-TSIG's (RFC 3645) gss_get_mic and
 * gss_verify_mic over the same data, on a context that arg holds.
 */
struct zp_tsig_mic {
    int (*make)(void *arg, const uint8_t *d, size_t n, uint8_t *out, size_t *outlen,
                struct zp_err *err);
    /* *ok: the MIC verifies; -1 only when the check could not be made. */
    int (*check)(void *arg, const uint8_t *d, size_t n, const uint8_t *mac, size_t len, int *ok,
                 struct zp_err *err);
    void *arg;
};

struct zp_tsig_key {
    const char *name; /* the key's name, absolute ("acme-key.") */
    const struct zp_tsig_alg *alg;
    const char *secret; /* base64, as in BIND's key statement; the caller wipes it */
    size_t secret_len;
    const struct zp_tsig_mic *mic; /* GSS-TSIG: makes and checks the MAC; secret unused */
    /*
     * Accept a reply whose MAC leaves out the request MAC's length (Samba
     * and Active Directory sign so), when the RFC's layout does not verify.
     */
    int lax;
};

/* The MAC of a signed request: the signature of its reply covers it. */
struct zp_tsig_mac {
    uint8_t mac[ZP_TSIG_MAC_MAX];
    size_t len;
};

/* What the check of a reply's signature found. */
enum zp_tsig_check {
    ZP_TSIG_OK,       /* signed with the key, for this request, within the fudge */
    ZP_TSIG_OK_LAX,   /* the same, in Samba's layout (no request MAC length; key.lax) */
    ZP_TSIG_UNSIGNED, /* the last RR is not a TSIG RR */
    ZP_TSIG_FORMERR,  /* the message or its TSIG RR does not parse */
    ZP_TSIG_BADKEY,   /* signed with another key name or algorithm */
    ZP_TSIG_BADSIG,   /* the MAC does not match (an error reply's empty MAC among them) */
    ZP_TSIG_BADTIME,  /* the MAC matches; the time signed is further than the fudge from now */
};

/* The algorithm called name ("hmac-sha256" or "hmac-sha256."), any case; NULL if unknown. */
const struct zp_tsig_alg *zp_tsig_alg_find(const char *name);

/*
 * Signs the message in msg (wire form, no TSIG RR yet) at time now
 * (seconds since the epoch): appends the TSIG RR with the message's ID as
 * the original ID and adds it to ARCOUNT. The MAC lands in mac, for
 * zp_tsig_verify of the reply. -1 when the key is not base64 or msg
 * cannot hold the RR; msg is then unchanged.
 */
int zp_tsig_sign(const struct zp_tsig_key *key, uint64_t now, struct zp_buf *msg,
                 struct zp_tsig_mac *mac, struct zp_err *err);

/*
 * Checks the TSIG RR that ends the reply msg[0..len) to a request signed
 * with key whose MAC is req, at time now: the verdict in *check. 0 when
 * the check could be made (whatever its verdict); -1 only when it could
 * not (the key is not base64, OpenSSL failed).
 */
int zp_tsig_verify(const struct zp_tsig_key *key, const struct zp_tsig_mac *req, uint64_t now,
                   const uint8_t *msg, size_t len, enum zp_tsig_check *check, struct zp_err *err);

/* "ok", "ok-samba-layout", "unsigned", "FORMERR", "BADKEY", "BADSIG" or "BADTIME", for logs. */
const char *zp_tsig_check_name(enum zp_tsig_check check);

/*
 * ldns_wire2pkt for every DNS message zoneproof reads (answers, referrals,
 * UPDATE replies), except that a message with more than one TSIG RR in its
 * additional section is refused (LDNS_STATUS_ERR): ldns keeps the last one
 * and leaks the others (found by fuzz_dns), so any server could make each
 * of its replies leak. Returns an ldns_status.
 */
int zp_tsig_wire2pkt(ldns_pkt **out, const uint8_t *m, size_t len);

#endif
