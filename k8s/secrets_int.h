/*
 * secrets_int.h — the pure step of zp_secret_get, for the tests and the
 * fuzz driver: a Secret as the API server returned it (parsed JSON) to the
 * decoded value of one key, or the sentence that names the keys it holds.
 */
#ifndef ZP_K8S_SECRETS_INT_H
#define ZP_K8S_SECRETS_INT_H

struct cJSON;
struct zp_buf;
struct zp_err;

/* reply's data[key], base64-decoded into out; -1 with a sentence naming ns/name. */
int zp_secret_from_reply(const struct cJSON *reply, const char *ns, const char *name,
                         const char *key, struct zp_buf *out, struct zp_err *err);

#endif
