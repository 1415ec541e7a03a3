"""fake_digitalocean — DigitalOcean's API v2 (domains and domain records) as a test server.

What it reproduces, from docs/providers.md §5:
  * Bearer personal access tokens with scopes: GET needs domain:read, POST
    domain:create (or domain:update), DELETE domain:delete (or
    domain:update). Unknown token: 401 {"id":"unauthorized"}; missing
    scope: 403 {"id":"forbidden"}.
  * GET /v2/domains/{name}: 200 {"domain":…} or 404 {"id":"not_found"};
    records calls on a domain not in the account answer 404 too.
  * Record lists filtered by type and by the fully qualified name, answered
    with relative names ("@" at the apex), paged by page/per_page with
    links.pages.next and meta.total; pages hold at most PAGE_MAX records.
  * Create answers 201 {"domain_record":…}; a second identical record is
    accepted as another record (DigitalOcean does not refuse duplicates);
    a name ending in a dot is taken as absolute, any other as relative; a
    TTL under 30 is 422 unprocessable_entity. Delete answers 204, or 404
    for an unknown id.
  * ratelimit-limit/-remaining/-reset headers on every answer.
Accepted TXT changes are mirrored into named (data is raw, never quoted).
"""
import itertools
import time
import urllib.parse

import fakebase
from fakebase import Reply

BASE = "/v2"
SCOPES_ALL = ("domain:read", "domain:create", "domain:update", "domain:delete")


def err(status, slug, message):
    return Reply(status, {"id": slug, "message": message,
                          "request_id": "00000000-0000-4000-8000-000000000000"})


class FakeDigitalOcean(fakebase.FakeServer):
    name = "digitalocean"
    PAGE_MAX = 2

    def __init__(self, pki_dir, named=None, domains=("example.test",)):
        super().__init__(pki_dir, named)
        self.domains = {d: [] for d in domains}  # name -> [record]
        self.tokens = {}                         # token -> set of scopes
        self.bodies = []                         # (method, path, JSON body)
        self.ids = itertools.count(28448433)
        self.remaining = 5000

    # --- test set-up ---
    def add_token(self, token, scopes=SCOPES_ALL):
        self.tokens[token] = set(scopes)

    def seed(self, rtype, fqdn, data, ttl=1800, mirror=True):
        domain, rel = self._split(fqdn.rstrip(".").lower())
        rec = self._new_record(rtype, rel, data, ttl)
        with self.lock:
            self.domains[domain].append(rec)
        if mirror and rtype == "TXT":
            self.mirror_add(fqdn, data, ttl)
        return rec["id"]

    def _split(self, name):
        best = None
        for d in self.domains:
            if (name == d or name.endswith("." + d)) and (best is None or len(d) > len(best)):
                best = d
        if best is None:
            raise KeyError(name)
        return best, "@" if name == best else name[:-len(best) - 1]

    def _new_record(self, rtype, rel, data, ttl):
        return {"id": next(self.ids), "type": rtype, "name": rel, "data": data,
                "priority": None, "port": None, "ttl": ttl, "weight": None, "flags": None,
                "tag": None}

    @staticmethod
    def _fqdn(domain, rel):
        return domain + "." if rel == "@" else "%s.%s." % (rel, domain)

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((d, r["id"], r["type"], r["name"], r["data"], r["ttl"])
                          for d, recs in self.domains.items() for r in recs)

    def txt_values(self, fqdn):
        name = fqdn.rstrip(".").lower()
        with self.lock:
            return [r["data"] for d, recs in self.domains.items() for r in recs
                    if r["type"] == "TXT" and self._fqdn(d, r["name"]).rstrip(".") == name]

    def error_body(self, status):
        if status == 429:
            return {"id": "too_many_requests", "message": "API Rate limit exceeded."}
        return {"id": "server_error", "message": "Unexpected server-side error"}

    # --- the API ---
    def route(self, req):
        reply = self._route(req)
        self.remaining = max(0, self.remaining - 1)
        reply.headers.update({"ratelimit-limit": "5000", "ratelimit-remaining":
                              str(self.remaining), "ratelimit-reset": str(int(time.time()) + 60)})
        return reply

    def _route(self, req):
        h = req.headers.get("Authorization") or ""
        scopes = self.tokens.get(h[7:]) if h.startswith("Bearer ") else None
        if scopes is None:
            return err(401, "unauthorized", "Unable to authenticate you")
        need = {"GET": {"domain:read"}, "POST": {"domain:create", "domain:update"},
                "DELETE": {"domain:delete", "domain:update"}}.get(req.method, set())
        if req.method not in ("GET", "POST", "DELETE"):
            return err(405, "method_not_allowed", "Method Not Allowed")
        if not (need & scopes) or "domain:read" not in scopes:
            return err(403, "forbidden", "You are not authorized to perform this operation")
        if req.body:
            try:
                self.bodies.append((req.method, req.path, req.json()))
            except ValueError:
                return err(400, "bad_request", "unexpected end of JSON input")
        if not req.path.startswith(BASE + "/domains/"):
            return err(404, "not_found", "The resource you requested could not be found.")
        parts = req.path[len(BASE) + 1:].split("/")
        domain = parts[1].lower()
        if domain not in self.domains:
            return err(404, "not_found", "The resource you requested could not be found.")
        if len(parts) == 2 and req.method == "GET":
            return Reply(200, {"domain": {"name": domain, "ttl": 1800, "zone_file": ""}})
        if len(parts) == 3 and parts[2] == "records" and req.method == "GET":
            return self._list(req, domain)
        if len(parts) == 3 and parts[2] == "records" and req.method == "POST":
            return self._create(req, domain)
        if len(parts) == 4 and parts[2] == "records" and req.method == "DELETE":
            return self._delete(domain, parts[3])
        return err(404, "not_found", "The resource you requested could not be found.")

    def _list(self, req, domain):
        try:
            page = int(req.q("page", "1"))
            per_page = int(req.q("per_page", "20"))
        except ValueError:
            return err(400, "bad_request", "invalid page")
        if page < 1 or per_page < 1 or per_page > 200:
            return err(422, "unprocessable_entity", "per_page must be between 1 and 200")
        rtype, name = req.q("type"), req.q("name")
        recs = [r for r in self.domains[domain]
                if (rtype is None or r["type"] == rtype)
                and (name is None or self._fqdn(domain, r["name"]) == name.lower() + ".")]
        per_page = min(per_page, self.PAGE_MAX)
        last = max(1, -(-len(recs) // per_page))
        chunk = recs[(page - 1) * per_page: page * per_page]
        body = {"domain_records": chunk, "links": {}, "meta": {"total": len(recs)}}

        def link(p):
            q = dict((k, v[0]) for k, v in req.query.items())
            q["page"] = str(p)
            return "https://api.digitalocean.com%s?%s" % (req.path, urllib.parse.urlencode(q))
        if last > 1:
            pages = {}
            if page > 1:
                pages.update(first=link(1), prev=link(page - 1))
            if page < last:
                pages.update(next=link(page + 1), last=link(last))
            body["links"]["pages"] = pages
        return Reply(200, body)

    def _create(self, req, domain):
        try:
            body = req.json()
        except ValueError:
            return err(400, "bad_request", "unexpected end of JSON input")
        rtype, name, data = body.get("type"), body.get("name"), body.get("data")
        ttl = body.get("ttl", 1800)
        if rtype not in ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"):
            return err(422, "unprocessable_entity", "Type is not a valid record type")
        if not name:
            return err(422, "unprocessable_entity", "Name can't be blank")
        if not data:
            return err(422, "unprocessable_entity", "Data can't be blank")
        if not isinstance(ttl, int) or ttl < 30:
            return err(422, "unprocessable_entity", "Ttl must be greater than or equal to 30")
        name = name.lower()
        if name.endswith("."):
            fq = name.rstrip(".")
            if fq != domain and not fq.endswith("." + domain):
                return err(422, "unprocessable_entity", "Name is not in the domain")
            rel = "@" if fq == domain else fq[:-len(domain) - 1]
        else:
            rel = name
        rec = self._new_record(rtype, rel, data, ttl)
        self.domains[domain].append(rec)
        if rtype == "TXT":
            self.mirror_add(self._fqdn(domain, rel), data, ttl)
        return Reply(201, {"domain_record": rec})

    def _delete(self, domain, rid):
        for r in self.domains[domain]:
            if str(r["id"]) == rid:
                self.domains[domain].remove(r)
                if r["type"] == "TXT" and not any(
                        o["type"] == "TXT" and o["name"] == r["name"] and o["data"] == r["data"]
                        for o in self.domains[domain]):
                    self.mirror_delete(self._fqdn(domain, r["name"]), r["data"])
                return Reply(204, b"", content_type=None)
        return err(404, "not_found", "The resource you requested could not be found.")
