#!/usr/bin/env python3
"""demo — a real certificate for example.test and *.example.test, issued through zoneproof.

Everything runs on loopback, in temporary directories:

    BIND named  authoritative for example.test, accepting TSIG-signed updates
    zoneproof   `zoneproof serve`, over mutual TLS, writing TXT records into named
                with RFC 2136 and answering only once named serves them
    pebble      Let's Encrypt's test ACME CA, validating DNS-01 against named
    lego        the ACME client; its exec DNS provider runs tests/e2e/lego-hook.py,
                which calls zoneproof the way cert-manager does

    python3 tests/e2e/demo.py [--zoneproof build/cmd/zoneproof] [--out DIR]

The certificate is left in DIR/certificates (a new directory under /tmp when --out
is not given); every server is stopped before the script exits. The Lab class is
also what tests/integration/test_e2e_pebble.py drives.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from zptest import TSIG_NAME, TSIG_SECRET, Named, free_port, tcp_open, wait_for, write_secret  # noqa: E402
from pki import make_pki  # noqa: E402
from pebble import Pebble  # noqa: E402

HOOK = os.path.join(HERE, "lego-hook.py")
GROUP = "acme.zoneproof.test"
ZONE = "example.test"
CHALLENGE_NAME = "_acme-challenge." + ZONE
# A TXT value already at the challenge name before any ACME order: zoneproof
# must add and remove only its own values next to it.
KEEP = "v=keep-me"


def redact(text):
    return text.replace(TSIG_SECRET, "<redacted>")


def tail(text, lines=25):
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


class Zoneproof:
    """`zoneproof serve` on loopback with a fresh PKI, writing into one named."""

    def __init__(self, binary, named, workdir):
        self.binary = binary
        self.dir = workdir
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.pki = make_pki(os.path.join(workdir, "pki"))
        self.log_path = os.path.join(workdir, "zoneproof.log")
        self.proc = None
        self._log = None
        secret = write_secret(workdir)
        self.config = os.path.join(workdir, "zoneproof.yaml")
        with open(self.config, "w") as f:
            f.write("\n".join([
                "groupName: %s" % GROUP,
                "propagation:",
                "  mode: wait",
                "  timeout: 25s",
                '  nameservers: ["%s"]' % named.addr(),
                "providers:",
                "  - name: lab",
                "    type: rfc2136",
                '    dnsZones: ["%s"]' % ZONE,
                "    namespaces: [default]   # the hook's Issuer namespace (docs/security.md)",
                '    nameserver: "%s"' % named.addr(),
                "    tsigKeyName: %s" % TSIG_NAME,
                "    tsigAlgorithm: hmac-sha256",
                "    tsigSecretFile: %s" % secret,
                "    ttl: 60",
                ""]))

    def pki_file(self, name):
        return os.path.join(self.pki, name)

    def start(self):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config,
             "--bind-address", "127.0.0.1", "--secure-port", str(self.port),
             "--tls-cert-file", self.pki_file("serving.crt"),
             "--tls-private-key-file", self.pki_file("serving.key"),
             "--requestheader-client-ca-file", self.pki_file("proxy-ca.crt"),
             "--requestheader-allowed-names", "front-proxy-client"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: self.proc.poll() is not None or tcp_open("127.0.0.1", self.port),
                     timeout=15, what="zoneproof serve on 127.0.0.1:%d" % self.port)
            if self.proc.poll() is not None:
                raise RuntimeError("exited with status %d" % self.proc.returncode)
        except Exception as e:
            self.stop()
            raise RuntimeError("zoneproof serve did not start (%s):\n%s" % (e, tail(self.log())))
        return self

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return redact(f.read())
        except OSError:
            return ""

    def events(self):
        """zoneproof's log lines that are JSON objects, parsed."""
        out = []
        for line in self.log().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    out.append(obj)
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None


class Lab:
    """named + zoneproof + pebble on loopback, and lego to drive them."""

    def __init__(self, zp_bin, say=None):
        self.zp_bin = zp_bin
        self.say = say or (lambda msg: None)
        self.dir = tempfile.mkdtemp(prefix="zp-lab-")
        self.named = self.zp = self.pebble = None

    def start(self):
        try:
            self.named = Named({ZONE: ['_acme-challenge 60 IN TXT "%s"' % KEEP]})
            self.say("starting named: authoritative for %s on %s" % (ZONE, self.named.addr()))
            self.named.start()
            self.zp = Zoneproof(self.zp_bin, self.named, os.path.join(self.dir, "zoneproof"))
            self.say("starting zoneproof serve: %s (mutual TLS, group %s)" % (self.zp.url, GROUP))
            self.zp.start()
            self.pebble = Pebble(dnsserver=self.named.addr())
            self.say("starting pebble: ACME directory %s, DNS-01 checked at %s"
                     % (self.pebble.directory_url, self.named.addr()))
            self.pebble.start()
        except BaseException:
            self.stop()
            raise
        return self

    def hook_env(self):
        return {
            "ZP_URL": self.zp.url,
            "ZP_CACERT": self.zp.pki_file("serving-ca.crt"),
            "ZP_CLIENT_CERT": self.zp.pki_file("proxy-client.crt"),
            "ZP_CLIENT_KEY": self.zp.pki_file("proxy-client.key"),
            "ZP_GROUP": GROUP,
            "ZP_ZONE": ZONE,
        }

    def lego(self, domains, outdir, hook=HOOK, stream=None, timeout=300, env_extra=None,
             command=("run",)):
        """Runs `lego run` (or command) for domains; returns (exit status, output).

        stream, when given, is called with every output line as it comes.
        """
        env = dict(os.environ)
        env.update(self.hook_env())
        env.update({
            "EXEC_PATH": hook,
            # zoneproof answers Present only once named serves the value, so
            # lego's own check passes at its first look.
            "EXEC_PROPAGATION_TIMEOUT": "60",
            "EXEC_POLLING_INTERVAL": "1",
            # The exec provider solves one challenge at a time and by default
            # sleeps 60 s between them.
            "EXEC_SEQUENCE_INTERVAL": "1",
            "LEGO_CA_CERTIFICATES": self.pebble.ca_file,
        })
        env.update(env_extra or {})
        args = ["lego", "--accept-tos", "--email", "t@example.test",
                "--server", self.pebble.directory_url,
                "--dns", "exec", "--dns.disable-cp",
                # lego still asks a recursive resolver once before it lets the
                # CA validate; named is authoritative for the zone and answers.
                "--dns.resolvers", self.named.addr(),
                "--path", outdir]
        for d in domains:
            args += ["--domains", d]
        args += list(command)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, errors="replace")
        out = []
        try:
            for line in proc.stdout:
                out.append(line)
                if stream:
                    stream(line.rstrip("\n"))
            proc.wait(timeout)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        return proc.returncode, redact("".join(out))

    def logs(self, lines=25):
        """The last lines of every server's log, for failure reports."""
        parts = []
        for name, srv, n in (("zoneproof", self.zp, lines), ("pebble", self.pebble, lines // 2),
                             ("named", self.named, lines // 2)):
            if srv is not None:
                parts.append("---- %s (last %d lines) ----\n%s" % (name, n, tail(redact(srv.log()), n)))
        return "\n".join(parts)

    def stop(self):
        """Stops every server; their logs stay readable until cleanup()."""
        for srv in (self.pebble, self.zp, self.named):
            if srv is not None:
                srv.stop()

    def cleanup(self):
        self.stop()
        for srv in (self.pebble, self.named):
            if srv is not None:
                srv.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


def _strings(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


# How zoneproof's log names each action: the solver's own words, and the
# DNS update a provider sends for it.
ACTION_WORDS = {"Present": {"present", "add"}, "CleanUp": {"cleanup", "delete", "remove"}}


def challenge_lines(events, action, value=None, fqdn=None):
    """zoneproof log lines about one action ("Present" or "CleanUp"), limited to
    lines that carry the TXT value and/or the FQDN when those are given."""
    words = ACTION_WORDS[action]
    out = []
    for ev in events:
        strings = set(_strings(ev))
        if not words & {s.lower() for s in strings}:
            continue
        if value is not None and value not in strings:
            continue
        if fqdn is not None and fqdn.rstrip(".") not in {s.rstrip(".") for s in strings}:
            continue
        out.append(ev)
    return out


def cert_files(outdir, domain):
    base = os.path.join(outdir, "certificates", domain.replace("*", "_"))
    return base + ".crt", base + ".key", base + ".issuer.crt"


def describe_cert(path):
    r = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-subject", "-issuer",
                        "-enddate", "-ext", "subjectAltName"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl cannot read %s: %s" % (path, r.stderr.strip()))
    info = {"san": []}
    lines = r.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("subject="):
            info["subject"] = line.split("=", 1)[1].strip()
        elif line.startswith("issuer="):
            info["issuer"] = line.split("=", 1)[1].strip()
        elif line.startswith("notAfter="):
            info["notAfter"] = line.split("=", 1)[1].strip()
        elif "Subject Alternative Name" in line and i + 1 < len(lines):
            info["san"] = [s.strip() for s in lines[i + 1].split(",")]
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zoneproof", default=os.environ.get("ZP_BIN") or
                    os.path.join(ROOT, "build", "cmd", "zoneproof"))
    ap.add_argument("--out", help="where lego keeps the account and the certificate")
    opts = ap.parse_args()

    def say(msg):
        print("demo: " + msg, flush=True)

    if not os.access(opts.zoneproof, os.X_OK):
        say("no zoneproof binary at %s (build it first)" % opts.zoneproof)
        return 1
    for tool in ("named", "pebble", "lego", "openssl", "curl", "dig", "nsupdate"):
        if not shutil.which(tool) and not os.access("/usr/sbin/" + tool, os.X_OK):
            say("%s is not installed (scripts/setup.sh installs it)" % tool)
            return 1
    out = opts.out or tempfile.mkdtemp(prefix="zoneproof-demo-")
    os.makedirs(out, exist_ok=True)

    # SIGTERM and SIGHUP unwind like Ctrl-C, so the servers are stopped.
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    lab = Lab(opts.zoneproof, say)
    ok = False
    try:
        lab.start()
        domains = [ZONE, "*." + ZONE]
        say("lego: ordering a certificate for %s; DNS-01 through zoneproof" % " and ".join(domains))
        status, output = lab.lego(domains, out, stream=lambda line: print("  lego | " + line, flush=True))
        if status != 0:
            say("lego failed (exit status %d):" % status)
            hook_lines = [ln for ln in output.splitlines()
                          if "zoneproof:" in ln or "lego-hook.py:" in ln]
            print("\n".join(hook_lines[-4:] + [tail(output, 5)]), flush=True)
            return 1
        crt, key, issuer = cert_files(out, ZONE)
        info = describe_cert(crt)
        left = lab.named.txt(CHALLENGE_NAME)
        answered = {a: sum(1 for line in output.splitlines()
                           if "zoneproof: %s %s.: success" % (a, CHALLENGE_NAME) in line)
                    for a in ("Present", "CleanUp")}
        say("certificate issued")
        print("  subject:  %s" % info.get("subject", "?"))
        print("  SANs:     %s" % ", ".join(info["san"]))
        print("  issuer:   %s" % info.get("issuer", "?"))
        print("  expires:  %s" % info.get("notAfter", "?"))
        print("  file:     %s" % crt)
        print("  key:      %s" % key)
        print("  chain:    %s" % issuer)
        print("  zoneproof answered %d Present and %d CleanUp calls with success"
              % (answered["Present"], answered["CleanUp"]))
        print("  %s TXT at named now: %s"
              % (CHALLENGE_NAME, ", ".join('"%s"' % v for v in left) or "(none)"))
        if left != [KEEP]:
            say("expected only the pre-existing \"%s\" to remain at %s" % (KEEP, CHALLENGE_NAME))
            return 1
        ok = True
        return 0
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Exception as e:
        say("failed: %s" % e)
        return 1
    finally:
        if not ok:
            print(lab.logs(), file=sys.stderr)
        say("stopping named, zoneproof and pebble")
        lab.cleanup()
        if ok:
            say("done")


if __name__ == "__main__":
    sys.exit(main())
