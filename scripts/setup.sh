#!/usr/bin/env bash
# setup.sh — installs every build and test dependency of zoneproof from Debian's
# archive, and skips what is already there. Safe to run on every build.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config clang clang-format-14 libclang-rt-14-dev
  libcurl4-openssl-dev libcjson-dev libssl-dev libyaml-dev libldns-dev
  libcmocka-dev libevent-dev libpsl-dev libexpat1-dev libnghttp2-dev python3-h2 golang-go
  bind9 bind9-utils dnsutils ldnsutils pebble lego certbot openssl curl python3 python3-yaml
  pdns-server pdns-backend-sqlite3 sqlite3
  unbound knot knot-dnsutils iproute2
  libkrb5-dev krb5-kdc krb5-admin-server krb5-user samba samba-ad-dc samba-ad-provision faketime
  procps psmisc file
  prometheus chromium fonts-dejavu-core
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}" >&2
# Daemons we install (named, unbound, …) are started by the tests on loopback,
# never as system services: keep maintainer scripts from starting them.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
