"""The static binary (deploy/static-build.sh): musl, every library compiled from
Debian's source packages, linked fully statically.

The binary is $ZP_STATIC_BIN when set; otherwise the test builds it with
deploy/static-build.sh (dependencies cached outside the repository: the first
build on a fresh machine takes several minutes, later ones seconds). With
ZP_STATIC_BIN unset and ZP_STATIC_BUILD=0 the test is skipped.

It checks that `file` calls the binary statically linked and `ldd` calls it
not dynamic; then runs it in an empty root — a folder holding only the
binary, a CA bundle, its configuration, the TSIG secret and its TLS files: no
shell, no libc, no /dev, no /etc/resolv.conf — as user 65532 like the image,
where it presents and cleans a TXT value in a real BIND named on loopback
(the root shares the network), from the command line and through `serve`,
and through a fake Cloudflare API over HTTPS trusted via the root's CA
bundle (libcurl's built-in default path), and serves /healthz over TLS. Binary size and the idle RSS of `serve` are
printed.
"""
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import fake_cloudflare  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402

GROUP = "acme.zoneproof.test"
SOLVER = "zoneproof"
ZONE = "static.test"
CF_ZONE = "cf.static.test"  # through fake_cloudflare over HTTPS: libcurl + OpenSSL
CF_TOKEN = "cfTESTstatic0000000000000000000000000000"
RESOURCE = "/apis/%s/v1alpha1/%s" % (GROUP, SOLVER)
CERT_MANAGER = {"X-Remote-User": "system:serviceaccount:cert-manager:cert-manager",
                "X-Remote-Group": "system:serviceaccounts",
                "Content-Type": "application/json"}
UID = 65532  # the image's USER
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def say(msg):
    print("static: " + msg, file=sys.stderr, flush=True)


def static_binary():
    """$ZP_STATIC_BIN, else the binary deploy/static-build.sh builds (or finds cached)."""
    path = os.environ.get("ZP_STATIC_BIN")
    if path:
        if not os.access(path, os.X_OK):
            raise RuntimeError("ZP_STATIC_BIN=%s is not an executable file" % path)
        return path
    if os.environ.get("ZP_STATIC_BUILD", "1") == "0":
        raise unittest.SkipTest("ZP_STATIC_BIN is unset and ZP_STATIC_BUILD=0: no static binary "
                                "to test (set ZP_STATIC_BIN, or unset ZP_STATIC_BUILD to build "
                                "one with deploy/static-build.sh)")
    script = os.path.join(zptest.ROOT, "deploy", "static-build.sh")
    say("building with %s (dependencies are cached; a first build takes several minutes)"
        % script)
    t0 = time.monotonic()
    # Progress (stderr) goes straight to the test output; stdout is the binary's path.
    r = subprocess.run(["bash", script], stdout=subprocess.PIPE, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError("deploy/static-build.sh failed (%d)" % r.returncode)
    path = r.stdout.strip().splitlines()[-1]
    say("built %s in %.0f s" % (path, time.monotonic() - t0))
    return path


def payload(action, fqdn, key):
    return json.dumps({
        "apiVersion": "webhook.acme.cert-manager.io/v1alpha1", "kind": "ChallengePayload",
        "request": {"uid": "5a7c1e", "action": action, "type": "dns-01",
                    "dnsName": fqdn.split(".", 1)[1].rstrip("."), "key": key,
                    "resourceNamespace": "default", "resolvedFQDN": fqdn,
                    "resolvedZone": ZONE + ".", "allowAmbientCredentials": False,
                    "config": None}}).encode()


class StaticBinary(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.bin = static_binary()
        cls.tmp = tempfile.mkdtemp(prefix="zp-static-")
        cls.named = cls.fake = None
        try:
            cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
            cls.named = zptest.Named({ZONE: [], CF_ZONE: []})
            cls.named.start()
            cls.fake = fake_cloudflare.FakeCloudflare(cls.pki, cls.named, zones=(CF_ZONE,))
            cls.fake.start()
            cls.fake.add_token(CF_TOKEN, "static", zone_read=[CF_ZONE], dns_edit=[CF_ZONE])
            cls.root = os.path.join(cls.tmp, "root")
            cls.make_root()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.fake:
            cls.fake.stop()
        if cls.named:
            cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def make_root(cls):
        """The empty root: the binary, a CA bundle, the configuration, the secrets, TLS files.

        The bundle is the host's with the fakes' CA added: the Cloudflare provider names no
        caFile, so libcurl must find it at its built-in default path."""
        root = cls.root
        os.makedirs(os.path.join(root, "etc", "ssl", "certs"))
        os.makedirs(os.path.join(root, "tls"))
        shutil.copy(cls.bin, os.path.join(root, "zoneproof"))
        bundle = os.path.join(root, "etc", "ssl", "certs", "ca-certificates.crt")
        with open(bundle, "w") as out:
            if os.path.exists(HOST_CA_BUNDLE):
                with open(HOST_CA_BUNDLE) as f:
                    out.write(f.read())
            with open(pki.path(cls.pki, "serving-ca.crt")) as f:
                out.write(f.read())
        for src, dst in (("serving.crt", "tls.crt"), ("serving.key", "tls.key"),
                         ("proxy-ca.crt", "proxy-ca.crt")):
            shutil.copy(pki.path(cls.pki, src), os.path.join(root, "tls", dst))
        zptest.write_secret(root)
        zptest.write_secret(root, "cf-token", CF_TOKEN)
        with open(os.path.join(root, "config.yaml"), "w") as f:
            f.write("\n".join([
                "groupName: %s" % GROUP,
                "propagation:",
                "  mode: wait",
                "  timeout: 20s",
                '  nameservers: ["%s"]' % cls.named.addr(),
                "providers:",
                "  - name: lab",
                "    type: rfc2136",
                '    dnsZones: ["%s"]' % ZONE,
                "    namespaces: [default]",
                '    nameserver: "%s"' % cls.named.addr(),
                "    tsigKeyName: %s" % zptest.TSIG_NAME,
                "    tsigSecretFile: /tsig-secret",
                "  - name: cf",
                "    type: cloudflare",
                '    dnsZones: ["%s"]' % CF_ZONE,
                "    namespaces: [default]",
                "    apiTokenFile: /cf-token",
                '    endpoint: "%s"' % cls.fake.url("/client/v4"),
                ""]))
        if os.geteuid() == 0:
            for dirpath, dirnames, filenames in os.walk(root):
                for name in dirnames + filenames:
                    os.chown(os.path.join(dirpath, name), UID, UID)
        listing = sorted(os.path.relpath(os.path.join(d, n), root)
                         for d, _, files in os.walk(root) for n in files)
        say("empty root %s holds: %s" % (root, ", ".join(listing)))

    def enter(self, args):
        """argv that runs /zoneproof with args inside the empty root."""
        if os.geteuid() == 0:
            pre = ["unshare", "--root", self.root, "--setgid", str(UID), "--setuid", str(UID)]
        else:
            pre = ["unshare", "--map-root-user", "--root", self.root]
        return pre + ["/zoneproof"] + list(args)

    def run_in_root(self, args, timeout=60):
        # No PATH, HOME or anything else from the host.
        return subprocess.run(self.enter(args), capture_output=True, text=True,
                              timeout=timeout, env={})

    # ---- the file itself ---------------------------------------------------------------------

    def test_file_and_ldd_call_it_static(self):
        size = os.path.getsize(self.bin)
        say("binary %s: %d bytes (%.1f MiB)" % (self.bin, size, size / 1048576.0))
        out = subprocess.run(["file", "-b", self.bin], capture_output=True, text=True,
                             check=True).stdout
        say("file: " + out.strip())
        self.assertIn("statically linked", out)
        r = subprocess.run(["ldd", self.bin], capture_output=True, text=True)
        say("ldd: " + (r.stdout + r.stderr).strip())
        self.assertIn("not a dynamic executable", r.stdout + r.stderr)
        self.assertNotEqual(r.returncode, 0)

    # ---- in the empty root -------------------------------------------------------------------

    def test_version_in_empty_root(self):
        r = self.run_in_root(["version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip(), "version printed nothing")

    def test_cli_present_and_cleanup_in_empty_root(self):
        fqdn = "_acme-challenge.cli.%s." % ZONE
        key = zptest.acme_key("static-cli")
        r = self.run_in_root(["present", "--config", "/config.yaml", "--fqdn", fqdn,
                              "--key", key])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.named.txt(fqdn), [key])
        r = self.run_in_root(["check", "--config", "/config.yaml", "--fqdn", fqdn,
                              "--key", key])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.run_in_root(["cleanup", "--config", "/config.yaml", "--fqdn", fqdn,
                              "--key", key])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.named.txt(fqdn), [])

    def test_https_provider_in_empty_root(self):
        """libcurl over TLS to a fake Cloudflare API, trusting the root's CA bundle."""
        fqdn = "_acme-challenge.%s." % CF_ZONE
        key = zptest.acme_key("static-cf")
        for action, want in (("present", [key]), ("cleanup", [])):
            r = self.run_in_root([action, "--config", "/config.yaml", "--fqdn", fqdn,
                                  "--key", key])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(self.fake.txt_values(fqdn), want)
            self.assertEqual(self.named.txt(fqdn), want)

    def test_serve_in_empty_root(self):
        port = zptest.free_port()
        log_path = os.path.join(self.tmp, "serve.log")
        args = ["serve", "--config", "/config.yaml", "--secure-port", str(port),
                "--bind-address", "127.0.0.1",
                "--tls-cert-file", "/tls/tls.crt", "--tls-private-key-file", "/tls/tls.key",
                "--requestheader-client-ca-file", "/tls/proxy-ca.crt",
                "--requestheader-allowed-names", "front-proxy-client"]
        with open(log_path, "w") as log:
            proc = subprocess.Popen(self.enter(args), stdout=log, stderr=subprocess.STDOUT,
                                    env={})

        def output():
            with open(log_path) as f:
                return f.read()[-4000:]
        try:
            try:
                zptest.wait_for(lambda: proc.poll() is None and
                                zptest.tcp_open("127.0.0.1", port), what="serve in the root")
            except TimeoutError:
                self.fail("serve did not start in the empty root:\n" + output())

            # /healthz over TLS, no client certificate (as kubelet probes it).
            ctx = ssl.create_default_context(cafile=pki.path(self.pki, "serving-ca.crt"))
            conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            self.assertEqual(resp.status, 200, body)

            # Idle: nothing in flight (the answer above is back), the event loop waiting.
            self.assertEqual(os.path.realpath("/proc/%d/root" % proc.pid),
                             os.path.realpath(self.root), "serve is not inside the root")
            if os.geteuid() == 0:
                self.assertEqual(self.status(proc.pid, "Uid").split()[0], str(UID))
            rss = int(self.status(proc.pid, "VmRSS").split()[0])
            say("idle RSS of serve in the empty root: %d kB (%.1f MiB)" % (rss, rss / 1024.0))
            self.assertGreater(rss, 0)

            # Present and CleanUp through the webhook API, as kube-apiserver forwards them.
            fqdn = "_acme-challenge.api.%s." % ZONE
            key = zptest.acme_key("static-api")
            cctx = ssl.create_default_context(cafile=pki.path(self.pki, "serving-ca.crt"))
            cctx.load_cert_chain(pki.path(self.pki, "proxy-client.crt"),
                                 pki.path(self.pki, "proxy-client.key"))
            for action, want in (("Present", [key]), ("CleanUp", [])):
                conn = http.client.HTTPSConnection("localhost", port, context=cctx, timeout=60)
                conn.request("POST", RESOURCE, body=payload(action, fqdn, key),
                             headers=CERT_MANAGER)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                self.assertTrue(200 <= resp.status < 300, (resp.status, data))
                doc = json.loads(data)
                self.assertTrue(doc["response"]["success"], data)
                self.assertEqual(self.named.txt(fqdn), want)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.assertEqual(proc.returncode, 0, "serve did not exit cleanly:\n" + output())

    @staticmethod
    def status(pid, field):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
        raise AssertionError("no %s in /proc/%d/status" % (field, pid))

if __name__ == "__main__":
    unittest.main(verbosity=2)
