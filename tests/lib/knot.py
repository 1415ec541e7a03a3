"""knot — a real Knot DNS server (knotd) on loopback, for tests.

Knot starts knotd in a temporary directory (its own configuration, zone files,
journal, control socket and log), authoritative for the zones given, on a free
loopback port claimed through zptest.free_port. It offers what zptest.Named
offers (addr, dig, txt, records, start, stop, cleanup, a context manager), so
a test can drive either server the same way.

    Knot({"example.test": ["_acme-challenge 60 IN TXT \"x\""]},
         keys={"other-key": ("hmac-sha256", SECRET)},
         acls=[{"id": "other", "key": "other-key", "action": "update",
                "update-type": ["TXT"]}]).start()

keys are added to acme-key (hmac-sha256, zptest.TSIG_SECRET); acls replace
the default one, which lets acme-key update TXT anywhere in every zone. Every
zone lists every acl: a key that appears in none is known to the server and
allowed nothing. Updates go to the journal only (zonefile-sync: -1), so the
zone files stay as written.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zptest  # noqa: E402

_die_with_parent = zptest.die_with_parent


def _yaml_value(v):
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(str(x) for x in v)
    return str(v)


class Knot(zptest.LocalServer):
    """knotd, authoritative for zones ({"name": ["relative RR", ...]}), on host:port."""

    def __init__(self, zones, host="127.0.0.1", port=None, keys=None, acls=None):
        self.host = host
        self.port = port or zptest.free_port(host)
        self.dir = tempfile.mkdtemp(prefix="zp-knot-")
        self.zones = zones
        self.keys = {zptest.TSIG_NAME: ("hmac-sha256", zptest.TSIG_SECRET)}
        self.keys.update(keys or {})
        self.acls = acls if acls is not None else [
            {"id": "acme-update", "key": zptest.TSIG_NAME, "action": "update",
             "update-type": ["TXT"]}]
        self.proc = None
        for zone, records in zones.items():
            self._write_zone(zone, records)
        with open(self._path("knot.conf"), "w") as f:
            f.write(self._conf())
        os.chmod(self._path("knot.conf"), 0o600)

    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _conf(self):
        lines = ["server:",
                 '  rundir: "%s"' % self.dir,
                 '  pidfile: "%s"' % self._path("knot.pid"),
                 "  listen: %s@%d" % (self.host, self.port),
                 "control:",
                 '  listen: "%s"' % self._path("knot.sock"),
                 "log:",
                 "  - target: stderr",
                 "    any: debug",   # debug: the ACL's verdict on each update
                 "database:",
                 '  storage: "%s"' % self.dir,
                 "key:"]
        for name, (alg, secret) in self.keys.items():
            lines += ["  - id: %s" % name, "    algorithm: %s" % alg, "    secret: %s" % secret]
        if self.acls:
            lines.append("acl:")
            for acl in self.acls:
                lines.append("  - id: %s" % acl["id"])
                lines += ["    %s: %s" % (k, _yaml_value(v)) for k, v in acl.items() if k != "id"]
        lines.append("zone:")
        for zone in self.zones:
            lines += ["  - domain: %s." % zone,
                      '    file: "%s"' % self._path("%s.zone" % zone),
                      "    zonefile-sync: -1",
                      "    zonefile-load: difference-no-serial",
                      "    journal-content: all"]
            if self.acls:
                lines.append("    acl: [%s]" % ", ".join(a["id"] for a in self.acls))
        return "\n".join(lines) + "\n"

    def _write_zone(self, zone, records):
        lines = ["$ORIGIN %s." % zone, "$TTL 60",
                 "@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 86400 60" % (zone, zone),
                 "@ IN NS ns1.%s." % zone,
                 "ns1 IN A %s" % self.host]
        lines.extend(records)
        with open(self._path("%s.zone" % zone), "w") as f:
            f.write("\n".join(lines) + "\n")

    # ---- lifecycle ----------------------------------------------------------------

    def start(self):
        with open(self._path("knot.log"), "w") as log:
            self.proc = subprocess.Popen(["knotd", "-c", self._path("knot.conf")], cwd=self.dir,
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            zptest.wait_for(lambda: self.proc.poll() is None and
                            zptest.tcp_open(self.host, self.port),
                            what="knotd on %s" % self.addr())
            for zone in self.zones:
                zptest.wait_for(lambda: "status: NOERROR" in self.dig(zone + ".", "SOA",
                                                                      full=True),
                                what="zone %s loaded by knotd" % zone)
        except Exception:
            self.stop()
            raise RuntimeError("knotd did not start:\n" + self.log())
        return self

    def log(self):
        try:
            with open(self._path("knot.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

