"""fake_akamai — the record sets of Akamai Edge DNS (Edge DNS API v2, /config-dns/v2), behind
EdgeGrid authentication, for the akamai provider's tests.

What it holds to:
* Every request must carry a valid EdgeGrid (EG1-HMAC-SHA256) Authorization header. The fake
  recomputes the signature from what it received, as Akamai's gateway does: the method, the
  scheme (https), the Host header, the path with its query exactly as sent, the signed headers
  (none: the APIs sign none by default), the base64 SHA-256 of a POST body (its first 128 KiB),
  the unsigned header, and the signing key, the base64 HMAC-SHA256 of the timestamp under the
  client secret. A client token it does not know, an access token that is not that client's,
  a timestamp more than MAX_SKEW seconds off, or a signature that does not match are each
  answered 401 with Akamai's problem shape ({type, title, status, detail, instance, …}) and the
  gateway's detail text. Each verified request is kept in `verified`. A nonce is accepted
  once: a request that repeats one is refused (401, "Nonce has already been used"; the
  wording is the fake's), as the gateway detects replayed requests.
* `after_auth`: statuses the next authenticated requests answer (after their nonce was taken),
  as the API behind the gateway fails; the faults of fakebase.inject come before any check.
* One client may only read (READONLY_ACCESS): a write is 403.
* accountSwitchKey, when present in the query, must be SWITCH_KEY (else 403).
* Record sets at /zones/{zone}/names/{name}/types/{type}: GET (404 when none), POST (409 when
  it exists), PUT (404 when none), DELETE (204; 404 when none). TXT rdata is stored quoted.
  A zone it does not hold is 404.
* `conflicts` makes the next writes answer 409; `before_write` runs once before the next write
  (another client changing the set meanwhile).
"""
import base64
import calendar
import hashlib
import hmac
import json
import re
import threading
import time

import fakebase
from fakebase import Reply

CLIENT_TOKEN = "akab-zpclient0123456789-abcdefghijklmnop"
CLIENT_SECRET = "zpSecret0123456789abcdefghijklmnopqrstuvwx="
ACCESS_TOKEN = "akab-zpaccess0123456789-abcdefghijklmnop"
READONLY_CLIENT = "akab-zpreadonly01234567-abcdefghijklmnop"
READONLY_SECRET = "zpReadOnly0123456789abcdefghijklmnopqrstu="
READONLY_ACCESS = "akab-zpreadacc012345678-abcdefghijklmnop"
SWITCH_KEY = "1-ABCDE:1-2345"
MAX_SKEW = 120
MAX_BODY = 131072
PROBLEMS = "https://problems.luna.akamaiapis.net"

_raw = threading.local()  # the request line's target, exactly as received


def signing_key(secret, timestamp):
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode(),
                                     hashlib.sha256).digest()).decode()


def content_hash(method, body):
    if method != "POST" or not body:
        return ""
    return base64.b64encode(hashlib.sha256(body[:MAX_BODY]).digest()).decode()


def data_to_sign(method, host, path_query, body, auth):
    """EdgeGrid's data to sign; no headers are signed."""
    return "\t".join([method, "https", host, path_query, "", content_hash(method, body), auth])


def signature(secret, timestamp, method, host, path_query, body, auth):
    key = signing_key(secret, timestamp)
    return base64.b64encode(hmac.new(key.encode(), data_to_sign(method, host, path_query, body,
                                                                 auth).encode(),
                                     hashlib.sha256).digest()).decode()


def authorization(client_token, access_token, secret, method, host, path_query, body,
                  timestamp=None, nonce="0b7c0e8e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"):
    """A signed header, as a client makes it (the tests' own requests)."""
    ts = timestamp or time.strftime("%Y%m%dT%H:%M:%S+0000", time.gmtime())
    auth = ("EG1-HMAC-SHA256 client_token=%s;access_token=%s;timestamp=%s;nonce=%s;"
            % (client_token, access_token, ts, nonce))
    return auth + "signature=" + signature(secret, ts, method, host, path_query, body, auth)


class _Handler(fakebase._Handler):
    def _serve(self):
        _raw.target = self.path
        super()._serve()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class FakeAkamai(fakebase.FakeServer):
    name = "akamai"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.clients = {CLIENT_TOKEN: (CLIENT_SECRET, ACCESS_TOKEN, "READ-WRITE"),
                        READONLY_CLIENT: (READONLY_SECRET, READONLY_ACCESS, "READ-ONLY")}
        self.zones = {"example.test": {("example.test", "NS"): (86400, ["a1-1.akam.net."])}}
        self.verified = []     # (method, path and query, timestamp, nonce) of each good request
        self.rejected = []     # the detail of each 401
        self.bodies = []       # (method, path, parsed JSON) of every write
        self.conflicts = 0     # the next writes answer 409
        self.nonces = set()    # every nonce accepted
        self.after_auth = []   # statuses the next authenticated requests answer
        self.before_write = None

    def start(self):
        # fakebase's server, with a handler that keeps the raw request target for the signature.
        import ssl
        self.httpd = fakebase._Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.pki_dir + "/serving.crt", self.pki_dir + "/serving.key")
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    # --- replies ---
    def problem(self, status, title, detail, req=None, kind="config-dns/v2/errors"):
        body = {"type": "%s/%s/%s" % (PROBLEMS, kind, title.lower().replace(" ", "-")),
                "title": title, "status": status, "detail": detail}
        if req is not None:
            body.update({"instance": "https://%s%s" % (self.host, getattr(_raw, "target", "")),
                         "method": req.method, "requestId": "%x" % int(time.time() * 1e6),
                         "clientIp": "127.0.0.1", "serverIp": "127.0.0.1",
                         "requestTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        return Reply(status, body, content_type="application/problem+json")

    def error_body(self, status):
        titles = {429: "Too Many Requests", 503: "Service Unavailable"}
        return {"type": "%s/-/errors/%d" % (PROBLEMS, status),
                "title": titles.get(status, "Internal Server Error"), "status": status,
                "detail": "injected %d" % status}

    def deny(self, req, detail):
        self.rejected.append(detail)
        return self.problem(401, "Not authorized", detail, req, kind="-/pep-authn/deny")

    # --- EdgeGrid ---
    def authenticate(self, req):
        """The client's scope ("READ-WRITE", "READ-ONLY"), or a 401 Reply."""
        h = req.headers.get("Authorization") or ""
        if not h.startswith("EG1-HMAC-SHA256 ") or ";signature=" not in h:
            return self.deny(req, "Invalid authorization header")
        unsigned, sig = h.split("signature=", 1)
        fields = dict(f.split("=", 1) for f in h[len("EG1-HMAC-SHA256 "):].split(";") if "=" in f)
        client = self.clients.get(fields.get("client_token"))
        if client is None:
            return self.deny(req, "Invalid authorization client token")
        secret, access, scope = client
        if fields.get("access_token") != access:
            return self.deny(req, "Invalid authorization access token")
        ts = fields.get("timestamp", "")
        try:
            t = calendar.timegm(time.strptime(ts, "%Y%m%dT%H:%M:%S+0000"))
        except ValueError:
            return self.deny(req, "Invalid timestamp")
        if abs(time.time() - t) > MAX_SKEW:
            return self.deny(req, "Invalid timestamp")
        if not fields.get("nonce"):
            return self.deny(req, "Invalid nonce")
        target = getattr(_raw, "target", req.path)
        want = signature(secret, ts, req.method, req.headers.get("Host") or "", target, req.body,
                         unsigned)
        if not hmac.compare_digest(want, sig):
            return self.deny(req, "The signature does not match")
        if fields["nonce"] in self.nonces:
            return self.deny(req, "Nonce has already been used")
        self.nonces.add(fields["nonce"])
        self.verified.append((req.method, target, ts, fields["nonce"]))
        return scope

    # --- routing ---
    def route(self, req):
        scope = self.authenticate(req)
        if isinstance(scope, Reply):
            return scope
        if self.after_auth:
            return Reply(self.after_auth.pop(0), self.error_body(503))
        key = req.q("accountSwitchKey")
        if key is not None and key != SWITCH_KEY:
            return self.problem(403, "Forbidden", "Invalid accountSwitchKey", req)
        if req.method != "GET" and scope != "READ-WRITE":
            return self.problem(403, "Forbidden",
                                "The API client is not authorized to perform this operation",
                                req)
        m = re.fullmatch(r"/config-dns/v2/zones/([^/]+)/names/([^/]+)/types/([A-Z]+)", req.path)
        if not m:
            return self.problem(404, "Not Found", "No such resource", req)
        zone, name, rtype = m.group(1), m.group(2), m.group(3)
        z = self.zones.get(zone)
        if z is None:
            return self.problem(404, "Not Found", "Zone \"%s\" not found" % zone, req)
        if name != zone and not name.endswith("." + zone):
            return self.problem(400, "Bad Request", "Name %s is not in zone %s" % (name, zone),
                                req)
        cur = z.get((name, rtype))
        if req.method == "GET":
            if cur is None:
                return self.problem(404, "Not Found", "Recordset not found", req)
            return Reply(200, {"name": name, "type": rtype, "ttl": cur[0], "rdata": cur[1]})
        if req.method in ("POST", "PUT", "DELETE"):
            return self.write(req, zone, z, name, rtype, cur)
        return self.problem(405, "Method Not Allowed", "Method not allowed", req)

    def write(self, req, zone, z, name, rtype, cur):
        body = None
        if req.method != "DELETE":
            try:
                body = json.loads(req.body or b"null")
            except ValueError:
                return self.problem(400, "Bad Request", "Invalid JSON", req)
        self.bodies.append((req.method, req.path, body))
        if self.before_write:
            hook, self.before_write = self.before_write, None
            hook(self)
            cur = z.get((name, rtype))
        if self.conflicts:
            self.conflicts -= 1
            return self.problem(409, "Conflict", "Concurrent modification of zone %s" % zone, req)
        before = dict(z)
        if req.method == "DELETE":
            if cur is None:
                return self.problem(404, "Not Found", "Recordset not found", req)
            del z[(name, rtype)]
            self._mirror(before, z)
            return Reply(204)
        if req.method == "POST" and cur is not None:
            return self.problem(409, "Conflict", "Recordset already exists", req)
        if req.method == "PUT" and cur is None:
            return self.problem(404, "Not Found", "Recordset not found", req)
        bad = self.invalid(body, name, rtype)
        if bad:
            return self.problem(400, "Bad Request", bad, req)
        z[(name, rtype)] = (body["ttl"], [self.stored(v) for v in body["rdata"]])
        self._mirror(before, z)
        return Reply(201 if req.method == "POST" else 200,
                     {"name": name, "type": rtype, "ttl": body["ttl"],
                      "rdata": z[(name, rtype)][1]})

    @staticmethod
    def invalid(body, name, rtype):
        if not isinstance(body, dict):
            return "Invalid request body"
        if body.get("name") != name or body.get("type") != rtype:
            return "Name or type in the body do not match the path"
        ttl, rdata = body.get("ttl"), body.get("rdata")
        if not isinstance(ttl, int) or ttl < 30:
            return "Invalid TTL"
        if not isinstance(rdata, list) or not rdata or not all(isinstance(v, str) for v in rdata):
            return "Invalid rdata"
        if len(set(rdata)) != len(rdata):
            return "Duplicate rdata"
        return None

    @staticmethod
    def stored(v):
        return v if v.startswith('"') and v.endswith('"') and len(v) >= 2 else '"%s"' % v

    def _mirror(self, before, after):
        def txt(sets):
            return {(k[0] + ".", fakebase.unquote_txt(v)): ttl for k, (ttl, vals) in sets.items()
                    if k[1] == "TXT" for v in vals}
        old, new = txt(before), txt(after)
        for name, value in old.keys() - new.keys():
            self.mirror_delete(name, value)
        for name, value in new.keys() - old.keys():
            self.mirror_add(name, value, new[(name, value)])

    # --- what tests use ---
    def seed(self, fqdn, rtype, ttl, values, zone="example.test"):
        """Puts a record set in place as another client would (TXT mirrored to named)."""
        with self.lock:
            z = self.zones[zone]
            before = dict(z)
            key = (fqdn.rstrip(".").lower(), rtype)
            if values:
                z[key] = (ttl, list(values))
            else:
                z.pop(key, None)
            self._mirror(before, z)

    def rrset(self, fqdn, rtype="TXT"):
        with self.lock:
            return self.zones["example.test"].get((fqdn.rstrip(".").lower(), rtype))

    def snapshot(self):
        with self.lock:
            return sorted((zone, k[0], k[1], ttl, tuple(sorted(vals)))
                          for zone, z in self.zones.items() for k, (ttl, vals) in z.items())

    def txt_values(self, fqdn):
        s = self.rrset(fqdn)
        return [fakebase.unquote_txt(v) for v in s[1]] if s else []
