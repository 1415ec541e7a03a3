/*
 * challenge.h — one ChallengeRequest: decoded from cert-manager's JSON (or
 * built by the CLI) and validated before anything touches DNS.
 */
#ifndef ZP_SOLVER_CHALLENGE_H
#define ZP_SOLVER_CHALLENGE_H

#include <stddef.h>

#include "base/dname.h"

struct cJSON;
struct zp_err;

#define ZP_KEY_MAX 255 /* one TXT character-string */
/*
 * A value the CLI composes (a DNS-PERSIST-01 record) may be longer: the
 * rfc2136 provider splits it into character-strings of at most 255 octets.
 */
#define ZP_TXT_MAX 512

enum zp_action { ZP_PRESENT, ZP_CLEANUP };

struct zp_challenge {
    enum zp_action action;
    char uid[128];
    char dns_name[ZP_DNAME_MAX];
    char fqdn[ZP_DNAME_MAX];  /* resolvedFQDN, canonical: lower case, trailing dot */
    char zone[ZP_DNAME_MAX];  /* resolvedZone, canonical; "" when not given */
    char key[ZP_TXT_MAX + 1]; /* ZP_KEY_MAX but for zp_challenge_make_txt */
    char resource_namespace[254];
    int allow_ambient;
    char provider[64]; /* config.provider: an instance name, "" to route by dnsZones */
    int from_api;      /* sent through the API: resource_namespace is checked (access.h) */
    int persistent;    /* a DNS-PERSIST-01 record (persist.h): it stays, so never journaled */
};

/*
 * Decodes the "request" object of a ChallengePayload. apiVersion and kind
 * are ignored, as the Go server does. Errors name the field.
 */
int zp_challenge_from_json(const struct cJSON *request, struct zp_challenge *ch,
                           struct zp_err *err);
/*
 * Decodes a whole ChallengePayload body, as kube-apiserver forwards it.
 * The JSON is read strictly (base/jsonstrict.h: one document, no duplicate
 * key, no NUL); then the request as zp_challenge_from_json. Fails with
 * ZP_EINVAL and a sentence for a 400 Status.
 */
int zp_challenge_from_body(const char *body, size_t len, struct zp_challenge *ch,
                           struct zp_err *err);
/*
 * Fills and validates a challenge from its parts (the CLI). zone and
 * provider may be NULL.
 */
int zp_challenge_make(struct zp_challenge *ch, enum zp_action action, const char *fqdn,
                      const char *zone, const char *key, const char *provider, struct zp_err *err);

/*
 * The same for a TXT value the CLI composes itself (a DNS-PERSIST-01
 * record): printable ASCII but '"' and '\\', 1 to ZP_TXT_MAX characters;
 * field names the value in sentences.
 */
int zp_challenge_make_txt(struct zp_challenge *ch, enum zp_action action, const char *fqdn,
                          const char *zone, const char *value, const char *field,
                          const char *provider, struct zp_err *err);

const char *zp_action_name(enum zp_action a);

#endif
