/*
 * test_tsig.c — TSIG (providers/tsig.c) against ldns both ways for each
 * algorithm the rfc2136 provider offers, against MACs computed apart from
 * it (Python's hmac over bytes laid out by hand, embedded below), and
 * against each way a reply can be wrong: a flipped bit in the MAC or the
 * message, another secret, key or algorithm, a time outside the fudge, a
 * reply to another request, an unsigned or malformed one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/tsig.h"

#define KEY "acme-key."
#define SECRET "h8mTBe3nXxuQ9Fgbh9sQKZ8oOOV4mhH0Y3bZZs3dJwA="
#define OTHER_SECRET "c2VjcmV0LXRoYXQtdGhlLXNlcnZlci1kb2VzLW5vdC1rbm93"
#define T0 1700000000u /* 2023-11-14T22:13:20Z, the fixed vectors' time signed */

static const char *const alg_names[] = {"hmac-sha256", "hmac-sha512", "hmac-sha1", "hmac-md5"};

static struct zp_tsig_key key_for(const char *name, const char *alg, const char *secret)
{
    struct zp_tsig_key k = {.name = name, .alg = zp_tsig_alg_find(alg), .secret = secret};

    assert_non_null(k.alg);
    k.secret_len = strlen(secret);
    return k;
}

static void wire_of(const ldns_pkt *p, struct zp_buf *b)
{
    uint8_t *w = NULL;
    size_t n = 0;

    assert_int_equal(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
    zp_buf_init(b, 65535);
    assert_int_equal(zp_buf_append(b, w, n), 0);
    free(w);
}

/* An UPDATE like the rfc2136 provider's, built and encoded by ldns, into b. */
static void update_wire(struct zp_buf *b)
{
    ldns_rr_list *up = ldns_rr_list_new();
    ldns_rr *rr = NULL;
    ldns_pkt *p;

    assert_int_equal(ldns_rr_new_frm_str(&rr, "_acme-challenge.example.test. 60 IN TXT \"value\"",
                                         0, NULL, NULL),
                     LDNS_STATUS_OK);
    ldns_rr_list_push_rr(up, rr);
    p = ldns_update_pkt_new(ldns_dname_new_frm_str("example.test."), LDNS_RR_CLASS_IN, NULL, up,
                            NULL);
    assert_non_null(p);
    ldns_pkt_set_id(p, 0x4242);
    wire_of(p, b);
    ldns_pkt_free(p);
    ldns_rr_list_deep_free(up);
}

/* The time signed of the TSIG RR at the end of wire, as ldns reads it. */
static uint64_t time_signed(const struct zp_buf *wire)
{
    ldns_pkt *p = NULL;
    const uint8_t *t;
    uint64_t v = 0;

    assert_int_equal(ldns_wire2pkt(&p, (const uint8_t *)wire->data, wire->len), LDNS_STATUS_OK);
    assert_non_null(ldns_pkt_tsig(p));
    t = ldns_rdf_data(ldns_rr_rdf(ldns_pkt_tsig(p), 1));
    for (int i = 0; i < 6; i++)
        v = v << 8 | t[i];
    ldns_pkt_free(p);
    return v;
}

/*
 * A server's reply to the request q, made by ldns: rcode, signed with
 * keyname, secret and alg_wire over the request's MAC mac (unsigned when
 * secret is NULL), into b.
 */
static void ldns_reply(const struct zp_buf *q, const char *keyname, const char *secret,
                       const char *alg_wire, const struct zp_tsig_mac *mac, int rcode,
                       struct zp_buf *b)
{
    ldns_pkt *qp = NULL, *r = ldns_pkt_new();
    uint8_t field[2 + ZP_TSIG_MAC_MAX];
    ldns_rdf *orig;

    assert_int_equal(ldns_wire2pkt(&qp, (const uint8_t *)q->data, q->len), LDNS_STATUS_OK);
    ldns_pkt_set_id(r, ldns_pkt_id(qp));
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, LDNS_PACKET_UPDATE);
    ldns_pkt_set_rcode(r, (uint8_t)rcode);
    ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
                     ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0)));
    field[0] = (uint8_t)(mac->len >> 8);
    field[1] = (uint8_t)mac->len;
    memcpy(field + 2, mac->mac, mac->len);
    orig = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2 + mac->len, field);
    if (secret != NULL)
        assert_int_equal(ldns_pkt_tsig_sign(r, keyname, secret, 300, alg_wire, orig),
                         LDNS_STATUS_OK);
    wire_of(r, b);
    ldns_rdf_deep_free(orig);
    ldns_pkt_free(qp);
    ldns_pkt_free(r);
}

static enum zp_tsig_check check_of(const struct zp_tsig_key *k, const struct zp_tsig_mac *req,
                                   uint64_t now, const struct zp_buf *wire)
{
    enum zp_tsig_check c = ZP_TSIG_OK;
    struct zp_err err = {0};

    assert_int_equal(zp_tsig_verify(k, req, now, (const uint8_t *)wire->data, wire->len, &c, &err),
                     0);
    return c;
}

/* ---- ldns, both ways ------------------------------------------------------------------------- */

/* Ours signs, ldns verifies: what BIND, Knot and PowerDNS would do with our updates. */
static void ldns_accepts_ours(void **state)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        struct zp_tsig_key k = key_for(KEY, alg_names[i], SECRET);
        struct zp_tsig_mac mac;
        struct zp_err err = {0};
        struct zp_buf q;
        ldns_pkt *p = NULL;

        update_wire(&q);
        assert_int_equal(zp_tsig_sign(&k, (uint64_t)time(NULL), &q, &mac, &err), 0);
        assert_int_equal(ldns_wire2pkt(&p, (const uint8_t *)q.data, q.len), LDNS_STATUS_OK);
        assert_non_null(ldns_pkt_tsig(p));
        assert_int_equal(ldns_pkt_arcount(p), 0); /* ldns counts the TSIG RR apart */
        assert_true(ldns_pkt_tsig_verify(p, (const uint8_t *)q.data, q.len, KEY, SECRET, NULL));
        assert_false(
            ldns_pkt_tsig_verify(p, (const uint8_t *)q.data, q.len, KEY, OTHER_SECRET, NULL));
        /* The MAC handed back is the one in the RR. */
        assert_int_equal(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(p), 3)), 2 + mac.len);
        assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(ldns_pkt_tsig(p), 3)) + 2, mac.mac, mac.len);
        /* And ours reads its own request (no request MAC before it). */
        assert_int_equal(check_of(&k, NULL, (uint64_t)time(NULL), &q), ZP_TSIG_OK);
        ldns_pkt_free(p);
        zp_buf_free(&q);
    }
}

/* ldns signs as a server would, over our request's MAC; ours verifies. */
static void ours_accepts_ldns(void **state)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        struct zp_tsig_key k = key_for(KEY, alg_names[i], SECRET);
        struct zp_tsig_mac mac;
        struct zp_err err = {0};
        struct zp_buf q, r;
        ldns_pkt *p = NULL;

        update_wire(&q);
        assert_int_equal(zp_tsig_sign(&k, (uint64_t)time(NULL), &q, &mac, &err), 0);
        ldns_reply(&q, KEY, SECRET, k.alg->wire, &mac, LDNS_RCODE_NOERROR, &r);
        assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &r), ZP_TSIG_OK);
        zp_buf_free(&r);
        /* The key's name in another case on the wire: the MAC covers its canonical form. */
        ldns_reply(&q, "ACME-Key.", SECRET, k.alg->wire, &mac, LDNS_RCODE_REFUSED, &r);
        assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &r), ZP_TSIG_OK);
        zp_buf_free(&r);
        zp_buf_free(&q);
        /* A request signed by ldns reads as signed too. */
        update_wire(&q);
        assert_int_equal(ldns_wire2pkt(&p, (const uint8_t *)q.data, q.len), LDNS_STATUS_OK);
        assert_int_equal(ldns_pkt_tsig_sign(p, KEY, SECRET, 300, k.alg->wire, NULL),
                         LDNS_STATUS_OK);
        zp_buf_free(&q);
        wire_of(p, &q);
        assert_int_equal(check_of(&k, NULL, (uint64_t)time(NULL), &q), ZP_TSIG_OK);
        ldns_pkt_free(p);
        zp_buf_free(&q);
    }
}

/* ---- what is refused, and as what ------------------------------------------------------------ */

/* A copy of wire with byte at (from the end when negative) xor-ed with bits. */
static void flipped(const struct zp_buf *wire, long at, uint8_t bits, struct zp_buf *out)
{
    size_t i = at < 0 ? wire->len - (size_t)-at : (size_t)at;

    zp_buf_init(out, 65535);
    assert_int_equal(zp_buf_append(out, wire->data, wire->len), 0);
    out->data[i] = (char)(out->data[i] ^ bits);
}

static void refusals(void **state)
{
    struct zp_tsig_key k = key_for(KEY, "hmac-sha256", SECRET);
    struct zp_tsig_key other_secret = key_for(KEY, "hmac-sha256", OTHER_SECRET);
    struct zp_tsig_key other_name = key_for("other-key.", "hmac-sha256", SECRET);
    struct zp_tsig_key other_alg = key_for(KEY, "hmac-sha512", SECRET);
    struct zp_tsig_mac mac, mac2;
    struct zp_err err = {0};
    struct zp_buf q, q2, r, x;
    uint64_t t;

    update_wire(&q);
    assert_int_equal(zp_tsig_sign(&k, (uint64_t)time(NULL), &q, &mac, &err), 0);
    ldns_reply(&q, KEY, SECRET, "hmac-sha256.", &mac, LDNS_RCODE_NOERROR, &r);
    t = time_signed(&r);
    assert_int_equal(check_of(&k, &mac, t, &r), ZP_TSIG_OK);
    /* The reply ends: MAC (32 bytes), original ID, error, other len (0). */
    flipped(&r, -7, 0x01, &x);
    assert_int_equal(check_of(&k, &mac, t, &x), ZP_TSIG_BADSIG);
    zp_buf_free(&x);
    flipped(&r, 3, 0x01, &x); /* rcode NOERROR becomes FORMERR */
    assert_int_equal(check_of(&k, &mac, t, &x), ZP_TSIG_BADSIG);
    zp_buf_free(&x);
    flipped(&r, 13, 0x20, &x); /* "example" becomes "Example" in the zone section */
    assert_int_equal(check_of(&k, &mac, t, &x), ZP_TSIG_BADSIG);
    zp_buf_free(&x);
    flipped(&r, -6, 0x01, &x); /* the original ID */
    assert_int_equal(check_of(&k, &mac, t, &x), ZP_TSIG_BADSIG);
    zp_buf_free(&x);
    /* The header's ID is not signed (a forwarder may change it): the original ID is. */
    flipped(&r, 0, 0xff, &x);
    assert_int_equal(check_of(&k, &mac, t, &x), ZP_TSIG_OK);
    zp_buf_free(&x);
    assert_int_equal(check_of(&other_secret, &mac, t, &r), ZP_TSIG_BADSIG);
    assert_int_equal(check_of(&other_name, &mac, t, &r), ZP_TSIG_BADKEY);
    assert_int_equal(check_of(&other_alg, &mac, t, &r), ZP_TSIG_BADKEY);
    /* The fudge (300 s) either way, and not a second more. */
    assert_int_equal(check_of(&k, &mac, t + 300, &r), ZP_TSIG_OK);
    assert_int_equal(check_of(&k, &mac, t - 300, &r), ZP_TSIG_OK);
    assert_int_equal(check_of(&k, &mac, t + 301, &r), ZP_TSIG_BADTIME);
    assert_int_equal(check_of(&k, &mac, t - 301, &r), ZP_TSIG_BADTIME);
    /* A stale time under a wrong MAC is a wrong MAC: the time is the server's only once proven. */
    assert_int_equal(check_of(&other_secret, &mac, t + 3600, &r), ZP_TSIG_BADSIG);
    /* A valid reply to another request (another request MAC). */
    update_wire(&q2);
    assert_int_equal(zp_tsig_sign(&k, (uint64_t)time(NULL) + 1, &q2, &mac2, &err), 0);
    assert_int_equal(check_of(&k, &mac2, t, &r), ZP_TSIG_BADSIG);
    zp_buf_free(&q2);
    zp_buf_free(&r);
    /* Unsigned. */
    ldns_reply(&q, KEY, NULL, NULL, &mac, LDNS_RCODE_REFUSED, &r);
    assert_int_equal(check_of(&k, &mac, t, &r), ZP_TSIG_UNSIGNED);
    zp_buf_free(&r);
    zp_buf_free(&q);
}

/*
 * A BADKEY or BADSIG error reply carries a TSIG RR with an empty MAC (RFC
 * 8945 5.3.2): it names the key but proves nothing.
 */
static void error_reply_with_empty_mac(void **state)
{
    struct zp_tsig_key k = key_for(KEY, "hmac-sha256", SECRET);
    struct zp_tsig_mac mac;
    struct zp_err err = {0};
    struct zp_buf q, r;
    ldns_pkt *p = NULL;
    ldns_rr *t;

    update_wire(&q);
    assert_int_equal(zp_tsig_sign(&k, (uint64_t)time(NULL), &q, &mac, &err), 0);
    ldns_reply(&q, KEY, SECRET, "hmac-sha256.", &mac, LDNS_RCODE_NOTAUTH, &r);
    assert_int_equal(ldns_wire2pkt(&p, (const uint8_t *)r.data, r.len), LDNS_STATUS_OK);
    t = ldns_pkt_tsig(p);
    ldns_rdf_deep_free(ldns_rr_set_rdf(t, ldns_native2rdf_int16_data(0, NULL), 3));
    ldns_rdf_deep_free(
        ldns_rr_set_rdf(t, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, ZP_TSIG_ERR_BADSIG), 5));
    zp_buf_free(&r);
    wire_of(p, &r);
    assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &r), ZP_TSIG_BADSIG);
    ldns_pkt_free(p);
    zp_buf_free(&r);
    zp_buf_free(&q);
}

static void malformed(void **state)
{
    struct zp_tsig_key k = key_for(KEY, "hmac-sha256", SECRET);
    struct zp_tsig_mac mac;
    struct zp_err err = {0};
    struct zp_buf q, r, x;
    /* ARCOUNT 1, and the one RR's owner is a compression pointer to itself. */
    static const uint8_t loop[] = {0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xc0, 12, 0, 250};

    update_wire(&q);
    assert_int_equal(zp_tsig_sign(&k, (uint64_t)time(NULL), &q, &mac, &err), 0);
    ldns_reply(&q, KEY, SECRET, "hmac-sha256.", &mac, LDNS_RCODE_NOERROR, &r);
    /* Cut short, or with a byte after the TSIG RR, which must end the message. */
    zp_buf_init(&x, 65535);
    assert_int_equal(zp_buf_append(&x, r.data, r.len - 1), 0);
    assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &x), ZP_TSIG_FORMERR);
    assert_int_equal(zp_buf_append(&x, "\0\0", 2), 0);
    assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &x), ZP_TSIG_FORMERR);
    zp_buf_reset(&x);
    assert_int_equal(zp_buf_append(&x, r.data, 11), 0);
    assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &x), ZP_TSIG_FORMERR);
    zp_buf_reset(&x);
    assert_int_equal(zp_buf_append(&x, loop, sizeof(loop)), 0);
    assert_int_equal(check_of(&k, &mac, (uint64_t)time(NULL), &x), ZP_TSIG_FORMERR);
    zp_buf_free(&x);
    zp_buf_free(&r);
    zp_buf_free(&q);
    assert_string_equal(zp_tsig_check_name(ZP_TSIG_BADTIME), "BADTIME");
    assert_string_equal(zp_tsig_check_name(ZP_TSIG_OK), "ok");
}

/* A secret that is not base64 fails the call, and says so without quoting it. */
static void bad_secret(void **state)
{
    struct zp_tsig_key k = key_for(KEY, "hmac-sha256", "not base64!");
    struct zp_tsig_mac mac;
    struct zp_err err = {0};
    struct zp_buf q;
    size_t len;

    update_wire(&q);
    len = q.len;
    assert_int_equal(zp_tsig_sign(&k, T0, &q, &mac, &err), -1);
    assert_non_null(strstr(err.msg, "the secret of TSIG key acme-key."));
    assert_null(strstr(err.msg, "not base64!"));
    assert_int_equal(q.len, len); /* unchanged: no TSIG RR */
    assert_int_equal(q.data[11], 0);
    zp_buf_free(&q);
}

/* ---- fixed vectors --------------------------------------------------------------------------- */

/*
 * An UPDATE laid out by hand: ID 0x1234, opcode UPDATE; zone example.test.
 * SOA IN; add _acme-challenge.example.test. 60 IN TXT "value" (owner
 * compressed to the zone name).
 */
static const uint8_t vec_msg[] = {
    0x12, 0x34, 0x28, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,         /* header */
    7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  4,    't',  'e',  's',  't', 0, /* zone */
    0x00, 0x06, 0x00, 0x01,                                                         /* SOA IN */
    15,   '_',  'a',  'c',  'm',  'e',  '-',  'c',  'h',  'a',  'l',  'l',  'e', 'n',
    'g',  'e',  0xc0, 0x0c,                         /* -> example.test. */
    0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, /* TXT IN 60 */
    0x00, 0x06, 5,    'v',  'a',  'l',  'u',  'e',  /* "value" */
};

/* The key's name in wire form; sizeof counts the root label's 0 (the literal's NUL). */
static const char vec_key[] = "\x08"
                              "acme-key";

/*
 * Python 3, hmac.new(base64.b64decode(SECRET), data, hashlib.<hash>).hexdigest(): for the
 * request, data = vec_msg + the TSIG variables (vec_key, 00ff 00000000, the algorithm's
 * name, time T0, fudge 300, error 0, other len 0); for the reply, data = 0020|40|14|10 +
 * the request MAC + the reply's header under ID 0x1234 with ARCOUNT 0 + its zone section +
 * the same variables at time T0 + 1.
 */
static const struct {
    const char *alg, *wire;
    size_t wire_len;
    const char *req_mac, *reply_mac;
} vectors[] = {
#define W(s) s, sizeof(s)
    {"hmac-sha256",
     W("\x0b"
       "hmac-sha256"),
     "eef40fbefdcff3893f30d494da4a6aa9b71d0215c947f789cedb7f205eab7904",
     "dc0c59dfec8c130a98900ef60b4715945ee6e0a57fce6222014e93ede3395577"},
    {"hmac-sha512",
     W("\x0b"
       "hmac-sha512"),
     "6be71951f9275d021d5d343dc12ecb6499aa1c7cd014001ec377f6b44860eff5"
     "92efcb7b18645b82a57c088b841d38e5587beb36760b517d2606ae085cd291fb",
     "b2d30996fe1c7d166697ab29e8fb6eedcec5e37981461356f9a6f70907e4bf46"
     "b46e77b31d657f536ae994f2d7d81023bfde97be6cf91745e5e7a2dd99a25602"},
    {"hmac-sha1",
     W("\x09"
       "hmac-sha1"),
     "5c4e1084123f7df39be75808c3baec35967ac812", "799d1e0ddad8708263d194fdadf7afe6af95ca36"},
    {"hmac-md5",
     W("\x08"
       "hmac-md5"
       "\x07"
       "sig-alg"
       "\x03"
       "reg"
       "\x03"
       "int"),
     "c18eb52e50b543fe11da911939042b16", "fe5798b103607768ee932695e37ed072"},
#undef W
};

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strlen(s) / 2;

    for (size_t i = 0; i < n; i++) {
        char b[3] = {s[2 * i], s[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

static void put(struct zp_buf *b, const void *p, size_t n)
{
    assert_int_equal(zp_buf_append(b, p, n), 0);
}

/* A TSIG RR by hand: key acme-key., algorithm v, time t, fudge 300, mac, original ID 0x1234. */
static void hand_rr(struct zp_buf *b, size_t v, uint64_t t, const uint8_t *mac, size_t n)
{
    uint8_t fixed[10] = {0x00, 0xfa, 0x00, 0xff, 0, 0, 0, 0}; /* TSIG ANY, TTL 0, RDLENGTH */
    uint8_t timers[10] = {0, 0, 0, 0, 0, 0, 0x01, 0x2c, 0, (uint8_t)n};
    size_t rdlen = vectors[v].wire_len + 10 + n + 6;

    fixed[8] = (uint8_t)(rdlen >> 8);
    fixed[9] = (uint8_t)rdlen;
    for (int i = 0; i < 6; i++)
        timers[i] = (uint8_t)(t >> (40 - 8 * i));
    put(b, vec_key, sizeof(vec_key));
    put(b, fixed, sizeof(fixed));
    put(b, vectors[v].wire, vectors[v].wire_len);
    put(b, timers, sizeof(timers));
    put(b, mac, n);
    put(b, "\x12\x34\0\0\0\0", 6); /* original ID, error, other len */
}

static void fixed_vectors(void **state)
{
    for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
        struct zp_tsig_key k = key_for(KEY, vectors[v].alg, SECRET);
        uint8_t want_mac[ZP_TSIG_MAC_MAX], reply_mac[ZP_TSIG_MAC_MAX];
        size_t n = unhex(vectors[v].req_mac, want_mac);
        struct zp_tsig_mac mac;
        struct zp_err err = {0};
        struct zp_buf msg, want, reply;

        /* The request: ARCOUNT 1 and the RR appended, the MAC Python's. */
        zp_buf_init(&msg, 65535);
        zp_buf_init(&want, 65535);
        put(&msg, vec_msg, sizeof(vec_msg));
        assert_int_equal(zp_tsig_sign(&k, T0, &msg, &mac, &err), 0);
        assert_int_equal(mac.len, n);
        assert_memory_equal(mac.mac, want_mac, n);
        put(&want, vec_msg, sizeof(vec_msg));
        want.data[11] = 1;
        hand_rr(&want, v, T0, want_mac, n);
        assert_int_equal(msg.len, want.len);
        assert_memory_equal(msg.data, want.data, want.len);
        /* The reply: header ID 0xbeef (changed on the way), original ID 0x1234. */
        zp_buf_init(&reply, 65535);
        put(&reply, "\xbe\xef\xa8\x00\x00\x01\x00\x00\x00\x00\x00\x01", 12);
        put(&reply, vec_msg + 12, 18);
        assert_int_equal(unhex(vectors[v].reply_mac, reply_mac), n);
        hand_rr(&reply, v, T0 + 1, reply_mac, n);
        assert_int_equal(check_of(&k, &mac, T0 + 1, &reply), ZP_TSIG_OK);
        assert_int_equal(check_of(&k, &mac, T0 + 302, &reply), ZP_TSIG_BADTIME);
        zp_buf_free(&reply);
        zp_buf_free(&want);
        zp_buf_free(&msg);
    }
}

/*
 * A reply with n TSIG RRs (root owner, algorithm ".", empty MAC) in its
 * additional section, whose count claims ar RRs.
 */
static size_t reply_with_tsigs(uint8_t *m, unsigned n, unsigned ar)
{
    static const uint8_t hdr[] = {0x12, 0x34, 0xa8, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t rr[] = {0, 0, 250,  0,    255, 0, 0, 0, 0,  0, 17, /* owner . TSIG ANY */
                                 0, 0, 0,    0,    0,   0, 0, 1, 44,        /* alg ., time, fudge */
                                 0, 0, 0x12, 0x34, 0,   0, 0, 0}; /* mac, id, err, other */
    size_t len = sizeof(hdr);

    memcpy(m, hdr, sizeof(hdr));
    m[11] = (uint8_t)ar;
    for (unsigned i = 0; i < n; i++, len += sizeof(rr))
        memcpy(m + len, rr, sizeof(rr));
    return len;
}

/*
 * ldns counts a TSIG RR out of the additional section as it meets it, and
 * keeps only the last it meets: a message whose count claims more RRs than
 * that makes ldns meet a second TSIG RR and leak the first. Refused.
 */
static void second_tsig_rr_refused(void **state)
{
    uint8_t m[256];
    ldns_pkt *p = NULL;

    (void)state;
    assert_int_equal(zp_tsig_wire2pkt(&p, m, reply_with_tsigs(m, 1, 1)), LDNS_STATUS_OK);
    assert_non_null(ldns_pkt_tsig(p));
    ldns_pkt_free(p);
    /* Two TSIG RRs, two counted: ldns stops after the first (no leak), so does the count. */
    assert_int_equal(zp_tsig_wire2pkt(&p, m, reply_with_tsigs(m, 2, 2)), LDNS_STATUS_OK);
    ldns_pkt_free(p);
    p = NULL;
    assert_int_not_equal(zp_tsig_wire2pkt(&p, m, reply_with_tsigs(m, 2, 4)), LDNS_STATUS_OK);
    assert_null(p);
    assert_int_not_equal(zp_tsig_wire2pkt(&p, m, reply_with_tsigs(m, 3, 6)), LDNS_STATUS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ldns_accepts_ours), cmocka_unit_test(ours_accepts_ldns),
        cmocka_unit_test(refusals),          cmocka_unit_test(error_reply_with_empty_mac),
        cmocka_unit_test(malformed),         cmocka_unit_test(bad_secret),
        cmocka_unit_test(fixed_vectors),     cmocka_unit_test(second_tsig_rr_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
