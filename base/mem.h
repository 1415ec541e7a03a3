/*
 * mem.h — allocation that aborts on exhaustion, and wiping of secrets.
 *
 * A pod under a restart policy is better served by a clean abort than by
 * thousands of untested out-of-memory branches. Sizes that input controls
 * are capped elsewhere (buf.h) and fail politely long before this.
 */
#ifndef ZP_BASE_MEM_H
#define ZP_BASE_MEM_H

#include <stddef.h>

void *zp_xmalloc(size_t n);
void *zp_xcalloc(size_t n, size_t size);
void *zp_xrealloc(void *p, size_t n);
char *zp_xstrdup(const char *s);
char *zp_xstrndup(const char *s, size_t n);
char *zp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrites n bytes in a way the compiler may not elide. */
void zp_wipe(void *p, size_t n);
/* Wipes a NUL-terminated string, then frees it. Accepts NULL. */
void zp_free_secret(char *s);

/* Bounded copy that always terminates; returns strlen(src). */
size_t zp_strlcpy(char *dst, const char *src, size_t size);

#define ZP_FREE(p)                                                                                 \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

#endif
