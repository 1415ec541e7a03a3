/*
 * secrets.h — one key of a Kubernetes Secret, read through the API for a
 * provider's secretRef: the source zp_solver_set_secret_source() lends to
 * providers. Mounted files (*File options) need none of this.
 *
 * Threads: any (solver threads call it); it blocks for one API call.
 */
#ifndef ZP_K8S_SECRETS_H
#define ZP_K8S_SECRETS_H

#include <stddef.h>

struct zp_buf;
struct zp_err;

#define ZP_SECRET_MAX (1024u * 1024u) /* what the API server stores at most */

/*
 * A zp_secret_get_fn; arg is the struct zp_kclient. GETs
 * /api/v1/namespaces/<ns>/secrets/<name> and base64-decodes data[key] into
 * out (the caller wipes it). Errors: "secret web/x not found"; "cannot get
 * secret web/x (403 Forbidden): the zoneproof service account needs get on
 * secrets in namespace web"; a missing key names it and lists the keys there
 * are. The reply is wiped; no value reaches a log or a message.
 */
int zp_secret_get(void *arg, const char *ns, const char *name, const char *key, struct zp_buf *out,
                  struct zp_err *err);

/* Whether s is a DNS-1123 subdomain (a Secret's name) or, with label set, a label (a namespace). */
int zp_secret_valid_name(const char *s, int label);
/* Whether s may be a key of a Secret's data: [-._a-zA-Z0-9]+, at most 253. */
int zp_secret_valid_key(const char *s);

#endif
