/*
 * nswire.c — one question to one nameserver and what its answer says: the
 * query in wire form, whether an answer matches it, the TCP retry after a
 * truncated answer, the classification of a TXT answer, and the compact
 * per-nameserver state a watch keeps that classification in.
 *
 * Everything here is a pure function of its arguments or blocks only the
 * caller (the TCP exchange); nothing is shared between threads.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/dname.h"
#include "base/mem.h"
#include "solver/watch_int.h"

/* --- addresses --------------------------------------------------------------------------- */

int zp_ns_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return 0;
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    const struct sockaddr_in *x = (const struct sockaddr_in *)a;
    const struct sockaddr_in *y = (const struct sockaddr_in *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* --- one question, one answer ------------------------------------------------------------ */

int zp_ns_name_is(const ldns_rdf *rdf, const char *name)
{
    ldns_rdf *n = ldns_dname_new_frm_str(name);
    int eq = n != NULL && ldns_dname_compare(rdf, n) == 0;

    ldns_rdf_deep_free(n);
    return eq;
}

/* --- the state of one nameserver --------------------------------------------------------- */

/*
 * *dst becomes a copy of src, or NULL when src is empty. An equal string is
 * kept: a laggard polled every second answers the same thing every time.
 */
static void str_set(char **dst, const char *src)
{
    if (src == NULL || src[0] == '\0') {
        free(*dst);
        *dst = NULL;
    } else if (*dst == NULL || strcmp(*dst, src) != 0) {
        free(*dst);
        *dst = zp_xstrdup(src);
    }
}

static void others_set(struct zp_ns_live *l, const char *const *v, const unsigned *ttl, unsigned n)
{
    unsigned i;

    for (i = 0; i < ZP_WATCH_MAX_OTHER; i++) {
        /* An empty TXT value is a value: kept as "", never as NULL (reports copy each one). */
        if (i < n && v[i][0] == '\0') {
            free(l->other[i]);
            l->other[i] = zp_xstrdup("");
        } else {
            str_set(&l->other[i], i < n ? v[i] : NULL);
        }
        l->other_ttl[i] = i < n ? ttl[i] : 0;
    }
    l->n_other = n;
}

void zp_ns_live_init(struct zp_ns_live *l, const struct zp_ns_target *t)
{
    memset(l, 0, sizeof(*l));
    l->name = zp_xstrdup(t->name);
    if (t->salen > 0 && (size_t)t->salen <= sizeof(l->to)) {
        memcpy(&l->to, &t->sa, t->salen);
        l->tolen = t->salen;
    }
    l->state = l->tolen ? ZP_NS_PENDING : ZP_NS_ERROR;
    l->parent_only = t->parent_only != 0;
    l->hist.served_ms = ZP_NS_SERVED_NEVER;
    str_set(&l->detail, t->detail);
}

void zp_ns_live_record(struct zp_ns_live *l, uint32_t at_ms)
{
    struct zp_ns_history *h = &l->hist;

    if (l->state == ZP_NS_PENDING || (h->n > 0 && h->state[h->n - 1] == l->state))
        return;
    if (l->state == ZP_NS_HAS_VALUE && h->served_ms == ZP_NS_SERVED_NEVER)
        h->served_ms = at_ms;
    if (h->n == ZP_NS_HIST)
        h->n--; /* full: the latest takes the last slot */
    h->state[h->n] = (uint8_t)l->state;
    h->at_ms[h->n] = at_ms;
    h->n++;
}

void zp_ns_live_set(struct zp_ns_live *l, enum zp_ns_state state, int rcode, const char *detail)
{
    l->state = state;
    l->rcode = rcode;
    others_set(l, NULL, NULL, 0);
    str_set(&l->detail, detail);
}

void zp_ns_live_free(struct zp_ns_live *l)
{
    others_set(l, NULL, NULL, 0);
    free(l->detail);
    free(l->name);
    memset(l, 0, sizeof(*l));
}

void zp_ns_live_status(const struct zp_ns_live *l, struct zp_ns_status *st)
{
    unsigned i;

    memset(st, 0, sizeof(*st));
    zp_strlcpy(st->name, l->name ? l->name : "", sizeof(st->name));
    if (l->tolen > 0)
        zp_ns_addr_format(&l->to.sa, st->addr, sizeof(st->addr));
    st->state = l->state;
    st->rcode = l->rcode;
    st->parent_only = l->parent_only;
    st->n_other = l->n_other;
    for (i = 0; i < l->n_other && i < ZP_WATCH_MAX_OTHER; i++) {
        zp_strlcpy(st->other[i], l->other[i], sizeof(st->other[i]));
        st->other_ttl[i] = l->other_ttl[i];
    }
    zp_strlcpy(st->detail, l->detail ? l->detail : "", sizeof(st->detail));
    st->hist = l->hist;
}

/* --- what a TXT answer says -------------------------------------------------------------- */

struct other {
    char v[ZP_WATCH_VALUE_MAX];
    unsigned ttl;
};

static int other_cmp(const void *a, const void *b)
{
    return strcmp(((const struct other *)a)->v, ((const struct other *)b)->v);
}

/*
 * A value for a sentence or JSON in DNS presentation form: '"' and '\\' are
 * escaped with a backslash, other bytes outside printable ASCII as \DDD, so
 * a value that differs only in quoting shows how (never as '?').
 */
static void printable(const char *in, char *out, size_t outsz)
{
    size_t j = 0;

    for (; *in && j + 5 < outsz; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch == '"' || ch == '\\') {
            out[j++] = '\\';
            out[j++] = (char)ch;
        } else if (ch < 0x20 || ch > 0x7e) {
            j += (size_t)snprintf(out + j, outsz - j, "\\%03u", ch);
        } else {
            out[j++] = (char)ch;
        }
    }
    out[j] = '\0';
}

/* The state of an answer whose rcode or missing AA bit says it all; -1 when it does not. */
static int rcode_state(const ldns_pkt *p, char *detail, size_t detailsz)
{
    int rcode = ldns_pkt_get_rcode(p);
    size_t i;

    if (rcode == LDNS_RCODE_REFUSED)
        return ZP_NS_REFUSED;
    if (rcode == LDNS_RCODE_SERVFAIL) {
        /* The server's own reason (RFC 8914), when it gives one; ldns parses it lazily. */
        zp_dnsq_ede((ldns_pkt *)(uintptr_t)p, detail, detailsz);
        return ZP_NS_SERVFAIL;
    }
    if (rcode == LDNS_RCODE_NOTAUTH ||
        ((rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) && !ldns_pkt_aa(p))) {
        const ldns_rr_list *au = ldns_pkt_authority(p);
        for (i = 0; au != NULL && i < ldns_rr_list_rr_count(au); i++)
            if (ldns_rr_get_type(ldns_rr_list_rr(au, i)) == LDNS_RR_TYPE_NS) {
                char *z = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(au, i)));
                snprintf(detail, detailsz, "a referral to the servers of %s", z ? z : "?");
                free(z);
                break;
            }
        return ZP_NS_NOTAUTH;
    }
    if (rcode == LDNS_RCODE_NXDOMAIN)
        return ZP_NS_NXDOMAIN;
    if (rcode != LDNS_RCODE_NOERROR) {
        const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rcode);
        snprintf(detail, detailsz, "rcode %s", lt ? lt->name : "unknown");
        return ZP_NS_ERROR;
    }
    return -1;
}

void zp_ns_classify(const ldns_pkt *p, const char *fqdn, const char *value, struct zp_ns_live *l)
{
    const ldns_rr_list *an = ldns_pkt_answer(p);
    struct other *oth = NULL;
    const char *shown[ZP_WATCH_MAX_OTHER];
    unsigned ttls[ZP_WATCH_MAX_OTHER];
    size_t i, n_oth = 0, cap = 0, vlen = strlen(value);
    char buf[2048], shownv[ZP_WATCH_VALUE_MAX], detail[128] = "";
    int found = 0, state = rcode_state(p, detail, sizeof(detail));

    if (state >= 0) {
        zp_ns_live_set(l, (enum zp_ns_state)state, ldns_pkt_get_rcode(p), detail);
        return;
    }
    for (i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        size_t len, j;

        if (!zp_ns_name_is(ldns_rr_owner(rr), fqdn))
            continue;
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1) {
            char *t = ldns_rdf2str(ldns_rr_rdf(rr, 0));
            snprintf(detail, sizeof(detail), "the name is an alias (CNAME) of %s", t ? t : "?");
            free(t);
            continue;
        }
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        len = zp_dnsq_txt_join(rr, buf, sizeof(buf));
        if (len == vlen && memcmp(buf, value, vlen) == 0) {
            found = 1;
            continue;
        }
        printable(buf, shownv, sizeof(shownv));
        for (j = 0; j < n_oth && strcmp(oth[j].v, shownv) != 0; j++)
            ;
        if (j < n_oth)
            continue;
        if (n_oth == cap) {
            cap = cap ? cap * 2 : 8;
            oth = zp_xrealloc(oth, cap * sizeof(*oth));
        }
        zp_strlcpy(oth[n_oth].v, shownv, sizeof(oth[n_oth].v));
        oth[n_oth++].ttl = ldns_rr_ttl(rr);
    }
    /* Servers rotate RRsets: sort, so one zone content gives one sentence. */
    if (n_oth > 1)
        qsort(oth, n_oth, sizeof(*oth), other_cmp);
    for (i = 0; i < n_oth && i < ZP_WATCH_MAX_OTHER; i++) {
        shown[i] = oth[i].v;
        ttls[i] = oth[i].ttl;
    }
    if (n_oth > ZP_WATCH_MAX_OTHER)
        snprintf(detail, sizeof(detail), "%zu more values not shown", n_oth - ZP_WATCH_MAX_OTHER);
    l->state = found ? ZP_NS_HAS_VALUE : n_oth > 0 ? ZP_NS_OTHER : ZP_NS_NODATA;
    l->rcode = LDNS_RCODE_NOERROR;
    others_set(l, shown, ttls, (unsigned)i);
    str_set(&l->detail, detail);
    free(oth);
}
