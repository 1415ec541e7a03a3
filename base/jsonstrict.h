/*
 * jsonstrict.h — one JSON document read as strictly as Go's encoding/json
 * reads what Go wrote, where cJSON alone is lenient: bytes after the
 * document, duplicate keys (cJSON finds the first, Go keeps the last, so the
 * two would act on different values) and NUL characters (cJSON's strings
 * end at the first one, so the rest of the value would vanish unseen).
 */
#ifndef ZP_BASE_JSONSTRICT_H
#define ZP_BASE_JSONSTRICT_H

#include <stddef.h>

struct cJSON;
struct zp_err;

/*
 * Parses text[0..len) into *out (the caller frees it with cJSON_Delete).
 * Only JSON whitespace (space, tab, newline, carriage return) may follow
 * the document. Refuses, with a sentence naming the problem (ZP_EINVAL),
 * invalid JSON, trailing bytes, a duplicate key in any object at any depth,
 * a \u0000 escape in any string or key, and a zero byte anywhere. The
 * caller says what the text was: zp_err_wrap(err, "request body").
 */
int zp_json_strict_parse(const char *text, size_t len, struct cJSON **out, struct zp_err *err);

#endif
