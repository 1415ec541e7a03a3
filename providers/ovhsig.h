/*
 * ovhsig.h — the OVH API request signature: "$1$" followed by the lower-case
 * hex SHA-1 of AS+CK+METHOD+URL+BODY+TIMESTAMP, joined by "+".
 *
 * Kept apart from the provider so that it can be checked against the
 * published vectors (shared vectors/ovh_sig_output.txt) without a network.
 */
#ifndef ZP_PROVIDERS_OVHSIG_H
#define ZP_PROVIDERS_OVHSIG_H

#include <stddef.h>

/* "$1$" + 40 hex digits + NUL */
#define ZP_OVH_SIG_SIZE 44

/*
 * Signs one request. url is the full URL exactly as sent (base, path and
 * query); body the exact bytes sent (NULL or body_len 0 for none); ts the
 * X-Ovh-Timestamp value in decimal. The secrets are fed to the digest piece
 * by piece, so no joined copy of them is ever made. Returns 0, or -1 when
 * the digest cannot be computed.
 */
int zp_ovh_sign(const char *app_secret, const char *consumer_key, const char *method,
                const char *url, const char *body, size_t body_len, const char *ts,
                char out[ZP_OVH_SIG_SIZE]);

#endif
