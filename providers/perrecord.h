/*
 * perrecord.h — what the per-record providers with a bearer token share
 * (cloudflare, digitalocean, linode): their common settings, one
 * authenticated request, and the add/remove-one-value algorithm.
 *
 * In these APIs every TXT value is a record of its own with an id, so
 * adding one value is a create and removing one is a delete by id: no
 * other value at the name is ever rewritten. Each provider supplies its
 * zone step and a table (struct zp_pr_ops) of how its records are listed,
 * created and deleted by id; zp_pr_present and zp_pr_cleanup run the steps
 * in order and log the outcome the same way for all three.
 */
#ifndef ZP_PROVIDERS_PERRECORD_H
#define ZP_PROVIDERS_PERRECORD_H

#include <stddef.h>

#include "base/dname.h"
#include "base/httpc.h"
#include "providers/common.h"

struct cJSON;
struct zp_err;
struct zp_pr_ops;
struct zp_prov_call;
struct zp_record;

#define ZP_PR_ID_MAX 72  /* a record or zone id as text: 32 hex digits, or an integer */
#define ZP_PR_IDS_MAX 32 /* records with one value at one name that one cleanup removes */

/* What is fixed for a provider type. */
struct zp_pr_api {
    const char *type; /* "cloudflare": logs and the rate-limit key */
    const char *what; /* "Cloudflare": messages */
    double rate;      /* requests a second one account may make, sustained */
    double burst;     /* requests it may make at once */
};

/* Settings every instance of these types has. */
struct zp_pr_conn {
    char *endpoint;              /* base URL, no trailing slash */
    char *ca_file;               /* NULL: the system's CAs */
    struct zp_cred token;        /* apiTokenFile or apiTokenSecretRef */
    const struct zp_pr_ops *ops; /* the provider's description, which zp_pr_present follows */
};

/*
 * The whole configuration of a type whose only settings are the connection
 * and an optional `zone` (DigitalOcean, Linode), read by the provider's
 * settings table (settings.h).
 */
struct zp_pr_zcfg {
    struct zp_pr_conn conn;
    char *zone; /* zone setting, canonical; NULL: the challenge's zone */
};

/* What a request is for: the sentence for a refusal depends on it. */
enum zp_pr_step { ZP_PR_ZONE, ZP_PR_LIST, ZP_PR_CREATE, ZP_PR_DELETE };

/* One authenticated request. */
struct zp_pr_req {
    const char *method;
    const char *path;            /* after the endpoint: "/domains" */
    const char *body;            /* JSON, or NULL */
    const struct cJSON *filter;  /* sent as "X-Filter: {…}" (Linode), or NULL */
    const struct zp_cred *token; /* NULL: the connection's apiToken */
};

/*
 * Reads the API token, then sends the request with "Authorization: Bearer"
 * through zp_prov_json_send (which first takes a token from the account's
 * bucket), and wipes the token. 0 when any response arrived (whatever its
 * status: zp_http_call has already waited out 429 and retried 5xx where the
 * deadline allowed).
 */
int zp_pr_send(const struct zp_pr_api *api, const struct zp_pr_conn *conn,
               const struct zp_prov_call *call, const struct zp_pr_req *req,
               struct zp_http_resp *resp, struct zp_err *err);

/*
 * Logs a reply that is about to become an error: status and the body's
 * start, redacted (zp_prov_body) with the value of token, the credential sent.
 */
void zp_pr_log_reply(const struct zp_pr_api *api, const struct zp_cred *token,
                     const struct zp_prov_call *call, const char *doing,
                     const struct zp_http_resp *resp);

/*
 * The sentence for a status the provider has no rule of its own for: 5xx
 * (ZP_ETRANSIENT, the provider's trouble) or anything else (ZP_EINTERNAL:
 * an answer the contract does not describe). doing: "create TXT at x".
 */
int zp_pr_fail_status(const struct zp_pr_api *api, const char *doing,
                      const struct zp_http_resp *resp, struct zp_err *err);

/*
 * obj[key] as an id: a string of letters, digits, '-', '_' and '.' as it is
 * (it goes into a URL path), a non-negative integer in decimal; else -1.
 */
int zp_pr_json_id(const struct cJSON *obj, const char *key, char *out, size_t outsz);
/* obj[key] if it is a string, else NULL. */
const char *zp_pr_json_str(const struct cJSON *obj, const char *key);

/* The records found for one value. */
struct zp_pr_ids {
    size_t n;
    char id[ZP_PR_IDS_MAX][ZP_PR_ID_MAX];
};

/* Appends id; -1 when the list is full. */
int zp_pr_ids_add(struct zp_pr_ids *ids, const char *id);

/* Where one call writes. */
struct zp_pr_target {
    char zone[ZP_DNAME_MAX];    /* "example.com": the zone, no trailing dot */
    char zone_id[ZP_PR_ID_MAX]; /* the API's id for it ("" when the API uses the name) */
    char fqdn[ZP_DNAME_MAX];    /* "_acme-challenge.example.com": no trailing dot */
    char rel[ZP_DNAME_MAX];     /* "_acme-challenge", or "@" at the apex */
};

/*
 * Fills zone, fqdn and rel from a canonical zone and the record's name;
 * ZP_ECONFIG when the name is not inside the zone (override names the
 * setting that chose the zone, or NULL when it is the challenge's own).
 */
int zp_pr_target_set(struct zp_pr_target *t, const struct zp_pr_api *api, const char *zone,
                     const char *fqdn, const char *override, struct zp_err *err);

/*
 * A provider described: its zone step, and a table of how it lists, adds
 * and deletes one zone's records, which zp_pr_present and zp_pr_cleanup
 * follow. cfg is the parsed configuration; it starts with its struct
 * zp_pr_conn. The records of a zone are at
 * <endpoint><zones><zone id, escaped><records>, one of them at .../<id>.
 */
struct zp_pr_ops {
    const struct zp_pr_api *api;
    int (*zone)(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                struct zp_pr_target *t, struct zp_err *err);
    const char *zones;   /* "/domains/" */
    int zone_by_name;    /* the zone id in URLs is the zone's name (t->zone) */
    const char *records; /* "/records" */
    /*
     * List query: name_query, the escaped fqdn, "&<size_key>=N&page=P"; or,
     * without name_query, "?page=P&<size_key>=N" (xfilter: the name goes in
     * an X-Filter of type and relative name).
     */
    const char *name_query; /* "?type=TXT&name=" */
    int xfilter;
    const char *size_key; /* "per_page" */
    int page_size;
    int pages_max; /* more pages are not read, and a warning is logged */
    /* One page: appends the ids of records holding value; *pages: pages in all. -1: no list. */
    int (*match)(const struct cJSON *root, const char *rel, const char *fqdn, const char *value,
                 struct zp_pr_ids *ids, int *pages);
    int name_abs;          /* a record is created named by fqdn, else by rel */
    const char *value_key; /* "data" */
    int quote;             /* values are sent quoted ("\"v\"") */
    const char *ttl_key;   /* "ttl" */
    unsigned (*ttl)(unsigned ttl);
    const char *created; /* the member of the create reply holding "id"; NULL: the reply */
    long ok[4][3];       /* per step, the statuses that are success (0 ends a list) */
    /*
     * Any other reply: 0 success after all, 1 (create only) the record
     * exists already, -1 refused with err set. doing: "add TXT at x".
     */
    int (*refused)(const void *cfg, const struct zp_prov_call *call, enum zp_pr_step step,
                   const struct zp_pr_target *t, const char *doing, const struct zp_http_resp *resp,
                   struct zp_err *err);
};

/*
 * The provider.h entry points, for a cfg that starts with its struct
 * zp_pr_conn (whose ops say how).
 * verify (doctor): the zone and the records at rec->fqdn read, nothing written.
 */
int zp_pr_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                 struct zp_err *err);
/* Adds rec->value unless a record holds it already. */
int zp_pr_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err);
/* Deletes every record at rec->fqdn that holds rec->value, and nothing else. */
int zp_pr_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err);

#endif
