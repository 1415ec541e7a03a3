"""fake_httpreq — an in-house service that speaks lego's httpreq protocol (default mode).

POST <prefix>/present and POST <prefix>/cleanup, each with the JSON body
{"fqdn": "<name with trailing dot>", "value": "<TXT value>"} and nothing else.
When the fake has credentials (username/password), every request must carry
exactly "Authorization: Basic base64(user:password)", else 401
{"message": "unauthorized"} with a WWW-Authenticate challenge. The body must
be JSON (Content-Type application/json, else 415), an object of exactly those
two strings (else 400 naming what is wrong), for a name inside a zone the
fake serves (else 400 "no zone for <fqdn>"). Present adds the value to the
values stored at fqdn unless it is already there; CleanUp removes exactly that
value if it is there; both answer ok_status (200 by default; a test may pick
any 2xx) with {"ok": true}, or an empty body for 204. Any other path is 404
text, any other method 405. A value it was not asked to remove is never
removed. Accepted changes are mirrored into the Named.

Besides the protocol, `foreign` holds records a test seeds at the names (the
customer's own TXT and A records): the protocol can never touch them, and
tests check that it did not. Every request's path, Authorization header,
Content-Type and raw body are kept in `seen`, for tests of the exact wire form.
Setting `echo` makes the protocol requests fail 400 with a message that
repeats the credentials they carried (a careless service): the password must
not reach zoneproof's sentence or log. Setting `refuse` to (status, body,
content type) makes them fail with exactly that reply, after authentication.
"""
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

PREFIX = "/acme"
ZONES = ("example.test",)


def _in_zone(fqdn, zone):
    f = fqdn.rstrip(".").lower()
    return f == zone or f.endswith("." + zone)


class FakeHttpReq(fakebase.FakeServer):
    name = "httpreq"

    def __init__(self, pki_dir, named=None, username=None, password=None, prefix=PREFIX):
        super().__init__(pki_dir, named)
        self.username = username
        self.password = password
        self.prefix = prefix
        self.ok_status = 200
        self.echo = False
        self.refuse = None  # (status, body, content type): the reply to every protocol request
        self.values = {}   # fqdn (lower case, trailing dot) -> [values], oldest first
        self.foreign = {}  # fqdn -> [(type, data)]
        self.seen = []     # (path, Authorization or None, Content-Type or None, body bytes)

    def error_body(self, status):
        return {"message": "injected %d" % status}

    # --- routes ---
    def route(self, req):
        self.seen.append((req.path, req.headers.get("Authorization"),
                          req.headers.get("Content-Type"), req.body))
        action = {self.prefix + "/present": "present",
                  self.prefix + "/cleanup": "cleanup"}.get(req.path)
        if action is None:
            return Reply(404, b"404 page not found\n", content_type="text/plain")
        if req.method != "POST":
            return Reply(405, b"method not allowed\n", {"Allow": "POST"},
                         content_type="text/plain")
        if not self._authorized(req):
            return Reply(401, {"message": "unauthorized"},
                         {"WWW-Authenticate": 'Basic realm="dns"'})
        if self.echo:
            return Reply(400, {"message": "cannot parse request from %s (Authorization: %s)"
                               % (self._credentials(req), req.headers.get("Authorization"))})
        if self.refuse:
            return Reply(self.refuse[0], self.refuse[1], content_type=self.refuse[2])
        if (req.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return Reply(415, {"message": "Content-Type must be application/json"})
        try:
            body = json.loads(req.body)
        except ValueError:
            return Reply(400, {"message": "the body is not JSON"})
        why = self._invalid(body)
        if why:
            return Reply(400, {"message": why})
        fqdn = body["fqdn"].lower()
        if not any(_in_zone(fqdn, z) for z in ZONES):
            return Reply(400, {"message": "no zone for %s on this server" % body["fqdn"]})
        getattr(self, "_" + action)(fqdn, body["value"])
        if self.ok_status == 204:
            return Reply(204, b"", content_type=None)
        return Reply(self.ok_status, {"ok": True})

    def _credentials(self, req):
        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Basic "):
            return None
        try:
            return base64.b64decode(auth[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def _authorized(self, req):
        if self.username is None:
            return True
        return self._credentials(req) == "%s:%s" % (self.username, self.password)

    @staticmethod
    def _invalid(body):
        if not isinstance(body, dict) or set(body) != {"fqdn", "value"}:
            return "the body must be an object with exactly fqdn and value"
        if not all(isinstance(body[k], str) and body[k] for k in ("fqdn", "value")):
            return "fqdn and value must be non-empty strings"
        if not body["fqdn"].endswith("."):
            return "fqdn must end with a dot"
        return None

    def _present(self, fqdn, value):
        vals = self.values.setdefault(fqdn, [])
        if value not in vals:
            vals.append(value)
            self.mirror_add(fqdn, value)

    def _cleanup(self, fqdn, value):
        vals = self.values.get(fqdn, [])
        if value in vals:
            vals.remove(value)
            self.mirror_delete(fqdn, value)

    # --- seeding and what tests assert on ---
    def seed_foreign(self, fqdn, rtype, data):
        with self.lock:
            self.foreign.setdefault(fqdn.lower(), []).append((rtype, data))
        if rtype == "TXT":
            self.mirror_add(fqdn, data, 3600)

    def protocol_calls(self, since=0):
        """The requests to the protocol's two paths after the first since."""
        with self.lock:
            return [s for s in self.seen[since:]
                    if s[0] in (self.prefix + "/present", self.prefix + "/cleanup")]

    def snapshot(self):
        with self.lock:
            return (sorted((k, tuple(sorted(v))) for k, v in self.values.items() if v),
                    sorted((k, tuple(sorted(v))) for k, v in self.foreign.items()))

    def txt_values(self, fqdn):
        with self.lock:
            f = fqdn.lower()
            return ([d for t, d in self.foreign.get(f, []) if t == "TXT"]
                    + list(self.values.get(f, [])))
