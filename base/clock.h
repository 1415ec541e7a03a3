/*
 * clock.h — the process's one clock: monotonic milliseconds, deadlines,
 * the one way to sleep, durations as written in configuration ("25s",
 * "500ms", "2m"), and the modes that let tests drive time instead of
 * waiting for it.
 *
 * Every deliberate wait (a backoff, a Retry-After, a status poll interval)
 * is zp_sleep_ms; every timer a poll loop waits for is zp_clock_poll_ms.
 * Waiting for the network is not a sleep: a poll() on a socket stays real,
 * with a timeout computed from this clock.
 *
 * Modes (chosen once, before any thread starts):
 *   real    the monotonic clock; sleeps wait. The default, and the only mode
 *           a deployment uses.
 *   fast    real time plus everything slept so far: a sleep returns at once
 *           and moves the clock forward by its length. For tests of the
 *           binary, so a 4 s status poll or a 1 s Retry-After costs nothing
 *           while deadlines still run out as they would. Test-only: set by
 *           ZP_TEST_CLOCK=fast (cmd/ reads it at start).
 *   manual  time stands still until zp_clock_advance moves it; a sleeper
 *           blocks until the time it sleeps to has come. For in-process
 *           unit tests, which advance it and can wait until every thread
 *           that runs on the clock is idle (zp_clock_wait_idle).
 * After a jump of the clock (an advance, a fast sleep) the registered wake
 * hooks run, so a loop blocked in poll() recomputes its timeout.
 */
#ifndef ZP_BASE_CLOCK_H
#define ZP_BASE_CLOCK_H

#include <stdint.h>

enum zp_clock_mode { ZP_CLOCK_REAL = 0, ZP_CLOCK_FAST, ZP_CLOCK_MANUAL };

/* Where a manual clock starts: far from 0, so "now - a while ago" never wraps. */
#define ZP_CLOCK_MANUAL_START 1000000000ULL

/* Milliseconds on a monotonic clock with an arbitrary origin. */
uint64_t zp_now_ms(void);
/* Milliseconds left until deadline (absolute, zp_now_ms() clock); 0 if past. */
uint64_t zp_ms_left(uint64_t deadline);
/* Waits ms on this clock: really (real), not at all (fast), or until advanced to (manual). */
void zp_sleep_ms(uint64_t ms);
/*
 * The timeout for a poll() that waits for the timer `until` (zp_now_ms
 * clock) besides its file descriptors: the milliseconds left (real, fast),
 * or -1, forever (manual: only an advance can bring the timer, and it runs
 * the wake hooks). 0 once due.
 */
int zp_clock_poll_ms(uint64_t until);
/*
 * Parses "250ms", "25s", "2m", "1h" or a bare number of seconds into
 * milliseconds. Returns 0, or -1 for anything else.
 */
int zp_duration_parse(const char *s, uint64_t *ms);

/* --- modes and wake hooks ------------------------------------------------------------------ */

/* Sets the mode; only before other threads use the clock. A manual clock starts at its START. */
void zp_clock_set_mode(enum zp_clock_mode mode);
enum zp_clock_mode zp_clock_mode(void);
/* "real", "fast" or "manual" (ZP_TEST_CLOCK). Returns 0, or -1 for anything else. */
int zp_clock_mode_parse(const char *s, enum zp_clock_mode *mode);
/* Milliseconds asked of zp_sleep_ms since the mode was set (any mode): what tests assert on. */
uint64_t zp_clock_slept_ms(void);

/* Called after the clock jumped; must not sleep. */
typedef void zp_clock_wake_fn(void *arg);
/* At most 32 hooks; returns 0, or -1 when full. */
int zp_clock_hook_add(zp_clock_wake_fn *fn, void *arg);
/* After it returns, fn(arg) is not running and will not run again. */
void zp_clock_hook_del(zp_clock_wake_fn *fn, void *arg);

/* --- driving a manual clock (tests) ------------------------------------------------------ */

/* Moves a manual clock forward: sleepers due wake, then the wake hooks run. */
void zp_clock_advance(uint64_t ms);
/*
 * Idleness, for tests that must not advance while work is under way. A
 * loop that is about to wait for the clock alone (nothing due, nothing in
 * flight that I/O could finish) brackets that wait with idle_begin and
 * idle_end. Whoever hands a loop work it has not seen yet (a byte in its
 * wake pipe) counts it with zp_clock_pending(+1); the loop subtracts what
 * it took out of the pipe once it has looked for work after taking it. All
 * are no-ops unless the clock is manual.
 */
int zp_clock_idle_begin(void);
void zp_clock_idle_end(int counted);
void zp_clock_pending(int delta);
/*
 * Blocks until at least n threads wait for a manual clock alone (loops in
 * zp_clock_idle_begin, sleepers in zp_sleep_ms) and no handed work is
 * pending, or guard_ms of real time passed (a hang, not slowness: returns
 * -1). Returns 0.
 */
int zp_clock_wait_idle(unsigned n, unsigned guard_ms);

#endif
