#!/usr/bin/env bash
# bench-memory.sh — peak RSS of `imgaudit analyze` per image entry (issue 19).
#
# Usage: scripts/bench-memory.sh [OUTDIR]   (default OUTDIR=target/bench-memory)
#
# Generates, with scripts/make-many-files-image.py (cached in OUTDIR):
#   m1m   1,000,000 empty files, one gzip layer (≈ 10 MB)
#   m2m   2,000,000 empty files, one gzip layer (≈ 20 MB)
#   p129k   129,000 files of 512 bytes over 4 gzip layers
# then runs `target/release/imgaudit analyze --no-cache --format json` on
# each under /usr/bin/time -v (IMGAUDIT overrides the binary; it is built
# with `cargo build --release` otherwise) and prints a Markdown table: peak
# RSS, bytes per entry (peak RSS / entries; the 1M → 2M difference is the
# marginal cost, free of the fixed part) and the targets: ≤ 150 bytes per
# entry on m2m, ≤ 64 MiB on p129k. Exit 1 when a target is missed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/target/bench-memory}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[[ -x /usr/bin/time ]] || { echo "$0: missing /usr/bin/time (apt-get install time)" >&2; exit 2; }
if [[ -z ${IMGAUDIT:-} ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    IMGAUDIT=$ROOT/target/release/imgaudit
fi

make() { # NAME FILES LAYERS SIZE
    [[ -f $OUT/$1/index.json ]] && return
    rm -rf "${OUT:?}/$1"
    python3 "$ROOT/scripts/make-many-files-image.py" "$OUT/$1" "$2" "$3" "$4"
}
make m1m 1000000 1 0
make m2m 2000000 1 0
make p129k 129000 4 512

peak_kib() { # IMAGE → peak RSS in KiB
    /usr/bin/time -v "$IMGAUDIT" analyze --no-cache --format json "$OUT/$1" \
        2>"$OUT/$1.time" >/dev/null
    awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/$1.time"
}
# Entries = files + their directories (one per 1,000 files, plus srv/).
entries() { echo $(($1 + ($1 + 999) / 1000 + 1)); }

r1=$(peak_kib m1m)
r2=$(peak_kib m2m)
r3=$(peak_kib p129k)
e1=$(entries 1000000)
e2=$(entries 2000000)
e3=$(entries 129000)
fail=0
echo "| image | entries | peak RSS MiB | bytes/entry | target |"
echo "|---|---:|---:|---:|---|"
printf '| m1m | %d | %.1f | %d | |\n' "$e1" "$(echo "$r1/1024" | bc -l)" $((r1 * 1024 / e1))
b2=$((r2 * 1024 / e2))
ok2=met
[[ $b2 -le 150 ]] || { ok2=MISSED; fail=1; }
printf '| m2m | %d | %.1f | %d | ≤ 150 bytes/entry: %s |\n' "$e2" "$(echo "$r2/1024" | bc -l)" "$b2" "$ok2"
ok3=met
[[ $r3 -le $((64 * 1024)) ]] || { ok3=MISSED; fail=1; }
printf '| p129k | %d | %.1f | %d | ≤ 64 MiB: %s |\n' "$e3" "$(echo "$r3/1024" | bc -l)" $((r3 * 1024 / e3)) "$ok3"
printf '\nmarginal cost 1M → 2M entries: %d bytes/entry\n' $(((r2 - r1) * 1024 / (e2 - e1)))
exit $fail
