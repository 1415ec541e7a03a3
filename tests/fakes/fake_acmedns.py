"""fake_acmedns — an acme-dns server's HTTP API (joohoi/acme-dns), as providers.md §13 reads it.

POST /register makes an account: a UUID username and subdomain, a 40-char
password, two empty TXT rows. POST /update checks X-Api-User (a UUID of a
known account), X-Api-Key (40 characters, the account's password) and that
the body's subdomain is the account's own: anything else is 401
{"error": "forbidden"}, as the real server gives no more detail. Then a
subdomain that is not a UUID is 400 bad_subdomain, a txt that is not 43
characters of [A-Za-z0-9_-] is 400 bad_txt, and the value replaces the row
updated longest ago: the two most recent values stay. The answer body is
built by hand with a space after the colon, as acme-dns does. There is no
delete. Each account's values are mirrored into the Named at its fulldomain
(acme-dns serves them itself, with TTL 1).

Besides the accounts, `foreign` holds records of the customer's own zone
(the _acme-challenge name that is CNAMEd to a fulldomain) that a test seeds:
acme-dns can never touch them, and tests check that it did not.
"""
import json
import os
import re
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

DOMAIN = "auth.example.test"  # the acme-dns server's own zone, inside the Named's example.test
TXT_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{40}$")


def _uuid(s):
    try:
        return str(uuid.UUID(s))
    except (ValueError, TypeError, AttributeError):
        return None


class FakeAcmeDns(fakebase.FakeServer):
    name = "acmedns"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.accounts = {}  # username -> {password, subdomain, allowfrom, rows: [[stamp, txt]]}
        self.foreign = {}   # fqdn -> [(type, data)] in the customer's zone
        self.clock = 0
        self.updates = []   # (subdomain, txt) of every accepted update

    def error_body(self, status):
        return {"error": "injected_%d" % status}

    # --- accounts ---
    def register(self, allowfrom=None):
        with self.lock:
            user = str(uuid.uuid4())
            sub = str(uuid.uuid4())
            pw = uuid.uuid4().hex + uuid.uuid4().hex[:8]
            self.accounts[user] = {"password": pw, "subdomain": sub,
                                   "allowfrom": allowfrom or [], "rows": [[0, ""], [0, ""]]}
            return {"username": user, "password": pw, "fulldomain": "%s.%s" % (sub, DOMAIN),
                    "subdomain": sub, "allowfrom": allowfrom or []}

    def _by_fqdn(self, fqdn):
        f = fqdn.rstrip(".").lower()
        for a in self.accounts.values():
            if "%s.%s" % (a["subdomain"], DOMAIN) == f:
                return a
        return None

    # --- routes ---
    def route(self, req):
        if req.method == "GET" and req.path == "/health":
            return Reply(200, b"", content_type=None)
        if req.method == "POST" and req.path == "/register":
            try:
                body = json.loads(req.body) if req.body else {}
            except ValueError:
                return Reply(400, {"error": "malformed_json_payload"})
            return Reply(201, self.register((body or {}).get("allowfrom")))
        if req.method == "POST" and req.path == "/update":
            return self._update(req)
        return Reply(404, b"404 page not found\n", content_type="text/plain")

    def _update(self, req):
        forbidden = Reply(401, {"error": "forbidden"})
        user = _uuid(req.headers.get("X-Api-User"))
        key = req.headers.get("X-Api-Key") or ""
        acct = self.accounts.get(user) if user else None
        if acct is None or not KEY_RE.match(key) or key != acct["password"]:
            return forbidden
        try:
            body = json.loads(req.body)
        except ValueError:
            body = {}
        if not isinstance(body, dict) or body.get("subdomain") != acct["subdomain"]:
            return forbidden
        if _uuid(body.get("subdomain")) is None:
            return Reply(400, {"error": "bad_subdomain"})
        txt = body.get("txt")
        if not isinstance(txt, str) or not TXT_RE.match(txt):
            return Reply(400, {"error": "bad_txt"})
        self.clock += 1
        row = min(acct["rows"], key=lambda r: r[0])
        old = row[1]
        row[0], row[1] = self.clock, txt
        fqdn = "%s.%s." % (acct["subdomain"], DOMAIN)
        live = [r[1] for r in acct["rows"]]
        if old and old not in live:
            self.mirror_delete(fqdn, old)
        if live.count(txt) == 1 and old != txt:
            self.mirror_add(fqdn, txt, 1)
        self.updates.append((acct["subdomain"], txt))
        return Reply(200, '{"txt": "%s"}' % txt)

    # --- seeding and what tests assert on ---
    def set_values(self, account, values):
        """Puts an account's two rows back to values (oldest first), mirrored."""
        with self.lock:
            acct = self.accounts[account["username"]]
            fqdn = account["fulldomain"] + "."
            for v in {r[1] for r in acct["rows"] if r[1]}:
                self.mirror_delete(fqdn, v)
            vals = (list(values) + ["", ""])[:2]
            self.clock += 2
            acct["rows"] = [[self.clock - 1, vals[0]], [self.clock, vals[1]]]
            for v in {v for v in vals if v}:
                self.mirror_add(fqdn, v, 1)

    def seed_foreign(self, fqdn, rtype, data):
        with self.lock:
            self.foreign.setdefault(fqdn.lower(), []).append((rtype, data))
        if rtype == "TXT":
            self.mirror_add(fqdn, data, 60)

    def snapshot(self):
        with self.lock:
            accts = sorted((a["subdomain"], tuple(sorted(r[1] for r in a["rows"])))
                           for a in self.accounts.values())
            return accts, sorted((k, tuple(sorted(v))) for k, v in self.foreign.items())

    def txt_values(self, fqdn):
        with self.lock:
            a = self._by_fqdn(fqdn)
            if a is not None:
                return [r[1] for r in sorted(a["rows"]) if r[1]]
            return [d for t, d in self.foreign.get(fqdn.lower(), []) if t == "TXT"]
