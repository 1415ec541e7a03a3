"""fake_godaddy — the GoDaddy Domains API v1 DNS routes, as providers.md §7 describes them.

Authentication is `Authorization: sso-key <key>:<secret>`, compared with the
account's pair; a missing or malformed header is MALFORMED_CREDENTIALS, a
wrong pair UNABLE_TO_AUTHENTICATE (401). A second, "small" account stands
for GoDaddy's eligibility rule: every call with its key answers 403
ACCESS_DENIED. Records are stored as the API keeps them: type, name relative
to the domain ("@" at the apex), raw data, ttl (at least 600, else 422
INVALID_BODY with fields). The write routes are all there, including the
ones whose blast radius is every TXT record of the domain or the whole zone,
so tests can assert they are never called. Accepted TXT changes at a name are
mirrored into the Named.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

KEY = "gd-key-3mN8pQ2rT5vW"
SECRET = "gd-secret-Hx7Kc9Lz4Bq1"
SMALL_KEY = "gd-key-small-acct-000"
SMALL_SECRET = "gd-secret-small-acct-000"
TTL_MIN = 600


def err(status, code, message, fields=None):
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Reply(status, body)


class FakeGoDaddy(fakebase.FakeServer):
    name = "godaddy"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.domains = {"example.test": [
            {"type": "NS", "name": "@", "data": "ns1.example.test", "ttl": 3600},
            {"type": "A", "name": "@", "data": "192.0.2.10", "ttl": 600},
            {"type": "TXT", "name": "@", "data": "v=spf1 -all", "ttl": 3600},
        ]}
        self.bodies = []          # (method, path, parsed body) of every authenticated request
        self.next_replies = []    # Replies answered instead of routing, in order
        self.retry_header = True  # send Retry-After besides retryAfterSec on injected 429s

    # --- the provider's error shapes ---
    def error_body(self, status):
        if status == 429:
            return {"code": "TOO_MANY_REQUESTS",
                    "message": "Too many requests received within interval", "retryAfterSec": 1}
        return {"code": "INTERNAL_SERVER_ERROR" if status >= 500 else "ERROR",
                "message": "injected %d" % status}

    def fault_reply(self, status, retry_after):
        body = self.error_body(status)
        headers = {}
        if status == 429 and retry_after is not None:
            body["retryAfterSec"] = retry_after
            if self.retry_header:
                headers["Retry-After"] = str(retry_after)
        return Reply(status, body, headers)

    def reply_next(self, reply):
        """The next authenticated request answers reply instead of being routed."""
        with self.lock:
            self.next_replies.append(reply)

    # --- authentication ---
    def _auth(self, req):
        h = req.headers.get("Authorization") or ""
        if not h.startswith("sso-key ") or ":" not in h[8:]:
            return err(401, "MALFORMED_CREDENTIALS", "Unauthorized : Credentials must be specified")
        key, secret = h[8:].split(":", 1)
        if (key, secret) == (KEY, SECRET):
            return None
        if (key, secret) == (SMALL_KEY, SMALL_SECRET):
            return err(403, "ACCESS_DENIED", "Authenticated user is not allowed access")
        return err(401, "UNABLE_TO_AUTHENTICATE",
                   "Unauthorized : Could not authenticate API key/secret")

    # --- routes ---
    def route(self, req):
        denied = self._auth(req)
        if denied:
            return denied
        try:
            body = json.loads(req.body) if req.body else None
        except ValueError:
            return err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see details in "
                       "`fields`")
        self.bodies.append((req.method, req.path, body))
        if self.next_replies:
            return self.next_replies.pop(0)
        parts = req.path.strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["v1", "domains"]:
            return err(404, "NOT_FOUND", "The requested resource was not found")
        domain = parts[2].lower()
        if domain not in self.domains:
            return err(404, "NOT_FOUND", "Domain %s not found" % domain)
        recs = self.domains[domain]
        if len(parts) == 3 and req.method == "GET":
            return Reply(200, {"domain": domain, "status": "ACTIVE", "domainId": 1000001})
        if len(parts) < 4 or parts[3] != "records":
            return err(404, "NOT_FOUND", "The requested resource was not found")
        rtype = parts[4].upper() if len(parts) > 4 else None
        name = parts[5].lower() if len(parts) > 5 else None
        if len(parts) > 6:
            return err(404, "NOT_FOUND", "The requested resource was not found")

        def match(r):
            return (rtype is None or r["type"] == rtype) and (name is None or r["name"] == name)

        if req.method == "GET":
            return Reply(200, [dict(r) for r in recs if match(r)])
        if req.method == "DELETE" and rtype and name:
            if not any(match(r) for r in recs):
                return err(404, "NOT_FOUND", "Record not found")
            self._replace(domain, match, [])
            return Reply(204, b"", content_type=None)
        if req.method == "PATCH" and rtype is None:
            new, bad = self._validate(body, need_type=True)
            if bad:
                return bad
            return self._replace(domain, lambda r: False, new)
        if req.method == "PUT":
            new, bad = self._validate(body, need_type=rtype is None, rtype=rtype, name=name)
            if bad:
                return bad
            return self._replace(domain, match, new)
        return err(405, "METHOD_NOT_ALLOWED", "Method not allowed")

    def _validate(self, body, need_type, rtype=None, name=None):
        if not isinstance(body, list):
            return None, err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see "
                             "details in `fields`",
                             [{"code": "UNEXPECTED_TYPE", "message": "is not a array",
                               "path": "records"}])
        out = []
        for i, r in enumerate(body):
            t = (r.get("type") or rtype or "").upper() if isinstance(r, dict) else ""
            n = (r.get("name") or name or "") if isinstance(r, dict) else ""
            data, ttl = (r.get("data"), r.get("ttl", 3600)) if isinstance(r, dict) else (None, 0)
            if not t or not n or (need_type and not isinstance(r, dict)):
                return None, err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see "
                                 "details in `fields`",
                                 [{"code": "MISSING", "message": "is required",
                                   "path": "records[%d].type" % i}])
            if not isinstance(data, str) or data == "" or len(data) > 512:
                return None, err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see "
                                 "details in `fields`",
                                 [{"code": "INVALID_VALUE", "message": "must not be empty",
                                   "path": "records[%d].data" % i}])
            if not isinstance(ttl, int) or ttl < TTL_MIN:
                return None, err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see "
                                 "details in `fields`",
                                 [{"code": "INVALID_VALUE",
                                   "message": "must be greater than or equal to %d" % TTL_MIN,
                                   "path": "records[%d].ttl" % i}])
            out.append({"type": t, "name": n.lower(), "data": data, "ttl": ttl})
        return out, None

    def _replace(self, domain, match, new):
        old = self.domains[domain]
        before = self._txt_by_name(domain)
        self.domains[domain] = [r for r in old if not match(r)] + new
        after = self._txt_by_name(domain)
        for n in set(before) | set(after):
            fqdn = self._fqdn(n, domain)
            for v in before.get(n, set()) - after.get(n, set()):
                self.mirror_delete(fqdn, v)
            for v in after.get(n, set()) - before.get(n, set()):
                self.mirror_add(fqdn, v, 60)
        return Reply(200, b"", content_type=None)

    def _txt_by_name(self, domain):
        out = {}
        for r in self.domains[domain]:
            if r["type"] == "TXT" and r["data"]:
                out.setdefault(r["name"], set()).add(r["data"])
        return out

    @staticmethod
    def _fqdn(name, domain):
        return domain + "." if name == "@" else "%s.%s." % (name, domain)

    # --- seeding and what tests assert on ---
    def seed(self, fqdn, rtype, data, ttl=3600, mirror=True):
        domain, name = self._split(fqdn)
        with self.lock:
            self.domains[domain].append({"type": rtype, "name": name, "data": data, "ttl": ttl})
        if mirror and rtype == "TXT" and data:
            self.mirror_add(fqdn, data, 60)

    def _split(self, fqdn):
        f = fqdn.rstrip(".").lower()
        for d in self.domains:
            if f == d:
                return d, "@"
            if f.endswith("." + d):
                return d, f[:-len(d) - 1]
        raise KeyError(fqdn)

    def records_at(self, fqdn, rtype="TXT"):
        domain, name = self._split(fqdn)
        with self.lock:
            return [dict(r) for r in self.domains[domain]
                    if r["type"] == rtype and r["name"] == name]

    def snapshot(self):
        with self.lock:
            return sorted((d, r["type"], r["name"], r["data"], r["ttl"])
                          for d, recs in self.domains.items() for r in recs)

    def txt_values(self, fqdn):
        try:
            return [r["data"] for r in self.records_at(fqdn)]
        except KeyError:
            return []
