/*
 * caa.c — the CAA check (RFC 8659): finding the relevant CAA RRset of a
 * certificate name through the resolvers, and judging it for one CA the way
 * the CA will (issue/issuewild values, the critical flag, and RFC 8657's
 * validationmethods, since a DNS-01 solver is useless where dns-01 is
 * excluded).
 *
 * The sentences name sets in sorted order: resolvers rotate RRsets, and the
 * same policy must give the same bytes (cert-manager compares them).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/mem.h"
#include "solver/caa.h"
#include "solver/zone.h"

#define SET_MAX 16 /* names kept per list; the smallest in sort order win */
#define SET_LEN 256
#define SHOW_MAX 64 /* characters of a record value quoted in a sentence */

/* snprintf for sentences: names are bounded, and a cut sentence is still better than none. */
static void say(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *out, size_t outsz, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, outsz, fmt, ap);
    va_end(ap);
}

/* A small sorted set of strings. */
struct strset {
    size_t n;
    char v[SET_MAX][SET_LEN];
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Adds s once; when full, keeps the SET_MAX smallest so the result does not depend on order. */
static void set_add(struct strset *s, const char *v)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return;
    if (s->n < SET_MAX) {
        zp_strlcpy(s->v[s->n++], v, SET_LEN);
    } else {
        qsort(s->v, s->n, SET_LEN, str_cmp);
        if (strcmp(v, s->v[SET_MAX - 1]) >= 0)
            return;
        zp_strlcpy(s->v[SET_MAX - 1], v, SET_LEN);
    }
    qsort(s->v, s->n, SET_LEN, str_cmp);
}

static int set_has(const struct strset *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return 1;
    return 0;
}

/* "a", "a and b", "a, b and c" (quoted when q). */
static void set_join(const struct strset *s, int q, char *out, size_t outsz)
{
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; i < s->n && len < outsz; i++) {
        const char *sep = i == 0 ? "" : i + 1 == s->n ? " and " : ", ";
        int k = snprintf(out + len, outsz - len, "%s%s%s%s", sep, q ? "\"" : "", s->v[i],
                         q ? "\"" : "");
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

/* Record text shown in a sentence: printable ASCII without quotes or backslashes, cut short. */
static void show(const uint8_t *v, size_t n, char *out, size_t outsz)
{
    size_t i, j = 0;

    for (i = 0; i < n && i < SHOW_MAX && j + 4 < outsz; i++)
        out[j++] = v[i] >= 0x20 && v[i] < 0x7f && v[i] != '"' && v[i] != '\\' ? (char)v[i] : '?';
    if (i < n && j + 4 < outsz)
        for (int k = 0; k < 3; k++)
            out[j++] = '.';
    out[j] = '\0';
}

/* --- one record --------------------------------------------------------------------------- */

struct prop {
    unsigned flags;
    char tag[32]; /* lower case; other characters than [a-z0-9] shown as '?' */
    const uint8_t *val;
    size_t vlen;
};

/* Splits a CAA RR into flags, tag and value; -1 for anything that is not one. */
static int prop_get(const ldns_rr *rr, struct prop *p)
{
    const ldns_rdf *f, *t, *v;
    const uint8_t *td;
    size_t tlen, i;

    /* From the wire ldns stops at the end of the rdata: an empty value (0 issue "", which
     * authorizes no CA) comes as two rdfs, from presentation format as three. */
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CAA || ldns_rr_rd_count(rr) < 2 ||
        ldns_rr_rd_count(rr) > 3)
        return -1;
    f = ldns_rr_rdf(rr, 0);
    t = ldns_rr_rdf(rr, 1);
    v = ldns_rr_rd_count(rr) == 3 ? ldns_rr_rdf(rr, 2) : NULL;
    if (ldns_rdf_size(f) != 1 || ldns_rdf_size(t) < 2)
        return -1;
    /* ldns keeps the tag with its length byte (LDNS_RDF_TYPE_TAG) and the value as raw bytes. */
    td = ldns_rdf_data(t);
    tlen = td[0];
    if (tlen == 0 || tlen + 1 != ldns_rdf_size(t) || tlen >= sizeof(p->tag))
        return -1;
    for (i = 0; i < tlen; i++) {
        int c = tolower(td[1 + i]);
        p->tag[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? (char)c : '?';
    }
    p->tag[tlen] = '\0';
    p->flags = ldns_rdf_data(f)[0];
    p->val = v != NULL ? ldns_rdf_data(v) : (const uint8_t *)"";
    p->vlen = v != NULL ? ldns_rdf_size(v) : 0;
    return 0;
}

/* Property tags CAs know (RFC 8659, RFC 9495, and the CA/B Forum's contact tags). */
static int tag_known(const char *tag)
{
    static const char *const known[] = {"issue",     "issuewild",    "iodef",
                                        "issuemail", "contactemail", "contactphone"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(tag, known[i]) == 0)
            return 1;
    return 0;
}

/* An issue or issuewild value (RFC 8659 §4.2, parameters of RFC 8657). */
struct issue {
    int malformed;
    char domain[SET_LEN]; /* lower case; "" when the value names no CA */
    int has_methods;
    char methods[SET_LEN];
    char account[SET_LEN]; /* "" when the value has no accounturi */
};

static int ldh(int c)
{
    return isalnum(c) || c == '-';
}

static int wsp(int c)
{
    return c == ' ' || c == '\t';
}

/* Whether s is label *("." label), labels of letters, digits and inner hyphens. */
static int domain_ok(const char *s)
{
    size_t i, len = strlen(s);

    if (len == 0 || s[0] == '.' || s[len - 1] == '.' || strstr(s, "..") != NULL)
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '.')
            continue;
        if (!ldh((unsigned char)s[i]))
            return 0;
        if (s[i] == '-' && (i == 0 || s[i - 1] == '.' || i + 1 == len || s[i + 1] == '.'))
            return 0;
    }
    return 1;
}

/* Reads "tag *WSP = *WSP value" at *i; -1 when it is not one. */
static int param_get(const uint8_t *v, size_t n, size_t *i, char *tag, size_t tagsz, char *val,
                     size_t valsz)
{
    size_t k = 0;

    while (*i < n && ldh(v[*i]) && k + 1 < tagsz)
        tag[k++] = (char)tolower(v[(*i)++]);
    tag[k] = '\0';
    while (*i < n && wsp(v[*i]))
        (*i)++;
    if (k == 0 || *i >= n || v[*i] != '=')
        return -1;
    for ((*i)++; *i < n && wsp(v[*i]); (*i)++)
        ;
    for (k = 0; *i < n && v[*i] > 0x20 && v[*i] < 0x7f && v[*i] != ';'; (*i)++)
        if (k + 1 < valsz)
            val[k++] = (char)v[*i];
    val[k] = '\0';
    return 0;
}

static void issue_parse(const uint8_t *v, size_t n, struct issue *is)
{
    char tag[64], val[SET_LEN];
    size_t i = 0, k = 0;

    memset(is, 0, sizeof(*is));
    while (i < n && wsp(v[i]))
        i++;
    for (; i < n && !wsp(v[i]) && v[i] != ';'; i++) {
        if (k + 1 < sizeof(is->domain))
            is->domain[k++] = (char)tolower(v[i]);
    }
    is->domain[k] = '\0';
    while (i < n && wsp(v[i]))
        i++;
    if ((k > 0 && !domain_ok(is->domain)) || (i < n && v[i] != ';'))
        goto bad;
    for (i++; i < n;) {
        while (i < n && wsp(v[i]))
            i++;
        if (i >= n)
            break;
        if (param_get(v, n, &i, tag, sizeof(tag), val, sizeof(val)) == -1)
            goto bad;
        if (strcmp(tag, "validationmethods") == 0) {
            is->has_methods = 1;
            zp_strlcpy(is->methods, val, sizeof(is->methods));
        } else if (strcmp(tag, "accounturi") == 0) {
            zp_strlcpy(is->account, val, sizeof(is->account));
        }
        while (i < n && wsp(v[i]))
            i++;
        if (i < n && v[i++] != ';')
            goto bad;
    }
    return;
bad:
    /* A value the CA cannot parse authorizes no one (RFC 8659 §4.2). */
    is->malformed = 1;
    is->domain[0] = '\0';
}

/* Whether a validationmethods list ("http-01,dns-01") admits dns-01. */
static int methods_dns01(const char *m)
{
    const char *p = m;

    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (len == 6 && strncasecmp(p, "dns-01", 6) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* --- one RRset ---------------------------------------------------------------------------- */

struct caa_eval {
    char name[ZP_DNAME_MAX];  /* the certificate name, canonical ("*.x." kept) */
    char where[ZP_DNAME_MAX]; /* the owner of the relevant set */
    char issuer[SET_LEN];     /* lower case without a trailing dot; "" when not judged */
    char dig[384];
    const char *prop;        /* "issue" or "issuewild" */
    int relevant;            /* records with that property */
    int issuer_open;         /* a dns-01 record of the issuer without accounturi */
    struct strset critical;  /* unknown tags with the critical flag */
    struct strset named;     /* CAs the relevant records name */
    struct strset dns01;     /* of those, the ones a record allows to use dns-01 */
    struct strset methods;   /* validationmethods lists without dns-01 */
    struct strset accounts;  /* accounturi of the issuer's dns-01 records */
    struct strset malformed; /* values that authorize no one */
};

/* Sorts the set's records into e; returns how many CAA records it holds. */
static size_t eval_scan(struct caa_eval *e, const ldns_rr_list *set)
{
    size_t i, count = 0, wild = 0;
    struct prop p;

    for (i = 0; set != NULL && i < ldns_rr_list_rr_count(set); i++) {
        if (prop_get(ldns_rr_list_rr(set, i), &p) == -1)
            continue;
        count++;
        if ((p.flags & 128) && !tag_known(p.tag))
            set_add(&e->critical, p.tag);
        wild += strcmp(p.tag, "issuewild") == 0;
    }
    /* issuewild rules wildcards when the set has any; non-wildcards never see it (§4.3). */
    e->prop = e->name[0] == '*' && wild > 0 ? "issuewild" : "issue";
    for (i = 0; set != NULL && i < ldns_rr_list_rr_count(set); i++) {
        struct issue is;
        char txt[SET_LEN];

        if (prop_get(ldns_rr_list_rr(set, i), &p) == -1 || strcmp(p.tag, e->prop) != 0)
            continue;
        e->relevant++;
        issue_parse(p.val, p.vlen, &is);
        if (is.malformed) {
            show(p.val, p.vlen, txt, sizeof(txt));
            set_add(&e->malformed, txt);
        }
        if (is.domain[0] == '\0')
            continue;
        set_add(&e->named, is.domain);
        if (is.has_methods && !methods_dns01(is.methods)) {
            if (e->issuer[0] == '\0' || strcmp(is.domain, e->issuer) == 0)
                set_add(&e->methods, is.methods);
            continue;
        }
        set_add(&e->dns01, is.domain);
        if (strcmp(is.domain, e->issuer) == 0 && is.account[0] != '\0')
            set_add(&e->accounts, is.account);
        else if (strcmp(is.domain, e->issuer) == 0)
            e->issuer_open = 1;
    }
    return count;
}

/* "; the value "x" is malformed and allows no CA", or "". */
static void malformed_note(const struct caa_eval *e, char *out, size_t outsz)
{
    char list[512];

    out[0] = '\0';
    if (e->malformed.n == 0)
        return;
    set_join(&e->malformed, 1, list, sizeof(list));
    snprintf(out, outsz, "; the %s %s %s malformed and %s no CA",
             e->malformed.n == 1 ? "value" : "values", list, e->malformed.n == 1 ? "is" : "are",
             e->malformed.n == 1 ? "allows" : "allow");
}

/* The verdict when a CA is named. */
static void judge_issuer(const struct caa_eval *e, struct zp_check *out)
{
    char list[1024], note[640], fix[768];
    const char *w = strcmp(e->prop, "issuewild") == 0 ? "wildcard " : "";

    if (set_has(&e->dns01, e->issuer)) {
        note[0] = '\0';
        if (!e->issuer_open && e->accounts.n > 0) {
            set_join(&e->accounts, 0, list, sizeof(list));
            say(note, sizeof(note), " with the ACME account%s %s only",
                e->accounts.n > 1 ? "s" : "", list);
        }
        zp_check_set(out, "caa", ZP_CHECK_OK, NULL, NULL, e->dig,
                     "CAA at %s allows %s to issue "
                     "for %s%s",
                     e->where, e->issuer, e->name, note);
        return;
    }
    if (set_has(&e->named, e->issuer)) {
        set_join(&e->methods, 0, list, sizeof(list));
        say(fix, sizeof(fix),
            "add dns-01 to the validationmethods parameter of the %s "
            "record for %s at %s, or remove the parameter",
            e->prop, e->issuer, e->where);
        zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, NULL, e->dig,
                     "CAA at %s allows %s to "
                     "issue for %s only through the validation methods %s; dns-01 is not "
                     "among them",
                     e->where, e->issuer, e->name, list);
        return;
    }
    malformed_note(e, note, sizeof(note));
    set_join(&e->named, 0, list, sizeof(list));
    if (e->named.n > 0) {
        say(fix, sizeof(fix),
            "add '%s CAA 0 %s \"%s\"' or issue from a CA the record "
            "allows",
            e->where, e->prop, e->issuer);
        zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, NULL, e->dig,
                     "CAA at %s allows %s"
                     "issuance only by %s; %s is not allowed%s",
                     e->where, w, list, e->issuer, note);
        return;
    }
    say(fix, sizeof(fix), "add '%s CAA 0 %s \"%s\"' if certificates for %s are wanted", e->where,
        e->prop, e->issuer, e->name);
    zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, NULL, e->dig,
                 "CAA at %s forbids %sissuance "
                 "by any CA; %s is not allowed%s",
                 e->where, w, e->issuer, note);
}

/* The verdict when no CA is named: what the set allows. */
static void judge_open(const struct caa_eval *e, struct zp_check *out)
{
    char list[1024], methods[512], note[640], fix[768];
    const char *w = strcmp(e->prop, "issuewild") == 0 ? "wildcard " : "";

    malformed_note(e, note, sizeof(note));
    set_join(&e->dns01, 0, list, sizeof(list));
    if (e->dns01.n > 0) {
        zp_check_set(out, "caa", ZP_CHECK_WARN,
                     "check that your CA's CAA identity is among "
                     "those allowed",
                     NULL, e->dig,
                     "CAA at %s allows only %s to issue %s"
                     "certificates for %s%s",
                     e->where, list, w, e->name, note);
        return;
    }
    if (e->named.n > 0) {
        set_join(&e->named, 0, list, sizeof(list));
        set_join(&e->methods, 0, methods, sizeof(methods));
        say(fix, sizeof(fix),
            "add dns-01 to the validationmethods parameters of the %s "
            "records at %s, or remove the parameter",
            e->prop, e->where);
        zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, NULL, e->dig,
                     "CAA at %s allows only %s "
                     "to issue %scertificates for %s, through the validation methods %s; "
                     "dns-01 is not among them",
                     e->where, list, w, e->name, methods);
        return;
    }
    say(fix, sizeof(fix),
        "add '%s CAA 0 %s \"<your CA's CAA identity>\"' if certificates "
        "for %s are wanted",
        e->where, e->prop, e->name);
    zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, NULL, e->dig,
                 "CAA at %s forbids %sissuance "
                 "by any CA%s",
                 e->where, w, note);
}

/* Lower-case issuer domain without a trailing dot into out ("" for NULL). */
static void issuer_canon(const char *issuer, char *out, size_t outsz)
{
    size_t i, len;

    out[0] = '\0';
    if (issuer == NULL)
        return;
    len = strlen(issuer);
    while (len > 0 && issuer[len - 1] == '.')
        len--;
    for (i = 0; i < len && i + 1 < outsz; i++)
        out[i] = (char)tolower((unsigned char)issuer[i]);
    out[i] = '\0';
}

/* The canonical certificate name and its base (the name, or what follows "*."). */
static int name_prep(const char *cert_name, char *name, char *base, size_t sz)
{
    char why[128];
    int wild = strncmp(cert_name, "*.", 2) == 0;

    if (zp_dname_check(cert_name + (wild ? 2 : 0), 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(cert_name + (wild ? 2 : 0), base, sz) == -1 || zp_dname_labels(base) < 1)
        return -1;
    snprintf(name, sz, "%s%s", wild ? "*." : "", base);
    return 0;
}

int zp_caa_decide(const ldns_rr_list *set, const char *owner, const char *cert_name,
                  const char *issuer, const char *resolver, struct zp_check *out)
{
    struct caa_eval *e = zp_xcalloc(1, sizeof(*e));
    char base[ZP_DNAME_MAX], fix[768], list[512];
    int rc = -1;

    if (name_prep(cert_name, e->name, base, sizeof(base)) == -1) {
        zp_check_set(out, "caa", ZP_CHECK_FAIL, NULL, NULL, NULL, "\"%s\" is not a DNS name",
                     cert_name);
        goto out;
    }
    if (owner == NULL || zp_dname_canon(owner, e->where, sizeof(e->where)) == -1)
        zp_strlcpy(e->where, base, sizeof(e->where));
    issuer_canon(issuer, e->issuer, sizeof(e->issuer));
    zp_check_dig(e->dig, sizeof(e->dig), resolver, 0, NULL, e->where, "CAA");
    rc = 0;
    if (eval_scan(e, set) == 0) {
        zp_check_set(out, "caa", ZP_CHECK_OK, NULL, NULL, e->dig,
                     "no CAA records at %s or "
                     "its parent domains: any CA may issue",
                     base);
    } else if (e->critical.n > 0) {
        set_join(&e->critical, 1, list, sizeof(list));
        say(fix, sizeof(fix),
            "remove the critical flag (128) from the %s %s at %s, or "
            "remove %s",
            list, e->critical.n == 1 ? "record" : "records", e->where,
            e->critical.n == 1 ? "that record" : "those records");
        zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, NULL, e->dig,
                     "CAA at %s has the %s %s "
                     "with the critical flag, unknown to CAs: every CA must refuse to issue "
                     "for %s",
                     e->where, e->critical.n == 1 ? "property" : "properties", list, e->name);
    } else if (e->relevant == 0) {
        zp_check_set(out, "caa", ZP_CHECK_OK, NULL, NULL, e->dig,
                     "CAA at %s has no %s "
                     "property: any CA may issue for %s",
                     e->where, e->name[0] == '*' ? "issue or issuewild" : "issue", e->name);
    } else if (e->issuer[0] != '\0') {
        judge_issuer(e, out);
    } else {
        judge_open(e, out);
    }
out:
    free(e);
    return rc;
}

/* --- finding the relevant RRset ----------------------------------------------------------- */

/* The CAA records of an answer (after the CNAMEs the resolver followed), and their owner. */
static ldns_rr_list *caa_of(const ldns_pkt *p, char *owner, size_t ownersz)
{
    const ldns_rr_list *an = ldns_pkt_answer(p);
    ldns_rr_list *set = NULL;

    if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
        return NULL;
    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CAA)
            continue;
        if (set == NULL) {
            char *s = ldns_rdf2str(ldns_rr_owner(rr));
            if (s == NULL || zp_dname_canon(s, owner, ownersz) == -1)
                owner[0] = '\0';
            free(s);
            set = ldns_rr_list_new();
        }
        ldns_rr_list_push_rr(set, ldns_rr_clone(rr));
    }
    return set;
}

/* "why" of the resolvers without its trailing separator. */
static void why_trim(struct zp_buf *why, char *out, size_t outsz)
{
    size_t len;

    zp_strlcpy(out, zp_buf_str(why), outsz);
    len = strlen(out);
    while (len > 0 && (out[len - 1] == ' ' || out[len - 1] == ';'))
        out[--len] = '\0';
}

static void lookup_failed(const struct zp_dnsq_resolvers *r, const char *cur, struct zp_buf *why,
                          struct zp_check *out)
{
    char text[1024], dig[384], servers[512], fix[768];
    size_t i, len = 0;

    why_trim(why, text, sizeof(text));
    servers[0] = '\0';
    for (i = 0; i < r->n && len < sizeof(servers); i++) {
        int k = snprintf(servers + len, sizeof(servers) - len, "%s%s", i ? ", " : "", r->t[i].addr);
        len += k > 0 ? (size_t)k : 0;
    }
    zp_check_dig(dig, sizeof(dig), r->n ? r->t[0].addr : NULL, 0, NULL, cur, "CAA");
    say(fix, sizeof(fix),
        "make CAA queries for %s answerable: repair what the resolver "
        "reports (often broken DNSSEC, or nameservers that fail CAA queries)",
        cur);
    zp_check_set(out, "caa", ZP_CHECK_FAIL, fix, servers, dig,
                 "cannot read the CAA records of "
                 "%s: %s; the CA's own lookup fails the same way, and CAs refuse to issue "
                 "when CAA cannot be read",
                 cur, text[0] ? text : "no answer");
}

int zp_caa_check_any(const struct zp_dnsq_resolvers *r, const char *cert_name,
                     const char *const *issuers, size_t n_issuers, uint64_t deadline,
                     struct zp_check *out)
{
    char name[ZP_DNAME_MAX], cur[ZP_DNAME_MAX], next[ZP_DNAME_MAX], owner[ZP_DNAME_MAX];
    ldns_rr_list *set = NULL;
    struct zp_check c;
    struct zp_buf why;
    size_t who = 0;
    int rc = 0;

    if (name_prep(cert_name, name, cur, sizeof(cur)) == -1)
        return zp_caa_decide(NULL, NULL, cert_name, n_issuers ? issuers[0] : NULL, NULL, out);
    zp_buf_init(&why, 4096);
    /* The closest enclosing non-empty set wins (§3); the root is never asked. */
    while (set == NULL && zp_dname_labels(cur) > 0) {
        ldns_pkt *p = NULL;

        if (zp_dnsq_recurse(r, cur, LDNS_RR_TYPE_CAA, 0, deadline, &p, &who, &why) == -1) {
            lookup_failed(r, cur, &why, out);
            goto out;
        }
        set = caa_of(p, owner, sizeof(owner));
        ldns_pkt_free(p);
        if (set == NULL) {
            zp_zone_parent(cur, next, sizeof(next));
            zp_strlcpy(cur, next, sizeof(cur));
        }
    }
    /* One walk for every CA: the first that may issue answers, else the first refusal. */
    for (size_t i = 0; i < (n_issuers ? n_issuers : 1); i++) {
        rc = zp_caa_decide(set, set != NULL && owner[0] ? owner : NULL, name,
                           n_issuers ? issuers[i] : NULL, r->n ? r->t[who].addr : NULL,
                           i ? &c : out);
        if (i > 0 && c.verdict != ZP_CHECK_FAIL)
            *out = c;
        if (out->verdict != ZP_CHECK_FAIL)
            break;
    }
out:
    ldns_rr_list_deep_free(set);
    zp_buf_free(&why);
    return rc;
}

int zp_caa_check(const struct zp_dnsq_resolvers *r, const char *cert_name, const char *issuer,
                 uint64_t deadline, struct zp_check *out)
{
    return zp_caa_check_any(r, cert_name, &issuer, issuer != NULL, deadline, out);
}
