/*
 * kjournal.h — the journal (solver/journal.h) in the Kubernetes API: one
 * ConfigMap per entry in zoneproof's own namespace, named after the entry's
 * id (zpj-…), labelled app.kubernetes.io/managed-by=zoneproof and
 * zoneproof.io/journal=entry, its data key "entry" the entry's JSON. It
 * survives the pod and is shared by every replica. RBAC: get, list, create,
 * update and delete on configmaps in that one namespace; no Secret.
 *
 * Threads: any, at once (the client is thread-safe; nothing else is shared).
 */
#ifndef ZP_K8S_KJOURNAL_H
#define ZP_K8S_KJOURNAL_H

struct zp_err;
struct zp_journal;
struct zp_kclient;

#define ZP_KJOURNAL_KEY "entry"
#define ZP_KJOURNAL_SELECTOR "app.kubernetes.io/managed-by=zoneproof,zoneproof.io/journal=entry"

/*
 * A journal in zp_kclient_namespace(k). k is borrowed and must outlive the
 * journal (free it with zp_journal_free). Makes no call: the first put or
 * list finds a missing permission, and its sentence names it.
 */
int zp_kjournal_open(struct zp_kclient *k, struct zp_journal **out, struct zp_err *err);

#endif
