/*
 * perrecord.h — what the per-record providers with a bearer token share
 * (cloudflare, digitalocean, linode): their common settings, one
 * authenticated request, and the add/remove-one-value algorithm.
 *
 * In these APIs every TXT value is a record of its own with an id, so
 * adding one value is a create and removing one is a delete by id: no
 * other value at the name is ever rewritten. Each provider supplies four
 * small steps (find its zone, find the records holding a value, create,
 * delete by id); zp_pr_present and zp_pr_cleanup run them in order and log
 * the outcome the same way for all three.
 */
#ifndef ZP_PROVIDERS_PERRECORD_H
#define ZP_PROVIDERS_PERRECORD_H

#include <stddef.h>

#include "base/dname.h"
#include "base/httpc.h"
#include "providers/common.h"

struct cJSON;
struct zp_err;
struct zp_prov_call;
struct zp_record;
struct zp_ynode;

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
    char *endpoint;       /* base URL, no trailing slash */
    char *ca_file;        /* NULL: the system's CAs */
    struct zp_cred token; /* apiTokenFile or apiTokenSecretRef */
};

/* endpoint, caFile and apiTokenFile/apiTokenSecretRef (required, read again at every call). */
int zp_pr_conn_parse(const struct zp_ynode *node, const char *path, const char *def_url,
                     struct zp_pr_conn *c, struct zp_err *err);
void zp_pr_conn_free(struct zp_pr_conn *c);

/* An optional setting naming a zone: canonical with a trailing dot, or *zone left NULL. */
int zp_pr_zone_parse(const struct zp_ynode *node, const char *path, const char *key, char **zone,
                     struct zp_err *err);

/*
 * The whole configuration of a type whose only settings are the connection
 * and an optional `zone` (DigitalOcean, Linode). Parse and free fit
 * zp_provider_ops.config_parse/config_free once the default URL is bound.
 */
struct zp_pr_zcfg {
    struct zp_pr_conn conn;
    char *zone; /* zone setting, canonical; NULL: the challenge's zone */
};

int zp_pr_zcfg_parse(const struct zp_ynode *node, const char *path, const char *def_url,
                     void **cfgp, struct zp_err *err);
void zp_pr_zcfg_free(void *p);

/* One authenticated request. */
struct zp_pr_req {
    const char *method;
    const char *url;
    const char *body;            /* JSON, or NULL */
    const char *header;          /* one more header line ("X-Filter: {…}"), or NULL */
    const struct zp_cred *token; /* NULL: the connection's apiToken */
};

/*
 * Takes a token from the account's bucket, reads the API token, sends the
 * request with "Authorization: Bearer", and wipes the token. 0 when any
 * response arrived (whatever its status: zp_http_call has already waited
 * out 429 and retried 5xx where the deadline allowed).
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

/* The four steps a provider supplies; cfg is its parsed configuration. */
struct zp_pr_ops {
    const struct zp_pr_api *api;
    int (*zone)(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                struct zp_pr_target *t, struct zp_err *err);
    /* Ids of the TXT records at t->fqdn that hold rec->value; with first, one is enough. */
    int (*find)(void *cfg, const struct zp_pr_target *t, const struct zp_record *rec,
                const struct zp_prov_call *call, int first, struct zp_pr_ids *ids,
                struct zp_err *err);
    /* Creates the record; id receives its id, or "" when the API says it exists already. */
    int (*create)(void *cfg, const struct zp_pr_target *t, const struct zp_record *rec,
                  const struct zp_prov_call *call, char *id, size_t idsz, struct zp_err *err);
    /* Deletes one record by id; "no such record" is success. */
    int (*remove)(void *cfg, const struct zp_pr_target *t, const struct zp_record *rec,
                  const char *id, const struct zp_prov_call *call, struct zp_err *err);
};

/* doctor: the zone and the records at rec->fqdn read, nothing written (provider.h verify). */
int zp_pr_verify(const struct zp_pr_ops *ops, void *cfg, const struct zp_record *rec,
                 const struct zp_prov_call *call, struct zp_err *err);
/* Adds rec->value unless a record holds it already. */
int zp_pr_present(const struct zp_pr_ops *ops, void *cfg, const struct zp_record *rec,
                  const struct zp_prov_call *call, struct zp_err *err);
/* Deletes every record at rec->fqdn that holds rec->value, and nothing else. */
int zp_pr_cleanup(const struct zp_pr_ops *ops, void *cfg, const struct zp_record *rec,
                  const struct zp_prov_call *call, struct zp_err *err);

#endif
