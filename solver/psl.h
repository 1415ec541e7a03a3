/*
 * psl.h — the Public Suffix List (through libpsl): whether a certificate
 * name is one CAs refuse (a public suffix, or a wildcard right below one),
 * whether it belongs to a platform's customer (private section), and
 * whether a zone is a suffix Present must not write into.
 *
 * A loaded list is immutable: any number of threads may use it at once.
 */
#ifndef ZP_SOLVER_PSL_H
#define ZP_SOLVER_PSL_H

#include "solver/check.h"

struct zp_err;
struct zp_psl;

/*
 * path NULL: the system's list (psl_latest(NULL): the newest of libpsl's
 * built-in list and /usr/share/publicsuffix); else a list file (.dat text
 * with the "===BEGIN ICANN DOMAINS===" / "===BEGIN PRIVATE DOMAINS==="
 * markers, or .dafsa) configured by the user. Errors name the file, and say
 * so when libpsl has no built-in list and the system has no file (a static
 * build). Rules of a text file outside both sections count as ICANN rules.
 */
int zp_psl_load(const char *path, struct zp_psl **out, struct zp_err *err);
void zp_psl_free(struct zp_psl *p);

/* Where the list came from: the file, or "libpsl's built-in list". */
const char *zp_psl_source(const struct zp_psl *p);

/*
 * The certificate name ("co.uk.", "x.github.io.", "*.co.uk.") against the
 * list, as check "psl":
 *   fail: the name (or the wildcard's base) is an ICANN public suffix or a
 *         top-level domain: CAs refuse to issue for it;
 *   warn: the name is itself an entry of the PRIVATE section (CAs are told
 *         to consult the ICANN section only, so only some refuse), or lies
 *         under one (x.github.io): such names belong to the platform's
 *         customers, whose zone is usually not one they can write to;
 *   ok:   naming the registrable domain.
 * Returns 0, or -1 (out a fail) when cert_name is not a DNS name.
 */
int zp_psl_check(const struct zp_psl *p, const char *cert_name, struct zp_check *out);

/*
 * Whether zone (a DNS zone apex, "co.uk.") is a public suffix: 1 (and
 * *private_section 1 when the rule is in the PRIVATE section, else 0), 0 when
 * not, -1 when zone is not a DNS name. Top-level domains always are (ICANN).
 */
int zp_psl_is_suffix(const struct zp_psl *p, const char *zone, int *private_section);

#endif
