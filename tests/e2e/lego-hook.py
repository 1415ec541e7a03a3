#!/usr/bin/python3 -I
"""lego-hook.py — lets lego solve DNS-01 through zoneproof, the way cert-manager does.

lego's `exec` DNS provider runs, in its default mode:
    EXEC_PATH present <fqdn> <value>
    EXEC_PATH cleanup <fqdn> <value>
with <fqdn> like "_acme-challenge.example.test.". This hook turns each call into a
cert-manager ChallengePayload, POSTs it to zoneproof over mutual TLS as the kube-apiserver
aggregator would (front-proxy client certificate and X-Remote-User/X-Remote-Group headers), and
succeeds only when zoneproof answers 201 with response.success true. Otherwise it prints
zoneproof's message on stderr and exits non-zero, which makes lego stop with that message.

One process per call, Debian's python3 (it was bash, two Pythons and curl: 107-134 ms a call;
this is 60-75 ms, most of it Python importing ssl and http.client, issue #15); once
zoneproof has hook modes of its own, lego will call the binary directly.

Settings (environment):
  ZP_URL          zoneproof's base URL, e.g. https://127.0.0.1:8443       (required)
  ZP_CACERT       CA file that verifies zoneproof's serving certificate   (required)
  ZP_CLIENT_CERT  front-proxy client certificate (CN front-proxy-client)  (required)
  ZP_CLIENT_KEY   its private key                                         (required)
  ZP_GROUP        the API group zoneproof serves, e.g. acme.zoneproof.test (required)
  ZP_ZONE         the zone to send as resolvedZone, e.g. example.test      (required)
  ZP_SOLVER       solver (resource) name; default zoneproof
  ZP_NAMESPACE    resourceNamespace; default default
  ZP_REMOTE_USER  X-Remote-User; default system:serviceaccount:cert-manager:cert-manager
  ZP_REMOTE_GROUPS comma-separated X-Remote-Group values; default system:masters
  ZP_TIMEOUT      seconds to wait for the answer; default 60
"""
import http.client
import json
import os
import ssl
import sys
import urllib.parse

PROG = os.path.basename(sys.argv[0])


def die(msg, code=1):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(code)


def main():
    if len(sys.argv) != 4:
        die("usage: %s present|cleanup <fqdn> <value>" % PROG, 2)
    op, fqdn, value = sys.argv[1:]
    action = {"present": "Present", "cleanup": "CleanUp"}.get(op)
    if action is None:
        die("unknown action %r (want present or cleanup)" % op, 2)
    env = os.environ
    for var in ("ZP_URL", "ZP_CACERT", "ZP_CLIENT_CERT", "ZP_CLIENT_KEY", "ZP_GROUP", "ZP_ZONE"):
        if not env.get(var):
            die("%s is not set" % var)
    for var in ("ZP_CACERT", "ZP_CLIENT_CERT", "ZP_CLIENT_KEY"):
        if not os.access(env[var], os.R_OK):
            die("%s: cannot read %s" % (var, env[var]))
    # cert-manager sends the identifier without the wildcard and without the trailing dot as
    # dnsName, and FQDN and zone with the trailing dot.
    name = fqdn.rstrip(".")
    if not name.startswith("_acme-challenge.") or name == "_acme-challenge.":
        die("%s is not an _acme-challenge name" % fqdn)
    payload = json.dumps({"request": {
        "uid": "", "action": action, "type": "dns-01",
        "dnsName": name[len("_acme-challenge."):], "key": value,
        "resourceNamespace": env.get("ZP_NAMESPACE") or "default", "resolvedFQDN": name + ".",
        "resolvedZone": env["ZP_ZONE"].rstrip(".") + ".", "allowAmbientCredentials": False}})
    headers = [("Content-Type", "application/json"), ("Accept", "application/json"),
               ("X-Remote-User", env.get("ZP_REMOTE_USER")
                or "system:serviceaccount:cert-manager:cert-manager")]
    headers += [("X-Remote-Group", g)
                for g in (env.get("ZP_REMOTE_GROUPS") or "system:masters").split(",") if g]
    url = urllib.parse.urlsplit(env["ZP_URL"].rstrip("/"))
    path = "%s/apis/%s/v1alpha1/%s" % (url.path, env["ZP_GROUP"], env.get("ZP_SOLVER")
                                       or "zoneproof")
    ctx = ssl.create_default_context(cafile=env["ZP_CACERT"])
    ctx.load_cert_chain(env["ZP_CLIENT_CERT"], env["ZP_CLIENT_KEY"])
    try:
        conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=ctx,
                                           timeout=float(env.get("ZP_TIMEOUT") or 60))
        conn.putrequest("POST", path)
        for k, v in headers:
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(payload)))
        conn.endheaders(payload.encode())
        resp = conn.getresponse()
        status, raw = resp.status, resp.read()
    except (OSError, http.client.HTTPException) as e:
        die("%s %s.: cannot reach zoneproof at %s://%s%s (%s)"
            % (action, name, url.scheme, url.netloc, path, e))
    try:
        doc = json.loads(raw.decode("utf-8"))
    except ValueError:
        doc = None
    r = doc.get("response") if isinstance(doc, dict) else None
    if status == 201 and isinstance(r, dict) and r.get("success") is True:
        # lego logs this output and adds its own newline.
        sys.stdout.write("zoneproof: %s %s.: success" % (action, name))
        return 0
    msg = ""
    if isinstance(r, dict) and isinstance(r.get("status"), dict):
        msg = r["status"].get("message") or ""
    elif isinstance(doc, dict) and doc.get("kind") == "Status":
        msg = doc.get("message") or ""
    if not msg:
        msg = raw.decode("utf-8", "replace").strip()[:500] or "(empty body)"
    sys.stderr.write("zoneproof: %s %s. failed (HTTP %s): %s\n" % (action, name, status, msg))
    return 1


if __name__ == "__main__":
    sys.exit(main())
