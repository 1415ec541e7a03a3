/*
 * dnssec_fixture.h — what the DNSSEC tests share: a zone's keys made here
 * (ECDSA P-256, algorithm 13), records from text, and signing at a fixed
 * time around T0, never the wall clock. Include it after <cmocka.h>.
 */
#ifndef ZP_TESTS_DNSSEC_FIXTURE_H
#define ZP_TESTS_DNSSEC_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <ldns/ldns.h>

#define T0 ((time_t)1767225600) /* 2026-01-01 00:00:00 UTC */
#define DAY 86400
#define SERVER "127.0.0.1:53"

struct zone {
    char name[64];
    ldns_key *ksk, *zsk;
    ldns_rr *ksk_rr, *zsk_rr;
    unsigned ksk_tag, zsk_tag;
};

static inline ldns_key *key_new(const char *zone, uint16_t flags, ldns_rr **rr)
{
    ldns_key *k = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);

    assert_non_null(k);
    ldns_key_set_pubkey_owner(k, ldns_dname_new_frm_str(zone));
    ldns_key_set_flags(k, flags);
    *rr = ldns_key2rr(k);
    assert_non_null(*rr);
    ldns_key_set_keytag(k, ldns_calc_keytag(*rr));
    return k;
}

/* Two keys whose tags differ, so the sentences are unambiguous. */
static inline void zone_new(struct zone *z, const char *name)
{
    snprintf(z->name, sizeof(z->name), "%s", name);
    z->ksk = key_new(name, 257, &z->ksk_rr);
    do {
        z->zsk = key_new(name, 256, &z->zsk_rr);
        z->zsk_tag = ldns_calc_keytag(z->zsk_rr);
        if (z->zsk_tag == ldns_calc_keytag(z->ksk_rr)) {
            ldns_key_deep_free(z->zsk);
            ldns_rr_free(z->zsk_rr);
            z->zsk = NULL;
        }
    } while (z->zsk == NULL);
    z->ksk_tag = ldns_calc_keytag(z->ksk_rr);
}

static inline void zone_free(struct zone *z)
{
    ldns_key_deep_free(z->ksk);
    ldns_key_deep_free(z->zsk);
    ldns_rr_free(z->ksk_rr);
    ldns_rr_free(z->zsk_rr);
}

static inline ldns_rr_list *dnskey_set(const struct zone *z)
{
    ldns_rr_list *l = ldns_rr_list_new();

    ldns_rr_list_push_rr(l, ldns_rr_clone(z->ksk_rr));
    ldns_rr_list_push_rr(l, ldns_rr_clone(z->zsk_rr));
    return l;
}

static inline ldns_rr_list *sign(const ldns_rr_list *set, ldns_key *k, time_t inception,
                                 time_t expiration)
{
    ldns_key_list *kl = ldns_key_list_new();
    ldns_rr_list *sigs;

    ldns_key_set_inception(k, (uint32_t)inception);
    ldns_key_set_expiration(k, (uint32_t)expiration);
    ldns_key_list_push_key(kl, k);
    sigs = ldns_sign_public((ldns_rr_list *)set, kl);
    ldns_key_list_set_key_count(kl, 0); /* ldns_key_list_free frees the keys it holds */
    ldns_key_list_free(kl);
    assert_non_null(sigs);
    assert_int_equal(ldns_rr_list_rr_count(sigs), 1);
    return sigs;
}

/* Signed from a month before T0 to a month after. */
static inline ldns_rr_list *sign_now(const ldns_rr_list *set, ldns_key *k)
{
    return sign(set, k, T0 - 30 * DAY, T0 + 30 * DAY);
}

static inline ldns_rr *rr(const char *text)
{
    ldns_rr *r = NULL;

    assert_int_equal(ldns_rr_new_frm_str(&r, text, 3600, NULL, NULL), LDNS_STATUS_OK);
    return r;
}

static inline ldns_rr_list *list1(ldns_rr *r)
{
    ldns_rr_list *l = ldns_rr_list_new();

    ldns_rr_list_push_rr(l, r);
    return l;
}

static inline ldns_rr_list *ds_of(const ldns_rr *key)
{
    return list1(ldns_key_rr2ds(key, LDNS_SHA256));
}

static inline void free_lists(ldns_rr_list *a, ldns_rr_list *b, ldns_rr_list *c)
{
    ldns_rr_list_deep_free(a);
    ldns_rr_list_deep_free(b);
    ldns_rr_list_deep_free(c);
}

#endif
