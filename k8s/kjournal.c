/*
 * kjournal.c — the journal's Kubernetes backend (kjournal.h): entries as
 * ConfigMaps. A put creates the ConfigMap, and when it exists already (a
 * retried Present, the entry marked written) reads it and replaces it with
 * the resourceVersion it read, reading again after a 409. A list takes every
 * ConfigMap with the journal's labels and keeps only those that parse as
 * entries and whose name is their id: anything else in the namespace is
 * logged and never acted on.
 *
 * Threads: any, at once; the only state is the borrowed client.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/kclient.h"
#include "k8s/kjournal.h"
#include "solver/journal.h"

#define ATTEMPTS 4 /* reads and writes of one put after a 409 */
#define ENTRY_MAX 8192u

struct kj {
    struct zp_kclient *k;
};

static struct zp_kobj cm_obj(const struct kj *j, const char *verb, const char *name)
{
    struct zp_kobj o = {.verb = verb,
                        .group = "",
                        .version = "v1",
                        .resource = "configmaps",
                        .ns = zp_kclient_namespace(j->k),
                        .name = name,
                        .selector = ZP_KJOURNAL_SELECTOR};
    return o;
}

/* The ConfigMap of e, with rv (a replacement) or without (a creation). */
static char *cm_body(const struct kj *j, const struct zp_jentry *e, const char *rv)
{
    cJSON *cm = cJSON_CreateObject(), *meta, *labels, *data;
    char *entry = zp_jentry_to_json(e), *s;

    if (cm == NULL || cJSON_AddStringToObject(cm, "apiVersion", "v1") == NULL ||
        cJSON_AddStringToObject(cm, "kind", "ConfigMap") == NULL ||
        (meta = cJSON_AddObjectToObject(cm, "metadata")) == NULL ||
        cJSON_AddStringToObject(meta, "name", e->id) == NULL ||
        cJSON_AddStringToObject(meta, "namespace", zp_kclient_namespace(j->k)) == NULL ||
        (rv != NULL && cJSON_AddStringToObject(meta, "resourceVersion", rv) == NULL) ||
        (labels = cJSON_AddObjectToObject(meta, "labels")) == NULL ||
        cJSON_AddStringToObject(labels, "app.kubernetes.io/managed-by", "zoneproof") == NULL ||
        cJSON_AddStringToObject(labels, "zoneproof.io/journal", "entry") == NULL ||
        (data = cJSON_AddObjectToObject(cm, "data")) == NULL ||
        cJSON_AddStringToObject(data, ZP_KJOURNAL_KEY, entry) == NULL ||
        (s = cJSON_PrintUnformatted(cm)) == NULL)
        abort(); /* allocation only */
    cJSON_Delete(cm);
    free(entry);
    return s;
}

/* One call with a body (create, update); the reply is not needed. */
static int write_cm(struct kj *j, const struct zp_kobj *o, const char *body, uint64_t deadline_ms,
                    struct zp_err *err)
{
    cJSON *reply = NULL;
    int rc = zp_kclient_call(j->k, o, body, deadline_ms, 0, &reply, err);

    cJSON_Delete(reply);
    return rc;
}

/* Replaces the existing ConfigMap of e: read its resourceVersion, write with it. */
static int replace(struct kj *j, const struct zp_jentry *e, uint64_t deadline_ms,
                   struct zp_err *err)
{
    struct zp_kobj get = cm_obj(j, "get", e->id), upd = cm_obj(j, "update", e->id);
    cJSON *cur = NULL;
    char *body;
    int rc;

    if (zp_kclient_call(j->k, &get, NULL, deadline_ms, 0, &cur, err) == -1)
        return -1;
    body = cm_body(j, e, zp_kclient_rv(cur));
    cJSON_Delete(cur);
    rc = write_cm(j, &upd, body, deadline_ms, err);
    free(body);
    return rc;
}

/* Create, else replace; a 409 (or an entry removed meanwhile) starts over. */
static int put_once(struct kj *j, const struct zp_jentry *e, uint64_t deadline_ms,
                    struct zp_err *err)
{
    /* No name on the create: its sentence names the namespace, the same for every entry. */
    struct zp_kobj create = cm_obj(j, "create", NULL);
    char *body;
    struct zp_err first = {0};
    int rc;

    /* Marking an entry written: it exists (recorded before the write), so no create first. */
    if (e->state == ZP_J_WRITTEN && replace(j, e, deadline_ms, &first) == 0)
        return 0;
    zp_err_clear(&first);
    body = cm_body(j, e, NULL);
    rc = write_cm(j, &create, body, deadline_ms, &first);
    free(body);
    if (rc == 0 || first.upstream != ZP_KCLIENT_CONFLICT) {
        if (rc == -1)
            *err = first;
        return rc;
    }
    return replace(j, e, deadline_ms, err);
}

static int kj_put(void *ctx, const struct zp_jentry *e, uint64_t deadline_ms, struct zp_err *err)
{
    struct kj *j = ctx;
    struct zp_err last = {0};

    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        zp_err_clear(&last);
        if (put_once(j, e, deadline_ms, &last) == 0)
            return 0;
        if (last.upstream != ZP_KCLIENT_CONFLICT && last.kind != ZP_ENOTFOUND)
            break;
    }
    *err = last;
    if (e->state == ZP_J_WRITING)
        zp_err_wrap(err, "cannot record the challenge in the journal (nothing was written to DNS)");
    else
        zp_err_wrap(err, "cannot mark journal entry %s written", e->id);
    return -1;
}

static int kj_remove(void *ctx, const char *id, uint64_t deadline_ms, struct zp_err *err)
{
    struct kj *j = ctx;
    struct zp_kobj del = cm_obj(j, "delete", id);
    struct zp_err e = {0};
    cJSON *reply = NULL;

    if (zp_kclient_call(j->k, &del, NULL, deadline_ms, 0, &reply, &e) == 0 ||
        e.kind == ZP_ENOTFOUND) {
        cJSON_Delete(reply);
        return 0;
    }
    *err = e;
    zp_err_wrap(err, "cannot remove journal entry %s", id);
    return -1;
}

/* One listed ConfigMap into out; -1 (with why) when it is not an entry zoneproof wrote. */
static int read_item(const cJSON *cm, struct zp_jentry *out, const char **name, struct zp_err *err)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(cm, "metadata");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(cm, "data");
    const char *text =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, ZP_KJOURNAL_KEY));

    *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "name"));
    if (*name == NULL)
        return zp_err_set(err, ZP_EINVAL, "a ConfigMap without a name");
    if (text == NULL || strlen(text) > ENTRY_MAX)
        return zp_err_set(err, ZP_EINVAL, "no data key %s, or one longer than %u bytes",
                          ZP_KJOURNAL_KEY, ENTRY_MAX);
    if (zp_jentry_from_json(text, strlen(text), out, err) == -1)
        return -1;
    if (strcmp(*name, out->id) != 0)
        return zp_err_set(err, ZP_EINVAL, "its name is not the id of the entry it holds");
    return 0;
}

static int kj_list(void *ctx, struct zp_jentry **out, size_t *n, uint64_t deadline_ms,
                   struct zp_err *err)
{
    struct kj *j = ctx;
    struct zp_kobj list = cm_obj(j, "list", NULL);
    const cJSON *items, *cm;
    cJSON *reply = NULL;

    *out = NULL;
    *n = 0;
    if (zp_kclient_call(j->k, &list, NULL, deadline_ms, 0, &reply, err) == -1) {
        zp_err_wrap(err, "cannot read the journal");
        return -1;
    }
    items = cJSON_GetObjectItemCaseSensitive(reply, "items");
    *out = zp_xcalloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(**out));
    cJSON_ArrayForEach(cm, items)
    {
        struct zp_err e = {0};
        const char *name = NULL;
        if (read_item(cm, &(*out)[*n], &name, &e) == 0)
            (*n)++;
        else /* not an entry zoneproof wrote: never acted on */
            zp_log(ZP_LOG_WARN, "journal: entry skipped", ZP_S("namespace", list.ns),
                   ZP_S("configmap", name), ZP_S("error", e.msg), ZP_END);
    }
    cJSON_Delete(reply);
    return 0;
}

static void kj_free(void *ctx)
{
    free(ctx);
}

static const struct zp_journal_ops kj_ops = {
    .what = "the Kubernetes API (ConfigMaps)",
    .put = kj_put,
    .remove = kj_remove,
    .list = kj_list,
    .free = kj_free,
};

int zp_kjournal_open(struct zp_kclient *k, struct zp_journal **out, struct zp_err *err)
{
    struct kj *j;

    *out = NULL;
    if (k == NULL)
        return zp_err_set(err, ZP_ECONFIG, "the journal in the Kubernetes API needs a cluster");
    j = zp_xcalloc(1, sizeof(*j));
    j->k = k;
    *out = zp_xcalloc(1, sizeof(**out));
    (*out)->ops = &kj_ops;
    (*out)->ctx = j;
    return 0;
}
