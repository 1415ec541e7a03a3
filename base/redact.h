/*
 * redact.h — the one sanitizer an upstream body passes before it is logged.
 *
 * A provider's error reply may echo what it was sent: a token, a key, a
 * signature. Whatever such a body holds, its log copy has, replaced by
 * [REDACTED]:
 *   - each of the call's own secret values (the credentials the provider
 *     read), as sent and percent- or JSON-escaped, wherever it appears;
 *   - "Bearer <token>";
 *   - the value of any pair whose key contains key, secret, token, password,
 *     passwd, signature, credential or authorization (any case): JSON
 *     ("apiKey": "…"), forms and queries (token=…), headers (X-Auth-Key: …,
 *     Authorization: to the end of the line) and XML elements
 *     (<SecretAccessKey>…</SecretAccessKey>).
 * The rules read the whole body (its first 256 KB) before it is cut to the
 * log's size, so a cut never leaves the first half of a secret behind.
 */
#ifndef ZP_BASE_REDACT_H
#define ZP_BASE_REDACT_H

#include <stddef.h>

#define ZP_REDACTED "[REDACTED]"

/*
 * Writes the sanitized text (len bytes, may hold NULs) into out: at most
 * outsz - 1 bytes, cut between UTF-8 characters, NUL-terminated. secrets is
 * a NULL-terminated list of the call's credential values; NULL itself, and
 * entries shorter than 3 bytes, are skipped. Returns out.
 */
const char *zp_redact(const char *text, size_t len, const char *const *secrets, char *out,
                      size_t outsz);

#endif
