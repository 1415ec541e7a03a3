/*
 * psl.c — the Public Suffix List through libpsl: loading the system's list
 * or a configured file, and the "psl" check of a certificate name.
 *
 * libpsl wants lower-case names without a trailing dot and treats any
 * single label as a suffix (the default "*" rule); section tests pass
 * PSL_TYPE_NO_STAR_RULE so that a TLD is not mistaken for a private entry.
 * Names are checked as LDH first, so libpsl never converts IDNs (the only
 * path where it would allocate per call and call into libidn2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libpsl.h>

#include "base/dname.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "solver/psl.h"

struct zp_psl {
    psl_ctx_t *ctx; /* may be libpsl's built-in list: psl_free() leaves that alone */
    char source[512];
};

/* The file psl_latest() prefers: the newest one that is newer than the built-in data. */
static void system_source(const psl_ctx_t *ctx, char *out, size_t outsz)
{
    const char *files[2] = {psl_dist_filename(), psl_builtin_filename()};
    time_t best = psl_builtin_file_time();
    struct stat st;

    zp_strlcpy(out, "libpsl's built-in list", outsz);
    if (ctx == psl_builtin())
        return;
    for (size_t i = 0; i < 2; i++)
        if (files[i] != NULL && files[i][0] != '\0' && stat(files[i], &st) == 0 &&
            st.st_mtime > best) {
            best = st.st_mtime;
            zp_strlcpy(out, files[i], outsz);
        }
}

static int load_system(struct zp_psl *p, struct zp_err *err)
{
    const char *dist = psl_dist_filename();

    p->ctx = psl_latest(NULL);
    if (p->ctx != NULL) {
        system_source(p->ctx, p->source, sizeof(p->source));
        return 0;
    }
    if (dist == NULL || dist[0] == '\0')
        return zp_err_set(err, ZP_ECONFIG,
                          "no Public Suffix List: this zoneproof's libpsl has "
                          "no built-in list and names no system list file; configure a list "
                          "file (public_suffix_list.dat from publicsuffix.org)");
    return zp_err_set(err, ZP_ECONFIG,
                      "no Public Suffix List: this zoneproof's libpsl has no "
                      "built-in list and cannot read %s; install Debian's publicsuffix package "
                      "or configure a list file",
                      dist);
}

static int load_file(struct zp_psl *p, const char *path, struct zp_err *err)
{
    FILE *f;

    /* fopen would block on a FIFO; a missing file gets the sentence below. */
    if (access(path, F_OK) == 0 && zp_file_check_regular(path, "publicSuffixList", err) == -1)
        return -1;
    f = fopen(path, "rb");
    /* libpsl says only "NULL": open the file first to say why it cannot be read. */
    if (f == NULL)
        return zp_err_set(err, ZP_ECONFIG, "cannot read the Public Suffix List %s: %s", path,
                          strerror(errno));
    p->ctx = psl_load_fp(f);
    fclose(f);
    if (p->ctx == NULL)
        return zp_err_set(err, ZP_ECONFIG,
                          "the Public Suffix List %s is empty or is a DAFSA "
                          "file this libpsl cannot read",
                          path);
    /* A text list reports its rule count (a DAFSA -1): none means it is not a list. */
    if (psl_suffix_count(p->ctx) == 0)
        return zp_err_set(err, ZP_ECONFIG, "the Public Suffix List %s holds no suffix rule", path);
    zp_strlcpy(p->source, path, sizeof(p->source));
    return 0;
}

int zp_psl_load(const char *path, struct zp_psl **out, struct zp_err *err)
{
    struct zp_psl *p = zp_xcalloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    rc = path == NULL ? load_system(p, err) : load_file(p, path, err);
    if (rc == -1) {
        zp_psl_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void zp_psl_free(struct zp_psl *p)
{
    if (p == NULL)
        return;
    psl_free(p->ctx);
    free(p);
}

const char *zp_psl_source(const struct zp_psl *p)
{
    return p->source;
}

/* --- lookups ------------------------------------------------------------------------------ */

/* name as libpsl wants it: lower case, no trailing dot; -1 unless a DNS name below the root. */
static int bare(const char *name, char *out, size_t outsz)
{
    char why[128];
    size_t len;

    if (zp_dname_check(name, 0, why, sizeof(why)) == -1 || zp_dname_canon(name, out, outsz) == -1 ||
        zp_dname_labels(out) < 1)
        return -1;
    len = strlen(out);
    out[len - 1] = '\0';
    return 0;
}

/* 1 an ICANN suffix (or any single label), 2 a PRIVATE one, 0 not a suffix. */
static int suffix_kind(const psl_ctx_t *ctx, const char *b)
{
    if (!psl_is_public_suffix2(ctx, b, PSL_TYPE_ANY))
        return 0;
    if (strchr(b, '.') != NULL &&
        psl_is_public_suffix2(ctx, b, PSL_TYPE_PRIVATE | PSL_TYPE_NO_STAR_RULE) &&
        !psl_is_public_suffix2(ctx, b, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE))
        return 2;
    return 1;
}

int zp_psl_is_suffix(const struct zp_psl *p, const char *zone, int *private_section)
{
    char b[ZP_DNAME_MAX];
    int kind;

    if (private_section != NULL)
        *private_section = 0;
    if (bare(zone, b, sizeof(b)) == -1)
        return -1;
    kind = suffix_kind(p->ctx, b);
    if (private_section != NULL)
        *private_section = kind == 2;
    return kind != 0;
}

/* The verdict when the name (or the wildcard's base) is itself a suffix. */
static void is_suffix(const char *name, const char *b, int wild, int kind, struct zp_check *out)
{
    char fix[768];

    if (kind == 2) {
        /* The Baseline Requirements (3.2.2.6) tell CAs to consult the ICANN section only. */
        if (wild)
            zp_check_set(out, "psl", ZP_CHECK_WARN,
                         "use a name in a domain you registered, "
                         "unless you run this platform",
                         NULL, NULL,
                         "%s would cover every "
                         "customer of the platform behind the public suffix %s. (private "
                         "section of the Public Suffix List): only that platform controls the "
                         "zone, and some CAs refuse such wildcards",
                         name, b);
        else
            zp_check_set(out, "psl", ZP_CHECK_WARN,
                         "use a name in a domain you registered, "
                         "unless you run this platform",
                         NULL, NULL,
                         "%s is a public suffix "
                         "(private section of the Public Suffix List): only the platform "
                         "behind it controls its zone, and some CAs refuse such names",
                         name);
        return;
    }
    if (wild) {
        snprintf(fix, sizeof(fix),
                 "request the wildcard one level lower, under a domain you "
                 "registered (*.<your-domain>.%s.)",
                 b);
        zp_check_set(out, "psl", ZP_CHECK_FAIL, fix, NULL, NULL,
                     "%s would cover every domain "
                     "registered under the public suffix %s. (%s): CAs refuse to issue it",
                     name, b,
                     strchr(b, '.') ? "ICANN section of the Public Suffix List"
                                    : "a top-level domain");
        return;
    }
    snprintf(fix, sizeof(fix),
             "request names in a domain you registered under %s., not %s. "
             "itself",
             b, b);
    zp_check_set(out, "psl", ZP_CHECK_FAIL, fix, NULL, NULL,
                 "%s is a public suffix (%s): CAs "
                 "refuse to issue certificates for it",
                 name,
                 strchr(b, '.') ? "ICANN section of the Public Suffix List" : "a top-level domain");
}

int zp_psl_check(const struct zp_psl *p, const char *cert_name, struct zp_check *out)
{
    char name[ZP_DNAME_MAX], b[ZP_DNAME_MAX], where[ZP_DNAME_MAX + 8], fix[768];
    int wild = strncmp(cert_name, "*.", 2) == 0, kind;
    const char *suffix, *reg;

    if (bare(cert_name + (wild ? 2 : 0), b, sizeof(b)) == -1) {
        zp_check_set(out, "psl", ZP_CHECK_FAIL, NULL, NULL, NULL, "\"%s\" is not a DNS name",
                     cert_name);
        return -1;
    }
    if (wild)
        snprintf(name, sizeof(name), "*.%.250s.", b);
    else
        snprintf(name, sizeof(name), "%.252s.", b);
    kind = suffix_kind(p->ctx, b);
    if (kind != 0) {
        is_suffix(name, b, wild, kind, out);
        return 0;
    }
    suffix = psl_unregistrable_domain(p->ctx, b);
    reg = psl_registrable_domain(p->ctx, b);
    if (suffix != NULL && suffix_kind(p->ctx, suffix) == 2) {
        snprintf(fix, sizeof(fix),
                 "use a name in a domain you registered, or write the "
                 "challenge where %s. lets its customers (some accept a CNAME from "
                 "_acme-challenge.%s. to a zone you control)",
                 suffix, reg ? reg : b);
        if (reg != NULL && (wild || strcmp(reg, b) != 0))
            snprintf(where, sizeof(where), "is in %s.,", reg);
        else
            zp_strlcpy(where, "sits", sizeof(where));
        zp_check_set(out, "psl", ZP_CHECK_WARN, fix, NULL, NULL,
                     "%s %s directly under the "
                     "public suffix %s. (private section of the Public Suffix List): each name "
                     "there belongs to a different customer of that platform, and the "
                     "platform's zone is usually not one a customer can write to",
                     name, where, suffix);
        return 0;
    }
    zp_check_set(out, "psl", ZP_CHECK_OK, NULL, NULL, NULL, "registrable domain %s.",
                 reg ? reg : b);
    return 0;
}
