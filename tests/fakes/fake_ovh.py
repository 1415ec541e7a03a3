"""fake_ovh — OVHcloud's /1.0 API as far as DNS-01 needs it (docs/providers.md §6).

What it reproduces, and checks, like the real API:
  * application-key authentication: X-Ovh-Application, X-Ovh-Consumer,
    X-Ovh-Timestamp and X-Ovh-Signature, the signature recomputed from the
    method, the full URL exactly as it came on the wire, the exact body bytes
    and the timestamp; a timestamp more than 30 s away from the server's clock
    is refused; unknown application key, unknown or unvalidated consumer key
    and calls outside the consumer key's access rules each get OVH's own error;
  * GET /auth/time (unauthenticated), which may run ahead of or behind the
    host's clock (clock_skew);
  * one record per value with numeric ids; TXT targets come back wrapped in
    double quotes (OVH's 2025 behaviour; quote_targets=False gives the old one);
  * refresh semantics: a change is served (mirrored into named) only after
    POST /domain/zone/{zone}/refresh.
"""
import hashlib
import json
import os
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

APP_KEY = "zpTestAppKey0001"
APP_SECRET = "zpTestAppSecret000000000000000aa"
CONSUMER_KEY = "zpTestConsumerKey000000000000001"
BASE = "/1.0"
SKEW_MAX = 30  # seconds, as the real API

# The access rules the docs tell users to grant for one zone.
def zone_rules(zone):
    return [("GET", "/domain/zone/%s/record*" % zone),
            ("POST", "/domain/zone/%s/record" % zone),
            ("POST", "/domain/zone/%s/refresh" % zone),
            ("DELETE", "/domain/zone/%s/record/*" % zone)]


BROAD_RULES = [("GET", "/domain/zone/*"), ("POST", "/domain/zone/*"),
               ("DELETE", "/domain/zone/*")]

_tls = threading.local()


class _Handler(fakebase._Handler):
    """Keeps the request target as it came on the wire: the signature covers it."""

    def _serve(self):
        _tls.raw_target = self.path
        super()._serve()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


def _error(status, message, code=None):
    classes = {400: "Client::BadRequest", 401: "Client::Unauthorized", 403: "Client::Forbidden",
               404: "Client::NotFound", 409: "Client::Conflict",
               429: "Client::TooManyRequests", 500: "Server::InternalServerError",
               503: "Server::ServiceUnavailable"}
    reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}
    body = {"class": classes.get(status, "Server::Error"), "message": message,
            "httpCode": "%d %s" % (status, reasons.get(status, "Error"))}
    if code:
        body["errorCode"] = code
    return Reply(status, body, {"X-Ovh-QueryID": "EU.ext-1.fake.%d" % time.monotonic_ns()})


def _rule_match(pattern, path):
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), path) is not None


class FakeOvh(fakebase.FakeServer):
    name = "ovh"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.apps = {APP_KEY: APP_SECRET}
        # consumer key -> application key, state, access rules
        self.consumers = {CONSUMER_KEY: {"app": APP_KEY, "state": "validated",
                                         "rules": list(BROAD_RULES)}}
        self.zones = {"example.test": {}}  # zone -> {id: record}
        self.served = {}                   # zone -> set of (fqdn, value) mirrored into named
        self.clock_skew = 0                # the server's clock minus the host's
        self.time_lie = 0                  # added to /auth/time only: a broken time source
        self.quote_targets = True
        self.bodies = []                   # (method, path, body bytes) of authenticated calls
        self.next_id = 5390038375

    def start(self):
        super().start()
        self.httpd.RequestHandlerClass = _Handler
        return self

    def base_url(self):
        return self.url(BASE)

    def now(self):
        return int(time.time()) + self.clock_skew

    def add_consumer(self, ck, rules=None, state="validated", app=APP_KEY):
        with self.lock:
            self.consumers[ck] = {"app": app, "state": state,
                                  "rules": list(rules if rules is not None else BROAD_RULES)}

    # --- authentication, as OVH checks it ---
    def _authenticate(self, req, path):
        ak = req.headers.get("X-Ovh-Application")
        if ak not in self.apps:
            return _error(403, "Invalid application key", "INVALID_KEY")
        ck = req.headers.get("X-Ovh-Consumer")
        consumer = self.consumers.get(ck)
        if consumer is None or consumer["app"] != ak:
            return _error(403, "This credential does not exist", "NOT_CREDENTIAL")
        if consumer["state"] != "validated":
            return _error(403, "This credential is not valid", "INVALID_CREDENTIAL")
        ts = req.headers.get("X-Ovh-Timestamp") or ""
        if not ts.isdigit() or abs(int(ts) - self.now()) > SKEW_MAX:
            return _error(400, "Query out of time", "QUERY_TIME_OUT")
        url = "https://127.0.0.1:%d%s" % (self.port, getattr(_tls, "raw_target", ""))
        pre = b"+".join([self.apps[ak].encode(), ck.encode(), req.method.encode(), url.encode(),
                         req.body, ts.encode()])
        if req.headers.get("X-Ovh-Signature") != "$1$" + hashlib.sha1(pre).hexdigest():
            return _error(400, "Invalid signature", "INVALID_SIGNATURE")
        if not any(m == req.method and _rule_match(p, path) for m, p in consumer["rules"]):
            return _error(403, "This call has not been granted", "NOT_GRANTED_CALL")
        return None

    # --- the API ---
    def route(self, req):
        if not req.path.startswith(BASE + "/"):
            return _error(404, "Got an invalid (or empty) URL")
        path = req.path[len(BASE):]
        if path == "/auth/time" and req.method == "GET":
            return Reply(200, str(self.now() + self.time_lie))
        denied = self._authenticate(req, path)
        if denied:
            return denied
        self.bodies.append((req.method, path, req.body))
        parts = path.strip("/").split("/")
        if parts[:2] != ["domain", "zone"]:
            return _error(404, "Got an invalid (or empty) URL")
        if len(parts) == 2 and req.method == "GET":
            return Reply(200, sorted(self.zones))
        zone = parts[2] if len(parts) > 2 else ""
        if zone not in self.zones:
            return _error(404, "This service does not exist")
        records = self.zones[zone]
        rest = parts[3:]
        if rest == [] and req.method == "GET":
            return Reply(200, {"name": zone, "dnssecSupported": True, "hasDnsAnycast": False,
                               "nameServers": ["dns1.fake.ovh.test", "ns1.fake.ovh.test"]})
        if rest == ["record"] and req.method == "GET":
            ft, sub = req.q("fieldType"), req.q("subDomain")
            return Reply(200, [r["id"] for r in records.values()
                               if (ft is None or r["fieldType"] == ft)
                               and (sub is None or r["subDomain"] == sub)])
        if rest == ["record"] and req.method == "POST":
            return self._create(zone, req)
        if len(rest) == 2 and rest[0] == "record" and req.method in ("GET", "DELETE"):
            rec = records.get(int(rest[1])) if rest[1].isdigit() else None
            if rec is None:
                return _error(404, "The requested object (id = %s) does not exist" % rest[1])
            if req.method == "GET":
                return Reply(200, rec)
            del records[rec["id"]]
            return Reply(200, "null")
        if rest == ["refresh"] and req.method == "POST":
            self._publish(zone)
            return Reply(200, "null")
        return _error(404, "Got an invalid (or empty) URL")

    def _create(self, zone, req):
        try:
            body = json.loads(req.body)
        except ValueError:
            return _error(400, "Invalid JSON received")
        if not isinstance(body, dict):
            return _error(400, "Invalid JSON received")
        ft, sub, target = body.get("fieldType"), body.get("subDomain", ""), body.get("target")
        ttl = body.get("ttl", 0)
        if ft not in ("A", "AAAA", "CNAME", "MX", "NS", "SPF", "SRV", "TXT", "CAA"):
            return _error(400, "[fieldType] Invalid value")
        if not isinstance(sub, str) or not isinstance(target, str) or not target:
            return _error(400, "[target] Missing or invalid value")
        if not isinstance(ttl, int) or ttl < 0:
            return _error(400, "[ttl] Given data (%s) is not valid" % ttl)
        if ft == "TXT" and self.quote_targets and not target.startswith('"'):
            target = '"%s"' % target
        return Reply(200, self.add_record(zone, sub, ft, target, ttl))

    def add_record(self, zone, sub, ft, target, ttl=60):
        with self.lock:
            self.next_id += 7
            rec = {"id": self.next_id, "zone": zone, "subDomain": sub, "fieldType": ft,
                   "target": target, "ttl": ttl}
            self.zones[zone][rec["id"]] = rec
            return rec

    def _publish(self, zone):
        """What the zone serves after a refresh: its TXT records, mirrored into named."""
        now = {(self._fqdn(zone, r["subDomain"]), fakebase.unquote_txt(r["target"]))
               for r in self.zones[zone].values() if r["fieldType"] == "TXT"}
        before = self.served.setdefault(zone, set())
        for fqdn, value in sorted(before - now):
            self.mirror_delete(fqdn, value)
        for fqdn, value in sorted(now - before):
            self.mirror_add(fqdn, value)
        self.served[zone] = now

    @staticmethod
    def _fqdn(zone, sub):
        return "%s.%s." % (sub, zone) if sub else zone + "."

    def error_body(self, status):
        texts = {429: "Too many requests", 500: "Internal server error",
                 503: "Service temporarily unavailable"}
        return json.loads(_error(status, texts.get(status, "Error %d" % status)).body)

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((r["zone"], r["id"], r["subDomain"], r["fieldType"], r["target"],
                           r["ttl"]) for z in self.zones.values() for r in z.values())

    def txt_values(self, fqdn):
        with self.lock:
            return [fakebase.unquote_txt(r["target"])
                    for zone, recs in self.zones.items() for r in recs.values()
                    if r["fieldType"] == "TXT" and self._fqdn(zone, r["subDomain"]) == fqdn]

    def served_values(self, fqdn):
        with self.lock:
            return sorted(v for z in self.served.values() for f, v in z if f == fqdn)

    def refreshes(self):
        return len(self.calls("POST", "/refresh"))
