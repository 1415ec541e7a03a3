/*
 * httpc_int.h — the pure step of the client that reads a reply's headers,
 * for the tests and the fuzz driver: when a throttled call may be tried
 * again.
 */
#ifndef ZP_BASE_HTTPC_INT_H
#define ZP_BASE_HTTPC_INT_H

#include <stdint.h>

struct zp_http_resp;

/*
 * Milliseconds to wait from r's Retry-After (seconds or an HTTP date), or,
 * on a 429 without one, from RateLimit-Reset, X-RateLimit-Reset or
 * Ratelimit's t=; capped at one hour; 0 when absent or malformed.
 */
uint64_t zp_http_retry_after(const struct zp_http_resp *r);

#endif
