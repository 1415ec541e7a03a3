/*
 * statuspage.h — the status document (solver/trail.h's JSON) as one
 * self-contained HTML page: no script, no external asset, readable on a
 * narrow screen. Served at /status by the observability listener
 * (k8s/obsserver.h); a pure function, any thread.
 *
 * Hooks for tests and scrapers: each challenge is a <tbody class="challenge"
 * data-state="…"> (the outcome once answered, else the state; data-outcome
 * too when there is one), each nameserver a <tr class="ns"
 * data-ns-state="…">, with class "ns laggard" while it does not serve the
 * value (any state but HAS_VALUE), and each dig command a <code class="dig">.
 * With a "persist" member (serve's kept records), each entry is a
 * <tr class="persist" data-persist-state="…"> (empty before its first
 * check) in table#persist-table.
 */
#ifndef ZP_K8S_STATUSPAGE_H
#define ZP_K8S_STATUSPAGE_H

#include <stddef.h>

struct zp_buf;
struct zp_err;

/*
 * Renders the len bytes of json (need not end in a NUL) into out. Every
 * text from the document is HTML-escaped; a field missing or of the wrong
 * type shows as an em dash. -1 (ZP_EINVAL) when json is not a JSON object,
 * or when out's cap is too small for the page (ZP_EINTERNAL).
 */
int zp_statuspage_html(const char *json, size_t len, struct zp_buf *out, struct zp_err *err);

#endif
