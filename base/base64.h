/*
 * base64.h — the one base64 (RFC 4648): the standard alphabet with
 * padding, the URL-safe alphabet without it (JWTs, RFC 7515 section 2),
 * and a strict decoder of the standard alphabet.
 *
 * The decoder refuses anything that is not base64: a stray character,
 * padding in the middle, a length no encoder writes. What it decodes may
 * be a secret: its scratch space is wiped, and its messages never quote
 * the input.
 */
#ifndef ZP_BASE_BASE64_H
#define ZP_BASE_BASE64_H

#include <stddef.h>

struct zp_buf;
struct zp_err;

/* Decoding flag: skip CR and LF anywhere, as Go's StdEncoding.DecodeString does (Secret data). */
#define ZP_B64_LINES 1u

/* Appends the standard base64 of p[0..n) with padding; -1 when out's cap is reached. */
int zp_b64_encode(const void *p, size_t n, struct zp_buf *out);
/* Appends base64url without padding ('-' and '_' for '+' and '/'); -1 at out's cap. */
int zp_b64url_encode(const void *p, size_t n, struct zp_buf *out);

/*
 * Appends what in[0..len) decodes to; an empty input is the empty value
 * (out still becomes a string). Errors: "not valid base64 (at byte N)",
 * "not valid base64 (its length or padding is wrong)", "the decoded value
 * is larger than N bytes" (out's cap). On error out may hold part of the
 * value: wipe it.
 */
int zp_b64_decode(const char *in, size_t len, unsigned flags, struct zp_buf *out,
                  struct zp_err *err);
/* How many bytes in[0..len) decodes to, or -1 when it is not base64. Nothing is decoded. */
long zp_b64_decoded_len(const char *in, size_t len, unsigned flags);

#endif
