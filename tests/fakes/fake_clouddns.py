"""fake_clouddns — Google Cloud DNS (REST v1) and Google's OAuth token endpoint as a test server.

What it reproduces, from docs/providers.md §3:
  * POST /token, the jwt-bearer grant: the assertion is decoded and checked
    as Google does (RS256 signature recomputed against the service
    account's public key with RSA PKCS#1 v1.5 in pure Python, iss, aud,
    scope, iat/exp at most an hour apart and around now). Refusals are
    400 {"error":"invalid_grant","error_description":…}; a good grant gets an
    access token, required as "Authorization: Bearer" on every DNS call
    (401 UNAUTHENTICATED otherwise).
  * /dns/v1/projects/{project}/managedZones (filter dnsName, paging with
    maxResults/pageToken), …/managedZones/{zone}, …/rrsets?name=&type=,
    POST …/changes, GET …/changes/{id}.
  * Changes are atomic: deletions must match the stored set exactly (412
    conditionNotMet), a missing deleted set answers 404 notFound, an added
    set that exists 409 alreadyExists. A change reads "pending" for a few
    polls, then "done".
  * TXT rrdatas stored quoted; unquoted input is stored quoted (split at
    spaces into several strings), as Google does.
  * Faults can be injected into the DNS calls alone (api_faults), since every
    run of the CLI asks the token endpoint first.
  * IAM: permissions can be denied one by one; the 403 names the
    permission. Errors have Google's shape
    {"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}.
Accepted TXT changes are mirrored into named with the values unquoted.
"""
import base64
import datetime
import hashlib
import itertools
import json
import os
import re
import secrets
import subprocess
import time
import urllib.parse

import fakebase
from fakebase import Reply

AUD = "https://oauth2.googleapis.com/token"
SCOPES = ("https://www.googleapis.com/auth/ndev.clouddns.readwrite",
          "https://www.googleapis.com/auth/cloud-platform")
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DIGESTINFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")
SKEW = 300  # seconds of clock difference tolerated on iat


def make_service_account(dirpath, name, project, email, token_uri=AUD):
    """A fresh RSA key (openssl CLI) and its key file; returns (path, n, e, key_id, pem)."""
    pem_path = os.path.join(dirpath, name + ".pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", pem_path], check=True, capture_output=True)
    out = subprocess.run(["openssl", "rsa", "-in", pem_path, "-noout", "-modulus"], check=True,
                         capture_output=True, text=True).stdout
    n = int(out.strip().split("=", 1)[1], 16)
    with open(pem_path) as f:
        pem = f.read()
    os.unlink(pem_path)
    key_id = hashlib.sha1(pem.encode()).hexdigest()
    key = {"type": "service_account", "project_id": project, "private_key_id": key_id,
           "private_key": pem, "client_email": email,
           "client_id": "1" + str(n)[:20],
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
           "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
           "universe_domain": "googleapis.com"}
    path = os.path.join(dirpath, name + ".json")
    with open(path, "w") as f:
        json.dump(key, f, indent=2)
    os.chmod(path, 0o600)
    return path, n, 65537, key_id, pem


def b64url_decode(s):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rs256_verify(n, e, signing_input, sig):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2.2), with pow()."""
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    s = int.from_bytes(sig, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = DIGESTINFO_SHA256 + hashlib.sha256(signing_input).digest()
    return em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def gerror(code, message, reason, status, extra=None):
    e = {"message": message, "domain": "global", "reason": reason}
    e.update(extra or {})
    return Reply(code, {"error": {"code": code, "message": message, "errors": [e],
                                  "status": status}})


def oauth_error(error, description, status=400):
    return Reply(status, {"error": error, "error_description": description})


def quote_rrdata(d):
    """How Cloud DNS stores a TXT rrdata: quoted; unquoted text split at spaces."""
    if d.startswith('"'):
        return d
    return " ".join('"%s"' % part for part in d.split(" ") if part)


def valid_txt(d):
    """Quoted character-strings of at most 255 bytes each, separated by spaces."""
    return re.fullmatch(r'"(?:[^"\\]|\\.){0,255}"(?: +"(?:[^"\\]|\\.){0,255}")*', d) is not None


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class FakeCloudDNS(fakebase.FakeServer):
    fault_path = "/dns/v1"  # conformance faults hit the DNS calls, not the token endpoint
    name = "clouddns"
    PROJECT = "zp-test-project"
    EMAIL = "zoneproof-dns@zp-test-project.iam.gserviceaccount.com"

    def __init__(self, pki_dir, named=None, n=None, e=65537, key_id=None):
        super().__init__(pki_dir, named)
        self.accounts = {self.EMAIL: (n, e)}  # client_email -> public key
        self.key_id = key_id
        self.zones = {}            # name -> managed zone
        self.rrsets = {}           # zone name -> {(fqdn, type): rrset}
        self.changes = {}          # zone name -> {id: [change, polls left]}
        self.tokens = {}           # access token -> (email, expiry)
        self.change_bodies = []    # every POSTed change, parsed
        self.token_requests = 0
        self.denied = set()        # IAM permissions refused
        self.pending_polls = 2     # GETs of a change before it reads "done"
        self.page_size = 50        # managedZones list, at most
        self.after_read = None     # callable(fake, zone, fqdn) run after each rrsets read
        self.claims = []           # the claims of every accepted assertion
        self.api_faults = []       # (status, Retry-After) for the next DNS calls, not /token
        self._ids = itertools.count(1)
        self.add_zone("example-test", "example.test.")

    # --- test set-up ---
    def add_zone(self, name, dns_name, visibility="public"):
        with self.lock:
            self.zones[name] = {"kind": "dns#managedZone", "name": name, "dnsName": dns_name,
                                "description": "", "id": str(abs(hash(name)) % 10 ** 18),
                                "nameServers": ["ns-cloud-a1.googledomains.com."],
                                "creationTime": _now(), "visibility": visibility}
            self.rrsets.setdefault(name, {})
            self.changes.setdefault(name, {})

    def seed(self, fqdn, rtype, rrdatas, ttl=300, zone="example-test"):
        """A record set put there by someone else (the console, Terraform)."""
        fqdn = fqdn.lower()
        with self.lock:
            self.rrsets[zone][(fqdn, rtype)] = {"kind": "dns#resourceRecordSet", "name": fqdn,
                                                "type": rtype, "ttl": ttl,
                                                "rrdatas": list(rrdatas)}
        if rtype == "TXT":
            for d in rrdatas:
                self.mirror_add(fqdn, fakebase.unquote_txt(d), ttl)

    def rrset(self, fqdn, rtype="TXT"):
        with self.lock:
            for sets in self.rrsets.values():
                if (fqdn.lower(), rtype) in sets:
                    return json.loads(json.dumps(sets[(fqdn.lower(), rtype)]))
        return None

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((z, s["name"], s["type"], s["ttl"], tuple(s["rrdatas"]))
                          for z, sets in self.rrsets.items() for s in sets.values())

    def txt_values(self, fqdn):
        s = self.rrset(fqdn)
        return [fakebase.unquote_txt(d) for d in s["rrdatas"]] if s else []

    def error_body(self, status):
        if status == 429:
            return {"error": {"code": 429, "message": "Quota exceeded for quota metric 'Write "
                              "requests' and limit 'Write requests per minute' of service "
                              "'dns.googleapis.com'.", "errors": [
                                  {"message": "Quota exceeded", "domain": "global",
                                   "reason": "rateLimitExceeded"}],
                              "status": "RESOURCE_EXHAUSTED"}}
        return {"error": {"code": status, "message": "The service is currently unavailable.",
                          "errors": [{"message": "The service is currently unavailable.",
                                      "domain": "global", "reason": "backendError"}],
                          "status": "UNAVAILABLE" if status == 503 else "INTERNAL"}}

    # --- OAuth ---
    def _token(self, req):
        self.token_requests += 1
        if not (req.headers.get("Content-Type") or "").startswith(
                "application/x-www-form-urlencoded"):
            return oauth_error("invalid_request", "Invalid Content-Type")
        form = urllib.parse.parse_qs(req.body.decode(), keep_blank_values=True)
        if form.get("grant_type") != [GRANT]:
            return oauth_error("unsupported_grant_type", "Invalid grant_type: %s"
                               % (form.get("grant_type") or [""])[0])
        assertion = (form.get("assertion") or [""])[0]
        parts = assertion.split(".")
        try:
            if len(parts) != 3:
                raise ValueError("parts")
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            return oauth_error("invalid_grant", "Invalid JWT: Unable to parse the assertion.")
        if header.get("alg") != "RS256" or header.get("typ", "JWT") != "JWT":
            return oauth_error("invalid_grant", "Invalid JWT: Unsupported algorithm.")
        key = self.accounts.get(claims.get("iss"))
        if key is None:
            return oauth_error("invalid_grant", "Invalid grant: account not found")
        if "kid" in header and self.key_id and header["kid"] != self.key_id:
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        if not rs256_verify(key[0], key[1], (parts[0] + "." + parts[1]).encode(), sig):
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") != AUD:
            return oauth_error("invalid_grant", "Invalid JWT: Failed audience check. The expected "
                                                "value was %s." % AUD)
        scopes = str(claims.get("scope", "")).split(" ")
        if not any(s in SCOPES for s in scopes):
            return oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience "
                                                "provided.")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (not isinstance(iat, int) or not isinstance(exp, int) or exp <= iat
                or exp - iat > 3600 or abs(iat - now) > SKEW or exp < now):
            return oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token "
                               "(60 minutes) and in a reasonable timeframe. Check your iat and "
                               "exp values in the JWT claim.")
        self.claims.append((header, claims))
        token = "ya29.c." + secrets.token_urlsafe(60)
        self.tokens[token] = (claims["iss"], now + 3599)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _auth(self, req):
        h = req.headers.get("Authorization") or ""
        entry = self.tokens.get(h[7:]) if h.startswith("Bearer ") else None
        if entry is None or entry[1] < time.time():
            return gerror(401, "Request had invalid authentication credentials. Expected OAuth 2 "
                          "access token, login cookie or other valid authentication credential. "
                          "See https://developers.google.com/identity/sign-in/web/devconsole-"
                          "project.", "authError", "UNAUTHENTICATED",
                          {"location": "Authorization", "locationType": "header"})
        return None

    def _deny(self, perm, resource):
        if perm in self.denied:
            return gerror(403, "Permission '%s' denied on resource '%s' (or it may not exist)."
                          % (perm, resource), "forbidden", "PERMISSION_DENIED")
        return None

    # --- the DNS API ---
    def route(self, req):
        if req.path == "/token" and req.method == "POST":
            return self._token(req)
        if self.api_faults:
            return self.fault_reply(*self.api_faults.pop(0))
        m = re.fullmatch(r"/dns/v1/projects/([^/]+)/managedZones(?:/([^/]+)(?:/(rrsets|changes)"
                         r"(?:/([^/]+))?)?)?", req.path)
        if not m:
            return gerror(404, "Not Found", "notFound", "NOT_FOUND")
        fail = self._auth(req)
        if fail:
            return fail
        project, zone, kind, cid = m.groups()
        if project != self.PROJECT:
            return gerror(404, "The 'parameters.project' resource named '%s' does not exist."
                          % project, "notFound", "NOT_FOUND")
        if zone is None and req.method == "GET":
            return self._deny("dns.managedZones.list", "projects/" + project) or \
                self._list_zones(req)
        resource = "projects/%s/managedZones/%s" % (project, zone)
        z = self.zones.get(zone) or next((v for v in self.zones.values() if v["id"] == zone),
                                         None)
        perm = {("GET", None): "dns.managedZones.get", ("GET", "rrsets"):
                "dns.resourceRecordSets.list", ("POST", "changes"): "dns.changes.create",
                ("GET", "changes"): "dns.changes.get"}.get((req.method, kind))
        if perm is None:
            return gerror(404, "Not Found", "notFound", "NOT_FOUND")
        fail = self._deny(perm, resource)
        if fail:
            return fail
        if z is None:
            return gerror(404, "The 'parameters.managedZone' resource named '%s' does not exist."
                          % zone, "notFound", "NOT_FOUND")
        if kind is None:
            return Reply(200, z)
        if kind == "rrsets":
            return self._list_rrsets(req, z)
        if cid is None and req.method == "POST":
            return self._change(req, z)
        if cid is not None and req.method == "GET":
            return self._get_change(z, cid)
        return gerror(404, "Not Found", "notFound", "NOT_FOUND")

    def _list_zones(self, req):
        want = req.q("dnsName")
        zones = [z for z in self.zones.values() if want is None or z["dnsName"] == want.lower()]
        size = min(int(req.q("maxResults", "1000")), self.page_size)
        start = int(req.q("pageToken", "0"))
        page = zones[start:start + size]
        body = {"kind": "dns#managedZonesListResponse", "managedZones": page}
        if start + size < len(zones):
            body["nextPageToken"] = str(start + size)
        return Reply(200, body)

    def _list_rrsets(self, req, z):
        name, rtype = req.q("name"), req.q("type")
        if rtype and not name:
            return gerror(400, "Invalid value for 'parameters.name': ''", "invalid",
                          "INVALID_ARGUMENT")
        sets = [s for (n, t), s in sorted(self.rrsets[z["name"]].items())
                if (name is None or n == name.lower()) and (rtype is None or t == rtype)]
        reply = Reply(200, {"kind": "dns#resourceRecordSetsListResponse",
                            "rrsets": json.loads(json.dumps(sets))})
        if self.after_read and name:
            self.after_read(self, z["name"], name.lower())
        return reply

    def _check_set(self, where, s, z):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            return gerror(400, "Invalid value for '%s.name': ''" % where, "invalid",
                          "INVALID_ARGUMENT")
        name = s["name"].lower()
        if not (name.endswith(".") and (name == z["dnsName"] or name.endswith("." +
                                                                              z["dnsName"]))):
            return gerror(400, "Invalid value for '%s.name': '%s'" % (where, s["name"]),
                          "invalid", "INVALID_ARGUMENT")
        if not isinstance(s.get("ttl"), int) or not 0 <= s["ttl"] <= 2147483647:
            return gerror(400, "Invalid value for '%s.ttl': '%s'" % (where, s.get("ttl")),
                          "invalid", "INVALID_ARGUMENT")
        datas = s.get("rrdatas")
        if not isinstance(datas, list) or not datas or not all(isinstance(d, str)
                                                                for d in datas):
            return gerror(400, "The resource record set '%s' is missing rrdatas." % where,
                          "invalid", "INVALID_ARGUMENT")
        if s.get("type") == "TXT":
            for i, d in enumerate(datas):
                if not valid_txt(quote_rrdata(d)):
                    return gerror(400, "Invalid value for '%s.rrdata[%d]': '%s'" % (where, i, d),
                                  "invalid", "INVALID_ARGUMENT")
        return None

    def _change(self, req, z):
        try:
            body = req.json()
        except ValueError:
            return gerror(400, "Invalid JSON payload received.", "parseError", "INVALID_ARGUMENT")
        self.change_bodies.append(body)
        adds, dels = body.get("additions") or [], body.get("deletions") or []
        if not adds and not dels:
            return gerror(400, "The 'entity.change' resource is empty.", "required",
                          "INVALID_ARGUMENT")
        for i, s in enumerate(dels):
            fail = self._check_set("entity.change.deletions[%d]" % i, s, z)
            if fail:
                return fail
        for i, s in enumerate(adds):
            fail = self._check_set("entity.change.additions[%d]" % i, s, z)
            if fail:
                return fail
        sets = dict(self.rrsets[z["name"]])
        before = dict(sets)
        for i, s in enumerate(dels):
            key = (s["name"].lower(), s.get("type"))
            cur = sets.get(key)
            if cur is None:
                return gerror(404, "The 'entity.change.deletions[%d]' resource named '%s (%s)' "
                              "does not exist." % (i, s["name"], s.get("type")), "notFound",
                              "NOT_FOUND")
            datas = [quote_rrdata(d) for d in s["rrdatas"]] if key[1] == "TXT" else s["rrdatas"]
            if cur["ttl"] != s["ttl"] or sorted(cur["rrdatas"]) != sorted(datas):
                return gerror(412, "Precondition not met for 'entity.change.deletions[%d]'" % i,
                              "conditionNotMet", "FAILED_PRECONDITION")
            del sets[key]
        for i, s in enumerate(adds):
            key = (s["name"].lower(), s.get("type"))
            if key in sets:
                return gerror(409, "The resource 'entity.change.additions[%d]' named '%s (%s)' "
                              "already exists" % (i, s["name"], s.get("type")), "alreadyExists",
                              "ALREADY_EXISTS")
            datas = [quote_rrdata(d) for d in s["rrdatas"]] if key[1] == "TXT" else s["rrdatas"]
            sets[key] = {"kind": "dns#resourceRecordSet", "name": key[0], "type": key[1],
                         "ttl": s["ttl"], "rrdatas": datas}
        self.rrsets[z["name"]] = sets
        self._mirror(before, sets)
        cid = str(next(self._ids))
        change = {"kind": "dns#change", "id": cid, "startTime": _now(),
                  "status": "pending" if self.pending_polls else "done",
                  "additions": [sets[(s["name"].lower(), s["type"])] for s in adds],
                  "deletions": dels, "isServing": True}
        self.changes[z["name"]][cid] = [change, self.pending_polls]
        return Reply(200, change)

    def _get_change(self, z, cid):
        entry = self.changes[z["name"]].get(cid)
        if entry is None:
            return gerror(404, "The 'parameters.changeId' resource named '%s' does not exist."
                          % cid, "notFound", "NOT_FOUND")
        entry[1] -= 1
        if entry[1] <= 0:
            entry[0]["status"] = "done"
        return Reply(200, entry[0])

    def _mirror(self, before, after):
        """Each TXT value added or removed, one by one, into named."""
        names = {k[0] for k in list(before) + list(after) if k[1] == "TXT"}
        for name in names:
            old = before.get((name, "TXT"))
            new = after.get((name, "TXT"))
            ov = {fakebase.unquote_txt(d) for d in old["rrdatas"]} if old else set()
            nv = {fakebase.unquote_txt(d) for d in new["rrdatas"]} if new else set()
            for v in ov - nv:
                self.mirror_delete(name, v)
            for v in nv - ov:
                self.mirror_add(name, v, new["ttl"])


class FakeMetadata:
    """The GKE metadata server (plain HTTP, as on a node) handing out tokens that fake accepts.

    GET /computeMetadata/v1/instance/service-accounts/default/token needs the
    header Metadata-Flavor: Google (403 otherwise, as Google's server does).
    Point zoneproof at it with GCE_METADATA_HOST=127.0.0.1:<port>.
    """

    PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
    EMAIL = "zoneproof-dns@zp-test-project.iam.gserviceaccount.com"

    def __init__(self, fake):
        import http.server
        import threading
        meta = self
        self.fake = fake
        self.requests = []      # (path, Metadata-Flavor header) of every request
        self.no_binding = False  # True: 404, as for a service account without a binding

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                flavor = self.headers.get("Metadata-Flavor")
                path = urllib.parse.urlsplit(self.path).path
                meta.requests.append((path, flavor))
                if flavor != "Google":
                    status, body = 403, b"Missing Metadata-Flavor:Google header."
                elif path != meta.PATH or meta.no_binding:
                    status, body = 404, b"Not Found"
                else:
                    token = "ya29.meta." + secrets.token_urlsafe(40)
                    with fake.lock:
                        fake.tokens[token] = (meta.EMAIL, time.time() + 3599)
                    status = 200
                    body = json.dumps({"access_token": token, "expires_in": 3599,
                                       "token_type": "Bearer"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200
                                 else "text/html")
                self.send_header("Metadata-Flavor", "Google")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def host(self):
        return "127.0.0.1:%d" % self.httpd.server_address[1]

    def token_requests(self):
        return [r for r in self.requests if r[0] == self.PATH and r[1] == "Google"]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
