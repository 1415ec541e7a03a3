/*
 * apidoc.c — the aggregated API's pure parts (api.h): which path is what,
 * the JSON content type, the discovery documents kube-apiserver probes,
 * the Status objects of protocol errors, the ChallengePayload result, and
 * the payload decoder. No I/O and no state: any thread, and the fuzzers.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/httpc.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/server.h"
#include "solver/challenge.h"

#define MSG_NO_EXPLANATION                                                                         \
    "the challenge failed and zoneproof has no explanation for it; its log has the details"

/* cJSON says NULL when out of memory; like base/mem.h, stop rather than send half a reply. */
static void *must(void *p)
{
    if (p == NULL)
        abort();
    return p;
}

static char *print(cJSON *root)
{
    char *s = must(cJSON_PrintUnformatted(root));

    cJSON_Delete(root);
    return s;
}

/* ---- Pure parts ------------------------------------------------------ */

/* path == prefix, or path continues with "/" after it. */
static const char *under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0)
        return NULL;
    if (path[n] == '\0' || path[n] == '/')
        return path + n;
    return NULL;
}

/* Matches one segment at p ("/seg" exactly); returns what follows or NULL. */
static const char *segment(const char *p, const char *seg)
{
    size_t n = strlen(seg);

    if (p[0] != '/' || strncmp(p + 1, seg, n) != 0)
        return NULL;
    p += 1 + n;
    return (*p == '\0' || *p == '/') ? p : NULL;
}

enum zp_route zp_api_route(const char *path, const char *group, const char *solver)
{
    const char *p;

    if (path == NULL)
        return ZP_ROUTE_NOT_FOUND;
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0)
        return ZP_ROUTE_HEALTH;
    if (strcmp(path, "/readyz") == 0)
        return ZP_ROUTE_READY;
    if (under(path, "/openapi") != NULL)
        return ZP_ROUTE_OPENAPI;
    if ((p = under(path, "/apis")) == NULL)
        return ZP_ROUTE_NOT_FOUND;
    if (*p == '\0')
        return ZP_ROUTE_APIS;
    if ((p = segment(p, group)) == NULL)
        return ZP_ROUTE_NOT_FOUND;
    if (*p == '\0')
        return ZP_ROUTE_GROUP;
    if ((p = segment(p, ZP_API_VERSION)) == NULL)
        return ZP_ROUTE_NOT_FOUND;
    if (*p == '\0')
        return ZP_ROUTE_VERSION;
    if ((p = segment(p, solver)) == NULL || *p != '\0')
        return ZP_ROUTE_NOT_FOUND;
    return ZP_ROUTE_SOLVER;
}

int zp_api_json_content_type(const char *ct)
{
    static const char json[] = "application/json";
    size_t n;

    if (ct == NULL)
        return 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 0)
        return ct[0] == '\0'; /* "" is a missing type; ";charset=x" is not JSON */
    return n == sizeof(json) - 1 && strncasecmp(ct, json, n) == 0;
}

char *zp_api_status_json(int code, const char *reason, const char *message)
{
    cJSON *o = must(cJSON_CreateObject());

    must(cJSON_AddStringToObject(o, "kind", "Status"));
    must(cJSON_AddStringToObject(o, "apiVersion", "v1"));
    must(cJSON_AddObjectToObject(o, "metadata"));
    must(cJSON_AddStringToObject(o, "status", "Failure"));
    must(cJSON_AddStringToObject(o, "message", message));
    must(cJSON_AddStringToObject(o, "reason", reason));
    must(cJSON_AddNumberToObject(o, "code", code));
    return print(o);
}

char *zp_api_too_large_json(void)
{
    char *msg = zp_xasprintf("Request entity too large: limit is %u", ZP_SERVER_MAX_BODY);
    char *s = zp_api_status_json(413, "RequestEntityTooLarge", msg);

    free(msg);
    return s;
}

static cJSON *group_version(const char *group)
{
    cJSON *gv = must(cJSON_CreateObject());
    char *s = zp_xasprintf("%s/%s", group, ZP_API_VERSION);

    must(cJSON_AddStringToObject(gv, "groupVersion", s));
    must(cJSON_AddStringToObject(gv, "version", ZP_API_VERSION));
    free(s);
    return gv;
}

/* The fields an APIGroup and an APIGroupList entry share. */
static void fill_group(cJSON *g, const char *group)
{
    cJSON *versions;

    must(cJSON_AddStringToObject(g, "name", group));
    versions = must(cJSON_AddArrayToObject(g, "versions"));
    cJSON_AddItemToArray(versions, group_version(group));
    cJSON_AddItemToObject(g, "preferredVersion", group_version(group));
}

char *zp_api_group_list_json(const char *group)
{
    cJSON *o = must(cJSON_CreateObject()), *groups, *g;

    must(cJSON_AddStringToObject(o, "kind", "APIGroupList"));
    must(cJSON_AddStringToObject(o, "apiVersion", "v1"));
    groups = must(cJSON_AddArrayToObject(o, "groups"));
    g = must(cJSON_CreateObject());
    fill_group(g, group);
    cJSON_AddItemToArray(groups, g);
    return print(o);
}

char *zp_api_group_json(const char *group)
{
    cJSON *o = must(cJSON_CreateObject());

    must(cJSON_AddStringToObject(o, "kind", "APIGroup"));
    must(cJSON_AddStringToObject(o, "apiVersion", "v1"));
    fill_group(o, group);
    return print(o);
}

char *zp_api_resource_list_json(const char *group, const char *solver)
{
    cJSON *o = must(cJSON_CreateObject()), *list, *r, *verbs;
    char *gv = zp_xasprintf("%s/%s", group, ZP_API_VERSION);

    must(cJSON_AddStringToObject(o, "kind", "APIResourceList"));
    must(cJSON_AddStringToObject(o, "apiVersion", "v1"));
    must(cJSON_AddStringToObject(o, "groupVersion", gv));
    list = must(cJSON_AddArrayToObject(o, "resources"));
    r = must(cJSON_CreateObject());
    must(cJSON_AddStringToObject(r, "name", solver));
    must(cJSON_AddStringToObject(r, "singularName", ZP_PAYLOAD_KIND));
    must(cJSON_AddFalseToObject(r, "namespaced"));
    must(cJSON_AddStringToObject(r, "group", ZP_PAYLOAD_GROUP));
    must(cJSON_AddStringToObject(r, "version", ZP_API_VERSION));
    must(cJSON_AddStringToObject(r, "kind", ZP_PAYLOAD_KIND));
    verbs = must(cJSON_AddArrayToObject(r, "verbs"));
    cJSON_AddItemToArray(verbs, must(cJSON_CreateString("create")));
    cJSON_AddItemToArray(list, r);
    free(gv);
    return print(o);
}

char *zp_api_result_json(const char *uid, int ok, enum zp_errkind kind, const char *message)
{
    cJSON *o = must(cJSON_CreateObject()), *resp, *st;

    must(cJSON_AddStringToObject(o, "apiVersion", ZP_PAYLOAD_GROUP "/" ZP_API_VERSION));
    must(cJSON_AddStringToObject(o, "kind", ZP_PAYLOAD_KIND));
    resp = must(cJSON_AddObjectToObject(o, "response"));
    must(cJSON_AddStringToObject(resp, "uid", uid ? uid : ""));
    must(cJSON_AddBoolToObject(resp, "success", ok != 0));
    if (!ok) {
        st = must(cJSON_AddObjectToObject(resp, "status"));
        must(cJSON_AddObjectToObject(st, "metadata"));
        must(cJSON_AddStringToObject(st, "status", "Failed"));
        must(cJSON_AddStringToObject(st, "reason",
                                     zp_errkind_name(kind == ZP_EOK ? ZP_EINTERNAL : kind)));
        must(cJSON_AddStringToObject(st, "message",
                                     message && *message ? message : MSG_NO_EXPLANATION));
    }
    return print(o);
}

int zp_api_decode(const char *body, size_t len, struct zp_challenge *ch, struct zp_err *err)
{
    return zp_challenge_from_body(body, len, ch, err);
}
