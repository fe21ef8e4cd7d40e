#!/usr/bin/env bash
# bench-explorer.sh — the explorer page at scale (docs/PERFORMANCE.md, "The
# explorer page"): generate a 130,000-path image, write its HTML report, and
# load it in headless Chromium N times, printing the file size and the page's
# own time from navigation start to the explorer drawn (body data-ready-ms).
#
# Usage: scripts/bench-explorer.sh [OUTDIR] [RUNS]   (default target/explorer-bench 5)
# Needs: python3, chromium; IMGAUDIT (default target/release/imgaudit, else
# target/debug/imgaudit: the page is the same whichever build writes it).
set -euo pipefail
OUT=${1:-target/explorer-bench}
RUNS=${2:-5}
BIN=${IMGAUDIT:-}
if [[ -z $BIN ]]; then
    BIN=target/release/imgaudit
    [[ -x $BIN ]] || BIN=target/debug/imgaudit
fi
mkdir -p "$OUT"
[[ -f $OUT/oci/index.json ]] || python3 "$(dirname "$0")/make-explorer-image.py" "$OUT/oci"
"$BIN" analyze "oci:$OUT/oci" -q --format html --output "$OUT/explorer.html"
echo "html bytes: $(stat -c %s "$OUT/explorer.html")"
page="file://$(cd "$OUT" && pwd)/explorer.html"
for i in $(seq "$RUNS"); do
    profile=$(mktemp -d)
    dom=$(chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$profile" --window-size=1280,900 \
        --dump-dom "$page" 2>/dev/null)
    rm -rf "$profile"
    ms=$(grep -o 'data-ready-ms="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || true)
    boxes=$(grep -o 'data-treemap-boxes="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || true)
    echo "run $i: explorer drawn after ${ms:-?} ms (${boxes:-?} boxes)"
done
