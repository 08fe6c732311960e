#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each on its
# committed corpus, then prints the executions per target. Installs the pinned
# cargo-fuzz if it is missing; needs only rustup's stable toolchain and a C++ compiler
# (libfuzzer-sys builds libFuzzer from source).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     # default: 5 s, every target
#
# Environment:
#   FUZZ_SANITIZER=none|address  default none: stable rustc has no -Zsanitizer;
#                                `address` sets RUSTC_BOOTSTRAP=1 to get ASan anyway.
#   FUZZ_RSS_MB, FUZZ_MALLOC_MB  libFuzzer's -rss_limit_mb (2048) and -malloc_limit_mb
#                                (512): a bigger process or a single bigger allocation
#                                is reported as a crash (unbounded memory is a bug).
#   FUZZ_TIMEOUT                 seconds one input may take before it is a hang (10).
#
# New inputs go to fuzz/target/corpus/<target> (not committed); crashes to
# fuzz/artifacts/<target>/. Inputs in fuzz/regressions/<target>/ (minimised crashes
# found before) are replayed first. Exits non-zero if any target crashed.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.1
seconds=${1:-5}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
fi

sanitizer=${FUZZ_SANITIZER:-none}
if [ "$sanitizer" != none ]; then
  export RUSTC_BOOTSTRAP=1
fi
# 16 codegen units instead of cargo-fuzz's 1: the dependency graph (axum, tonic,
# async-graphql) builds several times faster on a small machine, and executions per
# second barely change.
build_flags=(--fuzz-dir fuzz --sanitizer "$sanitizer" --codegen-units 16)

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

echo "== building ${#targets[@]} targets (sanitizer: $sanitizer)"
cargo fuzz build "${build_flags[@]}"
bin_dir=fuzz/target/x86_64-unknown-linux-gnu/release

limits=(
  -rss_limit_mb="${FUZZ_RSS_MB:-2048}"
  -malloc_limit_mb="${FUZZ_MALLOC_MB:-512}"
  -timeout="${FUZZ_TIMEOUT:-10}"
)

declare -A execs speed verdict
failed=0
for target in "${targets[@]}"; do
  regressions=fuzz/regressions/$target
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    echo "== $target: replaying $(ls "$regressions" | wc -l) regression inputs"
    if ! "$bin_dir/$target" "${limits[@]}" "$regressions"/* >/dev/null 2>&1; then
      echo "!! $target: a regression input fails again: $bin_dir/$target $regressions/*"
      verdict[$target]="REGRESSION"
      failed=1
      continue
    fi
  fi
  work=fuzz/target/corpus/$target
  mkdir -p "$work" "fuzz/corpus/$target"
  log=fuzz/target/fuzz-$target.log
  echo "== $target: fuzzing for ${seconds}s"
  status=0
  cargo fuzz run "${build_flags[@]}" "$target" "$work" "fuzz/corpus/$target" -- \
    "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs[$target]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed[$target]=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    verdict[$target]=ok
  else
    verdict[$target]="CRASH (exit $status, see $log and fuzz/artifacts/$target/)"
    failed=1
    tail -n 40 "$log"
  fi
done

echo
printf '%-18s %14s %10s  %s\n' target executions "exec/s" result
total=0
for target in "${targets[@]}"; do
  n=${execs[$target]:-0}
  total=$((total + n))
  printf '%-18s %14s %10s  %s\n' "$target" "$n" "${speed[$target]:--}" "${verdict[$target]}"
done
printf '%-18s %14s\n' total "$total"
exit "$failed"
