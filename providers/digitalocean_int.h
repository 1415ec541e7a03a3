/*
 * digitalocean_int.h — the DigitalOcean provider's pure pieces (reading its
 * replies), exposed for unit tests only.
 */
#ifndef ZP_PROVIDERS_DIGITALOCEAN_INT_H
#define ZP_PROVIDERS_DIGITALOCEAN_INT_H

struct cJSON;
struct zp_pr_ids;

/*
 * One page of GET /v2/domains/{zone}/records: appends the ids of TXT
 * records named rel (relative, "@" at the apex, as DigitalOcean answers)
 * whose data is exactly value. *more: whether links.pages.next exists.
 * -1: not a list reply.
 */
int zp_do_match_page(const struct cJSON *root, const char *rel, const char *value,
                     struct zp_pr_ids *ids, int *more);

/* The TTL to send: at least 30, DigitalOcean's minimum. */
unsigned zp_do_ttl(unsigned ttl);

#endif
