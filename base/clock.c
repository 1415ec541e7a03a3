/*
 * clock.c — the process's one clock: its three modes (real, fast, manual),
 * the one sleep, poll timeouts for timers, wake hooks, the idleness count
 * tests wait on, and duration parsing.
 *
 * The mode is set once, before threads start, so reading it needs no lock.
 * The fast skew and the manual time are atomics because zp_now_ms is on
 * every path; the manual clock's sleepers and idleness are under one mutex.
 * Wake hooks run under their own mutex, taken before any other lock a hook
 * may take (a watcher's, then this clock's), never after.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

#define HOOKS_MAX 32

static _Atomic int mode = ZP_CLOCK_REAL;
static _Atomic uint64_t skew;       /* fast: everything slept so far */
static _Atomic uint64_t manual_now; /* manual: the time */
static _Atomic uint64_t slept;      /* asked of zp_sleep_ms since the mode was set */

/*
 * The manual clock's sleepers and idleness. Sleepers are counted afresh
 * after every advance (a broadcast reaches them all); loops count
 * themselves until their wait ends, and handed work they have not looked
 * at yet is counted in pending.
 */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick = PTHREAD_COND_INITIALIZER;    /* the time moved */
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER; /* idleness may have grown */
static uint64_t sleep_gen;                                /* under mu: advances so far */
static unsigned n_sleeping, n_loops_idle;                 /* under mu */
static long pending;                                      /* under mu */

static pthread_mutex_t hooks_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    zp_clock_wake_fn *fn;
    void *arg;
} hooks[HOOKS_MAX];      /* under hooks_mu */
static unsigned n_hooks; /* under hooks_mu */

static uint64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int manual(void)
{
    return atomic_load_explicit(&mode, memory_order_relaxed) == ZP_CLOCK_MANUAL;
}

static void run_hooks(void)
{
    pthread_mutex_lock(&hooks_mu);
    for (unsigned i = 0; i < n_hooks; i++)
        hooks[i].fn(hooks[i].arg);
    pthread_mutex_unlock(&hooks_mu);
}

uint64_t zp_now_ms(void)
{
    switch (atomic_load_explicit(&mode, memory_order_relaxed)) {
    case ZP_CLOCK_FAST:
        return real_ms() + atomic_load(&skew);
    case ZP_CLOCK_MANUAL:
        return atomic_load(&manual_now);
    default:
        return real_ms();
    }
}

uint64_t zp_ms_left(uint64_t deadline)
{
    uint64_t now = zp_now_ms();

    return deadline > now ? deadline - now : 0;
}

/* Real: an absolute monotonic target, so a signal does not stretch or cut the sleep. */
static void sleep_real(uint64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000u);
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Manual: idle until an advance reaches the target; each advance makes it count itself again. */
static void sleep_manual(uint64_t ms)
{
    pthread_mutex_lock(&mu);
    uint64_t target = atomic_load(&manual_now) + ms;
    while (atomic_load(&manual_now) < target) {
        uint64_t g = sleep_gen;
        n_sleeping++;
        pthread_cond_broadcast(&idle_cv);
        pthread_cond_wait(&tick, &mu);
        if (g == sleep_gen && n_sleeping > 0)
            n_sleeping--; /* a spurious wake-up: no advance reset the count */
    }
    pthread_mutex_unlock(&mu);
}

void zp_sleep_ms(uint64_t ms)
{
    atomic_fetch_add(&slept, ms);
    if (ms == 0)
        return;
    switch (atomic_load_explicit(&mode, memory_order_relaxed)) {
    case ZP_CLOCK_FAST:
        atomic_fetch_add(&skew, ms);
        run_hooks(); /* other threads' timers may be due now */
        break;
    case ZP_CLOCK_MANUAL:
        sleep_manual(ms);
        break;
    default:
        sleep_real(ms);
        break;
    }
}

int zp_clock_poll_ms(uint64_t until)
{
    uint64_t left = zp_ms_left(until);

    if (left == 0)
        return 0;
    if (manual())
        return -1;
    return left > (uint64_t)INT_MAX ? INT_MAX : (int)left;
}

int zp_duration_parse(const char *s, uint64_t *ms)
{
    char *end;
    unsigned long long v;
    uint64_t mul;

    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || v > 100000000ULL)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else
        return -1;
    *ms = (uint64_t)v * mul;
    return 0;
}

/* --- modes and wake hooks ------------------------------------------------------------------ */

void zp_clock_set_mode(enum zp_clock_mode m)
{
    pthread_mutex_lock(&mu);
    atomic_store(&skew, 0);
    atomic_store(&manual_now, ZP_CLOCK_MANUAL_START);
    atomic_store(&slept, 0);
    atomic_store(&mode, (int)m);
    sleep_gen++;
    n_sleeping = n_loops_idle = 0;
    pending = 0;
    pthread_cond_broadcast(&tick);
    pthread_mutex_unlock(&mu);
}

enum zp_clock_mode zp_clock_mode(void)
{
    return (enum zp_clock_mode)atomic_load(&mode);
}

int zp_clock_mode_parse(const char *s, enum zp_clock_mode *m)
{
    static const char *const names[] = {"real", "fast", "manual"};

    for (int i = 0; s != NULL && i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (enum zp_clock_mode)i;
            return 0;
        }
    return -1;
}

uint64_t zp_clock_slept_ms(void)
{
    return atomic_load(&slept);
}

int zp_clock_hook_add(zp_clock_wake_fn *fn, void *arg)
{
    int rc = -1;

    pthread_mutex_lock(&hooks_mu);
    if (n_hooks < HOOKS_MAX) {
        hooks[n_hooks].fn = fn;
        hooks[n_hooks].arg = arg;
        n_hooks++;
        rc = 0;
    }
    pthread_mutex_unlock(&hooks_mu);
    return rc;
}

void zp_clock_hook_del(zp_clock_wake_fn *fn, void *arg)
{
    pthread_mutex_lock(&hooks_mu);
    for (unsigned i = 0; i < n_hooks; i++)
        if (hooks[i].fn == fn && hooks[i].arg == arg) {
            hooks[i] = hooks[--n_hooks];
            break;
        }
    pthread_mutex_unlock(&hooks_mu);
}

/* --- driving a manual clock (tests) ------------------------------------------------------ */

void zp_clock_advance(uint64_t ms)
{
    if (!manual())
        return;
    pthread_mutex_lock(&mu);
    atomic_fetch_add(&manual_now, ms);
    sleep_gen++;
    n_sleeping = 0; /* those still not due count themselves again */
    pthread_cond_broadcast(&tick);
    pthread_mutex_unlock(&mu);
    run_hooks();
}

int zp_clock_idle_begin(void)
{
    if (!manual())
        return 0;
    pthread_mutex_lock(&mu);
    n_loops_idle++;
    pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&mu);
    return 1;
}

void zp_clock_idle_end(int counted)
{
    if (!counted)
        return;
    pthread_mutex_lock(&mu);
    if (n_loops_idle > 0)
        n_loops_idle--;
    pthread_mutex_unlock(&mu);
}

void zp_clock_pending(int delta)
{
    if (!manual() || delta == 0)
        return;
    pthread_mutex_lock(&mu);
    pending += delta;
    if (pending <= 0)
        pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&mu);
}

int zp_clock_wait_idle(unsigned n, unsigned guard_ms)
{
    struct timespec until;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(guard_ms / 1000u);
    until.tv_nsec += (long)(guard_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    while ((n_sleeping + n_loops_idle < n || pending > 0) && rc == 0)
        if (pthread_cond_timedwait(&idle_cv, &mu, &until) == ETIMEDOUT)
            rc = -1;
    pthread_mutex_unlock(&mu);
    return rc;
}
