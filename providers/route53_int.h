/*
 * route53_int.h — what route53.c (and awssts.c) use of route53_xml.c: reading
 * Route 53's XML replies with expat and writing change batches. Also what
 * the unit tests test.
 */
#ifndef ZP_PROVIDERS_ROUTE53_INT_H
#define ZP_PROVIDERS_ROUTE53_INT_H

#include <stddef.h>

#include "providers/xml.h"

struct zp_buf;

#define R53_ID_MAX 64 /* hosted zone and change ids: Z…, C…, 32 characters at most */
#define ZP_R53_NAME_MAX 256
#define ZP_R53_TEXT_MAX 4096 /* an element's text in a reply: a TXT value is 4,000 or less */

/* One TXT record set as ListResourceRecordSets returned it. */
struct zp_r53_rrset {
    int found;
    unsigned long ttl;
    char **v; /* values in presentation form, as stored: "\"abc\"" */
    size_t n;
};

/*
 * Reads a reply with xml.h under AWS's limits: -1 with a phrase in why
 * (whysz may be 0) when it is not well-formed XML, has a DTD, or has an
 * element whose text is longer than textmax bytes. x is empty then; free it
 * with zp_xml_free either way.
 */
int zp_r53_xml_parse(const char *body, size_t len, size_t textmax, struct zp_xml *x, char *why,
                     size_t whysz);
/*
 * The text of the first element called name in a reply, into out: 1 when the
 * reply is well-formed XML with such an element, whose text fits in out.
 */
int zp_r53_xml_first(const char *body, size_t len, const char *name, char *out, size_t outsz);
/* Whether a name as Route 53 returns it (\NNN escapes, any case) is want (canonical). */
int zp_r53_name_eq(const char *got, const char *want);
/*
 * A ListResourceRecordSets reply: the TXT set at fqdn if the first set is
 * that one (found = 0 otherwise). -1 with a phrase in why for a set that
 * zoneproof must not rewrite (a routing policy, an alias).
 */
int zp_r53_rrset_read(const struct zp_xml *x, const char *fqdn, struct zp_r53_rrset *set,
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
/* Code and message of an ErrorResponse (STS's too) or InvalidChangeBatch; 1 if it was one. */
int zp_r53_error_parse(const char *body, size_t len, char *code, size_t codesz, char *msg,
                       size_t msgsz);

#endif
