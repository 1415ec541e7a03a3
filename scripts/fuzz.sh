#!/usr/bin/env bash
# fuzz.sh — long libFuzzer runs: each driver of tests/fuzz, one after the other, for a while over a
# copy of its committed corpus (tests/fuzz/corpus/<name>). New inputs stay in a work directory
# outside the tree; --merge adds the ones that reach new code to the committed corpus (minimized
# by libFuzzer's -merge). A crash leaves its input in the work directory and fails the script.
#
#   scripts/fuzz.sh [-t seconds] [--merge] [driver...]     drivers: caa, fuzz_caa, ... (default all)
#
#   -t SECONDS      per driver (default 300)
#   --merge         merge new corpus entries back into tests/fuzz/corpus/<name>
#   ZP_FUZZ_BUILD   the fuzz build tree (default build-fuzz, configured and built when missing)
#   ZP_FUZZ_WORK    the work directory (default a new one under ${TMPDIR:-/tmp})
#   ZP_FUZZ_JOBS    drivers at once (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=300 merge=0 names=()
while [ $# -gt 0 ]; do
  case $1 in
  -t) secs=${2:?-t needs seconds}; shift 2 ;;
  -t*) secs=${1#-t}; shift ;;
  --merge) merge=1; shift ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  *) names+=("${1#fuzz_}"); shift ;;
  esac
done
case $secs in '' | *[!0-9]*) echo "fuzz.sh: -t wants whole seconds" >&2; exit 2 ;; esac

build=${ZP_FUZZ_BUILD:-build-fuzz}
jobs=${ZP_FUZZ_JOBS:-1}
if [ ! -d "$build" ]; then
  CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DZP_FUZZ=ON -DZP_TESTS=OFF
fi
cmake --build "$build" -j"$(nproc)"
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    names+=("${n#fuzz_}")
  done
fi
for n in "${names[@]}"; do
  [ -x "$build/tests/fuzz/fuzz_$n" ] || { echo "fuzz.sh: no driver fuzz_$n in $build" >&2; exit 2; }
done
work=${ZP_FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/zp-fuzz.XXXXXX")}
mkdir -p "$work"
echo "fuzz.sh: ${#names[@]} drivers, $secs s each, $jobs at once; work directory $work"

run_one() { # run_one NAME: the driver over work/NAME/corpus, its log in work/NAME/log
  local n=$1 dir=$work/$1 rc=0
  mkdir -p "$dir/corpus" "$dir/crashes"
  [ -d "tests/fuzz/corpus/$n" ] && cp -r "tests/fuzz/corpus/$n"/. "$dir/corpus"/
  "$build/tests/fuzz/fuzz_$n" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
}

pids=()
for i in "${!names[@]}"; do
  if [ "$i" -ge "$jobs" ]; then
    wait "${pids[i - jobs]}" || true
  fi
  run_one "${names[i]}" &
  pids+=($!)
done
wait

failed=0
printf '%-12s %6s %12s %10s %8s  %s\n' driver rc execs execs/s corpus result
for n in "${names[@]}"; do
  dir=$work/$n
  rc=$(cat "$dir/rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' "$dir/log" | tail -1)
  size=$(find "$dir/corpus" -type f | wc -l)
  result=ok
  if [ "$rc" != 0 ]; then
    failed=1
    result="FAILED: $(ls "$dir/crashes" 2>/dev/null | head -1) (see $dir/log)"
  fi
  printf '%-12s %6s %12s %10s %8s  %s\n' "$n" "$rc" "${execs:-?}" "${rate:-?}" "$size" "$result"
done

if [ "$merge" = 1 ]; then
  for n in "${names[@]}"; do
    [ "$(cat "$work/$n/rc")" = 0 ] || continue
    mkdir -p "tests/fuzz/corpus/$n"
    before=$(find "tests/fuzz/corpus/$n" -type f | wc -l)
    "$build/tests/fuzz/fuzz_$n" -merge=1 -max_len=65536 "tests/fuzz/corpus/$n" \
      "$work/$n/corpus" >"$work/$n/merge.log" 2>&1 ||
      { echo "fuzz.sh: merging $n failed (see $work/$n/merge.log)" >&2; failed=1; continue; }
    echo "merged $n: $before -> $(find "tests/fuzz/corpus/$n" -type f | wc -l) files"
  done
fi
echo "fuzz.sh: work directory $work (remove it when done)"
exit "$failed"
