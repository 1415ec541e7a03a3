#!/usr/bin/env bash
# demo.sh — from a fresh Debian machine to a certificate for example.test and
# *.example.test, issued by a local ACME CA (pebble) through zoneproof.
#
#   1. installs the Debian packages (scripts/setup.sh)
#   2. builds zoneproof (Release) in build/ (ZP_BUILD_DIR overrides)
#   3. starts BIND named, `zoneproof serve` and pebble on loopback, in
#      temporary directories, and has lego order the certificate; lego's
#      DNS-01 hook calls zoneproof over mutual TLS the way cert-manager does
#   4. prints the certificate and where it is, stops everything
#
# Nothing leaves the machine: every server listens on 127.0.0.1 only.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${ZP_BUILD_DIR:-build}

step() {
    printf '\n==> %s\n' "$*"
}

buildlog=$(mktemp /tmp/zoneproof-build.XXXXXX)
trap 'rm -f "$buildlog"' EXIT

run_logged() {
    if ! "$@" >>"$buildlog" 2>&1; then
        printf 'demo: failed: %s\n---- last lines of its output ----\n' "$*" >&2
        tail -n 40 "$buildlog" >&2
        exit 1
    fi
}

step "Installing build and test dependencies (scripts/setup.sh)"
scripts/setup.sh

step "Building zoneproof (Release) in $build/"
run_logged cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
run_logged cmake --build "$build" -j"$(nproc)"
zp="$build/cmd/zoneproof"
[ -x "$zp" ] || { printf 'demo: no binary at %s after the build\n' "$zp" >&2; exit 1; }
printf 'built %s\n' "$zp"

out=$(mktemp -d /tmp/zoneproof-demo.XXXXXX)
step "Issuing a certificate for example.test and *.example.test through zoneproof"
status=0
python3 tests/e2e/demo.py --zoneproof "$zp" --out "$out" || status=$?
if [ "$status" -ne 0 ]; then
    printf '\ndemo: FAILED (exit status %d); lego state kept in %s\n' "$status" "$out" >&2
    exit 1
fi
printf '\ndemo: OK. Certificate, key and chain: %s/certificates/\n' "$out"
