"""pdns — a real PowerDNS Authoritative server on loopback, for tests.

Pdns starts pdns_server with the gsqlite3 backend in a temporary directory
(its own config-dir, database, control socket and log), DNS on a free
loopback port, and the webserver with the HTTP API on another, guarded by a
random api-key. No daemon, no guardian, no security polling. Zones are
created through the API; so are TSIG keys and zone metadata (add_tsig_key,
set_metadata) for tests of DNS UPDATE, which extra_conf turns on
("dnsupdate=yes"). replica() starts a second pdns_server on the same
database without the API: a front-end whose packet cache the API cannot
purge, as in set-ups where several servers share one database.

PdnsProxy is an HTTPS proxy in front of the API (fakebase.FakeServer: test
PKI, fault injection, request log): it lets the conformance suite inject
429, 503 and hangs in front of the real server, records request bodies, and
can present the server as PowerDNS 5.1 by answering EXTEND and PRUNE the way
5.1 does, on top of 4.x's REPLACE.
"""
import glob
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
import zptest  # noqa: E402
import fakebase  # noqa: E402


def schema_path():
    """The gsqlite3 schema shipped by the Debian package pdns-backend-sqlite3."""
    try:
        out = subprocess.run(["dpkg", "-L", "pdns-backend-sqlite3"], capture_output=True,
                             text=True).stdout.split()
    except OSError:
        out = []
    found = [p for p in out if p.endswith("/schema.sqlite3.sql") and "/usr/share/" in p]
    found += glob.glob("/usr/share/*/schema/schema.sqlite3.sql")
    for p in found:
        if os.path.exists(p):
            return p
    raise RuntimeError("the gsqlite3 schema was not found: install pdns-backend-sqlite3")


def free_tcp_port():
    return zptest.free_port()


class Pdns(zptest.LocalServer):
    """pdns_server on 127.0.0.1 with gsqlite3; zones: names created at start (Native)."""

    def __init__(self, zones=("example.test",), api=True, db=None, cache_ttl=None,
                 extra_conf=()):
        self.host = "127.0.0.1"
        self.dir = tempfile.mkdtemp(prefix="zp-pdns-")
        self.port = zptest.free_port()
        self.api_port = free_tcp_port() if api else None
        self.api_key = "pdns-" + secrets.token_hex(16)
        self.db = db or os.path.join(self.dir, "pdns.sqlite3")
        self.own_db = db is None
        self.zones = list(zones)
        self.cache_ttl = cache_ttl
        self.extra_conf = list(extra_conf)  # more pdns.conf lines, e.g. "dnsupdate=yes"
        self.proc = None
        self.replicas = []

    # --- lifecycle ---
    def _conf(self):
        conf = ["launch=gsqlite3",
                "gsqlite3-database=%s" % self.db,
                "gsqlite3-pragma-journal-mode=WAL",
                "local-address=%s" % self.host,
                "local-port=%d" % self.port,
                "socket-dir=%s" % self.dir,
                "daemon=no",
                "guardian=no",
                "disable-syslog=yes",
                "log-timestamp=no",
                "loglevel=5",
                "security-poll-suffix=",
                "receiver-threads=1",
                "distributor-threads=1",
                "default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 60",
                "default-ttl=60"]
        if self.api_port:
            conf += ["webserver=yes",
                     "webserver-address=%s" % self.host,
                     "webserver-port=%d" % self.api_port,
                     "webserver-allow-from=127.0.0.0/8",
                     "api=yes",
                     "api-key=%s" % self.api_key]
        else:
            conf += ["webserver=no", "api=no"]
        if self.cache_ttl is not None:
            conf += ["cache-ttl=%d" % self.cache_ttl,
                     "negquery-cache-ttl=%d" % self.cache_ttl,
                     "query-cache-ttl=%d" % self.cache_ttl]
        conf += self.extra_conf
        return "\n".join(conf) + "\n"

    def start(self):
        if self.own_db:
            with open(schema_path()) as f, sqlite3.connect(self.db) as c:
                c.executescript(f.read())
        with open(os.path.join(self.dir, "pdns.conf"), "w") as f:
            f.write(self._conf())
        os.chmod(os.path.join(self.dir, "pdns.conf"), 0o600)
        with open(os.path.join(self.dir, "pdns.log"), "w") as log:
            self.proc = subprocess.Popen(["pdns_server", "--config-dir=%s" % self.dir],
                                         stdout=log, stderr=subprocess.STDOUT)
        try:
            zptest.wait_for(lambda: self.proc.poll() is None and
                            zptest.tcp_open(self.host, self.port),
                            what="pdns_server DNS on %s" % self.addr())
            if self.api_port:
                zptest.wait_for(lambda: self.api("GET", "/servers/localhost")[0] == 200,
                                what="pdns_server API on port %d" % self.api_port)
                for z in self.zones:
                    self.create_zone(z)
        except Exception:
            self.stop()
            raise RuntimeError("pdns_server did not start:\n" + self.log())
        return self

    def replica(self, cache_ttl=None):
        """A second pdns_server on the same database, DNS only."""
        r = Pdns(zones=(), api=False, db=self.db, cache_ttl=cache_ttl)
        self.replicas.append(r)
        return r.start()

    def log(self):
        try:
            with open(os.path.join(self.dir, "pdns.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        for r in self.replicas:
            r.cleanup()
        self.replicas = []
        super().stop()

    # --- the HTTP API, directly ---
    @property
    def endpoint(self):
        return "http://%s:%d" % (self.host, self.api_port)

    def api(self, method, path, body=None, key=None):
        """(status, parsed JSON or text) for /api/v1<path>."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + "/api/v1" + path, data=data, method=method,
                                     headers={"X-API-Key": key or self.api_key,
                                              "Accept": "application/json",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def create_zone(self, name, kind="Native", masters=None):
        name = name.rstrip(".") + "."
        body = {"name": name, "kind": kind, "nameservers": [] if kind == "Slave" else
                ["ns1." + name]}
        if masters:
            body["masters"] = masters
        st, out = self.api("POST", "/servers/localhost/zones", body)
        if st != 201:
            raise RuntimeError("cannot create zone %s: %s %s" % (name, st, out))
        if kind != "Slave":
            self.set_rrset("ns1." + name, "A", 60, [self.host], zone=name)
        return out

    def add_tsig_key(self, name, secret, algorithm="hmac-sha256"):
        """A TSIG key in the server's database (what `pdnsutil import-tsig-key` does)."""
        st, out = self.api("POST", "/servers/localhost/tsigkeys",
                           {"name": name, "algorithm": algorithm, "key": secret})
        if st != 201:
            raise RuntimeError("cannot add TSIG key %s: %s" % (name, st))
        return out

    def set_metadata(self, zone, kind, values):
        """Sets one kind of zone metadata (TSIG-ALLOW-DNSUPDATE, ALLOW-DNSUPDATE-FROM...)."""
        zone = zone.rstrip(".") + "."
        st, out = self.api("PUT", "/servers/localhost/zones/%s/metadata/%s" % (zone, kind),
                           {"kind": kind, "metadata": list(values)})
        if st != 200:
            raise RuntimeError("cannot set %s of %s: %s %s" % (kind, zone, st, out))
        return out

    def patch(self, zone, rrsets):
        zone = zone.rstrip(".") + "."
        st, out = self.api("PATCH", "/servers/localhost/zones/" + zone, {"rrsets": rrsets})
        if st != 204:
            raise RuntimeError("PATCH %s failed: %s %s" % (zone, st, out))

    def set_rrset(self, name, rtype, ttl, contents, zone="example.test."):
        """REPLACE the RRset name/type with contents (presentation form, TXT quoted)."""
        self.patch(zone, [{"name": name, "type": rtype, "ttl": ttl, "changetype": "REPLACE",
                           "records": [{"content": c, "disabled": False} for c in contents]}])

    def delete_rrset(self, name, rtype, zone="example.test."):
        self.patch(zone, [{"name": name, "type": rtype, "changetype": "DELETE"}])

    def zone(self, name="example.test."):
        st, out = self.api("GET", "/servers/localhost/zones/" + name.rstrip(".") + ".")
        if st != 200:
            raise RuntimeError("GET zone %s: %s %s" % (name, st, out))
        return out

    def rrset(self, name, rtype="TXT", zone="example.test."):
        for rr in self.zone(zone)["rrsets"]:
            if rr["name"].lower() == name.lower() and rr["type"] == rtype:
                return rr
        return None

    def snapshot(self, zone="example.test."):
        """Every RRset of the zone (SOA without its serial), sorted and comparable."""
        out = []
        for rr in self.zone(zone)["rrsets"]:
            recs = []
            for r in rr["records"]:
                c = r["content"]
                if rr["type"] == "SOA":
                    f = c.split()
                    c = " ".join(f[:2] + f[3:])
                recs.append((c, r["disabled"]))
            out.append((rr["name"], rr["type"], rr["ttl"], tuple(sorted(recs)),
                        tuple(sorted((c["content"], c["account"]) for c in rr["comments"]))))
        return sorted(out)

    def txt_values(self, fqdn, zone="example.test."):
        rr = self.rrset(fqdn, "TXT", zone)
        return [fakebase.unquote_txt(r["content"]) for r in rr["records"]] if rr else []


class PdnsProxy(fakebase.FakeServer):
    """HTTPS in front of a Pdns's API, with faults, a body log and optional 5.1 behaviour."""

    name = "powerdns"

    def __init__(self, pki_dir, pdns, version=None):
        super().__init__(pki_dir, named=None)
        self.pdns = pdns
        self.version = version   # "5.1.0": report it and answer EXTEND/PRUNE as 5.1 does
        self.bodies = []         # (method, path, parsed JSON body) of every request
        self.patch_faults = []   # (status, body) answered to the next PATCHes instead

    def inject_patch(self, status, body):
        """The next PATCH is not forwarded: it answers status with body (PowerDNS's shape)."""
        with self.lock:
            self.patch_faults.append((status, body))

    def error_body(self, status):
        return {"error": "injected %d" % status}

    def _forward(self, method, path, query, body, key):
        url = self.pdns.endpoint + urllib.parse.quote(path, safe="/=.:_-")
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        headers = {"Accept": "application/json"}
        if key is not None:
            headers["X-API-Key"] = key
        if body:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=body or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type")

    def route(self, req):
        try:
            parsed = json.loads(req.body) if req.body else None
        except ValueError:
            parsed = req.body
        self.bodies.append((req.method, req.path, parsed))
        key = req.headers.get("X-API-Key")
        if req.method == "PATCH" and self.patch_faults:
            return fakebase.Reply(*self.patch_faults.pop(0))
        if self.version and req.method == "PATCH" and isinstance(parsed, dict):
            reply = self._patch_51(req, parsed, key)
            if reply:
                return reply
        status, body, ctype = self._forward(req.method, req.path, req.query, req.body, key)
        if self.version and status == 200 and req.method == "GET" and \
                req.path.rstrip("/").count("/") == 4 and req.path.startswith("/api/v1/servers/"):
            doc = json.loads(body)
            doc["version"] = self.version
            body = json.dumps(doc).encode()
        return fakebase.Reply(status, body, content_type=ctype)

    def _patch_51(self, req, doc, key):
        """EXTEND/PRUNE as PowerDNS 5.1 applies them (ws-auth.cc), via 4.x REPLACE/DELETE."""
        rrsets = doc.get("rrsets") or []
        if not any(str(r.get("changetype", "")).upper() in ("EXTEND", "PRUNE") for r in rrsets):
            return None
        zone = req.path.rsplit("/", 1)[-1]
        st, z = self.pdns.api("GET", "/servers/localhost/zones/" + zone, key=key)
        if st != 200:
            return fakebase.Reply(st, z if isinstance(z, (dict, list)) else str(z))
        out = []
        for rr in rrsets:
            ct = str(rr.get("changetype", "")).upper()
            if ct not in ("EXTEND", "PRUNE"):
                out.append(rr)
                continue
            if not isinstance(rr.get("records"), list):
                return fakebase.Reply(422, {"error": "No record provided for PRUNE or EXTEND "
                                                     "operation"})
            if not isinstance(rr.get("ttl"), int):
                return fakebase.Reply(422, {"error": "Key 'ttl' not present or not a Number"})
            if len(rr["records"]) != 1:
                return fakebase.Reply(422, {"error": "Exactly one record should be provided "
                                                     "for PRUNE or EXTEND operation"})
            content = rr["records"][0]["content"]
            cur = next((x for x in z["rrsets"] if x["name"] == rr["name"] and
                        x["type"] == rr["type"]), None)
            recs = [dict(r) for r in cur["records"]] if cur else []
            seen = any(r["content"] == content for r in recs)
            if ct == "EXTEND" and not seen:
                if cur and cur["ttl"] != rr["ttl"]:
                    return fakebase.Reply(422, {"error": "RRset %s IN %s: Conflicting TTLs"
                                                         % (rr["name"], rr["type"])})
                recs.append({"content": content, "disabled": False})
            elif ct == "PRUNE" and seen:
                recs = [r for r in recs if r["content"] != content]
            else:
                continue
            if recs:
                out.append({"name": rr["name"], "type": rr["type"], "ttl": rr["ttl"],
                            "changetype": "REPLACE", "records": recs})
            else:
                out.append({"name": rr["name"], "type": rr["type"], "changetype": "DELETE"})
        if not out:
            return fakebase.Reply(204, b"", content_type=None)
        st, res = self.pdns.api("PATCH", "/servers/localhost/zones/" + zone, {"rrsets": out},
                                key=key)
        if st == 204:
            return fakebase.Reply(204, b"", content_type=None)
        return fakebase.Reply(st, res if isinstance(res, (dict, list)) else str(res))

    def patches(self):
        """The rrsets of every PATCH sent, in order."""
        return [b["rrsets"] for m, p, b in self.bodies if m == "PATCH" and isinstance(b, dict)]

    # --- what the conformance suite asserts on: the real server's own state ---
    def snapshot(self):
        return self.pdns.snapshot()

    def txt_values(self, fqdn):
        return self.pdns.txt_values(fqdn)


class PdnsProxy50(PdnsProxy):
    """A PdnsProxy that answers a read of one name as PowerDNS 5.0 does when asked with
    include_disabled=true: disabled records shown (4.x leaves them out), so the 5.x read path
    runs against the real 4.x server. pad_zone (bytes) pads every read of a whole zone, for
    a zone too large to read whole."""

    def __init__(self, pki_dir, pdns, version="5.1.0", pad_zone=0):
        super().__init__(pki_dir, pdns, version=version)
        self.pad_zone = pad_zone

    def route(self, req):
        zone_read = (req.method == "GET" and req.path.startswith("/api/v1/servers/") and
                     "/zones/" in req.path and req.path.rstrip("/").count("/") == 6)
        q = {k: v[-1] for k, v in req.query.items()}
        if zone_read and "rrset_name" in q and q.get("include_disabled") == "true":
            self.bodies.append((req.method, req.path, None))
            st, doc = self.pdns.api("GET", req.path[len("/api/v1"):],
                                    key=req.headers.get("X-API-Key"))
            if st == 200:
                name = q["rrset_name"].lower()
                doc["rrsets"] = [rr for rr in doc["rrsets"] if rr["name"].lower() == name and
                                 q.get("rrset_type", rr["type"]) == rr["type"]]
            return fakebase.Reply(st, doc)
        if zone_read and self.pad_zone and "rrset_name" not in q:
            self.bodies.append((req.method, req.path, None))
            st, doc = self.pdns.api("GET", req.path[len("/api/v1"):],
                                    key=req.headers.get("X-API-Key"))
            if st == 200:
                doc["padding"] = "x" * self.pad_zone
            return fakebase.Reply(st, doc)
        return super().route(req)
