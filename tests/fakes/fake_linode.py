"""fake_linode — Linode's (Akamai's) API v4 (domains and domain records) as a test server.

What it reproduces, from docs/providers.md §11 and Linode's OpenAPI text:
  * Bearer personal access tokens with OAuth scopes: GET needs
    domains:read_only or domains:read_write, POST and DELETE
    domains:read_write. Unknown token: 401 "Invalid Token"; missing scope:
    403 "Your OAuth token is not authorized to use this endpoint.".
  * X-Filter on collection GETs, plain equality on filterable fields only
    (domains: domain, type, status, group, tags; records: name, type,
    target, tag); anything else 400 "Cannot filter on <field>". A filter on
    a domain name that is not in the account simply answers "data": [].
  * Paging with page/page_size (25..500 as the API checks), answered with
    page, pages and results; pages hold at most PAGE_MAX entries.
  * Records with relative names ("" at the apex); a name ending in the
    domain is stored relative. ttl_sec is rounded to the nearest value Linode
    keeps. A second identical record is accepted as another record; a TXT
    beside a CNAME is 400 "Record conflict - CNAMES must be unique".
    Delete answers 200 {}; an unknown domain or record id 404 "Not found".
Accepted TXT changes are mirrored into named (targets are raw).
"""
import itertools
import json

import fakebase
from fakebase import Reply

BASE = "/v4"
TTLS = (300, 3600, 7200, 14400, 28800, 57600, 86400, 172800, 345600, 604800, 1209600, 2419200)
FILTERABLE = {"domains": {"domain", "type", "status", "group", "tags"},
              "records": {"name", "type", "target", "tag"}}


def errors(status, reason, field=None):
    e = {"reason": reason}
    if field:
        e["field"] = field
    return Reply(status, {"errors": [e]})


def round_ttl(ttl):
    if ttl == 0:
        return 0
    return min(TTLS, key=lambda t: (abs(t - ttl), t))


class FakeLinode(fakebase.FakeServer):
    name = "linode"
    PAGE_MAX = 2

    def __init__(self, pki_dir, named=None, domains=("example.test",)):
        super().__init__(pki_dir, named)
        ids = itertools.count(1234)
        self.domains = {next(ids): {"domain": d, "records": []} for d in domains}
        self.tokens = {}       # token -> set of scopes
        self.bodies = []       # (method, path, JSON body)
        self.filters = []      # (method, path, X-Filter as parsed JSON)
        self.rids = itertools.count(5550001)

    # --- test set-up ---
    def add_token(self, token, scopes=("domains:read_write",)):
        self.tokens[token] = set(scopes)

    def domain_id(self, name):
        return next((i for i, d in self.domains.items() if d["domain"] == name), None)

    def seed(self, rtype, fqdn, target, ttl=300, mirror=True):
        did, rel = self._split(fqdn.rstrip(".").lower())
        rec = self._new_record(rtype, rel, target, ttl)
        with self.lock:
            self.domains[did]["records"].append(rec)
        if mirror and rtype == "TXT":
            self.mirror_add(fqdn, target, ttl)
        return rec["id"]

    def _split(self, name):
        best = None
        for i, d in self.domains.items():
            zone = d["domain"]
            if (name == zone or name.endswith("." + zone)) and (
                    best is None or len(zone) > len(self.domains[best]["domain"])):
                best = i
        zone = self.domains[best]["domain"]
        return best, "" if name == zone else name[:-len(zone) - 1]

    def _new_record(self, rtype, rel, target, ttl):
        return {"id": next(self.rids), "type": rtype, "name": rel, "target": target,
                "priority": 0, "weight": 0, "port": 0, "service": None, "protocol": None,
                "ttl_sec": round_ttl(ttl), "tag": None,
                "created": "2026-01-01T00:00:00", "updated": "2026-01-01T00:00:00"}

    def _fqdn(self, did, rel):
        zone = self.domains[did]["domain"]
        return zone + "." if rel == "" else "%s.%s." % (rel, zone)

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((d["domain"], r["id"], r["type"], r["name"], r["target"], r["ttl_sec"])
                          for d in self.domains.values() for r in d["records"])

    def txt_values(self, fqdn):
        name = fqdn.rstrip(".").lower() + "."
        with self.lock:
            return [r["target"] for did, d in self.domains.items() for r in d["records"]
                    if r["type"] == "TXT" and self._fqdn(did, r["name"]) == name]

    def error_body(self, status):
        if status == 429:
            return {"errors": [{"reason": "Too Many Requests"}]}
        return {"errors": [{"reason": "Please try again later"}]}

    # --- the API ---
    def route(self, req):
        h = req.headers.get("Authorization") or ""
        scopes = self.tokens.get(h[7:]) if h.startswith("Bearer ") else None
        if scopes is None:
            return errors(401, "Invalid Token")
        if req.method == "GET":
            allowed = scopes & {"domains:read_only", "domains:read_write"}
        elif req.method in ("POST", "DELETE"):
            allowed = scopes & {"domains:read_write"}
        else:
            return errors(405, "Method Not Allowed")
        if not allowed:
            return errors(403, "Your OAuth token is not authorized to use this endpoint.")
        if req.body:
            try:
                self.bodies.append((req.method, req.path, req.json()))
            except ValueError:
                return errors(400, "Malformed JSON")
        parts = req.path[len(BASE) + 1:].split("/") if req.path.startswith(BASE + "/") else []
        if parts == ["domains"] and req.method == "GET":
            return self._collection(req, "domains", [
                dict(id=i, domain=d["domain"], type="master", status="active", group="",
                     tags=[], soa_email="hostmaster@" + d["domain"], ttl_sec=0)
                for i, d in self.domains.items()])
        if len(parts) >= 3 and parts[0] == "domains" and parts[2] == "records":
            try:
                did = int(parts[1])
            except ValueError:
                return errors(404, "Not found")
            if did not in self.domains:
                return errors(404, "Not found")
            if len(parts) == 3 and req.method == "GET":
                return self._collection(req, "records", self.domains[did]["records"])
            if len(parts) == 3 and req.method == "POST":
                return self._create(req, did)
            if len(parts) == 4 and req.method == "DELETE":
                return self._delete(did, parts[3])
        return errors(404, "Not found")

    def _collection(self, req, kind, items):
        raw = req.headers.get("X-Filter")
        flt = {}
        if raw is not None:
            try:
                flt = json.loads(raw)
            except ValueError:
                return errors(400, "Could not parse filter")
            if not isinstance(flt, dict):
                return errors(400, "Could not parse filter")
            for k in flt:
                if k not in FILTERABLE[kind]:
                    return errors(400, "Cannot filter on %s" % k)
        self.filters.append((req.method, req.path, flt if raw is not None else None))
        try:
            page = int(req.q("page", "1"))
            size = int(req.q("page_size", "100"))
        except ValueError:
            return errors(400, "Must be an integer", "page")
        if page < 1:
            return errors(400, "Must be greater than 0", "page")
        if not 25 <= size <= 500:
            return errors(400, "Must be between 25 and 500", "page_size")
        match = [x for x in items if all(x.get(k) == v for k, v in flt.items())]
        size = min(size, self.PAGE_MAX)
        pages = max(1, -(-len(match) // size))
        return Reply(200, {"data": match[(page - 1) * size: page * size], "page": page,
                           "pages": pages, "results": len(match)})

    def _create(self, req, did):
        try:
            body = req.json()
        except ValueError:
            return errors(400, "Malformed JSON")
        zone = self.domains[did]["domain"]
        rtype, name, target = body.get("type"), body.get("name", ""), body.get("target")
        ttl = body.get("ttl_sec", 0)
        if rtype not in ("A", "AAAA", "NS", "MX", "CNAME", "TXT", "SRV", "PTR", "CAA"):
            return errors(400, "type is required", "type")
        if not target:
            return errors(400, "target is required", "target")
        if not isinstance(ttl, int) or ttl < 0:
            return errors(400, "Must be an integer", "ttl_sec")
        name = (name or "").rstrip(".").lower()
        if name == zone:
            name = ""
        elif name.endswith("." + zone):
            name = name[:-len(zone) - 1]
        recs = self.domains[did]["records"]
        if any(r["name"] == name and "CNAME" in (r["type"], rtype) for r in recs):
            return errors(400, "Record conflict - CNAMES must be unique", "name")
        rec = self._new_record(rtype, name, target, ttl)
        recs.append(rec)
        if rtype == "TXT":
            self.mirror_add(self._fqdn(did, name), target, rec["ttl_sec"] or 300)
        return Reply(200, rec)

    def _delete(self, did, rid):
        recs = self.domains[did]["records"]
        for r in recs:
            if str(r["id"]) == rid:
                recs.remove(r)
                if r["type"] == "TXT" and not any(
                        o["type"] == "TXT" and o["name"] == r["name"] and o["target"] == r["target"]
                        for o in recs):
                    self.mirror_delete(self._fqdn(did, r["name"]), r["target"])
                return Reply(200, {})
        return errors(404, "Not found")
