/*
 * powerdns_int.h — the pure parts of the powerdns provider, for its unit
 * tests: which server versions edit one record server-side, and the API's
 * URL from the configured endpoint.
 */
#ifndef ZP_PROVIDERS_POWERDNS_INT_H
#define ZP_PROVIDERS_POWERDNS_INT_H

/* Whether a server reporting version ("4.7.3", "5.1.0-beta1") has EXTEND and PRUNE (5.1+). */
int zp_pdns_version_modern(const char *version);
/* endpoint + "/api/v1", unless endpoint already ends with /api or /api/v1. Caller frees. */
char *zp_pdns_api_url(const char *endpoint);

#endif
