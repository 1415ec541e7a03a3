#!/usr/bin/env bash
# lego-hook.sh — lets lego solve DNS-01 through zoneproof, the way cert-manager does.
#
# lego's `exec` DNS provider runs, in its default mode:
#     EXEC_PATH present <fqdn> <value>
#     EXEC_PATH cleanup <fqdn> <value>
# with <fqdn> like "_acme-challenge.example.test.". This hook turns each call into
# a cert-manager ChallengePayload, POSTs it to zoneproof over mutual TLS as the
# kube-apiserver aggregator would (front-proxy client certificate and
# X-Remote-User/X-Remote-Group headers), and succeeds only when zoneproof answers
# 201 with response.success true. Otherwise it prints zoneproof's message on
# stderr and exits non-zero, which makes lego stop with that message.
#
# Settings (environment):
#   ZP_URL          zoneproof's base URL, e.g. https://127.0.0.1:8443       (required)
#   ZP_CACERT       CA file that verifies zoneproof's serving certificate   (required)
#   ZP_CLIENT_CERT  front-proxy client certificate (CN front-proxy-client)  (required)
#   ZP_CLIENT_KEY   its private key                                         (required)
#   ZP_GROUP        the API group zoneproof serves, e.g. acme.zoneproof.test (required)
#   ZP_ZONE         the zone to send as resolvedZone, e.g. example.test      (required)
#   ZP_SOLVER       solver (resource) name; default zoneproof
#   ZP_NAMESPACE    resourceNamespace; default default
#   ZP_REMOTE_USER  X-Remote-User; default system:serviceaccount:cert-manager:cert-manager
#   ZP_REMOTE_GROUPS comma-separated X-Remote-Group values; default system:masters
#   ZP_TIMEOUT      seconds to wait for the answer; default 60
set -euo pipefail

prog=${0##*/}
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

if [ "$#" -ne 3 ]; then
    printf 'usage: %s present|cleanup <fqdn> <value>\n' "$prog" >&2
    exit 2
fi
op=$1 fqdn=$2 value=$3

case "$op" in
present) action=Present ;;
cleanup) action=CleanUp ;;
*)
    printf '%s: unknown action %q (want present or cleanup)\n' "$prog" "$op" >&2
    exit 2
    ;;
esac

for var in ZP_URL ZP_CACERT ZP_CLIENT_CERT ZP_CLIENT_KEY ZP_GROUP ZP_ZONE; do
    [ -n "${!var:-}" ] || die "$var is not set"
done
for var in ZP_CACERT ZP_CLIENT_CERT ZP_CLIENT_KEY; do
    [ -r "${!var}" ] || die "$var: cannot read ${!var}"
done

solver=${ZP_SOLVER:-zoneproof}
namespace=${ZP_NAMESPACE:-default}
remote_user=${ZP_REMOTE_USER:-system:serviceaccount:cert-manager:cert-manager}
remote_groups=${ZP_REMOTE_GROUPS:-system:masters}
timeout=${ZP_TIMEOUT:-60}

# cert-manager sends the identifier without the wildcard and without the
# trailing dot as dnsName, and FQDN and zone with the trailing dot.
name=${fqdn%.}
case "$name" in
_acme-challenge.?*) dns_name=${name#_acme-challenge.} ;;
*) die "$fqdn is not an _acme-challenge name" ;;
esac
zone=${ZP_ZONE%.}

payload=$(python3 - "$action" "$dns_name" "$value" "$namespace" "$name." "$zone." <<'EOF'
import json, sys
action, dns_name, key, namespace, fqdn, zone = sys.argv[1:]
print(json.dumps({"request": {
    "uid": "", "action": action, "type": "dns-01", "dnsName": dns_name, "key": key,
    "resourceNamespace": namespace, "resolvedFQDN": fqdn, "resolvedZone": zone,
    "allowAmbientCredentials": False}}))
EOF
)

headers=(-H "Content-Type: application/json" -H "Accept: application/json"
         -H "X-Remote-User: $remote_user")
IFS=, read -r -a groups <<<"$remote_groups"
for g in "${groups[@]}"; do
    [ -z "$g" ] || headers+=(-H "X-Remote-Group: $g")
done

url="${ZP_URL%/}/apis/$ZP_GROUP/v1alpha1/$solver"
body=$(mktemp)
trap 'rm -f "$body"' EXIT

code=0
status=$(curl -sS --max-time "$timeout" \
    --cacert "$ZP_CACERT" --cert "$ZP_CLIENT_CERT" --key "$ZP_CLIENT_KEY" \
    "${headers[@]}" --data-binary "$payload" \
    -o "$body" -w '%{http_code}' "$url") || code=$?
if [ "$code" -ne 0 ]; then
    die "$action $name.: cannot reach zoneproof at $url (curl exit $code)"
fi

# Exit 0 on success; otherwise print why and exit 1.
python3 - "$status" "$body" "$action" "$name." <<'EOF'
import json, sys
status, path, action, fqdn = sys.argv[1:]
with open(path, "rb") as f:
    raw = f.read()
try:
    doc = json.loads(raw.decode("utf-8"))
except ValueError:
    doc = None
resp = doc.get("response") if isinstance(doc, dict) else None
if status == "201" and isinstance(resp, dict) and resp.get("success") is True:
    # lego logs this output and adds its own newline.
    sys.stdout.write("zoneproof: %s %s: success" % (action, fqdn))
    sys.exit(0)
msg = ""
if isinstance(resp, dict) and isinstance(resp.get("status"), dict):
    msg = resp["status"].get("message") or ""
elif isinstance(doc, dict) and doc.get("kind") == "Status":
    msg = doc.get("message") or ""
if not msg:
    msg = raw.decode("utf-8", "replace").strip()[:500] or "(empty body)"
sys.stderr.write("zoneproof: %s %s failed (HTTP %s): %s\n" % (action, fqdn, status, msg))
sys.exit(1)
EOF
