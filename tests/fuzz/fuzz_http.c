/*
 * fuzz_http.c — a request as the server sees it: a path, a Content-Type,
 * header lines (the front proxy's X-Remote-* identity) and a body, one per
 * line up to a blank line, then the body. Each goes to the code that reads
 * it: routing, the JSON content-type check, the identity headers (with
 * %-unescaping of extra keys) and the ChallengePayload decoder. Checks
 * that an identity has a user and the authenticated group, and that every
 * refusal says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/err.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "solver/challenge.h"

/* The next line of [*p, end) into a new string; NULL at the end. */
static char *next_line(const char **p, const char *end)
{
    const char *s = *p, *e;
    char *line;

    if (s >= end)
        return NULL;
    e = memchr(s, '\n', (size_t)(end - s));
    if (e == NULL)
        e = end;
    line = malloc((size_t)(e - s) + 1);
    if (line == NULL)
        abort();
    memcpy(line, s, (size_t)(e - s));
    line[e - s] = '\0';
    if (e > s && line[e - s - 1] == '\r')
        line[e - s - 1] = '\0';
    *p = e < end ? e + 1 : end;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const user_h[] = {"X-Remote-User"}, *const group_h[] = {"X-Remote-Group"},
                       *const extra_p[] = {"X-Remote-Extra-"};
    const struct zp_authn_cfg cfg = {.username_headers = user_h,
                                     .n_username_headers = 1,
                                     .group_headers = group_h,
                                     .n_group_headers = 1,
                                     .extra_prefixes = extra_p,
                                     .n_extra_prefixes = 1};
    const char *p = (const char *)data, *end = p + size;
    struct evkeyvalq headers;
    struct zp_identity id;
    struct zp_challenge ch;
    struct zp_err err = {0};
    char *path, *ctype, *line;

    if ((path = next_line(&p, end)) == NULL)
        return 0;
    if ((unsigned)zp_api_route(path, "acme.example.test", "zoneproof") >= ZP_ROUTE__MAX)
        abort();
    ctype = next_line(&p, end);
    (void)zp_api_json_content_type(ctype && *ctype ? ctype : NULL);
    TAILQ_INIT(&headers);
    while ((line = next_line(&p, end)) != NULL && line[0] != '\0') {
        char *colon = strchr(line, ':'), *v;
        if (colon != NULL) {
            *colon = '\0';
            for (v = colon + 1; *v == ' '; v++)
                ;
            evhttp_add_header(&headers, line, v);
            free(zp_authn_unescape(v));
        }
        free(line);
    }
    free(line);
    if (zp_authn_headers(&cfg, &headers, &id, &err) == 0) {
        if (id.user == NULL || id.user[0] == '\0' ||
            !zp_identity_in_group(&id, ZP_GROUP_AUTHENTICATED))
            abort();
        for (size_t i = 0; i < id.n_extra; i++)
            if (id.extra[i].key == NULL || id.extra[i].n_values == 0)
                abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    zp_identity_cleanup(&id);
    evhttp_clear_headers(&headers);
    zp_err_clear(&err);
    if (zp_api_decode(p, (size_t)(end - p), &ch, &err) == -1 && err.msg[0] == '\0')
        abort();
    free(ctype);
    free(path);
    return 0;
}
