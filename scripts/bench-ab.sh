#!/usr/bin/env bash
# bench-ab.sh — compare imgaudit builds on one image when the machine's speed
# drifts: runs the builds interleaved (one run of each per round) and reports,
# for every build after the first, the median of its per-round ratios to the
# first build, for wall and CPU (user + sys) time.
#
# Usage: scripts/bench-ab.sh IMAGE ROUNDS BIN [BIN...] [-- ANALYZE-ARGS...]
#
#   IMAGE   what `imgaudit analyze` reads (e.g. oci-archive:OUT/bench-oci.tar)
#   ROUNDS  rounds to run (20 or more where the machine is noisy)
#   BIN     imgaudit binaries, copied aside from `cargo build --release`; a
#           BIN written NAME=PATH is reported as NAME
#   ANALYZE-ARGS  replace the default `-q --format json --no-cache -o /dev/null`
#
# Why paired ratios: on a shared virtual machine the same binary's CPU time
# moved by up to 30% between minutes (docs/PERFORMANCE.md, session 8), far
# more than the few percent a change costs; a build and its neighbour in the
# same round see the same machine, so their ratio keeps the signal. Raw times
# are kept in $BENCH_AB_OUT (default: a temporary file, printed at the end).
set -euo pipefail
usage() { echo "usage: $0 IMAGE ROUNDS BIN [BIN...] [-- ANALYZE-ARGS...]" >&2; exit 2; }
[[ $# -ge 3 ]] || usage
image=$1
rounds=$2
shift 2
[[ $rounds =~ ^[1-9][0-9]*$ ]] || usage
names=()
paths=()
while [[ $# -gt 0 && $1 != -- ]]; do
    case $1 in
        *=*) names+=("${1%%=*}"); paths+=("${1#*=}") ;;
        *) names+=("$(basename "$1")"); paths+=("$1") ;;
    esac
    shift
done
args=(-q --format json --no-cache -o /dev/null)
if [[ $# -gt 0 ]]; then
    shift
    args=("$@")
fi
[[ ${#paths[@]} -ge 2 ]] || { echo "$0: give at least two builds" >&2; exit 2; }
for p in "${paths[@]}"; do
    [[ -x $p ]] || { echo "$0: not an executable: $p" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "$0: needs python3" >&2; exit 2; }
out=${BENCH_AB_OUT:-$(mktemp)}
: >"$out"
for ((r = 1; r <= rounds; r++)); do
    for i in "${!paths[@]}"; do
        /usr/bin/time -f "${names[$i]} $r %e %U %S" -a -o "$out" \
            "${paths[$i]}" analyze "$image" "${args[@]}" >/dev/null
    done
    echo "round $r/$rounds done" >&2
done
python3 - "$out" "${names[@]}" <<'EOF'
import statistics, sys
path, names = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(path):
    name, rnd, wall, user, sys_ = line.split()
    runs[(name, int(rnd))] = (float(wall), float(user) + float(sys_))
rounds = sorted({r for (_, r) in runs})
base = names[0]
print(f"{len(rounds)} rounds; medians of per-round ratios to {base}")
print("| build | wall | CPU | wall median s | CPU median s |")
print("|---|---:|---:|---:|---:|")
for name in names:
    pairs = [(runs[(name, r)], runs[(base, r)]) for r in rounds
             if (name, r) in runs and (base, r) in runs]
    # A run too short to time (0.00 s) has no ratio.
    wall = statistics.median([a[0] / b[0] for a, b in pairs if b[0] > 0] or [float("nan")])
    cpu = statistics.median([a[1] / b[1] for a, b in pairs if b[1] > 0] or [float("nan")])
    w = statistics.median(a[0] for a, _ in pairs)
    c = statistics.median(a[1] for a, _ in pairs)
    print(f"| {name} | {100 * (wall - 1):+.1f}% | {100 * (cpu - 1):+.1f}% | {w:.2f} | {c:.2f} |")
EOF
echo "raw times: $out" >&2
