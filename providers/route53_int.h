/*
 * route53_int.h — what route53.c uses of route53_xml.c: reading Route 53's
 * XML replies and writing change batches. Also what the unit tests test.
 */
#ifndef ZP_PROVIDERS_ROUTE53_INT_H
#define ZP_PROVIDERS_ROUTE53_INT_H

#include <stddef.h>

struct zp_buf;

#define R53_ID_MAX 64 /* hosted zone and change ids: Z…, C…, 32 characters at most */
#define ZP_R53_NAME_MAX 256

/* One TXT record set as ListResourceRecordSets returned it. */
struct zp_r53_rrset {
    int found;
    unsigned long ttl;
    char **v; /* values in presentation form, as stored: "\"abc\"" */
    size_t n;
};

/*
 * The first element <name> in [p, end): content in [*cs, *ce), the byte after
 * its end tag in *next. 1 if found. Elements of one name never nest in
 * Route 53's replies, so the first end tag closes it.
 */
int zp_r53_xml_elem(const char *p, const char *end, const char *name, const char **cs,
                    const char **ce, const char **next);
/* The decoded text of the first <name> in [p, end) into out; 0 when absent or malformed. */
int zp_r53_xml_get(const char *p, const char *end, const char *name, struct zp_buf *out);
/* Element text with entities (&lt; &#34; …) decoded into out; -1 if malformed. */
int zp_r53_xml_text(const char *cs, const char *ce, struct zp_buf *out);
/* Whether a name as Route 53 returns it (\NNN escapes, any case) is want (canonical). */
int zp_r53_name_eq(const char *got, const char *want);
/*
 * A ListResourceRecordSets reply: the TXT set at fqdn if the first set is
 * that one (found = 0 otherwise). -1 with a phrase in why for a set that
 * zoneproof must not rewrite (a routing policy, an alias).
 */
int zp_r53_rrset_parse(const char *body, size_t len, const char *fqdn, struct zp_r53_rrset *set,
                       struct zp_buf *why);
void zp_r53_rrset_free(struct zp_r53_rrset *set);
/* Whether two reads returned the same set: then a refused batch was not a race. */
int zp_r53_rrset_same(const struct zp_r53_rrset *a, const struct zp_r53_rrset *b);
/* The index of the stored value equal to value (one level of quotes removed), or -1. */
long zp_r53_rrset_find(const struct zp_r53_rrset *set, const char *value);
/*
 * The values the set must hold after adding (del = 0) or removing value:
 * pointers borrowed from set, or quoted (the new value in presentation
 * form). v has room for set->n + 1. Returns how many.
 */
size_t zp_r53_rrset_next(const struct zp_r53_rrset *set, int del, const char *value,
                         const char *quoted, char **v);
/* The request body: DELETE of old (when found), then CREATE of v[0..n) (when n > 0). */
int zp_r53_batch(const char *fqdn, const struct zp_r53_rrset *old, char *const *v, size_t n,
                 unsigned long ttl, struct zp_buf *out);
/* Code and message of an ErrorResponse or InvalidChangeBatch reply; 1 if it was one. */
int zp_r53_error_parse(const char *body, size_t len, char *code, size_t codesz, char *msg,
                       size_t msgsz);

#endif
