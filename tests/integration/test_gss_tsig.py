"""GSS-TSIG (RFC 3645) in the rfc2136 provider, against a real MIT Kerberos KDC with BIND
(tkey-gssapi-keytab) and a real Samba AD domain controller with its internal DNS (issue #17).

Both labs run on loopback with a private realm (tests/lib/krb.py, tests/lib/sambadc.py); no
system file is read or written: zoneproof gets the KDC from kerberos.kdc and its tickets into a
memory cache.

On both: cert-manager's conformance (apex + wildcard values at one name, an idempotent Present,
an exact CleanUp, a foreign value kept), and 100 Presents through `zoneproof serve` on one
context (one TKEY: counted in zoneproof's log and, for BIND, in the server's). Then each failure
a user can cause, with its sentence and nothing written: the KDC unreachable, a clock skew (the
KDC runs under libfaketime), a keytab without the principal, a stale keytab (the account's key
changed), an unknown server principal, a DNS server whose own keytab is stale (TKEY refused), a
principal outside the update policy (BIND) and the ownership trap (AD: another account created
the name). A server that forgets its contexts (BIND restarted) gets one renewal, and the update
goes through. Renewal by lifetime is driven on a manual clock in unit.providers.test_gss.
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import krb  # noqa: E402
import pki  # noqa: E402
import sambadc  # noqa: E402
import zptest  # noqa: E402
from test_http import HTTPBase, Server, payload  # noqa: E402

FOREIGN = "kept-by-someone-else"
NS = "cert-manager"  # a ClusterIssuer's: an instance without a namespaces list serves it
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def config(path, ns, zone, principal, keytab, kdc, wait=None, budget=None, **krb_opts):
    """A configuration with one rfc2136 instance "gss" signing with gss-tsig; kdc: one
    host:port or a list; budget: Present's time (propagation.timeout)."""
    lines = ["propagation:"]
    if wait:
        lines += ["  mode: wait", "  timeout: %s" % (budget or "20s"),
                  '  nameservers: ["%s"]' % wait]
    else:
        lines += ["  mode: skip"] + (["  timeout: %s" % budget] if budget else [])
    lines += ["providers:", "  - name: gss", "    type: rfc2136",
              '    dnsZones: ["%s"]' % zone, '    nameserver: "%s"' % ns,
              "    tsigAlgorithm: gss-tsig", "    kerberos:",
              "      principal: %s" % principal, "      keytabFile: %s" % keytab]
    if kdc:
        lines.append("      kdc: %s" % json.dumps([kdc] if isinstance(kdc, str) else kdc))
    lines += ["      %s: %s" % kv for kv in krb_opts.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class SplitDns:
    """One address in front of two DNS servers, as a load balancer can be: TKEY queries go to
    one, every other message (the updates) to the other. UDP and TCP."""

    def __init__(self, tkey_to, rest_to):
        self.backends = (tkey_to, rest_to)
        self.port = zptest.free_port()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        self.stopped = False
        for fn in (self._udp_loop, self._tcp_loop):
            threading.Thread(target=fn, daemon=True).start()

    def addr(self):
        return "127.0.0.1:%d" % self.port

    def _backend(self, msg):
        """(host, port) for a message: the first backend for a TKEY question (type 249)."""
        off = 12
        while off < len(msg) and msg[off] != 0:
            off += msg[off] + 1
        tkey = len(msg) >= off + 3 and msg[4:6] != b"\0\0" and msg[off + 1:off + 3] == b"\0\xf9"
        host, port = self.backends[0 if tkey else 1].rsplit(":", 1)
        return host, int(port)

    def _udp_loop(self):
        while not self.stopped:
            try:
                msg, peer = self.udp.recvfrom(65535)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(5)
                    s.sendto(msg, self._backend(msg))
                    self.udp.sendto(s.recv(65535), peer)
            except OSError:
                continue

    def _tcp_loop(self):
        while not self.stopped:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(c,), daemon=True).start()

    @staticmethod
    def _read(s, n):
        b = b""
        while len(b) < n:
            k = s.recv(n - len(b))
            if not k:
                raise OSError("closed")
            b += k
        return b

    def _tcp_conn(self, c):
        with c:
            try:
                c.settimeout(10)
                while True:
                    msg = self._read(c, struct.unpack("!H", self._read(c, 2))[0])
                    with socket.create_connection(self._backend(msg), timeout=10) as s:
                        s.sendall(struct.pack("!H", len(msg)) + msg)
                        reply = self._read(s, struct.unpack("!H", self._read(s, 2))[0])
                    c.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    def stop(self):
        self.stopped = True
        self.udp.close()
        self.tcp.close()


class GssCommon:
    """What both servers get. A subclass sets cls.tmp, cls.name, cls.cfg, cls.server (with
    txt()), cls.ns (host:port) and cls.zone."""

    @classmethod
    def config(cls, name, principal=None, keytab=None, kdc=None, wait=None, budget=None,
               **opts):
        """A configuration file like the class's, with the given differences (kdc=False:
        no kerberos.kdc)."""
        return config(os.path.join(cls.tmp, name + ".yaml"), cls.ns, cls.zone,
                      principal or cls.principal, keytab or cls.keytab,
                      cls.kdc if kdc is None else kdc,
                      wait=wait, budget=budget, **opts)

    def zp(self, action, value, cfg=None, fqdn=None):
        # --zone: no zone discovery through the machine's resolver (loopback only).
        return zptest.run_zp([action, "--config", cfg or self.cfg, "--fqdn", fqdn or self.name,
                              "--zone", self.zone, "--key", value, "--log-level", "info"])

    def ok(self, action, value, cfg=None):
        r = self.zp(action, value, cfg)
        self.assertEqual(r.returncode, 0, "zoneproof %s failed:\n%s" % (action, r.stderr))
        return r

    def fails(self, cfg, sentence, kind=None):
        """Present fails with sentence (its stable part) as the one-line reason; nothing is
        written."""
        before = self.server.txt(self.name)
        r = self.zp("present", "must-not-land", cfg)
        self.assertEqual(r.returncode, 1, r.stderr)
        last = r.stderr.strip().splitlines()[-1]
        self.assertIn(sentence, last)
        self.assertEqual(self.server.txt(self.name), before, "a failed Present wrote")
        return last

    def test_conformance(self):
        apex, wild = zptest.acme_key("gss-apex"), zptest.acme_key("gss-wild")
        self.ok("present", apex)
        self.ok("present", wild)
        self.ok("present", apex)  # idempotent: still one of each
        self.assertEqual(self.server.txt(self.name), sorted([FOREIGN, apex, wild]))
        self.ok("cleanup", apex)
        self.assertEqual(self.server.txt(self.name), sorted([FOREIGN, wild]))
        self.ok("cleanup", apex)  # twice: nothing to do, no error
        self.ok("cleanup", wild)
        self.assertEqual(self.server.txt(self.name), [FOREIGN])

    def test_present_waits_until_served(self):
        cfg = self.config("wait", wait=self.ns)
        v = zptest.acme_key("gss-wait")
        r = self.ok("present", v, cfg)
        self.assertIn(v, self.server.txt(self.name))
        self.assertIn('"msg":"gss-tsig context"', r.stderr)
        self.ok("cleanup", v, cfg)

    def test_hundred_presents_one_context(self):
        """Through serve, as cert-manager calls it: one TKEY for 100 Presents and their
        CleanUps."""
        tkeys = self.server_tkeys()
        srv = Server(self.tmp, self.pki, self.cfg, name="serve-%s" % type(self).__name__)
        try:
            # Each value cleaned up before the next: BIND 9.18 caps an RRset at 100 records.
            conn = self.connect(srv)
            for i in range(100):
                v = zptest.acme_key("gss-%d" % i)
                for action in ("Present", "CleanUp"):
                    status, _, data = self.post(
                        srv, payload(action, self.name, v, zone=self.zone + ".",
                                     uid="%s%d" % (action, i), namespace=NS), conn=conn)
                    self.assertIn(status, (200, 201))
                    self.assertTrue(self.check_payload(data)["response"]["success"], data)
                    if i % 25 == 0:
                        self.assertEqual(v in self.server.txt(self.name), action == "Present")
            conn.close()
            self.assertEqual(self.server.txt(self.name), [FOREIGN])
        finally:
            srv.stop()
        self.assertEqual(srv.output().count('"msg":"gss-tsig context"'), 1, srv.output()[-3000:])
        if tkeys is not None:
            self.assertEqual(self.server_tkeys() - tkeys, 1)

    def server_tkeys(self):
        return None

    def doctor_credentials(self, cfg):
        """doctor's credentials check (the server itself as resolver: it answers for the zone)."""
        with open(cfg) as f:
            text = f.read().replace("propagation:\n", 'propagation:\n  resolvers: ["%s"]\n'
                                    % self.ns, 1)
        path = cfg + ".doctor.yaml"
        with open(path, "w") as f:
            f.write(text)
        r = zptest.run_zp(["doctor", "--json", "--config", path, self.zone])
        checks = json.loads(r.stdout)["names"][0]["checks"]
        return [c for c in checks if c["check"] == "credentials"][0]

    def test_doctor_proves_the_credential_without_writing(self):
        before = self.server.txt(self.name)
        c = self.doctor_credentials(self.cfg)
        self.assertEqual(c["verdict"], "ok", c)
        self.assertIn("accepts %s for updates of zone %s. (proven by an update whose "
                      "prerequisite fails, so nothing changed)" % (self.principal, self.zone),
                      c["cause"])
        dead = "127.0.0.1:%d" % zptest.free_port(kind=zptest.socket.SOCK_STREAM)
        c = self.doctor_credentials(self.config("doctor-deadkdc", kdc=dead))
        self.assertEqual(c["verdict"], "fail", c)
        self.assertIn("cannot reach a Kerberos KDC for realm %s" % self.realm, c["cause"])
        self.assertEqual(self.server.txt(self.name), before)

    # Failures every server shares: they end before the DNS server is asked.

    def test_kdc_unreachable(self):
        dead = "127.0.0.1:%d" % zptest.free_port(kind=zptest.socket.SOCK_STREAM)
        cfg = self.config("deadkdc", kdc=dead)
        self.fails(cfg, "cannot reach a Kerberos KDC for realm %s; check kerberos.kdc, that the "
                        "KDC (the domain controller) is up and that TCP port 88 is open from this "
                        "host" % self.realm)

    def test_unknown_server_principal(self):
        spn = "DNS/nope.%s@%s" % (self.zone, self.realm)
        cfg = self.config("spn", serverPrincipal=spn)
        self.fails(cfg, "the Kerberos KDC for realm %s knows no service principal %s, so no "
                        "ticket for the DNS server can be had; set kerberos.serverPrincipal"
                   % (self.realm, spn))
        self.assertIn("setspn -L", self.zp("present", "x", cfg).stderr)

    def test_keytab_without_the_principal(self):
        cfg = self.config("wrongkt", keytab=self.other_keytab)
        r = zptest.run_zp(["check-config", "--config", cfg])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("kerberos.keytabFile %s holds no key for %s; export one for that principal"
                      % (self.other_keytab, self.principal), r.stderr)

    def test_check_config_names_the_setting(self):
        bad = {"noprincipal": ("      keytabFile: %s\n" % self.keytab, "principal"),
               "both": ("      principal: %s\n      keytabFile: %s\n      kdc: [\"%s\"]\n"
                        "      krb5ConfigFile: /etc/hostname\n"
                        % (self.principal, self.keytab, self.kdc),
                        "kerberos.kdc and kerberos.krb5ConfigFile both name KDCs; keep one"),
               "typo": ("      principal: %s\n      keytabFile: %s\n      kdcs: [x]\n"
                        % (self.principal, self.keytab), "kdcs"),
               "badkdc": ("      principal: %s\n      keytabFile: %s\n"
                          "      kdc: [\"dc1.corp.example:0\"]\n" % (self.principal, self.keytab),
                          'kerberos.kdc "dc1.corp.example:0" is not host:port')}
        for name, (body, want) in bad.items():
            path = os.path.join(self.tmp, "bad-%s.yaml" % name)
            with open(path, "w") as f:
                f.write("providers:\n  - name: gss\n    type: rfc2136\n    dnsZones: [\"%s\"]\n"
                        "    nameserver: \"%s\"\n    tsigAlgorithm: gss-tsig\n    kerberos:\n%s"
                        % (self.zone, self.ns, body))
            r = zptest.run_zp(["check-config", "--config", path])
            self.assertEqual(r.returncode, 2, name)
            self.assertIn(want, r.stderr, name)
        path = os.path.join(self.tmp, "bad-hmac.yaml")
        with open(path, "w") as f:
            f.write("providers:\n  - name: gss\n    type: rfc2136\n    dnsZones: [\"%s\"]\n"
                    "    nameserver: \"%s\"\n    kerberos:\n      principal: %s\n"
                    % (self.zone, self.ns, self.principal))
        r = zptest.run_zp(["check-config", "--config", path])
        self.assertIn("kerberos is for tsigAlgorithm: gss-tsig", r.stderr)


class Bind(GssCommon, HTTPBase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-gss-bind-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.lab = krb.GssLab(records=['_acme-challenge 60 IN TXT "%s"' % FOREIGN]).start()
        cls.server = cls.lab.named
        cls.ns = cls.lab.named.addr()
        cls.zone = krb.ZONE
        cls.realm = krb.REALM
        cls.name = "_acme-challenge.%s." % krb.ZONE
        cls.principal = cls.lab.solver
        cls.keytab = cls.lab.solver_keytab
        cls.other_keytab = cls.lab.stranger_keytab
        cls.kdc = "127.0.0.1:%d" % cls.lab.kdc.port
        cls.cfg = cls.config("main")

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def server_tkeys(self):
        return self.lab.named.tkey_count()

    # The KDC exchange is zoneproof's own transport, the same for every server: tried here.

    def silent_kdc(self):
        """A KDC address whose connections are taken and never answered (a hung domain
        controller, a firewall or proxy that holds the connection)."""
        s = zptest.socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        self.addCleanup(s.close)
        return "127.0.0.1:%d" % s.getsockname()[1]

    def test_silent_kdc_ends_within_the_budget(self):
        """MIT's own transport waits about 25 s for each request to such a KDC: Present
        fails at its budget (2 s) with a sentence of its own, nothing written."""
        cfg = self.config("silentkdc", kdc=[self.silent_kdc()], budget="2s")
        t0 = time.monotonic()
        self.fails(cfg, "no Kerberos KDC for realm %s answered in time; check kerberos.kdc, "
                        "that the KDC (the domain controller) is up and answering, and that TCP "
                        "port 88 is open from this host" % self.realm)
        self.assertLess(time.monotonic() - t0, 15, "the KDC exchange outlived the budget")

    def test_silent_kdc_then_a_live_one(self):
        """The first KDC listed holds its connection; the second answers within the budget,
        and the later requests of that negotiation go to it first."""
        cfg = self.config("silentfirst", kdc=[self.silent_kdc(), self.kdc], budget="4s")
        v = zptest.acme_key("gss-silent-first")
        self.ok("present", v, cfg)
        self.assertIn(v, self.server.txt(self.name))
        self.ok("cleanup", v, cfg)
        self.assertNotIn(v, self.server.txt(self.name))

    def test_krb5_config_file(self):
        """kerberos.krb5ConfigFile instead of kdc: the KDCs of its realm are asked, under the
        same bound (a silent one there ends at the budget, and the sentence names the file's
        setting)."""
        paths = {}
        for name, kdc in (("live", self.kdc), ("silent", self.silent_kdc())):
            paths[name] = os.path.join(self.tmp, "krb5-%s.conf" % name)
            with open(paths[name], "w") as f:
                f.write(krb.client_krb5_conf(self.realm, kdc, self.zone))
        cfg = self.config("conffile", kdc=False, krb5ConfigFile=paths["live"])
        v = zptest.acme_key("gss-conffile")
        self.ok("present", v, cfg)
        self.assertIn(v, self.server.txt(self.name))
        self.ok("cleanup", v, cfg)
        cfg = self.config("conffile-silent", kdc=False, krb5ConfigFile=paths["silent"],
                          budget="2s")
        self.fails(cfg, "no Kerberos KDC for realm %s answered in time; check "
                        "kerberos.krb5ConfigFile" % self.realm)

    def test_context_refused_by_a_server_behind_the_same_address(self):
        """nameserver is one address before two servers: the negotiation reaches one, the
        update the other, which knows no such context. A context negotiated moments before is
        not negotiated again (one TKEY); the sentence names that cause; nothing is written."""
        other = krb.GssNamed(self.lab.kdc, self.lab.dns_keytab,
                             records=['_acme-challenge 60 IN TXT "%s"' % FOREIGN]).start()
        split = SplitDns(self.ns, other.addr())
        try:
            cfg = config(os.path.join(self.tmp, "split.yaml"), split.addr(), self.zone,
                         self.principal, self.keytab, self.kdc)
            tkeys = self.server_tkeys()
            self.fails(cfg, "update of TXT at %s rejected by %s: the server does not accept "
                            "the GSS-TSIG context negotiated with it for %s (TSIG error BADKEY); "
                            "check that nameserver is one server and not several behind one "
                            "address" % (self.name, split.addr(), self.principal))
            self.assertEqual(self.server_tkeys() - tkeys, 1)
            self.assertEqual(other.txt(self.name), [FOREIGN])
        finally:
            split.stop()
            other.cleanup()

    def test_principal_outside_update_policy(self):
        cfg = self.config("stranger", principal=self.lab.stranger,
                          keytab=self.lab.stranger_keytab)
        self.fails(cfg, "update refused by %s: %s may not change TXT at %s (the server accepted "
                        "its Kerberos identity: it signed its answer); allow it in the zone's "
                        "update policy (BIND: grant %s name %s TXT; in update-policy)"
                   % (self.ns, self.lab.stranger, self.name, self.lab.stranger, self.name))

    def test_clock_skew(self):
        """The KDC's clock two hours behind: it refuses the AS-REQ (KRB_AP_ERR_SKEW)."""
        kdc = self.lab.kdc
        kdc.kadmin("modprinc +requires_preauth %s" % self.principal)  # as AD requires it
        kdc.stop()
        env = dict(kdc.env(), LD_PRELOAD=FAKETIME, FAKETIME="-2h",
                   FAKETIME_DONT_FAKE_MONOTONIC="1")
        proc = subprocess.Popen(["krb5kdc", "-n", "-r", kdc.realm], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            zptest.wait_for(lambda: zptest.tcp_open(kdc.host, kdc.port), what="skewed KDC")
            self.fails(self.cfg, "the Kerberos KDC for realm %s refused %s because the clocks of "
                                 "this host and the KDC differ by more than the allowed skew (5 "
                                 "minutes by default); fix NTP on this host and on the domain "
                                 "controller" % (self.realm, self.principal))
        finally:
            proc.kill()
            proc.wait()
            kdc.start()
            kdc.kadmin("modprinc -requires_preauth %s" % self.principal)

    def test_stale_keytab(self):
        """The account's key changed after its keytab was exported (kvno bumped)."""
        name = "rekeyed"
        kdc = self.lab.kdc
        principal = kdc.add_principal(name)
        keytab = kdc.keytab(name, os.path.join(self.tmp, "rekeyed.keytab"))
        kdc.rekey(name)
        cfg = self.config("stale", principal=principal, keytab=keytab)
        self.fails(cfg, "the Kerberos KDC for realm %s does not accept the key of %s in %s: the "
                        "account's password, and so its key version (kvno), changed after the "
                        "keytab was exported; export a new keytab and update kerberos.keytabFile"
                   % (self.realm, principal, keytab))

    def test_server_keytab_stale_refuses_tkey(self):
        """BIND's own keytab holds an old key of DNS/ns1: it refuses the negotiation."""
        lab = krb.GssLab(records=['_acme-challenge 60 IN TXT "%s"' % FOREIGN]).start()
        try:
            lab.kdc.rekey(krb.DNS_SPN)
            cfg = config(os.path.join(self.tmp, "stale-server.yaml"), lab.named.addr(),
                         krb.ZONE, lab.solver, lab.solver_keytab, "127.0.0.1:%d" % lab.kdc.port)
            r = zptest.run_zp(["present", "--config", cfg, "--fqdn", self.name, "--zone",
                               krb.ZONE, "--key", "x"])
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("%s refused the GSS-TSIG key negotiation (TKEY) of %s for %s: TKEY error BADKEY; "
                          "the server must accept GSS-TSIG for this zone"
                          % (lab.named.addr(), lab.solver, lab.dns_principal), r.stderr)
            self.assertEqual(lab.named.txt(self.name), [FOREIGN])
        finally:
            lab.stop()

    def test_restarted_server_gets_one_renewal(self):
        """BIND lost its contexts (restarted without its saved keys): the next update gets
        BADKEY, renews once and goes through."""
        srv = Server(self.tmp, self.pki, self.cfg, name="serve-restart")
        try:
            conn = self.connect(srv)
            v1, v2 = zptest.acme_key("before-restart"), zptest.acme_key("after-restart")
            for uid, v in (("r1", v1),):
                _, _, data = self.post(srv, payload("Present", self.name, v, zone=krb.ZONE + ".",
                                                    uid=uid, namespace=NS), conn=conn)
                self.assertTrue(self.check_payload(data)["response"]["success"], data)
            self.lab.named.stop()
            # named saves its negotiated keys at a clean stop and loads them again: remove
            # them, as a crash or a rebuilt server would.
            for f in os.listdir(self.lab.named.dir):
                if f.endswith(".tsigkeys"):
                    os.remove(os.path.join(self.lab.named.dir, f))
            self.lab.named.start()
            _, _, data = self.post(srv, payload("Present", self.name, v2, zone=krb.ZONE + ".",
                                                uid="r2", namespace=NS), conn=conn)
            self.assertTrue(self.check_payload(data)["response"]["success"], data)
            for uid, v in (("c1", v1), ("c2", v2)):
                _, _, data = self.post(srv, payload("CleanUp", self.name, v, zone=krb.ZONE + ".",
                                                    uid=uid, namespace=NS), conn=conn)
                self.assertTrue(self.check_payload(data)["response"]["success"], data)
            conn.close()
        finally:
            srv.stop()
        out = srv.output()
        self.assertEqual(out.count('"msg":"gss-tsig context"'), 2, out[-3000:])
        self.assertIn("the server no longer accepts the GSS-TSIG context; renewing", out)
        self.assertEqual(self.lab.named.tkey_count(), 1)
        self.assertEqual(self.server.txt(self.name), [FOREIGN])


class Samba(GssCommon, HTTPBase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-gss-samba-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.dc = sambadc.SambaDC().start()
        cls.server = cls.dc
        cls.ns = cls.dc.addr()
        cls.zone = cls.dc.zone
        cls.realm = cls.dc.realm
        cls.name = "_acme-challenge.%s." % cls.dc.zone
        cls.principal = cls.dc.solver
        cls.keytab = cls.dc.solver_keytab
        cls.other_keytab = cls.dc.other_keytab
        cls.kdc = cls.dc.kdc_addr()
        cls.cfg = cls.config("main")
        # A value the same account wrote with another tool: in AD only the name's creator may
        # add to it, so a foreign value at the name is one of the account's own.
        r = cls.dc.nsupdate_gss(["update add %s 60 TXT \"%s\"" % (cls.name, FOREIGN), "send"])
        if FOREIGN not in cls.dc.txt(cls.name):
            raise RuntimeError("could not add the foreign value:\n%s%s" % (r.stdout, r.stderr))

    @classmethod
    def tearDownClass(cls):
        cls.dc.stop()
        cls.dc.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_samba_layout_is_accepted_and_logged(self):
        v = zptest.acme_key("samba-layout")
        r = self.ok("present", v)
        self.assertRegex(r.stderr, r'"msg":"rfc2136 update".*"signed_reply_ok":true,'
                                   r'"reply_tsig_check":"ok-samba-layout"')
        self.ok("cleanup", v)

    def test_ownership_trap(self):
        """Another account may not write at a name acme-solver created: AD answers SERVFAIL."""
        cfg = self.config("other", principal=self.dc.other, keytab=self.dc.other_keytab)
        self.fails(cfg, "%s answered SERVFAIL to the signed update of TXT at %s: Active "
                        "Directory and Samba answer so when %s may not write that name, most "
                        "often because another account created it"
                   % (self.ns, self.name, self.dc.other))


if __name__ == "__main__":
    unittest.main(verbosity=2)
