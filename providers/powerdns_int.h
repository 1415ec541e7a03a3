/*
 * powerdns_int.h — the pure parts of the powerdns provider, for its unit
 * tests: which server versions edit one record server-side and show
 * disabled records in a read of one name, the API's URL from the
 * configured endpoint, and the TXT set at the name with the PATCH that
 * changes only our value in it (powerdns_rrset.c).
 */
#ifndef ZP_PROVIDERS_POWERDNS_INT_H
#define ZP_PROVIDERS_POWERDNS_INT_H

#include <stddef.h>

struct cJSON;

/* Whether version ("4.7.3", "5.1.0-beta1") is major.minor or later; 0 for unknown shapes. */
int zp_pdns_version_at_least(const char *version, long major, long minor);
/* Whether a server reporting version has EXTEND and PRUNE (5.1+). */
int zp_pdns_version_modern(const char *version);
/*
 * Whether a read of one name (?rrset_name=) shows disabled records when
 * asked (include_disabled=true, 5.0+). Before, it leaves them out, and only
 * the whole zone's read shows them.
 */
int zp_pdns_filter_shows_disabled(const char *version);
/* endpoint + "/api/v1", unless endpoint already ends with /api or /api/v1. Caller frees. */
char *zp_pdns_api_url(const char *endpoint);

/* What the zone holds at the name: the TXT set, borrowed from the parsed zone. */
struct zp_pdns_set {
    int found;
    long ttl;                     /* the set's; the instance's when it holds no record */
    const struct cJSON *records;  /* [{content, disabled}] */
    const struct cJSON *comments; /* [{content, account, modified_at}]; NULL when none */
    size_t nrecords;              /* records read, ours included */
    size_t foreign;               /* records that are not our value, enabled or not */
    size_t disabled;              /* disabled records, ours included */
    size_t ncomments;
    size_t unreadable; /* records or lists not in the API's shape: nothing may be written */
    int ours_on;       /* our value is there and enabled */
    int ours_off;      /* our value is there, disabled */
};

/* The change wanted: our value at fqdn, added (del 0) or removed. */
struct zp_pdns_want {
    const char *fqdn;
    const char *value;  /* raw */
    const char *quoted; /* presentation form, as PowerDNS takes TXT content */
    int modern;         /* EXTEND and PRUNE are available */
    int del;
};

/* Finds the TXT set at fqdn in a zone object (GET /zones/{id}); ttl: the instance's. */
void zp_pdns_find_set(const struct cJSON *zone, const char *fqdn, const char *value, long ttl,
                      struct zp_pdns_set *set);

/*
 * The rrsets array of the PATCH for the set as read; *how names its
 * changetype (EXTEND, PRUNE, REPLACE, DELETE), or is NULL when nothing has to
 * change (the array is then empty). The caller deletes the array.
 */
struct cJSON *zp_pdns_plan(const struct zp_pdns_set *set, const struct zp_pdns_want *w,
                           const char **how);

#endif
