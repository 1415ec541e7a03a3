/*
 * fuzz_h2.c — what an HTTP/2 client sends, as h2.c reads it. The first
 * byte sets the limits and how the bytes are cut (whole, or in pieces that
 * split frames); the second says how requests are answered. The client
 * preface goes in front of the rest, unless the first byte asks for the
 * input alone.
 *
 * Some requests are answered inside dispatch, the others wait with a watch
 * (or, in one mode, are left unanswered and not kept, as a handler may).
 * A gone() may answer another waiting one, as from inside nghttp2. At the
 * end half of those still waiting are answered, a GOAWAY is sent, and the
 * session is freed with the rest. Checks: every field of an exchange is
 * readable (ASan), gone() comes only for an exchange that waits and only
 * once, a waiting exchange is never lost (each is answered or hears gone()
 * exactly once), and there are never more waiting than zp_h2_streams.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/log.h"
#include "k8s/h2.h"

#define SLOTS 64

struct slot {
    struct zp_xchg *x; /* waiting; NULL once answered or gone */
    int gone;
};

struct run {
    struct zp_h2 *h;
    struct slot slot[SLOTS];
    int n;       /* slots used */
    int waiting; /* slots with an exchange */
    unsigned policy;
    unsigned seen;
    size_t max_body;
};

static struct run *cur;

static void answer(struct run *r, struct slot *s, int code)
{
    static const struct zp_xchg_hdr hdrs[] = {
        {"Content-Type", "application/json"},
        {"Connection", "close"},
        {"X-Content-Type-Options", "nosniff"},
    };
    static const char body[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"code\":200}";
    struct zp_xchg *x = s->x;

    s->x = NULL;
    r->waiting--;
    x->ops->reply(x, code, hdrs, (size_t)(s - r->slot) % 4, body, (size_t)code % sizeof(body),
                  code & 1);
}

/* Another waiting exchange, answered from inside nghttp2 (a stream's close). */
static void answer_another(struct run *r)
{
    for (int i = 0; i < r->n; i++) {
        if (r->slot[i].x != NULL) {
            answer(r, &r->slot[i], 503);
            return;
        }
    }
}

static void on_gone(void *arg)
{
    struct slot *s = arg;

    if (s->x == NULL || s->gone++ != 0)
        abort(); /* answered already, or told twice */
    s->x = NULL;
    cur->waiting--;
    if (cur->policy & 0x10)
        answer_another(cur);
}

/* Every byte api.c could read. */
static void touch(const struct zp_xchg *x, size_t max_body)
{
    const struct evkeyval *kv;
    volatile size_t sum = strlen(x->method) + strlen(x->remote);

    if (x->path != NULL && (x->path[0] != '/' || strchr(x->path, '?') != NULL))
        abort();
    if (x->path != NULL)
        sum += strlen(x->path);
    TAILQ_FOREACH(kv, x->headers, next)
    {
        sum += strlen(kv->key) + strlen(kv->value);
    }
    if ((x->body == NULL) != (x->body_len == 0) || x->body_len > max_body)
        abort();
    if (x->body_too_large && x->body != NULL)
        abort();
    for (size_t i = 0; i < x->body_len; i++)
        sum += (unsigned char)x->body[i];
    (void)sum;
}

static void dispatch(struct zp_xchg *x, void *arg)
{
    struct run *r = arg;
    struct slot *s;

    touch(x, r->max_body);
    r->seen++;
    /* policy's low bits: answer every request, none, or one in two or three */
    if ((r->policy & 3) == 0 || ((r->policy & 3) == 2 && r->seen % 2 == 0) ||
        ((r->policy & 3) == 3 && r->seen % 3 == 0) || r->n == SLOTS) {
        x->ops->reply(x, 200 + (int)(r->seen % 300), NULL, 0, "ok", 2, 0);
        return;
    }
    if (r->policy & 0x20) {
        x->ops->watch(x, NULL, NULL); /* never answered, and not kept: it goes without a word */
        return;
    }
    s = &r->slot[r->n++];
    s->x = x;
    r->waiting++;
    x->ops->watch(x, on_gone, s);
}

static void check(struct run *r)
{
    if (r->waiting < 0 || (unsigned)r->waiting > zp_h2_streams(r->h))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t cuts[] = {1, 2, 3, 7, 9, 64, 1000, SIZE_MAX};
    static const size_t bodies[] = {0, 10, 1000, 65536};
    static const unsigned char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    struct evbuffer *out = evbuffer_new(), *in = evbuffer_new();
    struct run r = {0};
    struct zp_h2_cfg cfg = {0};
    size_t cut, len;
    const unsigned char *p;

    if (out == NULL || in == NULL)
        abort();
    if (size < 2)
        goto out;
    zp_log_set_level(ZP_LOG_ERROR);
    cut = cuts[data[0] & 7];
    r.max_body = bodies[(data[0] >> 3) & 3];
    r.policy = data[1];
    cfg.max_streams = 1 + (data[1] >> 6) * 3;
    cfg.max_header_list = data[0] & 0x40 ? 256 : 16384;
    cfg.max_body = r.max_body;
    cfg.dispatch = dispatch;
    cfg.arg = &r;
    cfg.remote = "192.0.2.1";
    if (!(data[0] & 0x80))
        evbuffer_add(in, preface, sizeof(preface) - 1);
    evbuffer_add(in, data + 2, size - 2);
    cur = &r;
    if ((r.h = zp_h2_new(&cfg, out)) == NULL)
        abort();
    len = evbuffer_get_length(in);
    p = evbuffer_pullup(in, -1);
    for (size_t at = 0; at < len; at += cut) {
        size_t n = len - at < cut ? len - at : cut;

        evbuffer_drain(out, evbuffer_get_length(out));
        if (zp_h2_recv(r.h, p + at, n) == -1)
            break;
        check(&r);
    }
    for (int i = 0; i < r.n; i += 2) {
        if (r.slot[i].x != NULL)
            answer(&r, &r.slot[i], 100 + (i * 37) % 500);
    }
    check(&r);
    zp_h2_goaway(r.h);
    (void)zp_h2_done(r.h);
    zp_h2_free(r.h);
    if (r.waiting != 0)
        abort(); /* a waiting exchange that never heard */
out:
    evbuffer_free(out);
    evbuffer_free(in);
    return 0;
}
