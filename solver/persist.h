/*
 * persist.h — DNS-PERSIST-01 (draft-ietf-acme-dns-persist): the record at
 * _validation-persist.<name>, TXT
 * "<issuer>; accounturi=<uri>[; policy=wildcard][; persistUntil=<unix>]",
 * which lets one ACME account of one CA validate the name without a DNS
 * write. What `zoneproof persist` (cmd/persist.c) and serve's keeper share:
 * the validators, the value, where the record goes, set (a Present through
 * the solver, then the older values of the same issuer and account go) and
 * check (every authoritative nameserver once). Values of other issuers, and
 * of other accounts of the same issuer, are never touched.
 *
 * The keeper is serve's loop over the configuration's persist: list: a
 * check of every entry at start and every persistInterval (or at once,
 * poked: SIGUSR1), and a set of each entry found missing or different.
 */
#ifndef ZP_SOLVER_PERSIST_H
#define ZP_SOLVER_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "solver/challenge.h"
#include "solver/config.h"
#include "solver/watch.h"

struct zp_buf;
struct zp_err;
struct zp_precheck;
struct zp_solver;

#define ZP_PERSIST_LABEL "_validation-persist."
#define ZP_PERSIST_SOON_S (30LL * 24 * 3600) /* a record expiring within this is "expiring" */
#define ZP_PERSIST_MAX_VALUES 32             /* TXT values read at one name */
#define ZP_PERSIST_URI_MAX 500

/*
 * The validators. Each sentence starts with what ("--issuer",
 * "accountURI"), the name the caller's user knows the setting by.
 */
/* An issuer domain name into canon (lower case, no trailing dot). */
int zp_persist_issuer(const char *arg, const char *what, char *canon, size_t n, struct zp_err *err);
/* An https URL with a host, and nothing a TXT parameter cannot hold. */
int zp_persist_account(const char *uri, const char *what, struct zp_err *err);
/* A unix time or an RFC 3339 date, in the future, into *until. */
int zp_persist_until(const char *arg, const char *what, long long *until, struct zp_err *err);
/* A record's name (example.com, or *.example.com for the wildcard policy) and its value. */
int zp_persist_rec_check(const struct zp_persist_rec *r, const char *what, struct zp_err *err);

/* The record's value: r->wildcard or a name *.x adds the policy. */
void zp_persist_value(const struct zp_persist_rec *r, char *out, size_t n);

/* TXT values at one name, each one's strings joined as the CA joins them. */
struct zp_persist_values {
    size_t n;
    char v[ZP_PERSIST_MAX_VALUES][ZP_TXT_MAX + 1];
};

/* The values at fqdn on the nameserver at addr; -1 with a phrase in why. */
int zp_persist_read(const char *addr, const char *fqdn, uint64_t deadline,
                    struct zp_persist_values *pv, char *why, size_t whysz);
/* A value's issuer and accounturi. */
void zp_persist_fields(const char *v, char *issuer, size_t isz, char *account, size_t asz);

/* One record, resolved: its challenge (name, value), the instance that writes it, its zone. */
struct zp_persist_name {
    struct zp_challenge ch;
    const struct zp_instance *inst;
    const char *zone; /* ch.zone, or the dnsZones entry */
    int cli;          /* zp_config.cli: sentences name flags */
};

/* r into pn, for action act; pc asks DNS for the zone when r has none. -1 with a sentence. */
int zp_persist_locate(const struct zp_config *cfg, struct zp_precheck *pc,
                      const struct zp_persist_rec *r, enum zp_action act,
                      struct zp_persist_name *pn, struct zp_err *err);

/* What set did besides writing: the older values it removed, those of other accounts it kept. */
struct zp_persist_set_res {
    int written; /* the value is served by every authoritative nameserver */
    struct zp_persist_values removed, kept;
};

/*
 * Writes r through the solver (returns once every authoritative nameserver
 * serves it), then removes the older values of its issuer and account.
 */
int zp_persist_set(const struct zp_config *cfg, struct zp_solver *s, const struct zp_persist_rec *r,
                   struct zp_persist_name *pn, struct zp_persist_set_res *res, struct zp_err *err);

/* Worst last: a check's verdict is the worst of its nameservers'. */
enum zp_persist_state {
    ZP_PERSIST_OK,
    ZP_PERSIST_EXPIRING,
    ZP_PERSIST_UNCHECKED,
    ZP_PERSIST_MISSING,
    ZP_PERSIST_DIFFERENT,
};
/* "ok", "expiring", "unchecked", "missing", "different". */
const char *zp_persist_state_name(enum zp_persist_state st);

struct zp_persist_check {
    struct zp_watch_report rep;
    enum zp_persist_state ns[ZP_WATCH_MAX_NS];
    char shown[ZP_WATCH_MAX_NS][ZP_TXT_MAX + 160]; /* what each one serves instead, or why */
    enum zp_persist_state worst;
    size_t where; /* the nameserver of the worst, when not ok */
};

/* Asks every authoritative nameserver of pn's zone once. -1 when none can be asked. */
int zp_persist_check(const struct zp_persist_rec *r, const struct zp_persist_name *pn,
                     uint64_t timeout_ms, struct zp_persist_check *c, struct zp_err *err);

/* ---- serve's keeper ---------------------------------------------------------------------- */

struct zp_persist_keeper;

/* Starts the thread when cfg has a persist: list (else *out is NULL); it checks at once. */
int zp_persist_keeper_start(const struct zp_config *cfg, struct zp_solver *s,
                            struct zp_persist_keeper **out, struct zp_err *err);
/* A pass now (after the one under way). Accepts NULL. */
void zp_persist_keeper_poke(struct zp_persist_keeper *k);
/* Lets a pass in progress end, joins the thread, frees k. Accepts NULL. */
void zp_persist_keeper_stop(struct zp_persist_keeper *k);
/*
 * The status page's view of the entries, appended to out as JSON text:
 * {"total":N,"entries":[{"name","issuer","state","checked","rewrite":
 * {"reason","outcome","at"}}]}, the first 256 entries; "state" and
 * "checked" absent before the entry's first check, "rewrite" before its
 * first re-write. Any thread, while k runs. 0, or -1.
 */
int zp_persist_keeper_json(struct zp_persist_keeper *k, struct zp_buf *out);

#endif
