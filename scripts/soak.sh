#!/usr/bin/env bash
# Soak: the default scenarios, over and over, against the same four servers for
# SECONDS (default 600), sampling each server's RSS every second. Not for CI.
#
#   scripts/soak.sh [SECONDS] [OUT_DIR]        # default: 600 s, soak/<timestamp>
#
# Each protocol's server is one `quartet serve-one` process on 127.0.0.1 (ports
# SOAK_PORT .. SOAK_PORT+3, default 17080), so its RSS is its own and it lives through
# the whole soak. `quartet bench --quick --target ...` runs back to back until the time
# is up (QUARTET_BENCH_FLAGS replaces --quick, e.g. "--duration 30 --concurrency 16").
#
# Writes to OUT_DIR:
#   rss.csv            second,protocol,rss_kib: one line per server per second
#   runs/N/            every bench run's results.json, report and hlog/ (HdrHistogram
#                      interval logs: each run's latency second by second)
#   latency.csv        second,run,protocol,scenario,concurrency,ops_per_s,p50_ms,p99_ms:
#                      every run's per-second series, on the soak's clock
#   summary.txt        per protocol: RSS in the first and last minute and its peak; p99
#                      of the first and last run per protocol and scenario
# Exits non-zero if a server died during the soak.
set -euo pipefail

seconds=${1:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$root/soak/$(date -u +%Y%m%dT%H%M%SZ)}
base_port=${SOAK_PORT:-17080}
bench_flags=${QUARTET_BENCH_FLAGS:---quick}
cd "$root"

echo "== building quartet (release)"
cargo build --release -p bench >/dev/null
quartet=$root/target/release/quartet
mkdir -p "$out/runs"

protocols=(rest graphql grpc wire)
declare -A pids ports
targets=()
cleanup() {
  for p in "${protocols[@]}"; do
    if [ -n "${pids[$p]:-}" ]; then kill -TERM "${pids[$p]}" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

i=0
for p in "${protocols[@]}"; do
  port=$((base_port + i))
  i=$((i + 1))
  ports[$p]=$port
  RUST_LOG=warn "$quartet" serve-one "$p" --listen "127.0.0.1:$port" >"$out/server-$p.log" 2>&1 &
  pids[$p]=$!
  targets+=(--target "$p=127.0.0.1:$port")
done
# Wait for every port to accept connections (a large dataset takes a while).
for p in "${protocols[@]}"; do
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${ports[$p]}") 2>/dev/null; then break; fi
    kill -0 "${pids[$p]}" 2>/dev/null || { echo "!! the $p server exited; see $out/server-$p.log"; exit 1; }
    sleep 0.2
  done
done
echo "== servers up: ${targets[*]}"

start=$(date +%s)
echo "$start" >"$out/start"
echo "second,protocol,rss_kib" >"$out/rss.csv"
(
  while true; do
    now=$(($(date +%s) - start))
    for p in "${protocols[@]}"; do
      rss=$(awk '/^VmRSS:/ {print $2}' "/proc/${pids[$p]}/status" 2>/dev/null || echo 0)
      echo "$now,$p,${rss:-0}" >>"$out/rss.csv"
    done
    sleep 1
  done
) &
sampler=$!

run=0
while [ $(($(date +%s) - start)) -lt "$seconds" ]; do
  run=$((run + 1))
  t=$(($(date +%s) - start))
  echo "== run $run at ${t}s"
  # shellcheck disable=SC2086 # the flags are meant to split
  "$quartet" bench $bench_flags "${targets[@]}" --out "$out/runs/$run" >"$out/runs/$run.log" 2>&1 ||
    echo "!! run $run failed: see $out/runs/$run.log"
done
kill "$sampler" 2>/dev/null || true

died=0
for p in "${protocols[@]}"; do
  kill -0 "${pids[$p]}" 2>/dev/null || { echo "!! the $p server died during the soak"; died=1; }
done

python3 - "$out" <<'EOF'
import csv, json, os, sys
from collections import defaultdict
out = sys.argv[1]
rss = defaultdict(list)
with open(os.path.join(out, "rss.csv")) as f:
    for row in csv.DictReader(f):
        rss[row["protocol"]].append((int(row["second"]), int(row["rss_kib"])))
lines = []
soak_start = float(open(os.path.join(out, "start")).read().strip())
with open(os.path.join(out, "latency.csv"), "w") as lat:
    lat.write("second,run,protocol,scenario,concurrency,ops_per_s,p50_ms,p99_ms\n")
    firsts, lasts = {}, {}
    runs = sorted(int(d) for d in os.listdir(os.path.join(out, "runs")) if d.isdigit())
    for run in runs:
        path = os.path.join(out, "runs", str(run), "results.json")
        if not os.path.exists(path):
            continue
        for r in json.load(open(path)).get("runs", []):
            key = (r.get("protocol"), r.get("scenario"), r.get("concurrency"))
            begin = (r.get("window_start_unix_s") or soak_start) - soak_start
            per_s = zip(r.get("throughput_per_second", []), r.get("p50_per_second_us", []),
                        r.get("p99_per_second_us", []))
            for i, (ops, p50, p99) in enumerate(per_s):
                lat.write(f"{begin + i:.0f},{run},{key[0]},{key[1]},{key[2]},{ops:.0f},{p50 / 1000:.3f},{p99 / 1000:.3f}\n")
            p99 = r.get("latency_us", {}).get("p99", 0) / 1000
            firsts.setdefault(key, p99)
            lasts[key] = p99
lines.append("RSS (MiB): protocol, first minute mean, last minute mean, peak")
for p, series in rss.items():
    end = series[-1][0] if series else 0
    first = [k for s, k in series if s < 60]
    last = [k for s, k in series if s > end - 60]
    mean = lambda xs: sum(xs) / len(xs) / 1024 if xs else 0
    peak = max((k for _, k in series), default=0) / 1024
    lines.append(f"  {p:<8} {mean(first):8.1f} {mean(last):8.1f} {peak:8.1f}")
lines.append("p99 (ms): protocol, scenario, concurrency, first run, last run")
for key in sorted(firsts, key=str):
    lines.append(f"  {key[0]:<8} {key[1]:<22} {key[2]!s:>5} {firsts[key]:8.3f} {lasts[key]:8.3f}")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "summary.txt"), "w").write(text)
print(text)
EOF
echo "== $run runs in $(($(date +%s) - start)) s; series in $out (rss.csv, latency.csv, runs/*/hlog/)"
exit "$died"
