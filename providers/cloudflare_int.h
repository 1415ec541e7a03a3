/*
 * cloudflare_int.h — the Cloudflare provider's pure pieces (reading its
 * replies), exposed for unit tests only.
 */
#ifndef ZP_PROVIDERS_CLOUDFLARE_INT_H
#define ZP_PROVIDERS_CLOUDFLARE_INT_H

#include <stddef.h>

struct cJSON;
struct zp_pr_ids;

/* What one reply means, from its status, success flag and errors[].code. */
enum zp_cf_outcome {
    ZP_CF_OK,
    ZP_CF_EXISTS,    /* 81057/81058: an identical record exists (success on add) */
    ZP_CF_GONE,      /* 81044: no such record (success on delete) */
    ZP_CF_NOTFOUND,  /* 404 without a code we know */
    ZP_CF_BADHEADER, /* 6003/61xx: the Authorization header is not a token */
    ZP_CF_AUTH,      /* 1000, 9109 "Invalid access token", 401: token unknown */
    ZP_CF_PERM,      /* 10000, other 9109, 403: token lacks a permission */
    ZP_CF_NOZONE,    /* 7003/7000: no such zone id */
    ZP_CF_QUOTA,     /* 81045: the zone's record quota is used up */
    ZP_CF_CONFLICT,  /* 81053/81054: a CNAME sits at the name */
    ZP_CF_SERVER,    /* 5xx */
    ZP_CF_OTHER,
};

/* root may be NULL (not JSON). *code: the first error code, 0 if none. */
enum zp_cf_outcome zp_cf_classify(long status, const struct cJSON *root, int *code);

/*
 * One page of GET /zones/{id}/dns_records: appends the ids of TXT records
 * named fqdn (no trailing dot) whose content, unquoted, is value. *pages
 * receives result_info.total_pages (1 when absent). -1: not a list reply.
 */
int zp_cf_match_page(const struct cJSON *root, const char *fqdn, const char *value,
                     struct zp_pr_ids *ids, int *pages);

/*
 * GET /zones?name=: the id of the zone named zone (no trailing dot). Returns
 * the number of zones of that name (1: id is set), or -1 for no list.
 */
int zp_cf_pick_zone(const struct cJSON *root, const char *zone, char *id, size_t idsz);

/* The TTL to send: at least 60 (Cloudflare's minimum; 1 would mean "automatic"). */
unsigned zp_cf_ttl(unsigned ttl);

#endif
