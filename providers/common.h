/*
 * common.h — what the HTTP-API providers share: TXT quoting, credential
 * files, the endpoint/caFile settings, and JSON bodies read with a cap.
 */
#ifndef ZP_PROVIDERS_COMMON_H
#define ZP_PROVIDERS_COMMON_H

#include <stddef.h>

struct cJSON;
struct zp_buf;
struct zp_err;
struct zp_ynode;

/* "\"value\"": the presentation form with quotes (and \\ \" escaped). */
int zp_txt_quote(const char *value, struct zp_buf *out);
/*
 * Whether stored (as an API returns it: quoted or not, maybe split into
 * several character-strings) is value. One level of quotes is removed.
 */
int zp_txt_equal(const char *stored, const char *value);

/*
 * Reads a credential file (a mounted Secret) into out, trimmed of white
 * space. setting names the option ("apiTokenFile") for the error. The
 * caller wipes out (zp_buf_free_secret). Read on every call: Secrets rotate.
 */
int zp_secret_file_read(const char *path, const char *setting, struct zp_buf *out,
                        struct zp_err *err);
/* At configuration time: the file exists, is readable and not empty. Nothing is kept. */
int zp_secret_file_check(const struct zp_ynode *map, const char *path, const char *key,
                         const char *file, struct zp_err *err);

/*
 * The endpoint and caFile settings every HTTP provider has. endpoint: an
 * http(s) URL without trailing slash (default def_url); caFile: a PEM
 * bundle that must exist. Both are allocated copies; *ca may stay NULL.
 */
int zp_endpoint_parse(const struct zp_ynode *map, const char *path, const char *def_url,
                      char **endpoint, char **ca, struct zp_err *err);

/* Parses a JSON reply body; NULL with a sentence naming what when it is not JSON. */
struct cJSON *zp_json_parse(const struct zp_buf *body, const char *what, struct zp_err *err);

#endif
