#!/usr/bin/env bash
# demo.sh OUTDIR -- build the README demo image for imgaudit from real Debian
# packages, as OUTDIR/demo-oci.tar (an oci-archive, gzip layers, ~2-3 MB).
#
# The .debs are fetched with `apt-get download` (from whatever Debian mirror
# apt is configured for) and unpacked with `dpkg-deb -x` into a rootfs; each
# package also gets a real /var/lib/dpkg/status stanza (from `dpkg-deb -f`)
# and /var/lib/dpkg/info/PKG.list (from `dpkg-deb -c`), plus its md5sums and
# conffiles. Layers are cut with umoci, and their history lines read like the
# Dockerfile that would have made them:
#
#   L1 RUN  base-files + busybox-static; /bin/sh is a HARDLINK to
#           /bin/busybox, applets are SYMLINKS to it; /etc/passwd, /etc/group
#   L2 RUN  apt-get install hello netbase media-types zlib1g libzstd1
#           -> /var/lib/dpkg/status OVERWRITTEN (first written in L1), and
#              the downloaded .debs are left in the apt CACHE dir
#              /var/cache/apt/archives/
#   L3 RUN  rm -rf /usr/share/doc/* /usr/share/man/*  -> files DELETED in a
#           later layer (whiteouts over L1 and L2 content)
#   L4 RUN  append to /etc/services (OVERWRITES netbase's file), write
#           /etc/motd
#   CMD ["/bin/sh"]  (history entry without a layer)
#
# So every imgaudit column has something in it: overwritten, deleted, cache,
# hardlink, symlink. Package versions are whatever the mirror has today, so
# the output is reproducible-ish: file mtimes are pinned to SOURCE_DATE_EPOCH
# (packaged files keep their own), history/config times too.
#
# Needs (Debian 12): umoci skopeo python3 dpkg apt; run as root.
# Usage: testdata/recipes/demo.sh testdata/demo
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"

for tool in umoci skopeo python3 dpkg-deb apt-get; do
    command -v "$tool" >/dev/null || { echo "demo.sh: missing $tool" >&2; exit 1; }
done

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
TAG="latest"

BASE_PKGS="base-files busybox-static"
APP_PKGS="hello netbase media-types zlib1g libzstd1"
APPLETS="ls cat echo cp mv rm mkdir ln grep sed awk vi wget tar gzip ps"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"  # apt-get download hands the fetch to the _apt user
IMG="$WORK/oci"
BUNDLE="$WORK/bundle"
ROOTFS="$BUNDLE/rootfs"
DEBS="$WORK/debs"
MARK="$WORK/mark"

# ---------------------------------------------------------------- fetch
echo "== apt-get download $BASE_PKGS $APP_PKGS"
mkdir -p "$DEBS"
# apt drops privileges to _apt for downloads; let it write here (falls back
# to an unsandboxed download with a warning if there is no _apt user).
chown _apt "$DEBS" 2>/dev/null || true
fetch() {
    (cd "$DEBS" && apt-get download -q $BASE_PKGS $APP_PKGS)
}
if ! fetch; then
    echo "   apt-get download failed; running apt-get update and retrying"
    apt-get update -q
    fetch
fi
# ---------------------------------------------------------------- helpers
# deb_of, install_deb, pin_new_times, repack
. "$(dirname "$0")/lib/deb.sh"

# ---------------------------------------------------------------- image
echo "== umoci: new image"
umoci init --layout "$IMG"
umoci new --image "$IMG:$TAG"
umoci config --image "$IMG:$TAG" --no-history --created "$CREATED" \
    --architecture amd64 --os linux
umoci unpack --rootless --image "$IMG:$TAG" "$BUNDLE"
touch -d "@$SOURCE_DATE_EPOCH" "$ROOTFS"
touch "$MARK"
sleep 1  # so that anything written from here on is strictly -newer than $MARK

echo "== L1 base-files + busybox-static"
mkdir -p "$ROOTFS/var/lib/dpkg" "$ROOTFS/root" "$ROOTFS/tmp"
chmod 1777 "$ROOTFS/tmp"
chmod 700 "$ROOTFS/root"
: >"$ROOTFS/var/lib/dpkg/status"
for p in $BASE_PKGS; do install_deb "$p"; done
ln "$ROOTFS/bin/busybox" "$ROOTFS/bin/sh"           # hardlink
for a in $APPLETS; do ln -s busybox "$ROOTFS/bin/$a"; done  # symlinks
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
repack "RUN /bin/sh -c dpkg-deb -x base-files.deb / && dpkg-deb -x busybox-static.deb / && ln /bin/busybox /bin/sh && for a in $APPLETS; do ln -s busybox /bin/\$a; done # buildkit"

echo "== L2 apt-get install $APP_PKGS (debs left in the apt cache)"
mkdir -p "$ROOTFS/var/cache/apt/archives/partial"
for p in $APP_PKGS; do
    cp "$(deb_of "$p")" "$ROOTFS/var/cache/apt/archives/"
    install_deb "$p"
done
repack "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends $APP_PKGS # buildkit"

echo "== L3 rm docs and man pages"
rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
repack "RUN /bin/sh -c rm -rf /usr/share/doc/* /usr/share/man/* # buildkit"

echo "== L4 local config"
printf 'webcache\t8080/tcp\t\t\t# imgaudit demo\n' >>"$ROOTFS/etc/services"
printf 'imgaudit demo image: see what every layer costs.\n' >"$ROOTFS/etc/motd"
repack "RUN /bin/sh -c printf 'webcache\\t8080/tcp\\n' >> /etc/services && echo 'imgaudit demo image' > /etc/motd # buildkit"

umoci config --image "$IMG:$TAG" --config.cmd /bin/sh \
    --history.created "$CREATED" --history.created_by 'CMD ["/bin/sh"]'
umoci config --image "$IMG:$TAG" --no-history --created "$CREATED"
umoci gc --layout "$IMG"

# ---------------------------------------------------------------- output
rm -f "$OUT/demo-oci.tar"
skopeo copy --quiet "oci:$IMG:$TAG" "oci-archive:$OUT/demo-oci.tar:$TAG"

echo "== summary ($OUT/demo-oci.tar, $(stat -c %s "$OUT/demo-oci.tar") bytes)"
python3 - "$IMG" <<'PY'
import json, sys, tarfile
img = sys.argv[1]
blob = lambda d: f"{img}/blobs/sha256/" + d.split(":", 1)[1]
idx = json.load(open(f"{img}/index.json"))
man = json.load(open(blob(idx["manifests"][0]["digest"])))
cfg = json.load(open(blob(man["config"]["digest"])))
hist = [h for h in cfg["history"] if not h.get("empty_layer")]
for i, (l, h) in enumerate(zip(man["layers"], hist), 1):
    kinds = {"file": 0, "bytes": 0, "hardlink": 0, "symlink": 0, "whiteout": 0}
    for m in tarfile.open(blob(l["digest"]), "r:gz"):
        base = m.name.rsplit("/", 1)[-1]
        if base.startswith(".wh."):
            kinds["whiteout"] += 1
        elif m.isreg():
            kinds["file"] += 1
            kinds["bytes"] += m.size
        elif m.islnk():
            kinds["hardlink"] += 1
        elif m.issym():
            kinds["symlink"] += 1
    print(f"  L{i} {l['size']:>8} B gz  " + " ".join(f"{k}={v}" for k, v in kinds.items()))
    print(f"       {h['created_by'][:100]}")
PY
