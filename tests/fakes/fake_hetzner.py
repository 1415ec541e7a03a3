"""fake_hetzner — the DNS part of the Hetzner Cloud API (api.hetzner.cloud/v1),
as docs/providers.md §10 describes it, for the hetzner provider's tests.

What it holds to:
* Authorization: Bearer <project token>, compared exactly; a wrong token is
  401 unauthorized, a read-only token may only GET (403 token_readonly).
* Zones by id or name; only primary zones take writes (incorrect_zone_mode).
* RRsets named relative to the zone ("@" at the apex), records stored as
  sent; TXT values must be quoted character-strings (invalid_input with
  details.fields otherwise).
* add_records creates the RRset when missing and ignores a value it already
  has; remove_records answers 404 when the RRset does not exist and deletes
  the RRset when its last record goes. Both answer 201 with a running
  action, which GET /actions/{id} reports as running for `running_polls`
  polls, then success (or the error set in fail_next_action).
* Errors are {"error":{"code","message","details"}}; every answer carries
  the RateLimit-* headers.
"""
import itertools
import json
import re
import time

import fakebase
from fakebase import Reply

TOKEN = "hzTestToken0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
READONLY_TOKEN = "hzReadOnly0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
ZONE_ID = 1001
SECONDARY_ID = 1002
TXT_VALUE = re.compile(r'("([^"\\]|\\.){0,255}"\s*)+')


class FakeHetzner(fakebase.FakeServer):
    name = "hetzner"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.tokens = {TOKEN: "read_write", READONLY_TOKEN: "read"}
        self.zones = {
            ZONE_ID: {"name": "example.test", "mode": "primary", "ttl": 3600, "rrsets": {
                ("@", "SOA"): (3600, ['hydrogen.ns.hetzner.com. dns.hetzner.com. 1 86400 10800 '
                                      '3600000 3600']),
                ("@", "NS"): (3600, ["hydrogen.ns.hetzner.com.", "oxygen.ns.hetzner.com."]),
            }},
            SECONDARY_ID: {"name": "secondary.test", "mode": "secondary", "ttl": 3600,
                           "rrsets": {}},
        }
        self.running_polls = 1     # GET /actions/{id} says running this many times
        self.fail_next_action = None  # (code, message): the next action ends in error
        self.locked = 0            # the next writes answer 409 locked
        self.force_error = None    # (status, code, message, details) for the next write
        self.before_write = None   # called once before the next write: a concurrent client
        self.actions = {}
        self.bodies = []           # (path, parsed JSON) of every write
        self._ids = itertools.count(4242)

    # --- replies ---
    def reply(self, status, body):
        return Reply(status, body, {"RateLimit-Limit": "3600", "RateLimit-Remaining": "3599",
                                    "RateLimit-Reset": str(int(time.time()) + 1)})

    def error(self, status, code, message, details=None):
        return self.reply(status, {"error": {"code": code, "message": message,
                                             "details": details or {}}})

    def error_body(self, status):
        code = {429: "rate_limit_exceeded", 503: "unavailable"}.get(status, "server_error")
        return {"error": {"code": code, "message": "injected %d" % status, "details": {}}}

    # --- routing ---
    def route(self, req):
        auth = req.headers.get("Authorization") or ""
        scope = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if scope is None:
            return self.error(401, "unauthorized", "unable to authenticate")
        if req.method != "GET" and scope != "read_write":
            return self.error(403, "token_readonly",
                              "The token is only allowed to perform GET requests")
        p = req.path
        if not p.startswith("/v1/"):
            return self.error(404, "not_found", "not found")
        p = p[3:]
        m = re.fullmatch(r"/actions/(\d+)", p)
        if m and req.method == "GET":
            return self.get_action(int(m.group(1)))
        m = re.fullmatch(r"/zones/([^/]+)", p)
        if m and req.method == "GET":
            zid, z = self._zone(m.group(1))
            return self.reply(200, {"zone": self._zone_json(zid, z)}) if z else self._no_zone(
                m.group(1))
        m = re.fullmatch(r"/zones/([^/]+)/rrsets/([^/]+)/([A-Z]+)(/actions/(add|remove)_records)?",
                         p)
        if m:
            zid, z = self._zone(m.group(1))
            if not z:
                return self._no_zone(m.group(1))
            name, rtype, action = m.group(2), m.group(3), m.group(5)
            if action is None and req.method == "GET":
                s = z["rrsets"].get((name, rtype))
                if not s:
                    return self.error(404, "not_found", "rrset not found")
                return self.reply(200, {"rrset": self._rrset_json(zid, name, rtype, s)})
            if action and req.method == "POST":
                return self.write(zid, z, name, rtype, action, req)
        return self.error(404, "not_found", "not found")

    def _zone(self, ref):
        for zid, z in self.zones.items():
            if ref == str(zid) or ref == z["name"]:
                return zid, z
        return None, None

    def _no_zone(self, ref):
        return self.error(404, "not_found", "zone with ID or name '%s' not found" % ref)

    @staticmethod
    def _zone_json(zid, z):
        return {"id": zid, "name": z["name"], "mode": z["mode"], "ttl": z["ttl"],
                "status": "ok", "labels": {}, "protection": {"delete": False},
                "record_count": sum(len(v[1]) for v in z["rrsets"].values())}

    @staticmethod
    def _rrset_json(zid, name, rtype, s):
        return {"id": "%s/%s" % (name, rtype), "name": name, "type": rtype, "ttl": s[0],
                "labels": {}, "protection": {"change": False}, "zone": zid,
                "records": [{"value": v, "comment": ""} for v in s[1]]}

    def write(self, zid, z, name, rtype, action, req):
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            return self.error(400, "json_error", "invalid JSON")
        self.bodies.append((req.path, body))
        if self.before_write:
            hook, self.before_write = self.before_write, None
            hook(self)
        if self.locked:
            self.locked -= 1
            return self.error(409, "locked", "zone is locked by another action")
        if self.force_error:
            st, code, msg, details = self.force_error
            self.force_error = None
            return self.error(st, code, msg, details)
        if z["mode"] != "primary":
            return self.error(422, "incorrect_zone_mode",
                              "This operation is not supported for this Zone's mode.")
        if name != name.lower() or name.endswith(".") or name.endswith(z["name"]):
            return self.error(400, "invalid_input", "invalid input in field 'name'",
                              {"fields": [{"name": "name", "messages": ["invalid name"]}]})
        recs = body.get("records") if isinstance(body, dict) else None
        if not isinstance(recs, list) or not recs or not all(
                isinstance(r, dict) and isinstance(r.get("value"), str) for r in recs):
            return self.error(400, "invalid_input", "invalid input in field 'records'",
                              {"fields": [{"name": "records", "messages": ["is required"]}]})
        values = [r["value"] for r in recs]
        if rtype == "TXT" and not all(TXT_VALUE.fullmatch(v) for v in values):
            return self.error(400, "invalid_input", "invalid input in field 'records'",
                              {"fields": [{"name": "records", "messages": [
                                  "TXT record value must be a quoted string of at most 255 "
                                  "characters"]}]})
        key, cur = (name, rtype), z["rrsets"].get((name, rtype))
        before = dict(z["rrsets"])
        if action == "add":
            ttl = body.get("ttl")
            if ttl is not None and (not isinstance(ttl, int) or ttl < 60):
                return self.error(400, "invalid_input", "invalid input in field 'ttl'",
                                  {"fields": [{"name": "ttl", "messages": ["must be >= 60"]}]})
            old_ttl, old = cur if cur else (z["ttl"], [])
            z["rrsets"][key] = (ttl if ttl is not None else old_ttl,
                                old + [v for v in values if v not in old])
            command = "add_rrset_records"
        else:
            if not cur:
                return self.error(404, "not_found", "rrset not found")
            left = [v for v in cur[1] if v not in values]
            if left:
                z["rrsets"][key] = (cur[0], left)
            else:
                del z["rrsets"][key]
            command = "remove_rrset_records"
        if zid == ZONE_ID:
            self._mirror(z["name"], before, z["rrsets"])
        aid = next(self._ids)
        fail, self.fail_next_action = self.fail_next_action, None
        self.actions[aid] = {"polls": 0, "command": command, "zone": zid, "fail": fail}
        return self.reply(201, {"action": self._action_json(aid, "running")})

    def _action_json(self, aid, status):
        a = self.actions[aid]
        err = {"code": a["fail"][0], "message": a["fail"][1]} if status == "error" else None
        return {"id": aid, "command": a["command"], "status": status,
                "progress": 100 if status != "running" else 0, "started": "2026-01-02T03:04:05Z",
                "finished": None if status == "running" else "2026-01-02T03:04:06Z",
                "resources": [{"id": a["zone"], "type": "zone"}], "error": err}

    def get_action(self, aid):
        a = self.actions.get(aid)
        if a is None:
            return self.error(404, "not_found", "action not found")
        a["polls"] += 1
        status = ("running" if a["polls"] <= self.running_polls
                  else "error" if a["fail"] else "success")
        return self.reply(200, {"action": self._action_json(aid, status)})

    def _mirror(self, zone, before, after):
        def fq(name):
            return (zone if name == "@" else "%s.%s" % (name, zone)) + "."

        def txt(sets):
            return {(fq(k[0]), fakebase.unquote_txt(v)): ttl for k, (ttl, vals) in sets.items()
                    if k[1] == "TXT" for v in vals}
        old, new = txt(before), txt(after)
        for name, value in old.keys() - new.keys():
            self.mirror_delete(name, value)
        for name, value in new.keys() - old.keys():
            self.mirror_add(name, value, new[(name, value)])

    # --- what tests use ---
    @staticmethod
    def relative(fqdn, zone="example.test"):
        name = fqdn.rstrip(".").lower()
        return "@" if name == zone else name[:-(len(zone) + 1)]

    def seed(self, fqdn, rtype, ttl, values, zid=ZONE_ID):
        """Puts an RRset in place as another client would (TXT mirrored to named)."""
        with self.lock:
            z = self.zones[zid]
            before = dict(z["rrsets"])
            key = (self.relative(fqdn, z["name"]), rtype)
            if values:
                z["rrsets"][key] = (ttl, list(values))
            else:
                z["rrsets"].pop(key, None)
            if zid == ZONE_ID:
                self._mirror(z["name"], before, z["rrsets"])

    def rrset(self, fqdn, rtype="TXT"):
        with self.lock:
            return self.zones[ZONE_ID]["rrsets"].get((self.relative(fqdn), rtype))

    def snapshot(self):
        with self.lock:
            return sorted((zid, k[0], k[1], ttl, tuple(sorted(vals)))
                          for zid, z in self.zones.items()
                          for k, (ttl, vals) in z["rrsets"].items())

    def txt_values(self, fqdn):
        s = self.rrset(fqdn)
        return [fakebase.unquote_txt(v) for v in s[1]] if s else []
