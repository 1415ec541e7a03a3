/*
 * journal.c — journal entries (journal.h): their id, their JSON form, and
 * the directory backend the CLI uses (--state-dir).
 *
 * The directory holds one file per entry, <id>.json. A put writes
 * <id>.json.tmp, renames it over <id>.json, so a crash leaves the old entry
 * or the new one, never half of one. The first put of an entry (WRITING,
 * before the provider is called) is durable: the file and the directory are
 * fsynced before the write may go ahead. Marking it WRITTEN and removing it
 * are not: lost in a crash, they leave an entry that says more than is
 * true, which the sweeper settles by removing the value again. A stray .tmp
 * (a crash before the rename) is ignored and replaced.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/journal.h"

#define ENTRY_MAX_BYTES 8192u
#define DIR_MAX_ENTRIES 100000u

void zp_jentry_set_id(struct zp_jentry *e)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    static const char hex[] = "0123456789abcdef";

    if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(c, e->instance, strlen(e->instance) + 1) != 1 ||
        EVP_DigestUpdate(c, e->fqdn, strlen(e->fqdn) + 1) != 1 ||
        EVP_DigestUpdate(c, e->value, strlen(e->value)) != 1 ||
        EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen < 16)
        abort(); /* allocation only */
    EVP_MD_CTX_free(c);
    memcpy(e->id, "zpj-", 4);
    for (unsigned i = 0; i < 16; i++) {
        e->id[4 + 2 * i] = hex[md[i] >> 4];
        e->id[5 + 2 * i] = hex[md[i] & 15];
    }
    e->id[36] = '\0';
}

void zp_jentry_make(struct zp_jentry *e, const char *instance, const char *zone, const char *fqdn,
                    const char *value, const char *ns, const char *uid)
{
    memset(e, 0, sizeof(*e));
    zp_strlcpy(e->instance, instance, sizeof(e->instance));
    zp_strlcpy(e->zone, zone ? zone : "", sizeof(e->zone));
    zp_strlcpy(e->fqdn, fqdn, sizeof(e->fqdn));
    zp_strlcpy(e->value, value, sizeof(e->value));
    zp_strlcpy(e->ns, ns ? ns : "", sizeof(e->ns));
    zp_strlcpy(e->uid, uid ? uid : "", sizeof(e->uid));
    e->time_s = (uint64_t)time(NULL);
    e->state = ZP_J_WRITING;
    zp_jentry_set_id(e);
}

char *zp_jentry_to_json(const struct zp_jentry *e)
{
    cJSON *o = cJSON_CreateObject();
    char t[24], *s;

    snprintf(t, sizeof(t), "%llu", (unsigned long long)e->time_s);
    if (o == NULL || cJSON_AddStringToObject(o, "id", e->id) == NULL ||
        cJSON_AddStringToObject(o, "instance", e->instance) == NULL ||
        cJSON_AddStringToObject(o, "zone", e->zone) == NULL ||
        cJSON_AddStringToObject(o, "fqdn", e->fqdn) == NULL ||
        cJSON_AddStringToObject(o, "value", e->value) == NULL ||
        cJSON_AddStringToObject(o, "namespace", e->ns) == NULL ||
        cJSON_AddStringToObject(o, "uid", e->uid) == NULL ||
        cJSON_AddStringToObject(o, "time", t) == NULL ||
        cJSON_AddStringToObject(o, "state", e->state == ZP_J_WRITTEN ? "written" : "writing") ==
            NULL ||
        (s = cJSON_PrintUnformatted(o)) == NULL)
        abort(); /* allocation only */
    cJSON_Delete(o);
    return s;
}

/* One string field into its capped buffer; anything missing, too long or not a string fails. */
static int field(const cJSON *o, const char *key, char *out, size_t cap, struct zp_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return zp_err_set(err, ZP_EINVAL, "journal entry: %s is missing or not a short string",
                          key);
    zp_strlcpy(out, v->valuestring, cap);
    return 0;
}

int zp_jentry_from_json(const char *json, size_t len, struct zp_jentry *e, struct zp_err *err)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    char t[24], st[16], id[ZP_JOURNAL_ID_MAX], *end = NULL;
    int rc = -1;

    memset(e, 0, sizeof(*e));
    if (!cJSON_IsObject(o)) {
        zp_err_set(err, ZP_EINVAL, "journal entry: not a JSON object");
        goto out;
    }
    if (field(o, "id", id, sizeof(id), err) == -1 ||
        field(o, "instance", e->instance, sizeof(e->instance), err) == -1 ||
        field(o, "zone", e->zone, sizeof(e->zone), err) == -1 ||
        field(o, "fqdn", e->fqdn, sizeof(e->fqdn), err) == -1 ||
        field(o, "value", e->value, sizeof(e->value), err) == -1 ||
        field(o, "namespace", e->ns, sizeof(e->ns), err) == -1 ||
        field(o, "uid", e->uid, sizeof(e->uid), err) == -1 ||
        field(o, "time", t, sizeof(t), err) == -1 || field(o, "state", st, sizeof(st), err) == -1)
        goto out;
    errno = 0;
    e->time_s = strtoull(t, &end, 10);
    if (errno != 0 || end == t || *end != '\0' ||
        (strcmp(st, "writing") && strcmp(st, "written"))) {
        zp_err_set(err, ZP_EINVAL, "journal entry: time or state is malformed");
        goto out;
    }
    e->state = strcmp(st, "written") == 0 ? ZP_J_WRITTEN : ZP_J_WRITING;
    zp_jentry_set_id(e);
    if (strcmp(id, e->id) != 0) {
        zp_err_set(err, ZP_EINVAL, "journal entry: its id does not match what it names");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}

/* ---- the directory backend ------------------------------------------------- */

struct dirj {
    char *dir;
};

static char *entry_path(const struct dirj *d, const char *id, const char *suffix)
{
    return zp_xasprintf("%s/%s.json%s", d->dir, id, suffix);
}

/* Writes all of s to fd. */
static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int dir_put(void *ctx, const struct zp_jentry *e, uint64_t deadline_ms, struct zp_err *err)
{
    struct dirj *d = ctx;
    char *tmp = entry_path(d, e->id, ".tmp"), *final = entry_path(d, e->id, "");
    char *json = zp_jentry_to_json(e);
    int fd, rc = -1, durable = e->state == ZP_J_WRITING;

    (void)deadline_ms;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write_all(fd, json, strlen(json)) == -1 || (durable && fsync(fd) == -1)) {
        zp_err_set(err, ZP_EINTERNAL,
                   "cannot record the challenge in the state directory %s: %s; nothing was "
                   "written to DNS; make the directory writable by zoneproof (--state-dir)",
                   d->dir, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, final) == -1 || (durable && sync_dir(d->dir) == -1)) {
        zp_err_set(err, ZP_EINTERNAL,
                   "cannot record the challenge in the state directory %s: %s; nothing was "
                   "written to DNS; make the directory writable by zoneproof (--state-dir)",
                   d->dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc == -1)
        unlink(tmp);
    free(json);
    free(tmp);
    free(final);
    return rc;
}

static int dir_remove(void *ctx, const char *id, uint64_t deadline_ms, struct zp_err *err)
{
    struct dirj *d = ctx;
    char *path = entry_path(d, id, "");
    int rc = 0;

    (void)deadline_ms;
    if (unlink(path) == -1 && errno != ENOENT)
        rc = zp_err_set(err, ZP_EINTERNAL,
                        "cannot remove a journal entry from the state directory %s: %s", d->dir,
                        strerror(errno));
    free(path); /* not synced: a removal lost in a crash is swept again, harmlessly */
    return rc;
}

/* One <id>.json file into e; 0, or -1 for a file that is not an entry (logged by the caller). */
static int read_entry(const struct dirj *d, const char *name, struct zp_jentry *e,
                      struct zp_err *err)
{
    char *path = zp_xasprintf("%s/%s", d->dir, name);
    struct zp_buf b;
    int rc;

    zp_buf_init(&b, ENTRY_MAX_BYTES);
    rc = zp_buf_read_file(&b, path, ENTRY_MAX_BYTES, "journal entry", err);
    if (rc == 0)
        rc = zp_jentry_from_json(b.data, b.len, e, err);
    if (rc == 0 && (strlen(name) != strlen(e->id) + 5 || strncmp(name, e->id, strlen(e->id)) != 0))
        rc = zp_err_set(err, ZP_EINVAL, "journal entry %s: its name does not match its id", name);
    zp_buf_free(&b);
    free(path);
    return rc;
}

static int dir_list(void *ctx, struct zp_jentry **out, size_t *n, uint64_t deadline_ms,
                    struct zp_err *err)
{
    struct dirj *d = ctx;
    DIR *dh = opendir(d->dir);
    struct dirent *de;
    size_t cap = 0;

    (void)deadline_ms;
    *out = NULL;
    *n = 0;
    if (dh == NULL)
        return zp_err_set(err, ZP_EINTERNAL, "cannot read the state directory %s: %s", d->dir,
                          strerror(errno));
    while ((de = readdir(dh)) != NULL && *n < DIR_MAX_ENTRIES) {
        size_t len = strlen(de->d_name);
        struct zp_err e = {0};
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 ||
            strncmp(de->d_name, "zpj-", 4) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = zp_xrealloc(*out, cap * sizeof(**out));
        }
        if (read_entry(d, de->d_name, &(*out)[*n], &e) == 0)
            (*n)++;
        else /* a file zoneproof did not write: never acted on */
            zp_log(ZP_LOG_WARN, "journal: entry skipped", ZP_S("dir", d->dir),
                   ZP_S("file", de->d_name), ZP_S("error", e.msg), ZP_END);
    }
    closedir(dh);
    return 0;
}

static void dir_free(void *ctx)
{
    struct dirj *d = ctx;

    free(d->dir);
    free(d);
}

static const struct zp_journal_ops dir_ops = {
    .what = "the state directory",
    .put = dir_put,
    .remove = dir_remove,
    .list = dir_list,
    .free = dir_free,
};

int zp_journal_dir_open(const char *dir, struct zp_journal **out, struct zp_err *err)
{
    struct stat st;
    struct dirj *d;

    *out = NULL;
    if (mkdir(dir, 0700) == -1 && errno != EEXIST)
        return zp_err_set(err, ZP_ECONFIG, "--state-dir %s: cannot create it: %s", dir,
                          strerror(errno));
    if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
        return zp_err_set(err, ZP_ECONFIG, "--state-dir %s: not a directory", dir);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return zp_err_set(err, ZP_ECONFIG,
                          "--state-dir %s: others may write to it, and could make zoneproof "
                          "delete records; chmod 700 %s",
                          dir, dir);
    if (access(dir, W_OK | X_OK) == -1)
        return zp_err_set(err, ZP_ECONFIG, "--state-dir %s: not writable by zoneproof: %s", dir,
                          strerror(errno));
    d = zp_xcalloc(1, sizeof(*d));
    d->dir = zp_xstrdup(dir);
    *out = zp_xcalloc(1, sizeof(**out));
    (*out)->ops = &dir_ops;
    (*out)->ctx = d;
    return 0;
}

void zp_journal_free(struct zp_journal *j)
{
    if (j == NULL)
        return;
    if (j->ops && j->ops->free)
        j->ops->free(j->ctx);
    free(j);
}
