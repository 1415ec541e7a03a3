/*
 * statuspage.c — the status page (statuspage.h): the status document
 * parsed with cJSON and written out as HTML, section by section. Pure: no
 * state of its own, so any thread may call it (the observability
 * listener's thread does).
 *
 * Every string from the document goes through put_text, which escapes
 * & < > " and ' whether the string lands in text or in an attribute value.
 * Class names come from fixed tables, never from the document. A field
 * that is missing or of another type shows as DASH; nothing in the
 * document, however malformed, is dereferenced without a type check.
 *
 * The helpers append without asking each time (a zp_buf's failure is
 * sticky) and return whether their buffer is still whole; the one
 * question that counts is zp_statuspage_html's zp_buf_check at the end.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "k8s/statuspage.h"

#define DASH "\xe2\x80\x94"  /* U+2014: a missing or unknown field */
#define ARROW "\xe2\x86\x92" /* U+2192: between answers in the sequence */
#define ANSWERS_SHOWN 64     /* a flapping nameserver's sequence is cut after this many */
#define PERSIST_SHOWN 256    /* kept records: the first this many */

/* Inline: no external asset, system fonts, light and dark, one column on a narrow screen. */
static const char style[] =
    ":root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--mute:#59636e;--line:#d1d9e0;"
    "--ok:#1a7f37;--fail:#cf222e;--run:#9a6700;--chip:#f6f8fa}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mute:#9198a1;"
    "--line:#3d444d;--ok:#3fb950;--fail:#f85149;--run:#d29922;--chip:#161b22}}\n"
    "body{margin:0 auto;max-width:76rem;padding:1rem;color:var(--fg);background:var(--bg);"
    "font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif}\n"
    "h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\n"
    ".meta,.none,th,dt,summary{color:var(--mute)}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);"
    "vertical-align:top}\nth{font-weight:600}\n"
    "tbody.challenge>tr.row>td{border-bottom:0}\n"
    "tbody.challenge>tr.more>td{padding:0 .5rem .6rem;border-bottom:2px solid var(--line)}\n"
    "td.fqdn,dd,td.ans{overflow-wrap:anywhere}\n"
    ".st{font-weight:600}.st-ok{color:var(--ok)}.st-fail{color:var(--fail)}"
    ".st-run{color:var(--run)}.st-unknown{color:var(--mute)}\n"
    "summary{cursor:pointer}\n.box{overflow-x:auto}\n"
    "table.inner{margin:.4rem 0;font-size:.95em}\n"
    "tr.laggard>td:first-child{box-shadow:inset 3px 0 var(--run)}\n"
    ".message{border-left:3px solid var(--fail);padding:.3rem .6rem;margin:.5rem 0;"
    "background:var(--chip)}\n"
    "code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "background:var(--chip);padding:.1rem .3rem;border-radius:3px}\n"
    "code.dig{display:block;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0}"
    "dd{margin:0}\n"
    "@media (max-width:640px){table.challenges>thead,table.inner>thead{display:none}"
    "table.challenges tr.row>td,table.inner td{display:block;padding:.1rem .5rem;border:0}"
    "table.inner tr{display:block;padding:.3rem 0;border-bottom:1px solid var(--line)}"
    "table.inner tr.ns{border-bottom:0}"
    "td[data-label]::before{content:attr(data-label) \": \";color:var(--mute)}}\n";

/* --- reading the document ------------------------------------------------------------------ */

static const cJSON *field(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* A string field, or NULL when it is missing, null or not a string. */
static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = field(o, key);

    return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : NULL;
}

/* A field of whole milliseconds (or a count); -1 when missing, not a number or out of range. */
static long long ms_of(const cJSON *o, const char *key)
{
    const cJSON *v = field(o, key);
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!(d >= 0 && d < 1e15)) /* NaN fails too */
        return -1;
    return (long long)d;
}

static int is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

/* The colour of a challenge's state or outcome, or of a step's result. */
static const char *state_class(const char *s)
{
    static const char *const running[] = {"queued", "writing", "propagating", "checking",
                                          "running"};

    if (is(s, "success") || is(s, "done") || is(s, "ok"))
        return "st-ok";
    if (is(s, "failure") || is(s, "failed"))
        return "st-fail";
    for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++)
        if (is(s, running[i]))
            return "st-run";
    return "st-unknown";
}

/* The colour of a nameserver's state (zp_ns_state_name). */
static const char *ns_class(const char *s)
{
    static const char *const waiting[] = {"PENDING", "NXDOMAIN", "NODATA", "OTHER"};
    static const char *const failing[] = {"SERVFAIL", "REFUSED", "NOTAUTH", "TIMEOUT", "ERROR"};

    if (is(s, "HAS_VALUE"))
        return "st-ok";
    for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]); i++)
        if (is(s, waiting[i]))
            return "st-run";
    for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++)
        if (is(s, failing[i]))
            return "st-fail";
    return "st-unknown";
}

/* The colour of a kept record's state (persistkeep.c's states). */
static const char *persist_class(const char *s)
{
    if (is(s, "ok"))
        return "st-ok";
    if (is(s, "expiring"))
        return "st-run";
    if (is(s, "missing") || is(s, "different") || is(s, "error"))
        return "st-fail";
    return "st-unknown";
}

/* --- writing -------------------------------------------------------------------------------- */

/* s escaped for text and attribute values alike; DASH for NULL. */
static int put_text(struct zp_buf *b, const char *s)
{
    const char *run;

    if (s == NULL)
        return zp_buf_puts(b, DASH);
    for (run = s; *s != '\0'; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        zp_buf_append(b, run, (size_t)(s - run));
        zp_buf_puts(b, rep);
        run = s + 1;
    }
    return zp_buf_append(b, run, (size_t)(s - run));
}

/* "+1020ms", or DASH. */
static int put_at(struct zp_buf *b, long long ms)
{
    return ms < 0 ? zp_buf_puts(b, DASH) : zp_buf_printf(b, "+%lldms", ms);
}

/* A duration people read: "850 ms", "12.3 s", "4 min 5 s", "2 h 10 min"; DASH when unknown. */
static int put_duration(struct zp_buf *b, long long ms)
{
    if (ms < 0)
        return zp_buf_puts(b, DASH);
    if (ms < 1000)
        return zp_buf_printf(b, "%lld ms", ms);
    if (ms < 60000)
        return zp_buf_printf(b, "%.1f s", (double)ms / 1000.0);
    if (ms < 3600000)
        return zp_buf_printf(b, "%lld min %lld s", ms / 60000, ms / 1000 % 60);
    return zp_buf_printf(b, "%lld h %lld min", ms / 3600000, ms / 60000 % 60);
}

/* <td data-label="label" [class="cls"]>text</td> */
static int put_cell(struct zp_buf *b, const char *label, const char *cls, const char *text)
{
    zp_buf_printf(b, "<td data-label=\"%s\"", label);
    if (cls != NULL)
        zp_buf_printf(b, " class=\"%s\"", cls);
    zp_buf_puts(b, ">");
    put_text(b, text);
    return zp_buf_puts(b, "</td>");
}

/* <span class="st st-…">text</span>, the class from a fixed table. */
static int put_badge(struct zp_buf *b, const char *cls, const char *text)
{
    zp_buf_printf(b, "<span class=\"st %s\">", cls);
    put_text(b, text);
    return zp_buf_puts(b, "</span>");
}

/* --- one challenge's detail ----------------------------------------------------------------- */

static int put_facts(struct zp_buf *b, const cJSON *c)
{
    static const struct {
        const char *label, *key;
    } facts[] = {{"Zone", "zone"},
                 {"Started", "started"},
                 {"Value", "valueHash"},
                 {"UID", "uid"},
                 {"Reason", "reason"}};

    zp_buf_puts(b, "<dl>");
    for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
        zp_buf_printf(b, "<dt>%s</dt><dd>", facts[i].label);
        put_text(b, str_of(c, facts[i].key));
        zp_buf_puts(b, "</dd>");
    }
    zp_buf_puts(b, "</dl>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

static int put_steps(struct zp_buf *b, const cJSON *steps)
{
    const cJSON *s;

    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0)
        return zp_buf_puts(b, "<p class=\"none\">No steps recorded.</p>\n");
    zp_buf_puts(b, "<div class=\"box\"><table class=\"inner steps\"><thead><tr><th>Step</th>"
                   "<th>At</th><th>Took</th><th>Result</th><th>Detail</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(s, steps)
    {
        const cJSON *ok = field(s, "ok");
        const char *res = cJSON_IsTrue(ok) ? "ok" : cJSON_IsFalse(ok) ? "failed" : "running";

        zp_buf_printf(b, "<tr class=\"step\" data-step-state=\"%s\">", res);
        put_cell(b, "Step", NULL, str_of(s, "step"));
        zp_buf_puts(b, "<td data-label=\"At\">");
        put_at(b, ms_of(s, "atMs"));
        zp_buf_puts(b, "</td><td data-label=\"Took\">");
        if (ms_of(s, "tookMs") >= 0)
            zp_buf_printf(b, "%lldms", ms_of(s, "tookMs"));
        else
            zp_buf_puts(b, DASH);
        zp_buf_puts(b, "</td><td data-label=\"Result\">");
        put_badge(b, state_class(res), res);
        zp_buf_puts(b, "</td>");
        put_cell(b, "Detail", NULL, str_of(s, "detail"));
        zp_buf_puts(b, "</tr>\n");
    }
    zp_buf_puts(b, "</tbody></table></div>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

/* "+8ms NXDOMAIN → +1020ms HAS_VALUE", or DASH when there is none. */
static int put_answers(struct zp_buf *b, const cJSON *answers)
{
    const cJSON *a;
    int n = 0, total = cJSON_IsArray(answers) ? cJSON_GetArraySize(answers) : 0;

    if (total == 0)
        return zp_buf_puts(b, DASH);
    cJSON_ArrayForEach(a, answers)
    {
        if (n == ANSWERS_SHOWN) {
            zp_buf_printf(b, " " ARROW " \xe2\x80\xa6 (%d more)", total - n);
            break;
        }
        if (n++ > 0)
            zp_buf_puts(b, " " ARROW " ");
        put_at(b, ms_of(a, "atMs"));
        zp_buf_puts(b, " ");
        put_text(b, str_of(a, "state"));
    }
    return zp_buf_ok(b) ? 0 : -1;
}

static int put_nameserver(struct zp_buf *b, const cJSON *ns)
{
    const char *state = str_of(ns, "state");
    long long served = ms_of(ns, "servedMs");

    zp_buf_printf(b, "<tr class=\"%s\" data-ns-state=\"",
                  is(state, "HAS_VALUE") ? "ns" : "ns laggard");
    put_text(b, state);
    zp_buf_puts(b, "\">");
    put_cell(b, "Nameserver", NULL, str_of(ns, "name"));
    put_cell(b, "Address", NULL, str_of(ns, "address"));
    zp_buf_puts(b, "<td data-label=\"State\">");
    put_badge(b, ns_class(state), state);
    zp_buf_puts(b, "</td><td data-label=\"Served\">");
    if (served >= 0)
        put_at(b, served);
    else
        zp_buf_puts(b, "not yet");
    zp_buf_puts(b, "</td><td data-label=\"Answers\" class=\"ans\">");
    put_answers(b, field(ns, "answers"));
    zp_buf_puts(b, "</td></tr>\n<tr class=\"digrow\"><td colspan=\"5\"><code class=\"dig\">");
    put_text(b, str_of(ns, "dig"));
    zp_buf_puts(b, "</code></td></tr>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

static int put_nameservers(struct zp_buf *b, const cJSON *list)
{
    const cJSON *ns;

    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return zp_buf_puts(b, "<p class=\"none\">No nameserver answers recorded.</p>\n");
    zp_buf_puts(b, "<div class=\"box\"><table class=\"inner nameservers\"><thead><tr>"
                   "<th>Nameserver</th><th>Address</th><th>State</th><th>Served</th>"
                   "<th>Answers</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(ns, list)
    {
        put_nameserver(b, ns);
    }
    zp_buf_puts(b, "</tbody></table></div>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

/* How many nameservers do not serve the value yet: for the summary line. */
static int laggards(const cJSON *list)
{
    const cJSON *ns;
    int n = 0;

    if (!cJSON_IsArray(list))
        return 0;
    cJSON_ArrayForEach(ns, list)
    {
        if (!is(str_of(ns, "state"), "HAS_VALUE"))
            n++;
    }
    return n;
}

/* The <details> under a challenge's row: open while in flight and when it failed. */
static int put_detail(struct zp_buf *b, const cJSON *c, int open, int failed)
{
    const cJSON *steps = field(c, "steps"), *nss = field(c, "nameservers");
    const char *msg = str_of(c, "message");
    int n_steps = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
    int n_ns = cJSON_IsArray(nss) ? cJSON_GetArraySize(nss) : 0;

    zp_buf_printf(b, "<details%s><summary>%d step%s, %d nameserver%s", open ? " open" : "", n_steps,
                  n_steps == 1 ? "" : "s", n_ns, n_ns == 1 ? "" : "s");
    if (laggards(nss) > 0)
        zp_buf_printf(b, ", %d not serving the value", laggards(nss));
    zp_buf_puts(b, "</summary>\n");
    if (failed || msg != NULL) {
        zp_buf_puts(b, "<p class=\"message\">");
        put_text(b, msg);
        zp_buf_puts(b, "</p>\n");
    }
    put_facts(b, c);
    put_steps(b, steps);
    put_nameservers(b, nss);
    zp_buf_puts(b, "</details>");
    return zp_buf_ok(b) ? 0 : -1;
}

/* --- the page ------------------------------------------------------------------------------- */

static int put_challenge(struct zp_buf *b, const cJSON *c, int in_flight)
{
    const char *state = str_of(c, "state"), *outcome = str_of(c, "outcome");
    const char *shown = outcome != NULL ? outcome : state;
    const char *provider = str_of(c, "provider"), *type = str_of(c, "type");
    int failed = is(outcome, "failure");

    zp_buf_puts(b, "<tbody class=\"challenge\" data-state=\"");
    put_text(b, shown);
    zp_buf_puts(b, "\"");
    if (outcome != NULL) {
        zp_buf_puts(b, " data-outcome=\"");
        put_text(b, outcome);
        zp_buf_puts(b, "\"");
    }
    zp_buf_puts(b, "><tr class=\"row\">");
    put_cell(b, "Action", NULL, str_of(c, "action"));
    put_cell(b, "FQDN", "fqdn", str_of(c, "fqdn"));
    put_cell(b, "Namespace", NULL, str_of(c, "namespace"));
    zp_buf_puts(b, "<td data-label=\"Provider\">");
    put_text(b, provider);
    if (type != NULL) {
        zp_buf_puts(b, " (");
        put_text(b, type);
        zp_buf_puts(b, ")");
    }
    zp_buf_puts(b, "</td><td data-label=\"State\">");
    put_badge(b, state_class(shown), shown);
    zp_buf_puts(b, "</td><td data-label=\"Elapsed\">");
    put_duration(b, ms_of(c, "elapsedMs"));
    zp_buf_puts(b, "</td></tr>\n<tr class=\"more\"><td colspan=\"6\">");
    put_detail(b, c, in_flight || failed, failed);
    zp_buf_puts(b, "</td></tr></tbody>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

static int put_section(struct zp_buf *b, const char *title, const char *id, const cJSON *list,
                       int in_flight)
{
    const cJSON *c;

    zp_buf_printf(b, "<h2 id=\"%s\">%s</h2>\n", id, title);
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return zp_buf_printf(b, "<p class=\"none\">%s</p>\n",
                             in_flight ? "Nothing in flight." : "No challenge answered yet.");
    zp_buf_printf(b,
                  "<div class=\"box\"><table class=\"challenges\" id=\"%s-table\"><thead><tr>"
                  "<th>Action</th><th>FQDN</th><th>Namespace</th><th>Provider</th>"
                  "<th>State</th><th>Elapsed</th></tr></thead>\n",
                  id);
    cJSON_ArrayForEach(c, list)
    {
        put_challenge(b, c, in_flight);
    }
    zp_buf_puts(b, "</table></div>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

/* --- kept DNS-PERSIST-01 records ------------------------------------------------------------- */

/* The last re-write: "missing → success at …", or DASH when there was none. */
static int put_rewrite(struct zp_buf *b, const cJSON *rw)
{
    const char *outcome = str_of(rw, "outcome");

    if (!cJSON_IsObject(rw))
        return zp_buf_puts(b, DASH);
    put_text(b, str_of(rw, "reason"));
    zp_buf_puts(b, " " ARROW " ");
    put_badge(b, is(outcome, "success") ? "st-ok" : "st-fail", outcome);
    zp_buf_puts(b, " at <time>");
    put_text(b, str_of(rw, "at"));
    return zp_buf_puts(b, "</time>");
}

static int put_kept(struct zp_buf *b, const cJSON *e)
{
    const char *state = str_of(e, "state");

    zp_buf_puts(b, "<tr class=\"persist\" data-persist-state=\"");
    put_text(b, state != NULL ? state : "");
    zp_buf_puts(b, "\">");
    put_cell(b, "Name", "fqdn", str_of(e, "name"));
    put_cell(b, "Issuer", NULL, str_of(e, "issuer"));
    zp_buf_puts(b, "<td data-label=\"State\">");
    put_badge(b, persist_class(state), state != NULL ? state : "not checked yet");
    zp_buf_puts(b, "</td><td data-label=\"Checked\"><time>");
    put_text(b, str_of(e, "checked"));
    zp_buf_puts(b, "</time></td><td data-label=\"Last re-write\">");
    put_rewrite(b, field(e, "rewrite"));
    zp_buf_puts(b, "</td></tr>\n");
    return zp_buf_ok(b) ? 0 : -1;
}

/* The persist: section, only when the document has one (serve keeps records). */
static int put_persist(struct zp_buf *b, const cJSON *p)
{
    const cJSON *list = field(p, "entries"), *e;
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0, shown = 0;
    long long total = ms_of(p, "total");

    if (!cJSON_IsObject(p))
        return 0;
    zp_buf_puts(b, "<h2 id=\"persist\">Kept records (DNS-PERSIST-01)</h2>\n");
    if (n == 0)
        return zp_buf_puts(b, "<p class=\"none\">No record kept.</p>\n");
    zp_buf_puts(b, "<div class=\"box\"><table class=\"inner persist\" id=\"persist-table\">"
                   "<thead><tr><th>Name</th><th>Issuer</th><th>State</th><th>Checked</th>"
                   "<th>Last re-write</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(e, list)
    {
        if (shown++ == PERSIST_SHOWN)
            break;
        put_kept(b, e);
    }
    zp_buf_puts(b, "</tbody></table></div>\n");
    if (total > n || n > PERSIST_SHOWN)
        zp_buf_printf(b, "<p class=\"meta\">The first %d of %lld shown.</p>\n",
                      n < PERSIST_SHOWN ? n : PERSIST_SHOWN, total > n ? total : (long long)n);
    return zp_buf_ok(b) ? 0 : -1;
}

/* The document head, and the header: when, and how many. */
static int put_head(struct zp_buf *b, const cJSON *doc)
{
    const cJSON *inflight = field(doc, "inFlight"), *recent = field(doc, "recent"), *c;
    int shown = cJSON_IsArray(inflight) ? cJSON_GetArraySize(inflight) : 0;
    int n_recent = cJSON_IsArray(recent) ? cJSON_GetArraySize(recent) : 0, n_failed = 0;
    long long total = ms_of(doc, "inFlightTotal");

    if (cJSON_IsArray(recent)) {
        cJSON_ArrayForEach(c, recent)
        {
            n_failed += is(str_of(c, "outcome"), "failure");
        }
    }
    zp_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (shown > 0 || total > 0)
        zp_buf_puts(b, "<meta http-equiv=\"refresh\" content=\"5\">\n");
    zp_buf_printf(b,
                  "<title>zoneproof status</title>\n<style>\n%s</style>\n</head><body>\n"
                  "<h1>zoneproof status</h1>\n<p class=\"meta\">Generated <time>",
                  style);
    put_text(b, str_of(doc, "generated"));
    zp_buf_puts(b, "</time> \xc2\xb7 ");
    if (total >= 0)
        zp_buf_printf(b, "%lld in flight", total);
    else
        zp_buf_printf(b, "%d in flight", shown);
    if (total > shown)
        zp_buf_printf(b, " (the newest %d shown)", shown);
    zp_buf_printf(b, " \xc2\xb7 %d recent, %d failed</p>\n", n_recent, n_failed);
    return zp_buf_ok(b) ? 0 : -1;
}

int zp_statuspage_html(const char *json, size_t len, struct zp_buf *out, struct zp_err *err)
{
    cJSON *doc = cJSON_ParseWithLength(json, len);
    int rc = -1;

    if (!cJSON_IsObject(doc)) {
        zp_err_set(err, ZP_EINVAL, "the status document is not a JSON object");
        goto out;
    }
    put_head(out, doc);
    put_section(out, "In flight", "inflight", field(doc, "inFlight"), 1);
    put_section(out, "Recent", "recent", field(doc, "recent"), 0);
    put_persist(out, field(doc, "persist"));
    zp_buf_puts(out, "<p class=\"meta\">The same as JSON: <a href=\"status.json\">status.json</a>."
                     " Metrics: <a href=\"metrics\">metrics</a>.</p>\n</body></html>\n");
    rc = zp_buf_check(out, "the status page", err);
out:
    cJSON_Delete(doc);
    return rc;
}
