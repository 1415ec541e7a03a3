#!/usr/bin/env bash
# static-build.sh — builds zoneproof as one fully static binary linked against musl.
#
# Every library zoneproof uses (OpenSSL, libcurl, cJSON, libyaml, ldns, libevent,
# libpsl, expat, nghttp2, MIT Kerberos' GSS-API) is compiled from Debian's own source
# package (`apt-get source`, with Debian's patches applied) by musl-gcc, and installed into a
# cache outside the repository, one prefix per package and version:
#
#   ${ZP_STATIC_CACHE:-$HOME/.cache/zoneproof/static}/<pkg>-<debian version>/
#
# A second run finds them there and only (re)builds zoneproof: seconds. A
# package is rebuilt when its newest downloadable Debian version, its build
# recipe below, the compiler or a dependency changes.
#
#   bash deploy/static-build.sh              # dependencies (cached) and zoneproof
#   bash deploy/static-build.sh --deps-only  # only the dependencies
#
# Progress goes to stderr; the path of the binary is the one line on stdout.
#
# Environment:
#   ZP_STATIC_CACHE       where built dependencies live (default ~/.cache/zoneproof/static)
#   ZP_STATIC_BUILD_DIR   zoneproof's CMake build directory (default <repo>/build-static)
#   ZP_STATIC_JOBS        parallel compile jobs (default: nproc)
#   ZP_STATIC_APT_UPDATE  1: run apt-get update even when source indexes are present
#   ZP_STATIC_KEEP_SOURCES 1: keep unpacked sources and build trees in the cache
#   ZP_STATIC_MALLOC      musl (default: musl's own allocator) or mimalloc (Debian's mimalloc,
#                         built the same way, linked in place of musl's; bench/interleaved.py
#                         --scale compares them: docs/static-build.md)
#
# What is built, with which flags, and how to check the result: docs/static-build.md.
set -euo pipefail
shopt -s inherit_errexit

# Bump when a change here must rebuild every cached package.
RECIPE_REV=1

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ZP_STATIC_CACHE:-${HOME:-/root}/.cache/zoneproof/static}
builddir=$(realpath -m "${ZP_STATIC_BUILD_DIR:-$repo/build-static}")
jobs=${ZP_STATIC_JOBS:-$(nproc 2>/dev/null || echo 2)}
deps_only=0

for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=1 ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "static-build: unknown argument \"$arg\" (try --help)" >&2; exit 2 ;;
  esac
done

log() { printf 'static-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install packages"
  SUDO=sudo
fi

t_start=$(now)

# ---- tools -----------------------------------------------------------------------------------

# autoconf/automake/libtool: Debian regenerates every autotools package (dh_autoreconf), so do
# we. meson/ninja: libpsl's build without gettext and gtk-doc. publicsuffix + python3: the list
# libpsl compiles in. file: the final check.
tools=(build-essential musl-tools musl-dev linux-libc-dev perl cmake pkg-config dpkg-dev patch
       xz-utils autoconf automake libtool meson ninja-build python3 publicsuffix file)

apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
}

ensure_tools() {
  local missing=() p
  for p in "${tools[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_update
    log "installing ${missing[*]}"
    local out
    if ! out=$($SUDO env DEBIAN_FRONTEND=noninteractive \
               apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1); then
      printf '%s\n' "$out" | tail -n 20 >&2
      die "apt-get install failed"
    fi
  fi
}

# ---- deb-src ---------------------------------------------------------------------------------

apt_source_files() {
  find /etc/apt -maxdepth 2 \( -name 'sources.list' -o -path '/etc/apt/sources.list.d/*.list' \
    -o -path '/etc/apt/sources.list.d/*.sources' \) -type f 2>/dev/null
}

have_deb_src() {
  local f
  while IFS= read -r f; do
    if grep -qE '^[[:space:]]*(Types:.*[[:space:]]deb-src([[:space:]]|$)|deb-src[[:space:]])' "$f"
    then
      return 0
    fi
  done < <(apt_source_files)
  return 1
}

# Source entries mirror the binary ones (same archive, suites and keys): Debian 12 keeps them
# in deb822 form in debian.sources; older set-ups in sources.list.
ensure_deb_src() {
  local dir=/etc/apt/sources.list.d
  if ! have_deb_src; then
    if [ -f "$dir/debian.sources" ]; then
      log "enabling source packages: $dir/debian-src.sources"
      sed -E 's/^Types:.*/Types: deb-src/' "$dir/debian.sources" |
        $SUDO tee "$dir/debian-src.sources" >/dev/null
    elif [ -f /etc/apt/sources.list ] && grep -qE '^deb[[:space:]]' /etc/apt/sources.list; then
      log "enabling source packages: $dir/debian-src.list"
      sed -nE 's/^deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list |
        $SUDO tee "$dir/debian-src.list" >/dev/null
    else
      die "no Debian archive configured in /etc/apt: cannot add source entries"
    fi
    apt_updated=0
    apt_update
  elif [ "${ZP_STATIC_APT_UPDATE:-0}" = 1 ] ||
       ! compgen -G '/var/lib/apt/lists/*_Sources*' >/dev/null; then
    apt_update
  fi
}

# ---- versions and sources --------------------------------------------------------------------

# Every version of source package $1 the indexes know, newest first.
src_versions() {
  local pkg=$1 v sorted=() i j tmp
  while IFS= read -r v; do
    [ -n "$v" ] && sorted+=("$v")
  done < <(apt-cache showsrc "$pkg" 2>/dev/null |
           awk -v p="$pkg" '/^Package: /{cur=$2} /^Version: /{if (cur==p) print $2}' | sort -u)
  for ((i = 1; i < ${#sorted[@]}; i++)); do
    for ((j = i; j > 0; j--)); do
      if dpkg --compare-versions "${sorted[j]}" gt "${sorted[j-1]}"; then
        tmp=${sorted[j]}; sorted[j]=${sorted[j-1]}; sorted[j-1]=$tmp
      else
        break
      fi
    done
  done
  [ "${#sorted[@]}" -gt 0 ] && printf '%s\n' "${sorted[@]}"
}

# Downloads and unpacks (patches applied) source package $1 version $2 into directory $3.
fetch_source() {
  local pkg=$1 ver=$2 dest=$3 tmp dir
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/zp-src.XXXXXX")
  # apt downloads as _apt when it can write the directory, else warns; let it.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown _apt "$tmp"
  fi
  if ! (cd "$tmp" && apt-get source -qq --only-source "$pkg=$ver") >"$tmp.log" 2>&1; then
    sed 's/^/    /' "$tmp.log" | grep -E 'E:|Err' | head -3 >&2 || true
    rm -rf "$tmp" "$tmp.log"
    return 1
  fi
  dir=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
  [ -n "$dir" ] || { rm -rf "$tmp" "$tmp.log"; return 1; }
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$dir" "$dest" || { rm -rf "$tmp" "$tmp.log"; return 1; }
  rm -rf "$tmp" "$tmp.log"
}

# ---- the build environment -------------------------------------------------------------------

arch=$(uname -m)
case "$arch" in
  x86_64) ossl_target=linux-x86_64 ;;
  aarch64) ossl_target=linux-aarch64 ;;
  *) ossl_target=linux-generic64 ;;
esac

# musl-gcc's include path holds musl's headers only. OpenSSL, curl and libevent include a few
# kernel headers (linux/, asm/, asm-generic/), and k8s/ uses the BSD list macros of
# <sys/queue.h> (glibc ships it, musl does not; Alpine adds the same file as a compat header).
# Point at the host's copies from a directory of links in the cache, searched after musl's
# own headers, rather than writing into the musl installation.
setup_compat_headers() {
  local multiarch inc=$cache/compat/include
  multiarch=$(gcc -print-multiarch 2>/dev/null || true)
  mkdir -p "$inc/sys"
  ln -sfn /usr/include/linux "$inc/linux"
  ln -sfn /usr/include/asm-generic "$inc/asm-generic"
  if [ -n "$multiarch" ] && [ -d "/usr/include/$multiarch/asm" ]; then
    ln -sfn "/usr/include/$multiarch/asm" "$inc/asm"
    ln -sfn "/usr/include/$multiarch/sys/queue.h" "$inc/sys/queue.h"
  else
    ln -sfn /usr/include/asm "$inc/asm"
    ln -sfn /usr/include/sys/queue.h "$inc/sys/queue.h"
  fi
  compat_inc=$inc
}

# Flags for every library; zoneproof adds its own on top. -Os: the binary's code is most of
# what serve keeps resident when idle (the kernel maps it 64 KiB at a time around each page
# touched), and -O2 left it above 4 MiB; -Os costs a sixth of the handshakes a second, which
# the aggregator's kept (and HTTP/2-multiplexed) connections rarely pay (docs/static-build.md).
base_cflags() {
  printf '%s' "-Os -pipe -fstack-protector-strong -ffunction-sections -fdata-sections -idirafter$compat_inc"
}

declare -A prefix_of=() version_of=()

pc_path() { # pkg-config directories of the packages named
  local p out=
  for p in "$@"; do
    out=${out:+$out:}${prefix_of[$p]}/lib/pkgconfig
  done
  printf '%s' "$out"
}

# Runs "$@" with the musl toolchain and only the given packages visible to pkg-config.
# Usage: with_env "<dep pkgs>" cmd...
with_env() {
  local deps=$1
  shift
  # shellcheck disable=SC2086
  env CC=musl-gcc CFLAGS="$(base_cflags)" CPPFLAGS= LDFLAGS= \
    PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$(pc_path $deps)" "$@"
}

# ---- recipes: build_<pkg> SRC PREFIX ---------------------------------------------------------
# Each runs in its source tree and installs headers, static libraries and .pc files only.

deps_openssl=""
build_openssl() {
  local src=$1 prefix=$2
  # OPENSSLDIR=/etc/ssl as on Debian: openssl.cnf and the default CA directory /etc/ssl/certs
  # (curl's default bundle is /etc/ssl/certs/ca-certificates.crt, set below). no-async: musl
  # has no ucontext. 3.0 has no no-docs: build_libs/install_dev build and install no docs.
  # Algorithms and protocols nothing here uses are left out (about 0.6 MB of code that the
  # default provider would otherwise keep linked, and pages of it resident): zoneproof needs
  # TLS 1.2/1.3 with ECDHE, AES-GCM and ChaCha20; RSA, DSA, ECDSA and EdDSA (certificates,
  # DNSSEC); SHA-1/2, MD5 and HMAC (TSIG); DES and DH stay for peers that still use them.
  # no-autoload-config: the host's openssl.cnf (the image has none) never changes what the
  # binary does, and is not parsed at every start.
  with_env "$deps_openssl" ./Configure "$ossl_target" \
    --prefix="$prefix" --libdir=lib --openssldir=/etc/ssl \
    no-shared no-tests no-engine no-dso no-async no-comp \
    no-aria no-bf no-camellia no-cast no-cms no-ct no-dtls no-ec2m no-idea no-md4 no-mdc2 \
    no-ocb no-ocsp no-rc2 no-rc4 no-rmd160 no-scrypt no-sctp no-seed no-siphash no-siv \
    no-sm2 no-sm3 no-sm4 no-srp no-srtp no-ssl3 no-ts no-whirlpool \
    no-legacy no-dgram no-rfc3779 no-ui-console no-autoload-config
  with_env "$deps_openssl" make -j"$jobs" build_libs
  with_env "$deps_openssl" make install_dev
}

deps_libpsl=""
build_libpsl() {
  local src=$1 prefix=$2
  # The list is compiled in from Debian's publicsuffix package; no IDNA library at run time.
  with_env "$deps_libpsl" meson setup _build --prefix="$prefix" --libdir=lib \
    --buildtype=release --default-library=static -Druntime=no -Dbuiltin=true -Ddocs=false \
    -Dpsl_file=/usr/share/publicsuffix/public_suffix_list.dat \
    -Dpsl_testfile=/usr/share/doc/publicsuffix/examples/test_psl.txt
  with_env "$deps_libpsl" ninja -C _build -j"$jobs"
  with_env "$deps_libpsl" meson install -C _build --no-rebuild
}

deps_cjson=""
build_cjson() {
  local src=$1 prefix=$2
  with_env "$deps_cjson" cmake -S . -B _build -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_SHARED_LIBS=OFF -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF
  with_env "$deps_cjson" cmake --build _build -j"$jobs"
  with_env "$deps_cjson" cmake --install _build
}

deps_expat=""
build_expat() {
  local src=$1 prefix=$2
  # The package is upstream's repository: the library is in expat/. Built with autotools, as
  # Debian builds it (Debian's patches expect its expat_config.h, not CMake's). No xmlwf,
  # examples, tests or docs.
  cd expat
  with_env "$deps_expat" autoreconf -fi
  with_env "$deps_expat" ./configure --prefix="$prefix" --disable-shared --enable-static \
    --disable-dependency-tracking --without-xmlwf --without-examples --without-tests \
    --without-docbook
  with_env "$deps_expat" make -j"$jobs" -C lib
  with_env "$deps_expat" make -C lib install-libLTLIBRARIES install-includeHEADERS
  with_env "$deps_expat" make install-pkgconfigDATA
}

deps_nghttp2=""
build_nghttp2() {
  local src=$1 prefix=$2
  # The library only (HTTP/2 for the server, k8s/h2.c): no tools, examples or bindings, so
  # none of their dependencies (libev, jansson, c-ares, Python) are needed.
  with_env "$deps_nghttp2" autoreconf -fi
  with_env "$deps_nghttp2" ./configure --prefix="$prefix" --disable-shared --enable-static \
    --disable-dependency-tracking --enable-lib-only --disable-python-bindings \
    --disable-examples --disable-hpack-tools --disable-failmalloc
  with_env "$deps_nghttp2" make -j"$jobs"
  with_env "$deps_nghttp2" make install
}

deps_libyaml=""
build_libyaml() {
  local src=$1 prefix=$2
  with_env "$deps_libyaml" autoreconf -fi
  with_env "$deps_libyaml" ./configure --prefix="$prefix" --disable-shared --enable-static \
    --disable-dependency-tracking
  with_env "$deps_libyaml" make -j"$jobs"
  with_env "$deps_libyaml" make install
}

deps_ldns="openssl"
build_ldns() {
  local src=$1 prefix=$2
  with_env "$deps_ldns" autoreconf -fi
  with_env "$deps_ldns" ./configure --prefix="$prefix" --disable-shared --enable-static \
    --with-ssl="${prefix_of[openssl]}" --disable-dane-ta-usage --disable-gost \
    --disable-ldns-config --disable-rpath \
    --without-drill --without-examples --without-pyldns --without-p5-dns-ldns
  with_env "$deps_ldns" make -j"$jobs" lib
  with_env "$deps_ldns" make install-h install-lib install-pc
  # ldns.pc names no crypto library: a static link needs libcrypto after libldns.
  grep -q '^Requires.private:' "$prefix/lib/pkgconfig/ldns.pc" ||
    echo 'Requires.private: libcrypto' >>"$prefix/lib/pkgconfig/ldns.pc"
}

deps_libevent="openssl"
build_libevent() {
  local src=$1 prefix=$2
  with_env "$deps_libevent" autoreconf -fi
  with_env "$deps_libevent" ./configure --prefix="$prefix" --disable-shared --enable-static \
    --disable-dependency-tracking --enable-openssl --enable-thread-support \
    --disable-libevent-regress --disable-samples --disable-doxygen-html
  with_env "$deps_libevent" make -j"$jobs"
  with_env "$deps_libevent" make install
}

deps_mimalloc=""
build_mimalloc() {
  local src=$1 prefix=$2
  # The object, not the archive: its malloc, free, … come before libc.a on the link line and
  # take the place of musl's for zoneproof and for every library linked into it.
  with_env "$deps_mimalloc" cmake -S . -B _build -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DMI_INSTALL_TOPLEVEL=ON -DMI_BUILD_SHARED=OFF \
    -DMI_BUILD_STATIC=OFF -DMI_BUILD_OBJECT=ON -DMI_BUILD_TESTS=OFF -DMI_OVERRIDE=ON
  with_env "$deps_mimalloc" cmake --build _build -j"$jobs"
  with_env "$deps_mimalloc" cmake --install _build
}

deps_curl="openssl"
build_curl() {
  local src=$1 prefix=$2 p
  # The source package unpacks with its GnuTLS and NSS flavour patches applied on top; Debian's
  # OpenSSL flavour is built with them popped, so pop them too.
  for p in 99_nss.patch 90_gnutls.patch; do
    if [ -f "debian/patches/$p" ] && patch -R -p1 --dry-run -s -f <"debian/patches/$p" >/dev/null
    then
      patch -R -p1 -s -f <"debian/patches/$p"
    fi
  done
  with_env "$deps_curl" autoreconf -fi
  # HTTPS and HTTP only, through OpenSSL. No libpsl: curl uses it only to refuse
  # "supercookies" in its cookie engine, which zoneproof never turns on.
  with_env "$deps_curl" ./configure --prefix="$prefix" --disable-shared --enable-static \
    --disable-dependency-tracking --enable-threaded-resolver --disable-manual \
    --with-openssl="${prefix_of[openssl]}" \
    --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
    --without-libpsl --without-libidn2 --without-nghttp2 --without-nghttp3 --without-ngtcp2 \
    --without-quiche --without-msh3 --without-brotli --without-zstd --without-zlib \
    --without-librtmp --without-libssh2 --without-libssh --without-wolfssh --without-gssapi \
    --without-libgsasl --without-hyper \
    --disable-ldap --disable-ldaps --disable-rtsp --disable-ftp --disable-file --disable-dict \
    --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb \
    --disable-smtp --disable-gopher --disable-mqtt
  with_env "$deps_curl" make -j"$jobs" -C lib
  with_env "$deps_curl" make -C lib install
  with_env "$deps_curl" make -C include install
  with_env "$deps_curl" make install-pkgconfigDATA
}

deps_krb5="openssl"
build_krb5() {
  local src=$1 prefix=$2 ossl=${prefix_of[openssl]} d f
  # MIT Kerberos, for GSS-TSIG (rfc2136): the client libraries only (libgssapi_krb5, libkrb5,
  # libk5crypto, and their own libcom_err and libkrb5support), no KDC, kadmin, tools or plugins.
  # Crypto from the OpenSSL built above, whose ciphers and digests are in the binary already.
  # It is built without Camellia and MD4, which krb5 1.20 expects of OpenSSL 3. krb5 compiles
  # its built-in and its OpenSSL code side by side and picks one by macro: take the built-in
  # Camellia, and the built-in key derivation and CMAC (krb5's code for OpenSSL 1.1, on
  # OpenSSL's ciphers and HMAC; OpenSSL 3's KBKDF and CMAC would ask it for Camellia); leave
  # HMAC-MD4, which nothing uses (MD4 and RC4 are built-in with OpenSSL 3), out of the glue.
  sed -i '/^#define K5_OPENSSL_CAMELLIA$/c\
#include <openssl/opensslconf.h>\
#ifdef OPENSSL_NO_CAMELLIA\
#define K5_BUILTIN_CAMELLIA\
#undef K5_OPENSSL_KDF\
#undef K5_OPENSSL_CMAC\
#define K5_BUILTIN_KDF\
#define K5_BUILTIN_CMAC\
#else\
#define K5_OPENSSL_CAMELLIA\
#endif' src/lib/crypto/krb/crypto_int.h
  sed -i '/else if (hash == &krb5int_hash_md4)$/{N;s/.*/#ifndef OPENSSL_NO_MD4\n&\n#endif/}' \
    src/lib/crypto/openssl/hmac.c
  grep -q OPENSSL_NO_CAMELLIA src/lib/crypto/krb/crypto_int.h
  grep -q OPENSSL_NO_MD4 src/lib/crypto/openssl/hmac.c
  cd src
  # Paths as Debian's (/etc/krb5.conf, /etc/krb5kdc, FILE:/tmp/krb5cc_%{uid}). Its own com_err
  # (Debian links e2fsprogs'); ss, db2 and libverto serve only the KDC and tools, not built, and
  # the system's are not looked for. No keyutils (KEYRING: caches), LDAP, LMDB, TLS (the KDC
  # proxy), PKINIT, SPAKE, libedit or NLS.
  # configure is not regenerated: Debian's patches touch no configure.ac, and its own build
  # runs the shipped configure.
  with_env "$deps_krb5" ./configure --prefix="$prefix" --sysconfdir=/etc --localstatedir=/etc \
    --enable-static --disable-shared --disable-rpath --disable-nls --with-size-optimizations \
    --with-crypto-impl=openssl --with-tls-impl=no --without-spake-openssl --disable-pkinit \
    --without-ldap --without-lmdb --without-keyutils --without-libedit --without-readline \
    --without-system-et --without-system-ss --without-system-db --without-system-verto \
    CPPFLAGS="-I$ossl/include" LDFLAGS="-L$ossl/lib"
  # The libraries and what they need, in the order of the top Makefile (util before include,
  # for compile_et), instead of everything under src/.
  with_env "$deps_krb5" make update-autoconf-h
  for d in util/support util/et util/profile include lib/crypto lib/krb5 lib/gssapi; do
    with_env "$deps_krb5" make -j"$jobs" -C "$d" all
  done
  with_env "$deps_krb5" make install-mkdirs install-headers-mkdirs
  for d in util/support util/et include lib/crypto lib/krb5 lib/gssapi; do
    with_env "$deps_krb5" make -C "$d" install
  done
  rm -rf "$prefix/bin" "$prefix/sbin" "$prefix/share" "$prefix/var" "$prefix/etc" \
    "$prefix/include/kdb.h" "$prefix/include/krad.h"
  # The .pc files, with Debian's mit-krb5/ subdirectories (its multi-arch symlink layout) taken
  # back out; a static link also needs what libk5crypto and libkrb5 use: libcrypto, and the
  # resolver (-lresolv: an empty archive with musl, needed with glibc).
  mkdir -p "$prefix/lib/pkgconfig"
  for f in krb5 krb5-gssapi mit-krb5 mit-krb5-gssapi; do
    sed -e 's|/mit-krb5$||' "build-tools/$f.pc" >"$prefix/lib/pkgconfig/$f.pc"
  done
  sed -i -e 's|^Libs.private: -lkrb5support$|Libs.private: -lkrb5support -lresolv|' \
    -e '$a Requires.private: libcrypto' "$prefix/lib/pkgconfig/mit-krb5.pc"
  grep -q '^Libs.private: -lkrb5support -lresolv$' "$prefix/lib/pkgconfig/mit-krb5.pc"
}

# ---- one package: pick a version, reuse or build ---------------------------------------------

# What a cached build must match to be reused.
recipe_of() {
  local pkg=$1 dep deps_var="deps_$1"
  {
    echo "rev=$RECIPE_REV pkg=$pkg gcc=$gcc_ver musl=$musl_ver arch=$arch"
    echo "cflags=$(base_cflags)"
    for dep in ${!deps_var}; do
      echo "dep=$dep-${version_of[$dep]} $(cat "${prefix_of[$dep]}/.zp-recipe-hash")"
    done
    declare -f "build_$pkg"
  } | sha256sum | cut -d' ' -f1
}

# Uses pkg $1 version $2 when cached, else fetches and builds it, and sets uv_status: ok,
# unavailable (the archive would not serve it) or skipped (it was unavailable recently and $3 is
# "skip-marked"). Always returns 0: called under `if` or `||`, errexit would be off inside.
uv_status=
use_version() {
  local pkg=$1 ver=$2 mode=$3 prefix hash src t0 logf failed rc
  uv_status=ok
  prefix=$cache/$pkg-${ver//:/_} # no colon: these paths go into PKG_CONFIG_LIBDIR
  version_of[$pkg]=$ver
  prefix_of[$pkg]=$prefix
  hash=$(recipe_of "$pkg")
  if [ -f "$prefix/.zp-recipe-hash" ] && [ "$(cat "$prefix/.zp-recipe-hash")" = "$hash" ]; then
    log "$pkg $ver: cached"
    return 0
  fi
  # A version the archive lists but would not serve is not asked for again for a day.
  failed=$cache/unavailable/$pkg-${ver//:/_}
  if [ "$mode" = skip-marked ] && [ -f "$failed" ] && [ -n "$(find "$failed" -mmin -1440)" ]
  then
    uv_status=skipped
    return 0
  fi
  src=$cache/build/$pkg-${ver//:/_}
  log "$pkg $ver: fetching the Debian source package"
  if ! fetch_source "$pkg" "$ver" "$src"; then
    log "$pkg $ver: the archive lists it but does not serve it"
    mkdir -p "$cache/unavailable"
    touch "$failed"
    uv_status=unavailable
    return 0
  fi
  rm -f "$failed"
  logf=$cache/logs/$pkg-${ver//:/_}.log
  mkdir -p "$cache/logs"
  log "$pkg $ver: building (log: $logf)"
  t0=$(now)
  rm -rf "$prefix"
  # Not under `if`: errexit must stay in force inside the recipe.
  set +e
  (set -ex; cd "$src"; "build_$pkg" "$src" "$prefix") >"$logf" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$logf" | sed 's/^/    /' >&2
    die "$pkg $ver: build failed; full log: $logf"
  fi
  # Only static archives: nothing may link a shared copy by accident.
  find "$prefix" -name '*.so*' -delete
  find "$prefix" -name '*.la' -delete
  echo "$hash" >"$prefix/.zp-recipe-hash"
  [ "${ZP_STATIC_KEEP_SOURCES:-0}" = 1 ] || rm -rf "$src"
  log "$pkg $ver: built in $(($(now) - t0)) s"
}

# The newest version of source package $1 that is cached or can be fetched and built.
build_pkg() {
  local pkg=$1 ver versions=() skipped=()
  mapfile -t versions < <(src_versions "$pkg")
  [ "${#versions[@]}" -gt 0 ] || die "$pkg: no source package known to apt (is deb-src enabled?)"
  for ver in "${versions[@]}"; do
    use_version "$pkg" "$ver" skip-marked
    case "$uv_status" in
      ok) return 0 ;;
      skipped) skipped+=("$ver") ;;
    esac
  done
  # Nothing else worked: ask again for the versions that failed recently.
  for ver in "${skipped[@]}"; do
    use_version "$pkg" "$ver" retry
    [ "$uv_status" != ok ] || return 0
  done
  die "$pkg: none of the versions ${versions[*]} could be downloaded"
}

# ---- main ------------------------------------------------------------------------------------

ensure_deb_src
ensure_tools
# Part of every recipe hash: known only once the tools are installed.
gcc_ver=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)
musl_ver=$(dpkg-query -W -f='${Version}' musl-dev)
mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "waiting for another build using $cache"
  flock 9
fi
setup_compat_headers

log "dependencies in $cache ($jobs jobs)"
malloc_impl=${ZP_STATIC_MALLOC:-musl}
case "$malloc_impl" in
  musl|mimalloc) ;;
  *) die "ZP_STATIC_MALLOC is \"$malloc_impl\": musl or mimalloc" ;;
esac
extra_pkgs=
[ "$malloc_impl" = musl ] || extra_pkgs=$malloc_impl
for pkg in openssl libpsl cjson libyaml ldns libevent curl expat nghttp2 krb5 $extra_pkgs; do
  build_pkg "$pkg"
done
log "dependencies ready in $(($(now) - t_start)) s"
if [ "$deps_only" = 1 ]; then
  exit 0
fi

# ---- zoneproof -------------------------------------------------------------------------------

pcdirs=$(pc_path openssl libpsl cjson libyaml ldns libevent curl expat nghttp2 krb5)
zp_cflags="-pipe -fstack-protector-strong -ffunction-sections -fdata-sections -idirafter$compat_inc"
zp_ldflags="-Wl,--gc-sections -s"
[ "$malloc_impl" = musl ] || zp_ldflags="$zp_ldflags ${prefix_of[mimalloc]}/lib/mimalloc.o"
config_key=$(printf '%s\n' "$pcdirs" "$zp_cflags" "$zp_ldflags" "$gcc_ver" "$musl_ver" |
             sha256sum | cut -d' ' -f1)
if [ -f "$builddir/CMakeCache.txt" ] &&
   [ "$(cat "$builddir/.zp-static-key" 2>/dev/null)" != "$config_key" ]; then
  log "dependencies or flags changed: configuring $builddir afresh"
  rm -rf "$builddir"
fi
mkdir -p "$builddir"

zp_env=(env CC=musl-gcc CFLAGS="$zp_cflags" LDFLAGS="$zp_ldflags"
        PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$pcdirs")
t0=$(now)
log "zoneproof: configuring ($builddir)"
"${zp_env[@]}" cmake -S "$repo" -B "$builddir" -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DZP_STATIC=ON -DZP_TESTS=OFF >"$builddir/configure.log" 2>&1 ||
  { tail -n 30 "$builddir/configure.log" >&2; die "zoneproof: cmake configure failed"; }
echo "$config_key" >"$builddir/.zp-static-key"
log "zoneproof: building"
"${zp_env[@]}" cmake --build "$builddir" -j"$jobs" --target zoneproof >"$builddir/build.log" 2>&1 ||
  { grep -E 'error|Error' "$builddir/build.log" | head -n 30 >&2
    die "zoneproof: build failed (log: $builddir/build.log)"; }

bin=$builddir/cmd/zoneproof
desc=$(file -b "$bin")
case "$desc" in
  *"statically linked"*|*"static-pie linked"*) ;;
  *) die "$bin is not static: $desc" ;;
esac
"$bin" version >/dev/null 2>&1 || die "$bin does not run"
log "zoneproof: built in $(($(now) - t0)) s: $bin, $(stat -c %s "$bin") bytes, $desc"
log "done in $(($(now) - t_start)) s"
printf '%s\n' "$bin"
