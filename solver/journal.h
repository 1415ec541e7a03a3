/*
 * journal.h — the write-ahead journal of every challenge value zoneproof
 * writes, so that none is left behind (an orphan): an entry is recorded
 * before the provider is called, marked written after the write, and
 * removed after CleanUp. The sweeper (sweep.h) removes the values whose
 * entries outlived their challenge.
 *
 * Where entries live is a backend: a directory (one file per entry, written
 * with fsync and rename: the CLI's --state-dir), or the Kubernetes API (one
 * ConfigMap per entry in zoneproof's namespace, k8s/kjournal.h), shared by
 * replicas and surviving the pod. An entry's id is derived from what it
 * names (instance, name, value), so a retried Present finds its own entry
 * and a CleanUp the one to remove.
 *
 * Threads: a journal may be used from any thread at once; the backends
 * hold no lock across their I/O.
 */
#ifndef ZP_SOLVER_JOURNAL_H
#define ZP_SOLVER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/dname.h"

struct zp_err;

#define ZP_JOURNAL_ID_MAX 40 /* "zpj-" and 32 hex digits, NUL */

enum zp_jstate { ZP_J_WRITING = 0, ZP_J_WRITTEN };

struct zp_jentry {
    char id[ZP_JOURNAL_ID_MAX];
    char instance[64];
    char zone[ZP_DNAME_MAX];
    char fqdn[ZP_DNAME_MAX];
    char value[256];
    char ns[254];    /* resourceNamespace; "" from the CLI */
    char uid[128];   /* the request's uid; "" from the CLI */
    uint64_t time_s; /* wall clock (Unix seconds) of the first record */
    enum zp_jstate state;
};

/* What a backend does; each returns 0 or -1 with a sentence naming the place and the fix. */
struct zp_journal_ops {
    const char *what; /* "the state directory /var/lib/zoneproof", for logs */
    /* Creates or replaces the entry e->id. */
    int (*put)(void *ctx, const struct zp_jentry *e, uint64_t deadline_ms, struct zp_err *err);
    /* Removes it; an entry already gone is not an error. */
    int (*remove)(void *ctx, const char *id, uint64_t deadline_ms, struct zp_err *err);
    /* Every entry, in any order (*out: malloc'd array, *n entries). */
    int (*list)(void *ctx, struct zp_jentry **out, size_t *n, uint64_t deadline_ms,
                struct zp_err *err);
    void (*free)(void *ctx);
};

struct zp_journal {
    const struct zp_journal_ops *ops;
    void *ctx;
};

/* Fills e: its fields, its id, now as its time, state WRITING. */
void zp_jentry_make(struct zp_jentry *e, const char *instance, const char *zone, const char *fqdn,
                    const char *value, const char *ns, const char *uid);
/* e's id from its instance, fqdn and value (zpj- and 32 hex digits). */
void zp_jentry_set_id(struct zp_jentry *e);

/*
 * The entry as a flat JSON object of strings (every backend stores this),
 * and back. from_json checks every field and the id it claims.
 */
char *zp_jentry_to_json(const struct zp_jentry *e);
int zp_jentry_from_json(const char *json, size_t len, struct zp_jentry *e, struct zp_err *err);

/* A journal in dir (made 0700 if missing; refused if others can write to it). */
int zp_journal_dir_open(const char *dir, struct zp_journal **out, struct zp_err *err);
/* Frees the journal and its backend. Accepts NULL. */
void zp_journal_free(struct zp_journal *j);

#endif
