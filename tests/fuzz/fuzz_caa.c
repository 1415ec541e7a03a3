/*
 * fuzz_caa.c — CAA records as DNS answers bring them (untrusted): any set
 * of CAA rdata gives a decision with a verdict in range and NUL-terminated
 * sentences, the same bytes whatever the order of the RRset, and a set that
 * holds a well-formed CAA record is never read as "no CAA at all".
 *
 * Input: records, one after another, each
 *     flags (1 byte), tag length (1), tag, value length (1), value
 * where a value length of 255 means "the rest of the input". The bytes go
 * on the wire as the rdata of one RR and ldns parses them as it parses an
 * answer (ldns_wire2rdf); rdata ldns refuses is left out, as the packet
 * holding it would be. Each set is judged for a plain and a wildcard name,
 * with and without an issuer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "solver/caa.h"
#include "solver/check.h"

#define RECORDS_MAX 64
#define OWNER "caa.test."

/* One record's rdata from the input at *pos into rdata (with the 2-byte length first). */
static size_t next_rdata(const uint8_t *d, size_t n, size_t *pos, uint8_t *rdata, size_t cap)
{
    size_t p = *pos, len = 0, tl, vl;

    rdata[2 + len++] = d[p++]; /* flags */
    tl = p < n ? d[p] : 0;     /* tag length, as the wire says it */
    if (p < n)
        rdata[2 + len++] = d[p++];
    for (size_t i = 0; i < tl && p < n; i++)
        rdata[2 + len++] = d[p++];
    vl = p < n ? d[p++] : 0;
    if (vl == 255)
        vl = n - p;
    for (size_t i = 0; i < vl && p < n && 2 + len < cap && len < 65535; i++)
        rdata[2 + len++] = d[p++];
    *pos = p;
    rdata[0] = (uint8_t)(len >> 8);
    rdata[1] = (uint8_t)len;
    return len + 2;
}

/* The RR ldns makes of that rdata, or NULL when ldns refuses it; *ok: a well-formed record. */
static ldns_rr *rr_from(const uint8_t *wire, size_t len, int *ok)
{
    ldns_rr *rr = ldns_rr_new();
    size_t pos = 0;

    if (rr == NULL)
        abort();
    ldns_rr_set_owner(rr, ldns_dname_new_frm_str(OWNER));
    ldns_rr_set_type(rr, LDNS_RR_TYPE_CAA);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, 300);
    if (ldns_wire2rdf(rr, wire, len, &pos) != LDNS_STATUS_OK) {
        ldns_rr_free(rr);
        return NULL;
    }
    /* RFC 8659 §4.1: a tag of 1 to 15 characters; the value may be empty. */
    *ok = len >= 4 && wire[3] >= 1 && wire[3] <= 15 && (size_t)wire[3] + 4 <= len;
    return rr;
}

static int terminated(const char *s, size_t sz)
{
    return memchr(s, '\0', sz) != NULL;
}

static void decide(const ldns_rr_list *set, const char *name, const char *issuer,
                   struct zp_check *c)
{
    memset(c, 0xa5, sizeof(*c)); /* a sentence left unterminated shows */
    if (zp_caa_decide(set, OWNER, name, issuer, "127.0.0.1:53", c) != 0)
        abort(); /* the names are valid: only a bad name is refused */
    if (c->id == NULL || strcmp(c->id, "caa") != 0)
        abort();
    if (c->verdict != ZP_CHECK_OK && c->verdict != ZP_CHECK_WARN && c->verdict != ZP_CHECK_FAIL)
        abort();
    if (!terminated(c->cause, sizeof(c->cause)) || !terminated(c->fix, sizeof(c->fix)) ||
        !terminated(c->servers, sizeof(c->servers)) || !terminated(c->dig, sizeof(c->dig)))
        abort();
    if (c->cause[0] == '\0')
        abort();
}

static int same(const struct zp_check *a, const struct zp_check *b)
{
    return a->verdict == b->verdict && strcmp(a->cause, b->cause) == 0 &&
           strcmp(a->fix, b->fix) == 0 && strcmp(a->dig, b->dig) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"www." OWNER, "*." OWNER};
    static const char *const issuers[] = {"letsencrypt.org", NULL};
    ldns_rr_list *set = ldns_rr_list_new(), *rev = ldns_rr_list_new();
    uint8_t *wire = malloc(size + 8);
    size_t pos = 0, n;
    int wellformed = 0;

    if (set == NULL || rev == NULL || wire == NULL)
        abort();
    for (n = 0; pos < size && n < RECORDS_MAX; n++) {
        size_t len = next_rdata(data, size, &pos, wire, size + 8);
        int ok = 0;
        ldns_rr *rr = rr_from(wire, len, &ok);

        if (rr != NULL && !ldns_rr_list_push_rr(set, rr))
            abort();
        wellformed |= rr != NULL && ok;
    }
    for (size_t i = ldns_rr_list_rr_count(set); i > 0; i--)
        if (!ldns_rr_list_push_rr(rev, ldns_rr_list_rr(set, i - 1)))
            abort();
    for (size_t i = 0; i < 2; i++) {
        for (size_t j = 0; j < 2; j++) {
            struct zp_check c, r, none;

            decide(set, names[i], issuers[j], &c);
            decide(rev, names[i], issuers[j], &r);
            if (!same(&c, &r))
                abort(); /* resolvers rotate RRsets: the decision must not follow */
            decide(NULL, names[i], issuers[j], &none);
            if (wellformed && strcmp(c.cause, none.cause) == 0)
                abort(); /* a CAA record was there: the CA will not read "no CAA" */
        }
    }
    ldns_rr_list_free(rev);
    ldns_rr_list_deep_free(set);
    free(wire);
    return 0;
}
