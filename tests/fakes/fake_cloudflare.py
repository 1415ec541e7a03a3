"""fake_cloudflare — Cloudflare's API v4 (zones and DNS records) as a test server.

What it reproduces, from docs/providers.md §1:
  * Bearer tokens, each with its own permissions per zone (Zone:Read,
    DNS:Read, DNS:Edit). A malformed Authorization header answers 400 6003
    (chain 6111); an unknown token 403 9109 "Invalid access token"; a revoked
    one 401 1000 "Invalid API Token"; a token without the permission 403
    10000 "Authentication error". GET /zones lists only the zones the token
    may read, so a token without Zone:Read finds nothing.
  * The v4 envelope (success, errors[].code, messages, result, result_info)
    and paging with page/per_page; pages hold at most PAGE_MAX records so
    that clients must follow them.
  * Record ids of 32 hex digits; content stored verbatim (quoted or not);
    an identical record (type, name, content) answers 400 81058; a TXT
    beside a CNAME 400 81054; an unknown record id 404 81044; an unknown
    zone id 400 7003 (+7000); a TTL that is neither 1 nor 60..86400 400 9021.
Accepted TXT changes are mirrored into named with the value unquoted.
"""
import datetime
import re
import uuid

import fakebase
from fakebase import Reply

BASE = "/client/v4"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,}$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(result=None, status=200, errors=None, info=None):
    body = {"success": not errors, "errors": errors or [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    return Reply(status, body)


def error(status, code, message, chain=None):
    e = {"code": code, "message": message}
    if chain:
        e["error_chain"] = [{"code": c, "message": m} for c, m in chain]
    return envelope(None, status, [e])


class Token:
    """One API token: which zones (names) it may read, and whose DNS it may read or edit."""

    def __init__(self, zone_read=(), dns_read=(), dns_edit=(), revoked=False):
        self.zone_read = set(zone_read)
        self.dns_edit = set(dns_edit)
        self.dns_read = set(dns_read) | self.dns_edit
        self.revoked = revoked


class FakeCloudflare(fakebase.FakeServer):
    name = "cloudflare"
    PAGE_MAX = 2

    def __init__(self, pki_dir, named=None, zones=("example.test",)):
        super().__init__(pki_dir, named)
        self.zones = {}      # id -> {"id", "name", ...}
        self.records = {}    # zone id -> [record]
        self.tokens = {}     # token -> Token
        self.auth_log = []   # (method, path, token label)
        self.bodies = []     # (method, path, parsed JSON body)
        for z in zones:
            zid = uuid.uuid4().hex
            self.zones[zid] = {"id": zid, "name": z, "status": "active", "type": "full",
                               "paused": False,
                               "account": {"id": "f" * 32, "name": "Test account"}}
            self.records[zid] = []

    # --- test set-up ---
    def add_token(self, token, label, **perms):
        self.tokens[token] = (label, Token(**perms))

    def zone_id(self, name):
        for zid, z in self.zones.items():
            if z["name"] == name:
                return zid
        return None

    def seed(self, rtype, name, content, ttl=120, mirror=True):
        """A record put there by someone else (the dashboard, another tool)."""
        name = name.rstrip(".").lower()
        zid = self._zone_of(name)
        rec = self._new_record(rtype, name, content, ttl)
        with self.lock:
            self.records[zid].append(rec)
        if mirror and rtype == "TXT":
            self.mirror_add(name + ".", fakebase.unquote_txt(content), ttl)
        return rec["id"]

    def _zone_of(self, name):
        best = None
        for zid, z in self.zones.items():
            if name == z["name"] or name.endswith("." + z["name"]):
                if best is None or len(z["name"]) > len(self.zones[best]["name"]):
                    best = zid
        return best

    def _new_record(self, rtype, name, content, ttl):
        return {"id": uuid.uuid4().hex, "name": name, "type": rtype, "content": content,
                "ttl": ttl, "proxiable": False, "proxied": False, "comment": None, "tags": [],
                "settings": {}, "meta": {}, "created_on": _now(), "modified_on": _now()}

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((self.zones[zid]["name"], r["id"], r["type"], r["name"], r["content"],
                           r["ttl"]) for zid, recs in self.records.items() for r in recs)

    def txt_values(self, fqdn):
        name = fqdn.rstrip(".").lower()
        with self.lock:
            return [fakebase.unquote_txt(r["content"]) for recs in self.records.values()
                    for r in recs if r["type"] == "TXT" and r["name"] == name]

    def txt_contents(self, fqdn):
        """The TXT contents at fqdn exactly as stored (quotes included)."""
        name = fqdn.rstrip(".").lower()
        with self.lock:
            return [r["content"] for recs in self.records.values() for r in recs
                    if r["type"] == "TXT" and r["name"] == name]

    def error_body(self, status):
        if status == 429:
            return {"success": False, "errors": [{"code": 971, "message":
                    "Please wait and consider throttling your request speed"}],
                    "messages": [], "result": None}
        return {"success": False, "errors": [{"code": 10000 + status % 100,
                                             "message": "Internal Server Error"}],
                "messages": [], "result": None}

    # --- the API ---
    def _auth(self, req):
        h = req.headers.get("Authorization")
        if h is None:
            return None, error(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization "
                                          "headers")
        if not h.startswith("Bearer ") or not TOKEN_RE.match(h[7:]):
            return None, error(400, 6003, "Invalid request headers",
                               [(6111, "Invalid format for Authorization header")])
        entry = self.tokens.get(h[7:])
        if entry is None:
            return None, error(403, 9109, "Invalid access token")
        label, tok = entry
        if tok.revoked:
            return None, error(401, 1000, "Invalid API Token")
        self.auth_log.append((req.method, req.path, label))
        return tok, None

    def route(self, req):
        if not req.path.startswith(BASE + "/"):
            return error(404, 7000, "No route for that URI")
        parts = req.path[len(BASE) + 1:].split("/")
        tok, fail = self._auth(req)
        if fail:
            return fail
        if req.body:
            try:
                self.bodies.append((req.method, req.path, req.json()))
            except ValueError:
                return error(400, 9207, "Request body is invalid.")
        if parts == ["zones"] and req.method == "GET":
            return self._list_zones(req, tok)
        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            zid = parts[1]
            if zid not in self.zones:
                return envelope(None, 400, [
                    {"code": 7003, "message": "Could not route to /zones/%s/dns_records, perhaps "
                                              "your object identifier is invalid?" % zid},
                    {"code": 7000, "message": "No route for that URI"}])
            zone = self.zones[zid]["name"]
            if len(parts) == 3 and req.method == "GET":
                if zone not in tok.dns_read:
                    return error(403, 10000, "Authentication error")
                return self._list_records(req, zid)
            if len(parts) == 3 and req.method == "POST":
                if zone not in tok.dns_edit:
                    return error(403, 10000, "Authentication error")
                return self._create(req, zid)
            if len(parts) == 4 and req.method == "DELETE":
                if zone not in tok.dns_edit:
                    return error(403, 10000, "Authentication error")
                return self._delete(zid, parts[3])
        return error(404, 7000, "No route for that URI")

    def _paging(self, req, items, per_page_max):
        try:
            page = int(req.q("page", "1"))
            per_page = int(req.q("per_page", "20"))
        except ValueError:
            return None, error(400, 1004, "DNS Validation Error")
        if page < 1 or per_page < 1:
            return None, error(400, 1004, "DNS Validation Error")
        per_page = min(per_page, per_page_max, self.PAGE_MAX)
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        info = {"page": page, "per_page": per_page, "count": len(chunk),
                "total_count": len(items), "total_pages": total_pages}
        return (chunk, info), None

    def _list_zones(self, req, tok):
        name = req.q("name")
        zones = [z for z in self.zones.values()
                 if z["name"] in tok.zone_read and (name is None or z["name"] == name.lower())]
        paged, fail = self._paging(req, zones, 50)
        if fail:
            return fail
        return envelope(paged[0], info=paged[1])

    def _list_records(self, req, zid):
        rtype = req.q("type")
        name = req.q("name.exact") or req.q("name")
        content = req.q("content.exact") or req.q("content")
        recs = [r for r in self.records[zid]
                if (rtype is None or r["type"] == rtype)
                and (name is None or r["name"] == name.rstrip(".").lower())
                and (content is None or r["content"] == content)]
        paged, fail = self._paging(req, recs, 5000000)
        if fail:
            return fail
        return envelope(paged[0], info=paged[1])

    def _create(self, req, zid):
        try:
            body = req.json()
        except ValueError:
            return error(400, 9207, "Request body is invalid.")
        zone = self.zones[zid]["name"]
        rtype, name, content = body.get("type"), body.get("name"), body.get("content")
        ttl = body.get("ttl", 1)
        if not rtype or name is None or content is None:
            return error(400, 9000, "DNS name is invalid.")
        name = name.rstrip(".").lower()
        if name in ("@", ""):
            name = zone
        elif name != zone and not name.endswith("." + zone):
            name = name + "." + zone
        if not isinstance(ttl, int) or not (ttl == 1 or 60 <= ttl <= 86400):
            return error(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for "
                                    "Automatic.")
        for r in self.records[zid]:
            if r["name"] == name and r["type"] == rtype and r["content"] == content:
                return error(400, 81058, "An identical record already exists.")
            if r["name"] == name and r["type"] == "CNAME" and rtype != "CNAME":
                return error(400, 81054, "A CNAME record with that host already exists.")
        rec = self._new_record(rtype, name, content, ttl)
        self.records[zid].append(rec)
        if rtype == "TXT":
            self.mirror_add(name + ".", fakebase.unquote_txt(content), ttl if ttl > 1 else 300)
        return envelope(rec)

    def _delete(self, zid, rid):
        for r in self.records[zid]:
            if r["id"] == rid:
                self.records[zid].remove(r)
                if r["type"] == "TXT":
                    value = fakebase.unquote_txt(r["content"])
                    # DNS has one record for "v" and "\"v\"": keep it while either is stored.
                    if not any(o["type"] == "TXT" and o["name"] == r["name"]
                               and fakebase.unquote_txt(o["content"]) == value
                               for o in self.records[zid]):
                        self.mirror_delete(r["name"] + ".", value)
                return envelope({"id": rid})
        return error(404, 81044, "Record does not exist.")
