/*
 * awssts_int.h — the pure step of the STS client, for the tests and the
 * fuzz driver: an AssumeRoleWithWebIdentity reply (XML) to credentials.
 */
#ifndef ZP_PROVIDERS_AWSSTS_INT_H
#define ZP_PROVIDERS_AWSSTS_INT_H

#include <time.h>

struct zp_awssts_creds;
struct zp_buf;
struct zp_err;

/*
 * The credentials and expiry of a reply into *out and *expires; -1 with a
 * sentence naming role when one is missing. out may hold part of them
 * then: the caller wipes it either way (zp_awssts_creds_wipe).
 */
int zp_awssts_parse(const struct zp_buf *body, const char *role, struct zp_awssts_creds *out,
                    time_t *expires, struct zp_err *err);

#endif
