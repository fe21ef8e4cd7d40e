#!/usr/bin/env bash
# accounting.sh OUTDIR -- build the "accounting" fixture image for imgaudit.
#
# A tiny three-layer image whose every byte figure is known by construction,
# built with umoci (no daemon, no network), then written out in every image
# shape imgaudit reads:
#
#   OUTDIR/oci/                   OCI image layout, gzip layers (umoci's own)
#   OUTDIR/oci-archive.tar        the same as an OCI archive (skopeo)
#   OUTDIR/oci-zstd/              OCI image layout, zstd layers (skopeo)
#   OUTDIR/docker-archive.tar     skopeo docker-archive (<diffid>.tar layers,
#                                 <v1id>/layer.tar symlinks, manifest.json)
#   OUTDIR/docker-archive.tar.gz  the docker-archive, gzip-compressed whole
#   OUTDIR/docker-legacy.tar      Docker <= 24 `docker save` shape (python)
#   OUTDIR/docker25.tar           Docker >= 25 `docker save` shape: OCI layout
#                                 inside the tar + manifest.json pointing into
#                                 blobs/sha256/ (python)
#   OUTDIR/docker-save.tar        optional: a real `docker load` + `docker save`
#                                 round trip through whatever dockerd is here
#                                 (Debian 12's 20.10 daemon writes the legacy
#                                 shape); skipped with a message if no dockerd
#   OUTDIR/expected.json          figures computed by this script from the sizes
#                                 it wrote -- never from an analysis tool
#
# Layers (sizes exact, contents from lib/pattern.py, seeded by path):
#   L1 (umoci repack): /a/big.bin 100000, /a/keep.txt 1234, /etc/conf 500,
#      /cache/pip/x.whl 30000, /cache/pip/y.whl 5000, /dir/sub/f1 7000,
#      /dir/sub/f2 3000, /hl/orig 4096 + hardlink /hl/orig-link, symlink
#      /bin/sh2 -> /bin/sh (dangling).
#   L2 (umoci repack): /etc/conf rewritten to 800 B, rm /a/big.bin,
#      rm -r /dir (umoci emits a single `.wh.dir`), add /new.txt 2000.
#   (an ENV history entry with empty_layer=true, no layer)
#   L3 (hand-made tar, `umoci raw add-layer`): cache/pip/z.whl 600 B and, AFTER
#      it in tar order, cache/pip/.wh..wh..opq; plus hl/.wh.orig.
#
# Why /hl/orig-link and not /hl/link: umoci writes entries in lexical order
# and the first path of an inode becomes the regular-file entry. With
# "link" < "orig" the bytes would sit on /hl/link and the whiteout of /hl/orig
# would only remove the hardlink entry. Naming it "orig-link" keeps /hl/orig
# as the regular entry that carries the 4096 bytes, so L3 whites out the entry
# that holds the data while the hardlink entry keeps the inode alive. The
# recipe asserts that layout.
#
# Needs: umoci skopeo python3 (pigz or gzip); docker.io optional.
# Runs as root (umoci --rootless is used anyway). Usage:
#   testdata/recipes/accounting.sh testdata/generated/accounting
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB="$HERE/lib"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"

for tool in umoci skopeo python3; do
    command -v "$tool" >/dev/null || { echo "accounting.sh: missing $tool" >&2; exit 1; }
done

# Fixed times so that rebuilding gives the same tar headers and history.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
# Reference used wherever a repository name is needed (docker-archive etc.).
# An explicit localhost/ keeps tools from prefixing a registry host.
DOCKER_REF="localhost/imgaudit-accounting:latest"
TAG="latest"

WORK="$(mktemp -d)"
DOCKERD_PID=""
cleanup() {
    if [ -n "$DOCKERD_PID" ]; then
        kill "$DOCKERD_PID" 2>/dev/null || true
        for _ in $(seq 1 30); do
            kill -0 "$DOCKERD_PID" 2>/dev/null || break
            sleep 1
        done
        kill -9 "$DOCKERD_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- sizes
# Every size used below is defined here once and used both to write the
# files and to compute expected.json.
SZ_BIG=100000      # /a/big.bin          L1, deleted in L2
SZ_KEEP=1234       # /a/keep.txt         L1, survives
SZ_CONF1=500       # /etc/conf           L1, overwritten in L2
SZ_X=30000         # /cache/pip/x.whl    L1, hidden by L3 opaque
SZ_Y=5000          # /cache/pip/y.whl    L1, hidden by L3 opaque
SZ_F1=7000         # /dir/sub/f1         L1, /dir removed in L2
SZ_F2=3000         # /dir/sub/f2         L1, /dir removed in L2
SZ_HL=4096         # /hl/orig (+ hardlink /hl/orig-link)  L1, orig whited out in L3
SZ_CONF2=800       # /etc/conf           L2, survives
SZ_NEW=2000        # /new.txt            L2, survives
SZ_Z=600           # /cache/pip/z.whl    L3, survives (same layer as the opaque marker)

CB_L1='/bin/sh -c #(imgaudit) L1 base: /a /etc/conf /cache/pip /dir/sub /hl (hardlink) /bin/sh2 (symlink)'
CB_L2='/bin/sh -c #(imgaudit) L2 rewrite /etc/conf; rm /a/big.bin; rm -r /dir; add /new.txt'
CB_ENV='/bin/sh -c #(nop)  ENV PIP_CACHE_DIR=/cache/pip'
CB_L3='/bin/sh -c #(imgaudit) L3 hand-made tar: opaque /cache/pip (+ z.whl), whiteout /hl/orig'

put() { # put PATH-IN-IMAGE SIZE -- write SIZE deterministic bytes seeded by the path
    local dest="$ROOTFS$1"
    mkdir -p "$(dirname "$dest")"
    python3 "$LIB/pattern.py" "$1" "$2" "$dest"
}
pin_times() { # every path in the rootfs gets the same mtime, so unchanged paths never diff
    find "$ROOTFS" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

IMG="$WORK/oci"
BUNDLE="$WORK/bundle"
ROOTFS="$BUNDLE/rootfs"

echo "== umoci: new image"
umoci init --layout "$IMG"
umoci new --image "$IMG:$TAG"
umoci config --image "$IMG:$TAG" --no-history --created "$CREATED" \
    --architecture amd64 --os linux --config.cmd /bin/sh2
umoci unpack --rootless --image "$IMG:$TAG" "$BUNDLE"

echo "== L1"
put /a/big.bin        "$SZ_BIG"
put /a/keep.txt       "$SZ_KEEP"
put /etc/conf         "$SZ_CONF1"
put /cache/pip/x.whl  "$SZ_X"
put /cache/pip/y.whl  "$SZ_Y"
put /dir/sub/f1       "$SZ_F1"
put /dir/sub/f2       "$SZ_F2"
put /hl/orig          "$SZ_HL"
ln "$ROOTFS/hl/orig" "$ROOTFS/hl/orig-link"
mkdir -p "$ROOTFS/bin"
ln -s /bin/sh "$ROOTFS/bin/sh2"
pin_times
umoci repack --refresh-bundle --image "$IMG:$TAG" \
    --history.created "$CREATED" --history.created_by "$CB_L1" "$BUNDLE"

echo "== L2"
rm "$ROOTFS/etc/conf"
put /etc/conf "$SZ_CONF2"
rm "$ROOTFS/a/big.bin"
rm -r "$ROOTFS/dir"
put /new.txt "$SZ_NEW"
pin_times
umoci repack --refresh-bundle --image "$IMG:$TAG" \
    --history.created "$CREATED" --history.created_by "$CB_L2" "$BUNDLE"

echo "== ENV (history only, empty_layer)"
umoci config --image "$IMG:$TAG" --config.env PIP_CACHE_DIR=/cache/pip \
    --history.created "$CREATED" --history.created_by "$CB_ENV"

echo "== L3 (hand-made tar)"
SZ_Z="$SZ_Z" EPOCH="$SOURCE_DATE_EPOCH" python3 - "$LIB" "$WORK/l3.tar" <<'PY'
import io, os, sys, tarfile
sys.path.insert(0, sys.argv[1])
from pattern import pattern
epoch = int(os.environ["EPOCH"])
tar = tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT)
def add(name, kind, data=b"", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = epoch
    ti.uname = ti.gname = "root"
    ti.size = len(data)
    tar.addfile(ti, io.BytesIO(data) if data else None)
# Order matters for the test: the opaque marker comes AFTER the new file in
# the same directory. OCI: the opaque applies to lower layers only, whatever
# its position, so z.whl must survive.
add("cache/", tarfile.DIRTYPE, mode=0o755)
add("cache/pip/", tarfile.DIRTYPE, mode=0o755)
add("cache/pip/z.whl", tarfile.REGTYPE, pattern("/cache/pip/z.whl", int(os.environ["SZ_Z"])))
add("cache/pip/.wh..wh..opq", tarfile.REGTYPE)
add("hl/", tarfile.DIRTYPE, mode=0o755)
add("hl/.wh.orig", tarfile.REGTYPE)
tar.close()
PY
umoci raw add-layer --image "$IMG:$TAG" \
    --history.created "$CREATED" --history.created_by "$CB_L3" "$WORK/l3.tar"

# Pin the config's own timestamp last (repack/add-layer refresh it), then
# drop the unreferenced intermediate blobs.
umoci config --image "$IMG:$TAG" --no-history --created "$CREATED"
umoci gc --layout "$IMG"

echo "== check what umoci actually wrote"
# Structural assertions only (entry names and types, and that regular-file
# sizes are the ones written above). expected.json is NOT derived from this.
python3 - "$IMG" <<PY
import json, sys, tarfile
img = sys.argv[1]
blob = lambda d: f"{img}/blobs/sha256/" + d.split(":", 1)[1]
idx = json.load(open(f"{img}/index.json"))
assert len(idx["manifests"]) == 1, idx
man = json.load(open(blob(idx["manifests"][0]["digest"])))
want = [
    # L1: regular files with sizes, the hardlink, the symlink; anything else must be a dir
    {"a/big.bin": ("0", $SZ_BIG), "a/keep.txt": ("0", $SZ_KEEP), "etc/conf": ("0", $SZ_CONF1),
     "cache/pip/x.whl": ("0", $SZ_X), "cache/pip/y.whl": ("0", $SZ_Y),
     "dir/sub/f1": ("0", $SZ_F1), "dir/sub/f2": ("0", $SZ_F2), "hl/orig": ("0", $SZ_HL),
     "hl/orig-link": ("1", "hl/orig"), "bin/sh2": ("2", "/bin/sh")},
    # L2
    {"etc/conf": ("0", $SZ_CONF2), "new.txt": ("0", $SZ_NEW),
     "a/.wh.big.bin": ("0", 0), ".wh.dir": ("0", 0)},
    # L3
    {"cache/pip/z.whl": ("0", $SZ_Z), "cache/pip/.wh..wh..opq": ("0", 0), "hl/.wh.orig": ("0", 0)},
]
assert len(man["layers"]) == 3, man
for i, (desc, exp) in enumerate(zip(man["layers"], want), 1):
    assert desc["mediaType"].endswith("tar+gzip"), desc
    got = {}
    print(f"  L{i} {desc['digest']} ({desc['size']} B gzip)")
    for m in tarfile.open(blob(desc["digest"]), "r:gz"):
        name = m.name[2:] if m.name.startswith("./") else m.name
        extra = f" -> {m.linkname}" if m.linkname else ""
        print(f"     {m.type.decode()} {m.size:>7} {name}{extra}")
        if m.isdir():
            continue
        got[name] = (m.type.decode(), m.linkname if m.type in (b"1", b"2") else m.size)
    assert got == exp, f"L{i}: umoci wrote {got}, expected {exp}"
# L3's tar order: z.whl precedes the opaque marker
names = [m.name for m in tarfile.open(blob(man["layers"][2]["digest"]), "r:gz")]
assert names.index("cache/pip/z.whl") < names.index("cache/pip/.wh..wh..opq"), names
cfg = json.load(open(blob(man["config"]["digest"])))
hist = [(h.get("created_by"), bool(h.get("empty_layer"))) for h in cfg["history"]]
assert hist == [("""$CB_L1""", False), ("""$CB_L2""", False),
                ("""$CB_ENV""", True), ("""$CB_L3""", False)], hist
print("  layer contents match the recipe")
PY

echo "== shapes"
rm -rf "$OUT/oci" "$OUT/oci-zstd" "$OUT/oci-archive.tar" "$OUT/docker-archive.tar" \
    "$OUT/docker-archive.tar.gz" "$OUT/docker-legacy.tar" "$OUT/docker25.tar" \
    "$OUT/docker-save.tar" "$OUT/expected.json"
cp -a "$IMG" "$OUT/oci"
skopeo copy --quiet "oci:$OUT/oci:$TAG" "oci-archive:$OUT/oci-archive.tar:$TAG"
skopeo copy --quiet --dest-compress-format zstd "oci:$OUT/oci:$TAG" "oci:$OUT/oci-zstd:$TAG"
skopeo copy --quiet "oci:$OUT/oci:$TAG" "docker-archive:$OUT/docker-archive.tar:$DOCKER_REF"
if command -v pigz >/dev/null; then
    pigz -n -9 -c "$OUT/docker-archive.tar" >"$OUT/docker-archive.tar.gz"
else
    gzip -n -9 -c "$OUT/docker-archive.tar" >"$OUT/docker-archive.tar.gz"
fi
python3 "$LIB/docker_shapes.py" legacy "$OUT/docker-archive.tar" "$OUT/docker-legacy.tar"
python3 "$LIB/docker_shapes.py" docker25 "$OUT/docker-archive.tar" "$OUT/docker25.tar"

# zstd layout really has zstd layers (skopeo would silently keep gzip otherwise)
python3 - "$OUT/oci-zstd" <<'PY'
import json, sys
img = sys.argv[1]
idx = json.load(open(f"{img}/index.json"))
man = json.load(open(f"{img}/blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
for l in man["layers"]:
    assert l["mediaType"].endswith("+zstd"), l
    with open(f"{img}/blobs/sha256/" + l["digest"].split(":")[1], "rb") as f:
        assert f.read(4) == b"\x28\xb5\x2f\xfd", "not a zstd frame"
PY

# ---------------------------------------------------------------- docker save
DOCKER_SAVE_SHAPE="skipped"
docker_round_trip() {
    if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
        echo "   docker/dockerd not installed: skipping docker-save.tar"
        return 0
    fi
    if ! docker info >/dev/null 2>&1; then
        # No daemon reachable: start a private one (own socket, data and exec
        # roots under $WORK) and stop it again in cleanup().
        mkdir -p "$WORK/docker"
        dockerd --storage-driver=vfs --iptables=false --bridge=none \
            --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" \
            --pidfile "$WORK/docker/dockerd.pid" \
            -H "unix://$WORK/docker/docker.sock" >"$WORK/docker/dockerd.log" 2>&1 &
        DOCKERD_PID=$!
        export DOCKER_HOST="unix://$WORK/docker/docker.sock"
        local ok=""
        for _ in $(seq 1 60); do
            if docker info >/dev/null 2>&1; then ok=1; break; fi
            kill -0 "$DOCKERD_PID" 2>/dev/null || break
            sleep 1
        done
        if [ -z "$ok" ]; then
            echo "   dockerd did not start (log tail below): skipping docker-save.tar"
            tail -n 5 "$WORK/docker/dockerd.log" | sed 's/^/     /' || true
            return 0
        fi
    fi
    if ! docker load -q -i "$OUT/docker-archive.tar"; then
        echo "   docker load failed: skipping docker-save.tar"
        return 0
    fi
    if ! docker save -o "$OUT/docker-save.tar" "$DOCKER_REF"; then
        echo "   docker save failed: skipping docker-save.tar"
        rm -f "$OUT/docker-save.tar"
        docker rmi "$DOCKER_REF" >/dev/null 2>&1 || true
        return 0
    fi
    docker rmi "$DOCKER_REF" >/dev/null 2>&1 || true
    if tar -tf "$OUT/docker-save.tar" | grep -qx 'index.json'; then
        DOCKER_SAVE_SHAPE="docker25"
    else
        DOCKER_SAVE_SHAPE="legacy"
    fi
    echo "   docker-save.tar written by dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?') ($DOCKER_SAVE_SHAPE shape)"
}
echo "== docker load + docker save"
docker_round_trip

# ---------------------------------------------------------------- expected.json
# All figures are arithmetic on the SZ_* sizes defined above.
echo "== expected.json"
export SZ_BIG SZ_KEEP SZ_CONF1 SZ_X SZ_Y SZ_F1 SZ_F2 SZ_HL SZ_CONF2 SZ_NEW SZ_Z
export CB_L1 CB_L2 CB_ENV CB_L3 DOCKER_REF TAG DOCKER_SAVE_SHAPE
python3 - "$OUT/expected.json" <<'PY'
import json, os, sys
S = {k: int(os.environ[k]) for k in
     "SZ_BIG SZ_KEEP SZ_CONF1 SZ_X SZ_Y SZ_F1 SZ_F2 SZ_HL SZ_CONF2 SZ_NEW SZ_Z".split()}

# Per-layer regular files as written (path -> bytes). A hardlink entry is a
# path, not bytes: it is listed under "hardlinks" and adds 0 to file_bytes.
L1 = {"/a/big.bin": S["SZ_BIG"], "/a/keep.txt": S["SZ_KEEP"], "/etc/conf": S["SZ_CONF1"],
      "/cache/pip/x.whl": S["SZ_X"], "/cache/pip/y.whl": S["SZ_Y"],
      "/dir/sub/f1": S["SZ_F1"], "/dir/sub/f2": S["SZ_F2"], "/hl/orig": S["SZ_HL"]}
L2 = {"/etc/conf": S["SZ_CONF2"], "/new.txt": S["SZ_NEW"]}
L3 = {"/cache/pip/z.whl": S["SZ_Z"]}

# file_bytes(layer) = sum of regular-file sizes in that layer's tar
#   L1 = BIG + KEEP + CONF1 + X + Y + F1 + F2 + HL   (the hardlink adds 0)
#   L2 = CONF2 + NEW
#   L3 = Z
fb1 = S["SZ_BIG"] + S["SZ_KEEP"] + S["SZ_CONF1"] + S["SZ_X"] + S["SZ_Y"] + S["SZ_F1"] + S["SZ_F2"] + S["SZ_HL"]
fb2 = S["SZ_CONF2"] + S["SZ_NEW"]
fb3 = S["SZ_Z"]
assert fb1 == sum(L1.values()) and fb2 == sum(L2.values()) and fb3 == sum(L3.values())

# Stacking (OCI rules):
#  L2 /etc/conf replaces L1 /etc/conf           -> L1 CONF1 bytes not visible
#  L2 a/.wh.big.bin deletes L1 /a/big.bin       -> L1 BIG bytes not visible
#  L2 .wh.dir deletes L1 /dir and all below     -> L1 F1 + F2 not visible
#  L3 cache/pip/.wh..wh..opq hides the LOWER children of /cache/pip (x.whl,
#     y.whl) but not L3's own z.whl, even though z.whl precedes it in the tar
#  L3 hl/.wh.orig deletes the path /hl/orig; /hl/orig-link is the same inode
#     and is still visible, so the HL bytes stay live (counted once, in L1)
# Final visible regular files (path -> bytes; every hardlink path listed,
# its inode's bytes counted once):
final_files = {
    "/a/keep.txt": S["SZ_KEEP"],          # L1
    "/hl/orig-link": S["SZ_HL"],          # L1 inode (written as /hl/orig)
    "/etc/conf": S["SZ_CONF2"],           # L2
    "/new.txt": S["SZ_NEW"],              # L2
    "/cache/pip/z.whl": S["SZ_Z"],        # L3
}
# final_bytes = KEEP + HL + CONF2 + NEW + Z   (one inode each, no hardlink duplicates left)
final_bytes = S["SZ_KEEP"] + S["SZ_HL"] + S["SZ_CONF2"] + S["SZ_NEW"] + S["SZ_Z"]

# wasted(layer) = bytes that layer wrote and that are not visible at the end
#   L1 = BIG + CONF1 + X + Y + F1 + F2       (KEEP and HL survive)
#   L2 = 0                                   (CONF2 and NEW survive)
#   L3 = 0                                   (Z survives)
w1 = S["SZ_BIG"] + S["SZ_CONF1"] + S["SZ_X"] + S["SZ_Y"] + S["SZ_F1"] + S["SZ_F2"]
w2 = 0
w3 = 0
# wasted_bytes = sum(file_bytes) - final_bytes, and it equals the per-layer sum
total_file_bytes = fb1 + fb2 + fb3
wasted = total_file_bytes - final_bytes
assert wasted == w1 + w2 + w3, (wasted, w1, w2, w3)

largest = max(final_files.items(), key=lambda kv: (kv[1], kv[0]))

doc = {
    "_comment": [
        "Generated by testdata/recipes/accounting.sh from the sizes it wrote;",
        "see the formulas in that script. Bytes are uncompressed file-content bytes.",
        "file_bytes: sum of regular-file sizes in the layer tar (hardlink, symlink,",
        "directory and whiteout entries add 0).",
        "wasted_bytes (layer): bytes written by that layer not visible in the final image.",
        "final_bytes: regular files visible after stacking, each inode counted once.",
        "files: visible regular-file paths, every hardlink path counted.",
        "history has 4 entries; the ENV one is empty_layer and has no layer.",
    ],
    "image": {"ref": os.environ["DOCKER_REF"], "oci_tag": os.environ["TAG"]},
    "layers": [
        {"index": 0, "created_by": os.environ["CB_L1"], "file_bytes": fb1, "wasted_bytes": w1,
         "regular_files": L1, "hardlinks": {"/hl/orig-link": "/hl/orig"},
         "symlinks": {"/bin/sh2": "/bin/sh"}, "whiteouts": [], "opaque_dirs": [],
         "wasted_paths": ["/a/big.bin", "/cache/pip/x.whl", "/cache/pip/y.whl",
                          "/dir/sub/f1", "/dir/sub/f2", "/etc/conf"]},
        {"index": 1, "created_by": os.environ["CB_L2"], "file_bytes": fb2, "wasted_bytes": w2,
         "regular_files": L2, "hardlinks": {}, "symlinks": {},
         "whiteouts": ["/a/big.bin", "/dir"], "opaque_dirs": [], "wasted_paths": []},
        {"index": 2, "created_by": os.environ["CB_L3"], "file_bytes": fb3, "wasted_bytes": w3,
         "regular_files": L3, "hardlinks": {}, "symlinks": {},
         "whiteouts": ["/hl/orig"], "opaque_dirs": ["/cache/pip"], "wasted_paths": []},
    ],
    "history": [
        {"created_by": os.environ["CB_L1"], "empty_layer": False, "layer_index": 0},
        {"created_by": os.environ["CB_L2"], "empty_layer": False, "layer_index": 1},
        {"created_by": os.environ["CB_ENV"], "empty_layer": True, "layer_index": None},
        {"created_by": os.environ["CB_L3"], "empty_layer": False, "layer_index": 2},
    ],
    "total_file_bytes": total_file_bytes,
    "final_bytes": final_bytes,
    "wasted_bytes": wasted,
    "files": len(final_files),
    "final_files": dict(sorted(final_files.items())),
    "final_symlinks": {"/bin/sh2": "/bin/sh"},
    "largest_file": {"path": largest[0], "bytes": largest[1]},
    "fixtures": {
        "oci": {"kind": "oci-layout", "layer_compression": "gzip"},
        "oci-archive.tar": {"kind": "oci-archive", "layer_compression": "gzip"},
        "oci-zstd": {"kind": "oci-layout", "layer_compression": "zstd"},
        "docker-archive.tar": {"kind": "docker-archive (skopeo)", "layer_compression": "none"},
        "docker-archive.tar.gz": {"kind": "docker-archive, whole tar gzipped", "layer_compression": "none"},
        "docker-legacy.tar": {"kind": "docker save <= 24 (legacy)", "layer_compression": "none"},
        "docker25.tar": {"kind": "docker save >= 25 (OCI layout + manifest.json)", "layer_compression": "none"},
    },
}
shape = os.environ["DOCKER_SAVE_SHAPE"]
if shape != "skipped":
    doc["fixtures"]["docker-save.tar"] = {"kind": f"real docker save ({shape} shape)",
                                          "layer_compression": "none"}
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PY

echo "== summary ($OUT)"
python3 - "$OUT/expected.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
for l in e["layers"]:
    print(f"  L{l['index'] + 1}: file_bytes={l['file_bytes']:>7}  wasted={l['wasted_bytes']:>7}")
print(f"  total file bytes {e['total_file_bytes']}, final {e['final_bytes']}, "
      f"wasted {e['wasted_bytes']}, files {e['files']}, "
      f"largest {e['largest_file']['path']} ({e['largest_file']['bytes']} B)")
print("  fixtures: " + ", ".join(e["fixtures"]))
PY
