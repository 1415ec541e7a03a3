/*
 * clock.h — monotonic milliseconds, deadlines, and durations as written in
 * configuration ("25s", "500ms", "2m").
 */
#ifndef ZP_BASE_CLOCK_H
#define ZP_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock with an arbitrary origin. */
uint64_t zp_now_ms(void);
/* Milliseconds left until deadline (absolute, zp_now_ms() clock); 0 if past. */
uint64_t zp_ms_left(uint64_t deadline);
/*
 * Parses "250ms", "25s", "2m", "1h" or a bare number of seconds into
 * milliseconds. Returns 0, or -1 for anything else.
 */
int zp_duration_parse(const char *s, uint64_t *ms);

#endif
