#!/usr/bin/env bash
# categories.sh OUTDIR -- build the "categories" fixture for imgaudit from real
# Debian packages and real Python wheels, as OUTDIR/categories-oci.tar (an
# oci-archive, gzip layers, ~2 MB), plus OUTDIR/categories-expected.json:
# what every built-in category must hold, computed here from the files this
# recipe put in the rootfs (and, for ELF files, from what a real
# `strip --strip-unneeded` removes from a copy of each one).
#
#   L1 RUN apt-get install make libffi-dev   (no cleanup in the same RUN)
#        /usr/bin/make, headers, libffi.a, .pc   -> build-tools (package rule)
#        /usr/share/{doc,man,info}              -> docs (locales excluded,
#                                                  as slim images do)
#        /var/cache/apt/archives/libffi-dev.deb -> package-caches
#        /var/lib/apt/lists/*                   -> package-indexes (a real
#                                                  Release file of this host)
#        /var/log/apt/history.log, dpkg.log      -> logs-temp
#        /var/lib/dpkg/**                        -> base-system
#   L2 RUN pip install six jsonschema safetensors nvidia-cuda-runtime-cu12
#        (wheels unpacked into site-packages with their RECORD; no
#        --no-cache-dir, so pip's cache keeps the small wheels)
#        six, jsonschema                         -> python-packages
#        jsonschema/tests/**                     -> tests
#        __pycache__ (python3 -m compileall)     -> python-bytecode
#        safetensors + its dist-info             -> ml-frameworks
#        nvidia/cuda_runtime + its dist-info     -> cuda
#        /root/.cache/pip/**                     -> package-caches
#   L3 COPY app /app
#        /app/.git (a real `git init` + commit)  -> vcs
#        /app/bin/tool (gcc -g -O1)              -> other + debug-symbols
#        /app/main.py                            -> other
#        /app/build.log                          -> logs-temp
#   L4 RUN rm -rf /root/.cache/pip               -> pip cache hidden (wasted)
#
# Package versions: the wheels are pinned; the .debs are whatever the apt
# mirror has (the expected figures are recomputed whenever this runs).
# Needs (Debian 12, root): umoci skopeo python3 pip dpkg-deb apt-get gcc strip git.
# Usage: testdata/recipes/categories.sh testdata/categories
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"

for tool in umoci skopeo python3 pip dpkg-deb apt-get gcc strip git; do
    command -v "$tool" >/dev/null || { echo "categories.sh: missing $tool" >&2; exit 1; }
done

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
TAG="latest"
DEB_PKGS="make libffi-dev"
WHEELS="six==1.17.0 jsonschema==4.23.0 safetensors==0.8.0 nvidia-cuda-runtime-cu12==12.1.105"
CACHED_WHEELS="six jsonschema"   # the ones left in pip's cache (kept small)
PY=python3.11
SP="usr/local/lib/$PY/site-packages"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
IMG="$WORK/oci"
BUNDLE="$WORK/bundle"
ROOTFS="$BUNDLE/rootfs"
DEBS="$WORK/debs"
WHL="$WORK/wheels"
MARK="$WORK/mark"

# ---------------------------------------------------------------- fetch
echo "== apt-get download $DEB_PKGS"
mkdir -p "$DEBS" "$WHL"
chown _apt "$DEBS" 2>/dev/null || true
if ! (cd "$DEBS" && apt-get download -q $DEB_PKGS); then
    apt-get update -q
    (cd "$DEBS" && apt-get download -q $DEB_PKGS)
fi
echo "== pip download $WHEELS"
# shellcheck disable=SC2086
pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    --platform manylinux1_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 --platform any \
    -d "$WHL" $WHEELS

# deb_of, install_deb, pin_new_times, repack
. "$HERE/lib/deb.sh"

# ---------------------------------------------------------------- image
echo "== umoci: new image"
umoci init --layout "$IMG"
umoci new --image "$IMG:$TAG"
umoci config --image "$IMG:$TAG" --no-history --created "$CREATED" \
    --architecture amd64 --os linux
umoci unpack --rootless --image "$IMG:$TAG" "$BUNDLE"
touch -d "@$SOURCE_DATE_EPOCH" "$ROOTFS"
touch "$MARK"
sleep 1

echo "== L1 apt-get install $DEB_PKGS"
mkdir -p "$ROOTFS/var/lib/dpkg" "$ROOTFS/var/cache/apt/archives/partial" \
    "$ROOTFS/var/lib/apt/lists" "$ROOTFS/var/log/apt" "$ROOTFS/tmp" "$ROOTFS/root"
: >"$ROOTFS/var/lib/dpkg/status"
for p in $DEB_PKGS; do install_deb "$p"; done
# Like slim base images (a dpkg.cfg.d path-exclude), no translations.
rm -rf "$ROOTFS/usr/share/locale"
cp "$(deb_of libffi-dev)" "$ROOTFS/var/cache/apt/archives/"
# A real package index: this host's bookworm InRelease file, under a neutral name.
release=$(find /var/lib/apt/lists -maxdepth 1 -name '*_dists_bookworm_InRelease' | head -n1)
if [ -z "$release" ]; then
    apt-get update -q
    release=$(find /var/lib/apt/lists -maxdepth 1 -name '*_dists_bookworm_InRelease' | head -n1)
fi
cp "$release" "$ROOTFS/var/lib/apt/lists/mirror_debian_dists_bookworm_InRelease"
printf 'Start-Date: 2023-11-14  22:13:20\nCommandline: apt-get install -y %s\nInstall: %s\nEnd-Date: 2023-11-14  22:13:25\n' \
    "$DEB_PKGS" "$DEB_PKGS" >"$ROOTFS/var/log/apt/history.log"
for p in $DEB_PKGS; do
    printf '2023-11-14 22:13:21 status installed %s:amd64 1\n' "$p"
done >"$ROOTFS/var/log/dpkg.log"
repack "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends $DEB_PKGS # buildkit"

echo "== L2 pip install (wheels unpacked with their RECORD; pip cache kept)"
mkdir -p "$ROOTFS/$SP"
for w in "$WHL"/*.whl; do
    python3 -m zipfile -e "$w" "$ROOTFS/$SP"
done
python3 -m compileall -q -j1 "$ROOTFS/$SP/six.py" "$ROOTFS/$SP/jsonschema" >/dev/null
for name in $CACHED_WHEELS; do
    w=$(ls "$WHL"/"$name"-*.whl)
    d="$ROOTFS/root/.cache/pip/wheels/$(sha256sum "$w" | cut -c1-2)/$(sha256sum "$w" | cut -c3-4)"
    mkdir -p "$d"
    cp "$w" "$d/"
done
repack "RUN /bin/sh -c pip install six jsonschema safetensors nvidia-cuda-runtime-cu12 # buildkit"

echo "== L3 COPY app /app"
mkdir -p "$WORK/app/bin"
cat >"$WORK/app/main.py" <<'PYEOF'
"""The application: validates its own settings."""
import jsonschema

if __name__ == "__main__":
    jsonschema.validate({"workers": 2}, {"type": "object"})
    print("ok")
PYEOF
{
    echo '#include <stdio.h>'
    for i in $(seq 0 199); do
        echo "static int t$i[32] = {$i}; int f$i(int x) { int s = 0; for (int k = 0; k < 32; k++) s += t$i[k] * x; return s; }"
    done
    echo 'int main(void) { int s = 1;'
    for i in $(seq 0 199); do echo "s += f$i(s);"; done
    echo 'printf("%d\n", s); return 0; }'
} >"$WORK/tool.c"
gcc -g -O1 -o "$WORK/app/bin/tool" "$WORK/tool.c"
printf 'gcc -g -O1 -o bin/tool tool.c\nbuild ok\n' >"$WORK/app/build.log"
(
    cd "$WORK/app"
    git init -q
    git add main.py
    GIT_AUTHOR_DATE="@$SOURCE_DATE_EPOCH" GIT_COMMITTER_DATE="@$SOURCE_DATE_EPOCH" \
        git -c user.name=imgaudit -c user.email=fixtures@imgaudit.invalid \
        commit -q -m "app"
)
cp -a "$WORK/app" "$ROOTFS/app"
repack "COPY app /app # buildkit"

echo "== L4 rm -rf /root/.cache/pip"
CACHE_BYTES=$(find "$ROOTFS/root/.cache/pip" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
rm -rf "$ROOTFS/root/.cache/pip"
repack "RUN /bin/sh -c rm -rf /root/.cache/pip # buildkit"

umoci config --image "$IMG:$TAG" --config.cmd "python3 /app/main.py" \
    --history.created "$CREATED" --history.created_by 'CMD ["python3", "/app/main.py"]'
umoci config --image "$IMG:$TAG" --no-history --created "$CREATED"
umoci gc --layout "$IMG"

# ---------------------------------------------------------------- expected
echo "== expected figures"
python3 - "$ROOTFS" "$SP" "$CACHE_BYTES" "$DEB_PKGS" >"$OUT/categories-expected.json" <<'PY'
import json, os, shutil, subprocess, sys, tempfile
root, sp, cache_bytes, debs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()

def owner_files(listfile):
    with open(listfile) as f:
        return {l.rstrip("\n") for l in f if l.strip() and l.strip() != "/."}

deb_files = {p: owner_files(f"{root}/var/lib/dpkg/info/{p}.list") for p in debs}

def record(dist):
    """(files, bytes) of a wheel from its own RECORD (RECORD itself counted by its size)."""
    rec = f"{root}/{sp}/{dist}/RECORD"
    files, total = 0, 0
    for line in open(rec):
        path = line.rsplit(",", 2)[0]
        full = os.path.normpath(f"{root}/{sp}/{path}")
        if os.path.isfile(full) and not os.path.islink(full):
            files += 1
            total += os.path.getsize(full)
    return files, total

def intent(p):
    """The category this recipe meant each file for (see the header)."""
    parts = p.split("/")
    if "/.git/" in p:
        return "vcs"
    if p.startswith("/var/lib/apt/lists/"):
        return "package-indexes"
    if p.startswith("/var/cache/apt/") or p.startswith("/root/.cache/"):
        return "package-caches"
    if "/__pycache__/" in p:
        return "python-bytecode"
    if p.startswith("/var/log/") or p.endswith(".log"):
        return "logs-temp"
    if p.startswith("/usr/share/") and parts[3] in ("doc", "man", "info", "locale"):
        return "docs"
    if any(p in files for files in deb_files.values()):
        return "build-tools"
    if f"/{sp}/jsonschema/tests/" in p:
        return "tests"
    if f"/{sp}/nvidia/" in p or f"/{sp}/nvidia_cuda_runtime" in p:
        return "cuda"
    if f"/{sp}/safetensors" in p:
        return "ml-frameworks"
    if f"/{sp}/" in p:
        return "python-packages"
    if p.startswith("/var/lib/dpkg/"):
        return "base-system"
    return "other"

def strip_saves(path):
    """Bytes a real `strip --strip-unneeded` removes from a copy (0 for non-ELF)."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return 0
    with tempfile.TemporaryDirectory() as t:
        c = os.path.join(t, "x")
        shutil.copyfile(path, c)
        if subprocess.run(["strip", "--strip-unneeded", c], capture_output=True).returncode != 0:
            return 0
        return os.path.getsize(path) - os.path.getsize(c)

cats = {}
for dirpath, dirs, files in os.walk(root):
    for n in files:
        full = os.path.join(dirpath, n)
        if os.path.islink(full) or not os.path.isfile(full):
            continue
        p = "/" + os.path.relpath(full, root)
        size = os.path.getsize(full)
        strip = strip_saves(full)
        c = cats.setdefault(intent(p), {"bytes": 0, "strip_bytes": 0, "files": 0})
        c["bytes"] += size
        c["strip_bytes"] += strip
        c["files"] += 1

dpkg = {}
for p, files in deb_files.items():
    total, n = 0, 0
    for f in files:
        full = root + f
        if os.path.isfile(full) and not os.path.islink(full):
            total += os.path.getsize(full)
            n += 1
    dpkg[p] = {"bytes": total, "files": n}
pip = {}
for d in sorted(os.listdir(f"{root}/{sp}")):
    if d.endswith(".dist-info"):
        name = d[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")
        files, total = record(d)
        pip[name] = {"bytes": total, "files": files}

json.dump({
    "categories": cats,
    "wasted": {"package-caches": cache_bytes},
    "dpkg": dpkg,
    "pip": pip,
}, sys.stdout, indent=1, sort_keys=True)
print()
PY

# ---------------------------------------------------------------- output
rm -f "$OUT/categories-oci.tar"
skopeo copy --quiet "oci:$IMG:$TAG" "oci-archive:$OUT/categories-oci.tar:$TAG"
echo "== $OUT/categories-oci.tar: $(stat -c %s "$OUT/categories-oci.tar") bytes"
cat "$OUT/categories-expected.json"
