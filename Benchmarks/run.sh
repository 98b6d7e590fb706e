#!/usr/bin/env bash
# Build (release) and run the Kairos benchmarks, print package-benchmark's table, then a tail
# latency table (p50 / p99 / p99.9 per operation) and the zero-allocation check.
#
#   Benchmarks/run.sh [--short] [extra benchmark-plugin options, e.g. --target MLPBenchmarks]
#
# --short sets KAIROS_BENCH_SHORT=1: ~1 s and at most 2,000 iterations per benchmark (CI).
# Exit status: non-zero when a benchmark fails to build or run, or allocates in its measured region.
# Needs: swift 6.3 toolchain, python3 (for the tail table). Nothing from apt: on Swift 6.3
# package-benchmark counts mallocs with its own interposer package, no jemalloc.
set -euo pipefail
cd "$(dirname "$0")"

short=0
args=()
for a in "$@"; do
    case "$a" in
    --short) short=1 ;;
    *) args+=("$a") ;;
    esac
done
export KAIROS_BENCH_SHORT=$short

baseline=kairos_run
bench=(swift package --disable-sandbox --allow-writing-to-package-directory benchmark)

# Run every benchmark once and keep the results as a local baseline (.benchmarkBaselines/, ignored
# by git); the table and the exports below read it back instead of re-running.
"${bench[@]}" baseline update "$baseline" --no-progress ${args[@]+"${args[@]}"}
"${bench[@]}" baseline read "$baseline" --no-progress ${args[@]+"${args[@]}"}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"${bench[@]}" baseline read "$baseline" --no-progress --format jmh --path "$out" ${args[@]+"${args[@]}"} >/dev/null

python3 - "$out"/*.jmh.json <<'PY'
import json, re, sys
# JMH export: wall clock in microseconds per iteration, counts per iteration (unscaled). Names
# that say "1K/iter" run 1,000 operations per iteration: divide by 1,000 for per-operation figures.
rows, allocating = [], []
for path in sys.argv[1:]:
    for e in json.load(open(path)):
        name = e["benchmark"].split(".", 3)[-1].replace("_", " ")
        scale = 1000 if "1K/iter" in name else 1
        sec = e.get("secondaryMetrics", {})
        wall = next((v for k, v in sec.items() if k.startswith("Time (wall clock)")), None)
        if wall:
            p = wall["scorePercentiles"]
            ns = lambda q: p[q] * 1000 / scale
            rows.append((name, ns("50.0"), ns("99.0"), ns("99.9"), len(wall["rawData"][0])))
        malloc = next((v for k, v in sec.items() if k.startswith("Malloc (total)")), None)
        if malloc is None:  # never pass the check because the metric went missing
            allocating.append((name, float("nan")))
        elif malloc["scorePercentiles"]["100.0"] > 0:
            allocating.append((name, malloc["scorePercentiles"]["100.0"]))
w = max([len(r[0]) for r in rows] + [10])
print(f"\n{'Benchmark (wall clock per op, ns)':<{w}} {'p50':>10} {'p99':>10} {'p99.9':>10} {'samples':>9}")
for name, a, b, c, n in sorted(rows):
    print(f"{name:<{w}} {a:>10.1f} {b:>10.1f} {c:>10.1f} {n:>9}")
if not rows:
    print("FAIL: no benchmark results")
    sys.exit(1)
if allocating:
    for name, n in allocating:
        print(f"FAIL: {name} allocated in its measured region (max {n:g} mallocs per iteration; nan = not measured)")
    sys.exit(1)
print("\nZero allocations in every measured region.")
PY
