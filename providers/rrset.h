/*
 * rrset.h — the RRset family (PowerDNS, GoDaddy, Hetzner, Cloud DNS, Azure
 * DNS, Route 53, Akamai): the APIs that keep the TXT values at a name as one
 * set, so adding or removing one value means reading the set and writing
 * what it must become.
 *
 * A provider of the family describes itself with a struct zp_rs_ops: how
 * it starts a call (credentials, the zone), reads the set, writes old→new
 * under its API's guard (an etag, a version, a change batch naming the old
 * set) and, where the API applies changes later, waits for it. The core
 * runs those steps in one order for all of them: read, nothing to do when
 * the value is already there (or already gone), write, and when the guard
 * says the set changed since the read, read and write again up to the
 * provider's number of attempts. After the last refused write the set is
 * read once more: a value someone else put there (or took away) ends the
 * call as done, and Route 53 tells a batch refused for its own sake from a
 * set that keeps changing. It logs the outcome the same way for all
 * and answers doctor's verify with the same reads a Present starts with.
 */
#ifndef ZP_PROVIDERS_RRSET_H
#define ZP_PROVIDERS_RRSET_H

#include <stddef.h>

#include "base/buf.h"
#include "base/dname.h"

struct zp_err;
struct zp_prov_call;
struct zp_record;
struct zp_rs_ops;

/*
 * One Present, CleanUp or verify in flight. A provider's own op is a
 * struct that starts with this one; the core allocates ops->op_size bytes
 * zeroed, fills this part and frees it after ops->end.
 */
struct zp_rs_op {
    const struct zp_rs_ops *ops;
    const void *cfg; /* the instance's configuration */
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    int del;                 /* cleanup: the value goes; else it is added */
    int verify;              /* doctor: begin and read only */
    struct zp_buf quoted;    /* rec->value in quotes ("\"v\""), escaped */
    char zone[ZP_DNAME_MAX]; /* begin: the zone as messages name it, no trailing dot */
    int has;                 /* read: the set holds rec->value */
    const char *how;         /* write: what was sent, for the log ("PUT", "DELETE") */
    int attempt;             /* the write in progress, from 1 */
};

/* A provider of the RRset family described. */
struct zp_rs_ops {
    const char *type; /* "azuredns": log lines */
    const char *what; /* "Azure DNS": sentences */
    /*
     * "zone", "domain": doctor's sentence says the zone was read; NULL: the
     * read proves only the name (a missing zone and a missing set answer alike)
     */
    const char *zone_word;
    size_t op_size; /* sizeof the provider's op, at least sizeof(struct zp_rs_op) */
    int one_string; /* values past one character-string (255 bytes) are refused */
    int attempts;   /* writes tried while the guard says the set changed */
    /* Credentials and the zone; sets op->zone when messages name another. */
    int (*begin)(struct zp_rs_op *op, struct zp_err *err);
    /* The set as it is now; sets op->has. Called again before each write. */
    int (*read)(struct zp_rs_op *op, struct zp_err *err);
    /*
     * From the set read to the set with the value added (or removed), under
     * the API's guard. 0 written (or found gone already), 1 the guard
     * found the set changed since the read (read again), -1 err set.
     */
    int (*write)(struct zp_rs_op *op, struct zp_err *err);
    /* The sentence when every attempt met a changed set; NULL: a general one. */
    int (*raced)(struct zp_rs_op *op, struct zp_err *err);
    /* NULL, or after a write: wait until the API reports the change applied. */
    int (*settle)(struct zp_rs_op *op, struct zp_err *err);
    /* Frees and wipes what begin, read and write kept in the op. */
    void (*end)(struct zp_rs_op *op);
};

/*
 * The provider.h entry points, for a configuration whose first member is
 * its const struct zp_rs_ops * (which says how).
 */
int zp_rs_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err);
int zp_rs_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err);
/* doctor: begin and read, nothing written. */
int zp_rs_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                 struct zp_err *err);

#endif
