/*
 * common.h — what the HTTP-API providers share: TXT quoting, credential
 * files, the endpoint/caFile settings, the status poll interval, JSON
 * bodies read with a cap, requests with a cached bearer token (one new
 * token after a 401), and upstream text and replies made fit for logs and
 * sentences.
 */
#ifndef ZP_PROVIDERS_COMMON_H
#define ZP_PROVIDERS_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"

struct cJSON;
struct zp_buf;
struct zp_err;
struct zp_http_req;
struct zp_http_resp;
struct zp_prov_call;
struct zp_ynode;

/* "\"value\"": the presentation form with quotes (and \\ \" escaped). */
int zp_txt_quote(const char *value, struct zp_buf *out);
/*
 * Whether stored (as an API returns it: quoted or not, maybe split into
 * several character-strings) is value. One level of quotes is removed.
 */
int zp_txt_equal(const char *stored, const char *value);

/*
 * Reads a credential file (a mounted Secret) into out, trimmed of white
 * space. setting names the option ("apiTokenFile") for the error. The
 * caller wipes out (zp_buf_free_secret). Read on every call: Secrets rotate.
 */
int zp_secret_file_read(const char *path, const char *setting, struct zp_buf *out,
                        struct zp_err *err);
/* At configuration time: the file exists, is readable and not empty. Nothing is kept. */
int zp_secret_file_check(const struct zp_ynode *map, const char *path, const char *key,
                         const char *file, struct zp_err *err);

/*
 * One credential option given either way: "<base>File" (the path of a
 * mounted Secret's key) or "<base>SecretRef: {name, key}" (a Secret in the
 * challenge's resourceNamespace, read through the Kubernetes API at every
 * call, so namespaced Issuers can keep their own). Nothing here is secret:
 * the value is only ever read into a caller's buffer.
 */
struct zp_cred {
    char *file;     /* <base>File, or NULL */
    char *ref_name; /* <base>SecretRef.name, or NULL */
    char *ref_key;  /* <base>SecretRef.key */
    char *setting;  /* the option given ("apiTokenFile"), for messages; NULL: none */
    char *base;     /* "apiToken" */
    char *where;    /* the file's path, or "secret <name>, key <key>": for messages */
    size_t max;     /* the most a file may hold; 0: the 64 KB of a credential */
    int binary;     /* bytes as they are (a keytab): no whitespace trimmed */
};

/* Both option names of base, for a provider's .keys list. */
#define ZP_CRED_KEYS(base) base "File", base "SecretRef"

/*
 * pollInterval, for providers that follow a change until the API reports it
 * applied: the longest wait between two status polls (they start shorter
 * and double up to it). Each provider has its own default.
 */
#define ZP_POLL_INTERVAL_MIN_MS 100u
#define ZP_POLL_INTERVAL_MAX_MS 60000u

/*
 * Reads base's option from map: exactly one of <base>File or
 * <base>SecretRef. A file is checked now (exists, readable, not empty); a
 * reference's name and key must be a Secret's name and a key it may have.
 * Neither given: an error when required, else 0 with zp_cred_set() false.
 */
int zp_cred_parse(const struct zp_ynode *map, const char *path, const char *base, int required,
                  struct zp_cred *cred, struct zp_err *err);
/*
 * zp_cred_parse for a value larger than a credential (a JSON document): a
 * file may hold up to max bytes, at the check and at every zp_cred_read.
 * A Secret's value stays bounded by the caller's buffer.
 */
int zp_cred_parse_max(const struct zp_ynode *map, const char *path, const char *base, int required,
                      size_t max, struct zp_cred *cred, struct zp_err *err);
/* Whether the option was given. */
int zp_cred_set(const struct zp_cred *cred);
/*
 * Reads the value now (Secrets rotate) into out, trimmed of white space;
 * an empty value is an error. out's maximum bounds the value. The caller
 * wipes out (zp_buf_free_secret). Messages name the setting and where,
 * never the value.
 */
int zp_cred_read(const struct zp_cred *cred, const struct zp_prov_call *call, struct zp_buf *out,
                 struct zp_err *err);
void zp_cred_free(struct zp_cred *cred);

/*
 * The endpoint and caFile settings every HTTP provider has. endpoint: an
 * http(s) URL without trailing slash (default def_url); caFile: a PEM
 * bundle that must exist. Both are allocated copies; *ca may stay NULL.
 */
int zp_endpoint_parse(const struct zp_ynode *map, const char *path, const char *def_url,
                      char **endpoint, char **ca, struct zp_err *err);
/* caFile alone (an API whose endpoint comes from another setting): zp_endpoint_parse's checks. */
int zp_cafile_parse(const struct zp_ynode *map, const char *path, char **ca, struct zp_err *err);

/* Parses a JSON reply body; NULL with a sentence naming what when it is not JSON. */
struct cJSON *zp_json_parse(const struct zp_buf *body, const char *what, struct zp_err *err);

/*
 * The start of an upstream body (len bytes), fit for the log: every reply
 * logged (zp_prov_log_reply) passes through this, and so through zp_redact (base/redact.h)
 * with the call's secret values. creds (NULL-terminated, or NULL) are read
 * again now, since the values sent were wiped; vals (NULL-terminated, or
 * NULL) are values or header lines the caller still holds: of a line
 * ("Authorization: sso-key K:S") the value, each word of it and each half
 * of a "K:S" word count too. Returns out.
 */
const char *zp_prov_body(const char *body, size_t len, const struct zp_prov_call *call,
                         const struct zp_cred *const *creds, const char *const *vals, char *out,
                         size_t outsz);

/* Bytes of an upstream body that zp_prov_log_reply writes to the log. */
#define ZP_PROV_LOG_BODY 300
/* The most fields a caller names a request with in zp_prov_log_reply. */
#define ZP_PROV_LOG_FIELDS 3

/*
 * Logs an upstream reply that was not the one expected, as one line: msg
 * ("godaddy: unexpected answer"), the call's instance (call NULL: outside a
 * call, a token endpoint's, with no instance), the fields that name the
 * request (key, value, key, value, …, NULL; at most ZP_PROV_LOG_FIELDS
 * pairs, or NULL), the status, and the first ZP_PROV_LOG_BODY bytes of the
 * body through zp_prov_body with creds and vals. The one way a provider
 * logs a reply: a credential never reaches the log.
 */
void zp_prov_log_reply(enum zp_loglevel level, const char *msg, const struct zp_prov_call *call,
                       const char *const *fields, const struct zp_http_resp *r,
                       const struct zp_cred *const *creds, const char *const *vals);

/*
 * A bearer token that a token source (azauth.h, gauth.h) fetches and
 * caches, for zp_prov_bearer_send. get fills *token (the caller's copy);
 * drop tells the source to forget a token the API refused (401).
 */
struct zp_prov_bearer {
    int (*get)(void *arg, char **token, struct zp_err *err);
    void (*drop)(void *arg, const char *token);
    void *arg;
};

struct zp_prov_api_conn;

/*
 * zp_prov_json_send through c with "Authorization: Bearer <*token>" as its
 * auth line, getting a token first when *token is NULL. A 401 drops the
 * token (b->drop, then wiped and NULL) and tries once more with a new one:
 * a token revoked or expired early may be replaced, a second 401 is
 * returned as it came. *token stays the caller's, for its next request and
 * to wipe. 0 when any HTTP answer arrived.
 */
int zp_prov_bearer_send(const struct zp_prov_bearer *b, const struct zp_prov_api_conn *c,
                        const struct zp_prov_call *call, const char *method, const char *path,
                        const char *body, char **token, struct zp_http_resp *resp,
                        struct zp_err *err);

/*
 * Text from outside (an upstream reply's error code or message, a name an
 * API returned, a word of a credential file) fit to quote in a user's
 * sentence: zp_prov_body's redaction, with the same creds and vals, then
 * each control character a blank, cut to outsz between UTF-8 characters.
 * The one way such text reaches an error sentence. text NULL: "". Returns out.
 */
const char *zp_prov_text(const char *text, const struct zp_prov_call *call,
                         const struct zp_cred *const *creds, const char *const *vals, char *out,
                         size_t outsz);

/*
 * Why a record's zone is wrong when no setting of the provider chose it: the
 * zone came from cert-manager, or on the command line (call->cli) from
 * --zone, zone discovery or dnsZones.
 */
const char *zp_prov_zone_unheld(const struct zp_prov_call *call);

/*
 * How one provider instance's JSON API is reached, for zp_prov_json_send:
 * the one way the HTTP-API providers send a request.
 */
struct zp_prov_api_conn {
    const char *what;     /* "GoDaddy": messages */
    const char *rate_key; /* the account's token bucket */
    double rate, burst;
    const char *base;    /* endpoint, no trailing slash; a path follows it */
    const char *ca_file; /* NULL: the system's CAs */
    const char *auth; /* a header line ("Authorization: …", a secret the caller wipes), or NULL */
    const char *const *headers; /* more header lines (NULL-terminated, at most 4), or NULL */
    size_t max_response;        /* 0: httpc's */
    /* NULL, or signs every attempt anew (zp_http_req.sign: signed-request APIs). */
    int (*sign)(void *arg, struct zp_http_req *r, struct zp_err *err);
    void *sign_arg;
};

/*
 * Takes a token from the account's bucket, then sends method to base+path
 * with auth, the more headers, "Accept: application/json" and, with a body, its JSON
 * Content-Type. 0 when any answer arrived, whatever its status
 * (zp_http_call has waited out 429 and retried 5xx where the deadline
 * allowed).
 */
int zp_prov_json_send(const struct zp_prov_api_conn *c, const struct zp_prov_call *call,
                      const char *method, const char *path, const char *body,
                      struct zp_http_resp *resp, struct zp_err *err);

/*
 * A provider's refusals as a table: the first row whose statuses hold the
 * reply's and whose code (NULL: any) is the provider's error code gives the
 * error's kind and sentence. A row without a sentence ends the table. The sentence is
 * a template: each {name} becomes the value vars gives it (name, value, …,
 * NULL; values are the caller's, made fit with zp_prov_text where they come
 * from outside), and {status} the reply's status. {name|word} is word when
 * vars lacks the name or its value is NULL or empty.
 */
struct zp_prov_refusal {
    long lo, hi;      /* the HTTP statuses the row covers; both 0: any */
    const char *code; /* the provider's error code (or a word of its reason); NULL: any */
    enum zp_errkind kind;
    const char *sentence;
};

/*
 * Sets err from the first row of tab that matches status and code (NULL:
 * the reply had none), err->upstream to status. When no row matches: a 5xx
 * is {what}'s trouble (ZP_ETRANSIENT), anything else an answer its API does
 * not describe (ZP_EINTERNAL); both name {what} and {doing} from vars.
 * Always -1.
 */
int zp_prov_refuse(const struct zp_prov_refusal *tab, long status, const char *code,
                   const char *const *vars, struct zp_err *err);

/*
 * The bearer token cache (azauth.c, gauth.c): a token bought from a token
 * endpoint (Entra ID, Google's OAuth or metadata server), kept for the calls that follow until
 * shortly before it expires.
 *
 * The token is keyed by a hash of the credential that bought it (the client
 * secret, the key file, the federated token), so a rotated Secret buys a new
 * token at the next call instead of using one the old credential earned.
 * Ambient identities have no credential to hash: their key is all zeros and
 * only the expiry holds. Workers share one cache per provider instance: the
 * mutex guards the token, and every reader gets its own copy to wipe.
 */
#define ZP_TOKCACHE_KEY 32 /* SHA-256 */

struct zp_tokcache {
    pthread_mutex_t mu;
    char *token;                        /* under mu; wiped when replaced */
    uint64_t fresh_until;               /* zp_now_ms() clock */
    unsigned char key[ZP_TOKCACHE_KEY]; /* the hash of the credential that bought it */
};

void zp_tokcache_init(struct zp_tokcache *c);
/* Wipes the token. */
void zp_tokcache_fini(struct zp_tokcache *c);

/* key = SHA-256 of the credential's bytes; len 0: all zeros (ambient). -1 when hashing fails. */
int zp_tokcache_key(const void *cred, size_t len, unsigned char key[ZP_TOKCACHE_KEY]);
/* A copy of the token when one bought with key is still fresh, else NULL. */
char *zp_tokcache_get(struct zp_tokcache *c, const unsigned char key[ZP_TOKCACHE_KEY]);
/*
 * Keeps fresh (taken) as bought with key, fresh for expires_in seconds less
 * a margin (margin_s, or half the lifetime when that is shorter), and
 * returns a copy for the caller.
 */
char *zp_tokcache_put(struct zp_tokcache *c, const unsigned char key[ZP_TOKCACHE_KEY], char *fresh,
                      long expires_in, long margin_s);
/* Forgets token if it is the one kept: the API refused it (401). */
void zp_tokcache_forget(struct zp_tokcache *c, const char *token);

#endif
