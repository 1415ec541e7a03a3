"""pki — throw-away certificates for tests, made with the openssl CLI.

make_pki(dir) writes:
  serving-ca.{crt,key}   the CA that signs zoneproof's serving certificate
  serving.{crt,key}      serving certificate for localhost / 127.0.0.1 / zoneproof.svc names
  proxy-ca.{crt,key}     the front-proxy (request-header) CA
  proxy-client.{crt,key} front-proxy client certificate, CN=front-proxy-client, clientAuth
  other-ca.{crt,key}     an unrelated CA
  other-client.{crt,key} a client certificate from the unrelated CA, CN=front-proxy-client
  wrongcn-client.{crt,key} signed by proxy-ca but CN=intruder
  serverauth-client.{crt,key} signed by proxy-ca, CN=front-proxy-client, serverAuth only
"""
import os
import subprocess


def _run(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, capture_output=True)


def _ca(d, name, cn):
    _run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", name + ".key", "-out", name + ".crt", "-days", "30", "-subj", "/CN=" + cn,
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def _leaf(d, name, ca, cn, eku, san=None):
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
        f.write("extendedKeyUsage=%s\n" % eku)
        if san:
            f.write("subjectAltName=%s\n" % san)
    _run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn], d)
    _run(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
          "-CAcreateserial", "-out", name + ".crt", "-days", "30", "-extfile", ext], d)
    os.unlink(os.path.join(d, name + ".csr"))
    os.unlink(ext)


def make_pki(d):
    os.makedirs(d, exist_ok=True)
    _ca(d, "serving-ca", "zoneproof serving CA")
    _leaf(d, "serving", "serving-ca", "zoneproof", "serverAuth",
          "DNS:localhost,DNS:zoneproof,DNS:zoneproof.zoneproof.svc,IP:127.0.0.1")
    _ca(d, "proxy-ca", "front-proxy-ca")
    _leaf(d, "proxy-client", "proxy-ca", "front-proxy-client", "clientAuth")
    _leaf(d, "wrongcn-client", "proxy-ca", "intruder", "clientAuth")
    _leaf(d, "serverauth-client", "proxy-ca", "front-proxy-client", "serverAuth")
    _ca(d, "other-ca", "some other CA")
    _leaf(d, "other-client", "other-ca", "front-proxy-client", "clientAuth")
    return d


def path(d, name):
    return os.path.join(d, name)
