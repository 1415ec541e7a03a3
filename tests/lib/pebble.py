"""pebble — Let's Encrypt's test ACME server, started on loopback for tests.

    with Named({"example.test": []}) as ns, Pebble(dnsserver=ns.addr()) as ca:
        ca.directory_url   # https://127.0.0.1:<port>/dir, for lego --server
        ca.ca_file         # the CA that signed pebble's HTTPS certificate,
                           # for LEGO_CA_CERTIFICATES / curl --cacert
        ca.roots()         # the root that signs issued certificates (PEM)

Pebble's validation authority answers DNS-01 challenges by asking
`dnsserver` for the TXT records at _acme-challenge.<name>. Here that is the
authoritative named of the test: pebble's resolver sets RD, and named answers
from its own zones with AA set even with recursion off, so no recursive
resolver is needed.

Pebble runs without its random delays (PEBBLE_VA_NOSLEEP), never rejects a
good nonce (PEBBLE_WFE_NONCEREJECT=0) and never reuses a valid authorization
(PEBBLE_AUTHZREUSE=0), so every order makes the client solve every
challenge again.
"""
import json
import os
import ssl
import subprocess
import tempfile
import urllib.request

try:
    from zptest import LocalProcess, free_port, wait_for
except ImportError:  # imported as a package module
    from .zptest import LocalProcess, free_port, wait_for


def _openssl(args, cwd):
    r = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.strip()))


def make_https_cert(d, host="127.0.0.1"):
    """Writes pebble-ca.crt and pebble.{crt,key} (localhost, host) in d."""
    _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", "pebble-ca.key", "-out", "pebble-ca.crt", "-days", "30",
              "-subj", "/CN=pebble test HTTPS CA",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    with open(os.path.join(d, "pebble.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:%s\n" % host)
    _openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", "pebble.key", "-out", "pebble.csr", "-subj", "/CN=localhost"], d)
    _openssl(["x509", "-req", "-in", "pebble.csr", "-CA", "pebble-ca.crt",
              "-CAkey", "pebble-ca.key", "-CAcreateserial", "-out", "pebble.crt",
              "-days", "30", "-extfile", "pebble.ext"], d)
    for name in ("pebble.csr", "pebble.ext", "pebble-ca.key"):
        os.unlink(os.path.join(d, name))


class Pebble(LocalProcess):
    """A pebble process on host, validating DNS-01 against dnsserver."""

    def __init__(self, dnsserver, host="127.0.0.1", binary="pebble"):
        self.host = host
        self.dnsserver = dnsserver
        self.binary = binary
        self.port = free_port(host)
        self.mgmt_port = free_port(host)
        while self.mgmt_port == self.port:
            self.mgmt_port = free_port(host)
        self.dir = tempfile.mkdtemp(prefix="zp-pebble-")
        self.proc = None
        self._log = None
        make_https_cert(self.dir, host)
        self.ca_file = os.path.join(self.dir, "pebble-ca.crt")
        self.directory_url = "https://%s:%d/dir" % (host, self.port)
        self.management_url = "https://%s:%d" % (host, self.mgmt_port)
        conf = {"pebble": {
            "listenAddress": "%s:%d" % (host, self.port),
            "managementListenAddress": "%s:%d" % (host, self.mgmt_port),
            "certificate": os.path.join(self.dir, "pebble.crt"),
            "privateKey": os.path.join(self.dir, "pebble.key"),
            # Ports pebble would connect to for HTTP-01 and TLS-ALPN-01; unused
            # here, but kept off the well-known 5001/5002.
            "httpPort": free_port(host),
            "tlsPort": free_port(host),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }}
        self.config = os.path.join(self.dir, "pebble-config.json")
        with open(self.config, "w") as f:
            json.dump(conf, f, indent=2)

    def _ssl(self):
        return ssl.create_default_context(cafile=self.ca_file)

    def _get(self, url):
        with urllib.request.urlopen(url, context=self._ssl(), timeout=2) as r:
            return r.read()

    def start(self):
        env = dict(os.environ)
        env.update({"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
                    "PEBBLE_AUTHZREUSE": "0"})
        self._log = open(os.path.join(self.dir, "pebble.log"), "w")
        self.proc = subprocess.Popen(
            [self.binary, "-config", self.config, "-dnsserver", self.dnsserver],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.dir, env=env)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("pebble exited with status %d" % self.proc.returncode)
            return "newOrder" in json.loads(self._get(self.directory_url))

        try:
            wait_for(lambda: self.proc.poll() is not None or ready(), timeout=20,
                     what="pebble directory at %s" % self.directory_url)
            if self.proc.poll() is not None:
                raise RuntimeError("pebble exited with status %d" % self.proc.returncode)
        except Exception as e:
            text = self.log()
            self.stop()
            raise RuntimeError("pebble did not start (%s):\n%s" % (e, text))
        return self

    def roots(self):
        """The PEM root certificate that signs the certificates pebble issues."""
        return self._get(self.management_url + "/roots/0").decode()

    def intermediates(self):
        return self._get(self.management_url + "/intermediates/0").decode()

    def log(self, limit=4000):
        try:
            with open(os.path.join(self.dir, "pebble.log")) as f:
                return f.read()[-limit:]
        except OSError:
            return ""

    def stop(self):
        super().stop()
        if self._log:
            self._log.close()
            self._log = None
