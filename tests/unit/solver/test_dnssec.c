/*
 * test_dnssec.c — the pure parts of the DNSSEC chain check, on records
 * built and signed in memory with keys made here (ECDSA P-256, algorithm
 * 13): one zone cut (DS <-> DNSKEY, self-signature, validity window), the
 * trust anchor at the top and an RRset, each with the exact sentence a user
 * reads. Verification runs at a fixed time, never the wall clock. Proofs of
 * non-existence: test_dnssec_denial.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "base/err.h"
#include "base/mem.h"
#include "solver/check.h"
#include "solver/dnssec.h"

#include "dnssec_fixture.h"

/* "a/13, b/13" in key tag order, as the sentences list keys. */
static void two_tags(unsigned a, unsigned b, char *out, size_t sz)
{
    snprintf(out, sz, "%u/13, %u/13", a < b ? a : b, a < b ? b : a);
}

/* One cut of ok.test. under test., with the DS, DNSKEY set and signatures given. */
static void check_cut(const char *zone, const char *parent, const ldns_rr_list *trusted,
                      const ldns_rr_list *keys, const ldns_rr_list *sigs,
                      struct zp_dnssec_result *res)
{
    struct zp_dnssec_cut cut = {zone, parent, trusted, keys, sigs, SERVER};

    assert_int_equal(zp_dnssec_verify_cut(&cut, T0, res), 0);
}

/* --- one zone cut ------------------------------------------------------------------------- */

static void cut_secure(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;
    char want[256];

    zone_new(&z, "ok.test.");
    keys = dnskey_set(&z);
    sigs = sign_now(keys, z.ksk);
    ds = ds_of(z.ksk_rr);
    check_cut("ok.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    assert_string_equal(res.zone, "ok.test.");
    snprintf(want, sizeof(want),
             "the DNSKEY set of ok.test. is signed by key %u/13, which its DS in test. names",
             z.ksk_tag);
    assert_string_equal(res.why, want);
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_ds_mismatch(void **state)
{
    struct zp_dnssec_result res;
    struct zone z, other;
    ldns_rr_list *keys, *sigs, *ds;
    char want[512], tags[64];

    zone_new(&z, "dsbad.test.");
    do {
        zone_new(&other, "dsbad.test."); /* a stale key: same owner, another key */
        if (other.ksk_tag != z.ksk_tag && other.ksk_tag != z.zsk_tag)
            break;
        zone_free(&other);
    } while (1);
    keys = dnskey_set(&z);
    sigs = sign_now(keys, z.ksk);
    ds = ds_of(other.ksk_rr);
    check_cut("dsbad.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.zone, "dsbad.test.");
    two_tags(z.ksk_tag, z.zsk_tag, tags, sizeof(tags));
    snprintf(want, sizeof(want),
             "the DS record of dsbad.test. in test. (key tag %u, algorithm 13) "
             "matches no DNSKEY of dsbad.test. (its keys: %s)",
             other.ksk_tag, tags);
    assert_string_equal(res.why, want);
    assert_string_equal(res.fix, "publish a DS for one of the zone's keys at the registrar "
                                 "(dnssec-dsfromkey), or remove the stale DS");
    assert_string_equal(res.dig, "dig +dnssec +cd @127.0.0.1 dsbad.test. DS");
    free_lists(keys, sigs, ds);
    zone_free(&z);
    zone_free(&other);
}

static void cut_ds_digest_mismatch(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;
    char want[512], tags[64];

    zone_new(&z, "typo.test.");
    keys = dnskey_set(&z);
    sigs = sign_now(keys, z.ksk);
    ds = ds_of(z.ksk_rr);
    ldns_rdf_data(ldns_rr_rdf(ldns_rr_list_rr(ds, 0), 3))[0] ^= 0x5a; /* a mistyped digest */
    check_cut("typo.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    two_tags(z.ksk_tag, z.zsk_tag, tags, sizeof(tags));
    snprintf(want, sizeof(want),
             "the DS record of typo.test. in test. (key tag %u, algorithm 13) "
             "has the key tag of a DNSKEY of typo.test. but not its digest (its keys: %s)",
             z.ksk_tag, tags);
    assert_string_equal(res.why, want);
    assert_string_equal(res.fix, "replace the DS at the registrar with one computed from the "
                                 "zone's key (dnssec-dsfromkey)");
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_expired(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;
    char want[512];

    zone_new(&z, "expired.test.");
    keys = dnskey_set(&z);
    sigs = sign(keys, z.ksk, T0 - 60 * DAY, T0 - DAY);
    ds = ds_of(z.ksk_rr);
    check_cut("expired.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.zone, "expired.test.");
    snprintf(want, sizeof(want),
             "the signature of the DNSKEY set of expired.test. by key %u/13 "
             "expired on 2025-12-31 00:00:00 UTC",
             z.ksk_tag);
    assert_string_equal(res.why, want);
    assert_string_equal(res.fix, "re-sign expired.test., and make sure its signatures are "
                                 "refreshed before they expire (inline signing, or "
                                 "dnssec-signzone run regularly)");
    assert_string_equal(res.dig, "dig +dnssec +cd @127.0.0.1 expired.test. DNSKEY");
    /* the same records, checked when they were valid */
    struct zp_dnssec_cut cut = {"expired.test.", "test.", ds, keys, sigs, SERVER};
    assert_int_equal(zp_dnssec_verify_cut(&cut, T0 - 30 * DAY, &res), 0);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_not_yet_valid(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;
    char want[512];

    zone_new(&z, "early.test.");
    keys = dnskey_set(&z);
    sigs = sign(keys, z.ksk, T0 + DAY, T0 + 30 * DAY);
    ds = ds_of(z.ksk_rr);
    check_cut("early.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    snprintf(want, sizeof(want),
             "the signature of the DNSKEY set of early.test. by key %u/13 is "
             "not valid before 2026-01-02 00:00:00 UTC",
             z.ksk_tag);
    assert_string_equal(res.why, want);
    assert_string_equal(res.fix, "check the clock of the signer of early.test.: its signatures "
                                 "start in the future");
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_missing_rrsig(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;

    zone_new(&z, "nosig.test.");
    keys = dnskey_set(&z);
    sigs = ldns_rr_list_new();
    ds = ds_of(z.ksk_rr);
    check_cut("nosig.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.why, "the DNSKEY set of nosig.test. has no signature (RRSIG)");
    assert_string_equal(res.fix, "sign nosig.test. again so that the DNSKEY set of nosig.test. "
                                 "carries a signature");
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_signed_by_the_wrong_key(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;
    char want[512];

    zone_new(&z, "zsk.test.");
    keys = dnskey_set(&z);
    sigs = sign_now(keys, z.zsk); /* the DS names the KSK */
    ds = ds_of(z.ksk_rr);
    check_cut("zsk.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    snprintf(want, sizeof(want),
             "the DNSKEY set of zsk.test. is not signed by the key its DS in "
             "test. names (key tag %u, algorithm 13); its signatures are by %u/13",
             z.ksk_tag, z.zsk_tag);
    assert_string_equal(res.why, want);
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_changed_after_signing(void **state)
{
    struct zp_dnssec_result res;
    struct zone z, extra;
    ldns_rr_list *keys, *sigs, *ds;
    char want[512];

    zone_new(&z, "changed.test.");
    zone_new(&extra, "changed.test.");
    keys = dnskey_set(&z);
    sigs = sign_now(keys, z.ksk);
    ldns_rr_list_push_rr(keys, ldns_rr_clone(extra.zsk_rr)); /* a key added, not re-signed */
    ds = ds_of(z.ksk_rr);
    check_cut("changed.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    snprintf(want, sizeof(want),
             "the signature of the DNSKEY set of changed.test. by key %u/13 "
             "does not verify",
             z.ksk_tag);
    assert_string_equal(res.why, want);
    free_lists(keys, sigs, ds);
    zone_free(&z);
    zone_free(&extra);
}

static void cut_unsupported_algorithm(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys, *sigs, *ds;

    zone_new(&z, "gost.test.");
    keys = dnskey_set(&z);
    sigs = sign_now(keys, z.ksk);
    ds = list1(rr("gost.test. IN DS 12345 12 3 "
                  "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"));
    check_cut("gost.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_INSECURE);
    assert_string_equal(res.zone, "gost.test.");
    assert_string_equal(res.why, "the DS records of gost.test. (key tag 12345, algorithm 12) use "
                                 "only algorithms or digest types zoneproof cannot validate: per "
                                 "RFC 4035 gost.test. counts as unsigned");
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

static void cut_ds_but_no_dnskey(void **state)
{
    struct zp_dnssec_result res;
    struct zone z;
    ldns_rr_list *keys = ldns_rr_list_new(), *sigs = ldns_rr_list_new(), *ds;
    char want[256];

    zone_new(&z, "gone.test.");
    ds = ds_of(z.ksk_rr);
    check_cut("gone.test.", "test.", ds, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    snprintf(want, sizeof(want),
             "gone.test. serves no DNSKEY, but its parent test. has a DS for "
             "it (key tag %u, algorithm 13)",
             z.ksk_tag);
    assert_string_equal(res.why, want);
    free_lists(keys, sigs, ds);
    zone_free(&z);
}

/* --- the trust anchor --------------------------------------------------------------------- */

static void anchor_ds_and_dnskey_match(void **state)
{
    struct zp_dnssec_result res;
    struct zone root;
    ldns_rr_list *keys, *sigs, *anchor;
    char want[256];

    zone_new(&root, ".");
    keys = dnskey_set(&root);
    sigs = sign_now(keys, root.ksk);
    anchor = ds_of(root.ksk_rr);
    check_cut(".", NULL, anchor, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    snprintf(want, sizeof(want),
             "the DNSKEY set of . is signed by key %u/13, which the trust anchor names",
             root.ksk_tag);
    assert_string_equal(res.why, want);
    ldns_rr_list_deep_free(anchor);
    anchor = list1(ldns_rr_clone(root.ksk_rr)); /* a DNSKEY as the anchor */
    check_cut(".", NULL, anchor, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    free_lists(keys, sigs, anchor);
    zone_free(&root);
}

static void anchor_mismatch_is_unknown(void **state)
{
    struct zp_dnssec_result res;
    struct zone root;
    ldns_rr_list *keys, *sigs;
    struct zp_dnssec_anchor *iana;
    struct zp_err err;
    char want[512], tags[64];

    zp_err_clear(&err);
    assert_int_equal(zp_dnssec_anchor_load(NULL, &iana, &err), 0);
    zone_new(&root, ".");
    keys = dnskey_set(&root);
    sigs = sign_now(keys, root.ksk);
    check_cut(".", NULL, zp_dnssec_anchor_rrs(iana), keys, sigs, &res);
    /* a private root behind the resolver: the resolver or the anchor, not a zone, is wrong */
    assert_int_equal(res.state, ZP_DNSSEC_UNKNOWN);
    two_tags(root.ksk_tag, root.zsk_tag, tags, sizeof(tags));
    snprintf(want, sizeof(want),
             "cannot check DNSSEC: no DNSKEY of . that the resolver "
             "127.0.0.1:53 returns matches the trust anchor (key tags and algorithms 20326/8, "
             "38696/8; DNSKEYs of .: %s)",
             tags);
    assert_string_equal(res.why, want);
    free_lists(keys, sigs, NULL);
    zp_dnssec_anchor_free(iana);
    zone_free(&root);
}

static void resolver_stripping_dnssec_is_unknown(void **state)
{
    struct zp_dnssec_result res;
    struct zone root;
    ldns_rr_list *keys, *sigs = ldns_rr_list_new(), *anchor;

    zone_new(&root, ".");
    keys = dnskey_set(&root);
    anchor = ds_of(root.ksk_rr);
    check_cut(".", NULL, anchor, keys, sigs, &res);
    assert_int_equal(res.state, ZP_DNSSEC_UNKNOWN);
    assert_string_equal(res.why, "cannot check DNSSEC: the resolver 127.0.0.1:53 does not return "
                                 "DNSSEC records (the DNSKEY set of . comes without RRSIG)");
    assert_string_equal(res.fix, "use a resolver that passes DNSSEC records (the DO bit) in "
                                 "propagation.resolvers");
    assert_string_equal(res.dig, "dig +dnssec +cd @127.0.0.1 . DNSKEY");
    free_lists(keys, sigs, anchor);
    zone_free(&root);
}

static char *write_tmp(const char *text)
{
    char *path = zp_xstrdup("/tmp/zp-anchor-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void anchor_files(void **state)
{
    struct zp_dnssec_anchor *a = NULL;
    struct zp_err err;
    char *path, want[256];

    zp_err_clear(&err);
    assert_int_equal(zp_dnssec_anchor_load(NULL, &a, &err), 0);
    assert_int_equal(ldns_rr_list_rr_count(zp_dnssec_anchor_rrs(a)), 2);
    zp_dnssec_anchor_free(a);

    path = write_tmp("; the lab root\n\n"
                     ". IN DS 20326 8 2 "
                     "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D ; KSK-2017\n"
                     "corp. 3600 IN DNSKEY 257 3 13 "
                     "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
                     "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n");
    assert_int_equal(zp_dnssec_anchor_load(path, &a, &err), 0);
    assert_int_equal(ldns_rr_list_rr_count(zp_dnssec_anchor_rrs(a)), 2);
    zp_dnssec_anchor_free(a);
    unlink(path);
    free(path);

    path = write_tmp(
        ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
        "; comment\n"
        ". IN DS 20326 8 2 nothex\n");
    assert_int_equal(zp_dnssec_anchor_load(path, &a, &err), -1);
    assert_null(a);
    assert_int_equal(err.kind, ZP_ECONFIG);
    snprintf(want, sizeof(want), "trust anchor file %s: line 3: ", path);
    assert_memory_equal(err.msg, want, strlen(want));
    unlink(path);
    free(path);

    zp_err_clear(&err);
    path = write_tmp("example. IN A 192.0.2.1\n");
    assert_int_equal(zp_dnssec_anchor_load(path, &a, &err), -1);
    snprintf(want, sizeof(want),
             "trust anchor file %s: line 1: a record of type A; an anchor is "
             "a DS or DNSKEY record in presentation format, e.g. \". IN DS 20326 8 2 "
             "E06D44B8…\"",
             path);
    assert_string_equal(err.msg, want);
    unlink(path);
    free(path);

    zp_err_clear(&err);
    path = write_tmp("; nothing\n");
    assert_int_equal(zp_dnssec_anchor_load(path, &a, &err), -1);
    snprintf(want, sizeof(want), "trust anchor file %s holds no DS or DNSKEY record", path);
    assert_string_equal(err.msg, want);
    unlink(path);
    free(path);
}

/* --- an RRset: the DS set in the parent, the TXT at the challenge name -------------------- */

static void rrset_sentences(void **state)
{
    struct zp_dnssec_result res;
    struct zone z, stranger;
    ldns_rr_list *keys, *txt, *sigs;
    const char *what = "the TXT set at _acme-challenge.ok.test.";
    char want[512];

    zone_new(&z, "ok.test.");
    zone_new(&stranger, "ok.test.");
    keys = dnskey_set(&z);
    txt =
        list1(rr("_acme-challenge.ok.test. 60 IN TXT \"q3V9mZ0xY1n2b3c4d5e6f7g8h9i0jKLMNOPQRS\""));
    sigs = sign_now(txt, z.zsk);
    assert_int_equal(zp_dnssec_verify_rrset(txt, sigs, keys, "ok.test.", what, SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    snprintf(want, sizeof(want), "%s is signed by ok.test. (key %u/13) and verifies", what,
             z.zsk_tag);
    assert_string_equal(res.why, want);
    assert_string_equal(res.dig, "dig +dnssec +cd @127.0.0.1 _acme-challenge.ok.test. TXT");
    ldns_rr_list_deep_free(sigs);

    sigs = ldns_rr_list_new();
    assert_int_equal(zp_dnssec_verify_rrset(txt, sigs, keys, "ok.test.", what, SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.why,
                        "the TXT set at _acme-challenge.ok.test. has no signature (RRSIG)");
    ldns_rr_list_deep_free(sigs);

    sigs = sign_now(txt, stranger.zsk); /* a key the zone does not publish */
    assert_int_equal(zp_dnssec_verify_rrset(txt, sigs, keys, "ok.test.", what, NULL, T0, &res), 0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    snprintf(want, sizeof(want),
             "%s is signed only by keys that ok.test. does not publish "
             "(signatures by %u/13; DNSKEYs of ok.test.: ",
             what, stranger.zsk_tag);
    assert_memory_equal(res.why, want, strlen(want));
    assert_string_equal(res.dig, "dig +dnssec +cd _acme-challenge.ok.test. TXT");
    ldns_rr_list_deep_free(sigs);

    sigs = sign(txt, z.zsk, T0 - 10 * DAY, T0 - 3 * DAY - 3600);
    assert_int_equal(zp_dnssec_verify_rrset(txt, sigs, keys, "ok.test.", what, SERVER, T0, &res),
                     0);
    snprintf(want, sizeof(want),
             "the signature of %s by key %u/13 expired on 2025-12-28 23:00:00 "
             "UTC",
             what, z.zsk_tag);
    assert_string_equal(res.why, want);
    assert_string_equal(res.zone, "ok.test.");
    free_lists(keys, txt, sigs);
    zone_free(&z);
    zone_free(&stranger);
}

static void ds_set_signed_by_the_parent(void **state)
{
    struct zp_dnssec_result res;
    struct zone parent, child;
    ldns_rr_list *pkeys, *ds, *sigs;
    char want[512];

    zone_new(&parent, "test.");
    zone_new(&child, "ok.test.");
    pkeys = dnskey_set(&parent);
    ds = ds_of(child.ksk_rr);
    sigs = sign(ds, parent.zsk, T0 - 20 * DAY, T0 - 10 * DAY);
    assert_int_equal(zp_dnssec_verify_rrset(ds, sigs, pkeys, "test.",
                                            "the DS set of ok.test. in "
                                            "test.",
                                            SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.zone, "test."); /* the parent must re-sign */
    snprintf(want, sizeof(want),
             "the signature of the DS set of ok.test. in test. by key %u/13 "
             "expired on 2025-12-22 00:00:00 UTC",
             parent.zsk_tag);
    assert_string_equal(res.why, want);
    assert_string_equal(res.dig, "dig +dnssec +cd @127.0.0.1 ok.test. DS");
    free_lists(pkeys, ds, sigs);
    zone_free(&parent);
    zone_free(&child);
}

/* --- the finding -------------------------------------------------------------------------- */

static void findings(void **state)
{
    struct zp_dnssec_result res = {.state = ZP_DNSSEC_SECURE, .zone = "ok.test."};
    struct zp_check c;

    snprintf(res.why, sizeof(res.why), "the DNSSEC chain of trust from . to ok.test. is valid");
    zp_dnssec_to_check(&res, &c);
    assert_string_equal(c.id, "dnssec");
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "the DNSSEC chain of trust from . to ok.test. is valid");

    res.state = ZP_DNSSEC_INSECURE;
    snprintf(res.why, sizeof(res.why),
             "unsigned.test. is not signed: its parent test. proves "
             "that it has no DS record (NSEC)");
    zp_dnssec_to_check(&res, &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "unsigned.test. is not signed: its parent test. proves that it "
                                 "has no DS record (NSEC); the CA accepts unsigned names");

    res.state = ZP_DNSSEC_BOGUS;
    snprintf(res.why, sizeof(res.why), "the DNSKEY set of x.test. has no signature (RRSIG)");
    snprintf(res.fix, sizeof(res.fix), "sign x.test. again");
    snprintf(res.dig, sizeof(res.dig), "dig +dnssec +cd x.test. DNSKEY");
    zp_dnssec_to_check(&res, &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "the DNSKEY set of x.test. has no signature (RRSIG); the CA "
                                 "validates DNSSEC and will fail the challenge");
    assert_string_equal(c.fix, "sign x.test. again");
    assert_string_equal(c.dig, "dig +dnssec +cd x.test. DNSKEY");

    res.state = ZP_DNSSEC_UNKNOWN;
    zp_dnssec_to_check(&res, &c);
    assert_int_equal(c.verdict, ZP_CHECK_WARN);
    assert_string_equal(zp_dnssec_state_name(ZP_DNSSEC_BOGUS), "bogus");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_secure),
        cmocka_unit_test(cut_ds_mismatch),
        cmocka_unit_test(cut_ds_digest_mismatch),
        cmocka_unit_test(cut_expired),
        cmocka_unit_test(cut_not_yet_valid),
        cmocka_unit_test(cut_missing_rrsig),
        cmocka_unit_test(cut_signed_by_the_wrong_key),
        cmocka_unit_test(cut_changed_after_signing),
        cmocka_unit_test(cut_unsupported_algorithm),
        cmocka_unit_test(cut_ds_but_no_dnskey),
        cmocka_unit_test(anchor_ds_and_dnskey_match),
        cmocka_unit_test(anchor_mismatch_is_unknown),
        cmocka_unit_test(resolver_stripping_dnssec_is_unknown),
        cmocka_unit_test(anchor_files),
        cmocka_unit_test(rrset_sentences),
        cmocka_unit_test(ds_set_signed_by_the_parent),
        cmocka_unit_test(findings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
