#!/usr/bin/env sh
# shellcheck disable=SC2034
dns_zoneproof_info='zoneproof: adds and removes TXT values through the zoneproof CLI
 zoneproof writes through the DNS provider its configuration names and answers only once every
 authoritative nameserver serves the value, so no --dnssleep is needed.
Site: docs/cli.md (Hooks)
Options:
 ZONEPROOF_CONFIG zoneproof configuration file. Optional, default /etc/zoneproof/config.yaml
 ZONEPROOF_BIN path of the zoneproof binary. Optional, default: zoneproof from PATH.
'

# Install: copy this file to ~/.acme.sh/dnsapi/ (or the dnsapi folder of acme.sh), then
#   ZONEPROOF_CONFIG=/etc/zoneproof/config.yaml acme.sh --issue --dns dns_zoneproof -d example.com
# Both settings are saved in the account configuration, for renewals.

########  Public functions #####################

# Usage: dns_zoneproof_add _acme-challenge.www.domain.com "<txt value>"
dns_zoneproof_add() {
  fulldomain=$1
  txtvalue=$2
  _zoneproof_run present "$fulldomain" "$txtvalue"
}

# Usage: dns_zoneproof_rm _acme-challenge.www.domain.com "<txt value>"
dns_zoneproof_rm() {
  fulldomain=$1
  txtvalue=$2
  _zoneproof_run cleanup "$fulldomain" "$txtvalue"
}

####################  Private functions below ##################################

# _zoneproof_run present|cleanup fulldomain txtvalue
# zoneproof prints one line: what it did, or the sentence that says why it could not.
_zoneproof_run() {
  ZONEPROOF_BIN="${ZONEPROOF_BIN:-$(_readaccountconf_mutable ZONEPROOF_BIN)}"
  ZONEPROOF_CONFIG="${ZONEPROOF_CONFIG:-$(_readaccountconf_mutable ZONEPROOF_CONFIG)}"
  if [ -n "$ZONEPROOF_BIN" ]; then
    _saveaccountconf_mutable ZONEPROOF_BIN "$ZONEPROOF_BIN"
  fi
  if [ -n "$ZONEPROOF_CONFIG" ]; then
    _saveaccountconf_mutable ZONEPROOF_CONFIG "$ZONEPROOF_CONFIG"
  fi
  _zoneproof_bin="${ZONEPROOF_BIN:-zoneproof}"
  _debug "zoneproof" "$_zoneproof_bin $1 $2"
  if [ -n "$ZONEPROOF_CONFIG" ]; then
    _zoneproof_out="$("$_zoneproof_bin" "$1" --config "$ZONEPROOF_CONFIG" "$2" "$3" 2>&1)"
  else
    _zoneproof_out="$("$_zoneproof_bin" "$1" "$2" "$3" 2>&1)"
  fi
  _zoneproof_rc=$?
  if [ "$_zoneproof_rc" -ne 0 ]; then
    _err "${_zoneproof_out:-zoneproof $1 failed with exit status $_zoneproof_rc}"
    return 1
  fi
  _info "$_zoneproof_out"
  return 0
}
