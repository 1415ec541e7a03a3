/*
 * linode_int.h — the Linode provider's pure pieces (reading its replies,
 * its TTL steps), exposed for unit tests only.
 */
#ifndef ZP_PROVIDERS_LINODE_INT_H
#define ZP_PROVIDERS_LINODE_INT_H

#include <stddef.h>

struct cJSON;
struct zp_pr_ids;

/*
 * One page of GET /v4/domains/{id}/records: appends the ids of TXT records
 * named rel ("" at the apex, as Linode answers; the full name fqdn is
 * accepted too) whose target is exactly value. *pages: the "pages" member.
 * -1: not a list reply.
 */
int zp_li_match_page(const struct cJSON *root, const char *rel, const char *fqdn, const char *value,
                     struct zp_pr_ids *ids, int *pages);

/* GET /v4/domains filtered by name: the id of the domain named zone; the count, -1 for no list. */
int zp_li_pick_domain(const struct cJSON *root, const char *zone, char *id, size_t idsz);

/* The ttl_sec to send: the smallest value Linode keeps as it is that is at least ttl. */
unsigned zp_li_ttl(unsigned ttl);

#endif
