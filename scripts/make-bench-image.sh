#!/usr/bin/env bash
# make-bench-image.sh — build a realistic, many-layer container image for
# benchmarking imgaudit, from real packages only (nothing is copied into git).
#
# Usage: scripts/make-bench-image.sh OUTDIR [small|medium|large]
#
#   small  ≈ 0.5 GB of files,  8 layers, ≈ 30k files (quick iteration)
#   medium ≈ 2 GB of files,   12 layers, ≈ 100k files (the reference size)
#   large  ≈ 8 GB of files,   12 layers (not yet measured; adds the PyPI torch
#          wheel and its nvidia-* wheels, and duplicates them in a later layer)
#
# Contents: a Debian bookworm minbase rootfs (debootstrap), further Debian
# packages unpacked from .debs fetched with `apt-get download`, and Python
# wheels fetched with `pip download --no-deps` unpacked into
# /opt/venv/lib/python3.11/site-packages, spread over several layers. Two late
# layers waste bytes the way real Dockerfiles do: one deletes documentation,
# test suites and part of a header tree (whiteouts), one swaps the numpy version and
# runs `chmod -R` over large trees (every touched file is stored again).
#
# Layers are built one at a time with umoci (init/new/unpack, then
# `repack --refresh-bundle` per layer; umoci gzips them) and exported with
# skopeo as OUTDIR/bench-oci.tar (oci-archive) and OUTDIR/bench-docker.tar
# (docker-archive; skopeo stores those layers uncompressed). The OCI layout
# itself stays in OUTDIR/oci (tag "bench").
#
# Downloads are cached in OUTDIR/downloads (or $BENCH_DOWNLOADS), so reruns
# only rebuild. Needs: root (debootstrap, ownership), debootstrap, umoci,
# skopeo, apt-get, pip, python3, GNU tar. Network: the Debian mirror configured
# for apt and the Python package index configured for pip.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [small|medium|large]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
OUTDIR=$1
SIZE=${2:-medium}
case $SIZE in small | medium | large) ;; *) usage ;; esac
[[ $(id -u) -eq 0 ]] || { echo "$0: run as root (debootstrap, file ownership)" >&2; exit 2; }
for t in debootstrap umoci skopeo apt-get pip python3 tar; do
    command -v "$t" >/dev/null || { echo "$0: missing tool: $t" >&2; exit 2; }
done

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
DL=${BENCH_DOWNLOADS:-$OUTDIR/downloads}
mkdir -p "$DL/debs" "$DL/wheels" "$DL/rootfs"
DL=$(cd "$DL" && pwd)
OCI=$OUTDIR/oci
BUNDLE=$OUTDIR/bundle
PY=python3.11
SP=/opt/venv/lib/$PY/site-packages
log() { printf '[make-bench-image %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------- downloads

# Fetch Debian packages (no dependency resolution: we only unpack them).
fetch_debs() {
    local p
    for p in "$@"; do
        if ! compgen -G "$DL/debs/${p}_*.deb" >/dev/null; then
            log "apt-get download $p"
            (cd "$DL/debs" && apt-get download -q -o APT::Sandbox::User=root "$p" >/dev/null)
        fi
    done
}

deb_file() { compgen -G "$DL/debs/${1}_*.deb" | sort -V | tail -n1; }

# The newest linux-headers-*-common package the apt lists know (or the one
# already cached).
linux_headers_pkg() {
    local f
    f=$(compgen -G "$DL/debs/linux-headers-*-common_*.deb" | sort -V | tail -n1 || true)
    if [[ -n $f ]]; then
        basename "$f" | cut -d_ -f1
    else
        apt-cache search --names-only '^linux-headers-[0-9.]+-[0-9]+-common$' |
            cut -d' ' -f1 | sort -V | tail -n1
    fi
}

PIP_TARGET=(--only-binary=:all: --no-deps --python-version 3.11 --implementation cp
    --abi cp311 --abi abi3 --abi none
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64
    --platform manylinux_2_24_x86_64 --platform manylinux_2_27_x86_64
    --platform manylinux_2_28_x86_64 --platform any)

wheel_glob() { # name==version → a glob matching the wheel's file name
    local name=${1%%==*} ver=${1#*==}
    echo "${name//-/_}-${ver}-*.whl"
}

# Fetch pinned wheels (name==version) into the cache.
fetch_wheels() {
    local s missing=()
    for s in "$@"; do
        [[ -n $(find "$DL/wheels" -maxdepth 1 -iname "$(wheel_glob "$s")" -print -quit) ]] ||
            missing+=("$s")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    log "pip download ${missing[*]}"
    pip download -q --disable-pip-version-check "${PIP_TARGET[@]}" -d "$DL/wheels" "${missing[@]}"
}

wheel_file() { find "$DL/wheels" -maxdepth 1 -iname "$(wheel_glob "$1")" | sort | tail -n1; }

# Debian bookworm minbase, cached as a tarball (no device nodes).
fetch_rootfs() {
    local tarball=$DL/rootfs/bookworm-minbase.tar
    if [[ ! -s $tarball ]]; then
        local tmp=$DL/rootfs/tmp
        rm -rf "$tmp"
        log "debootstrap --variant=minbase bookworm (a few minutes)"
        mkdir -p "$DL/rootfs/debootstrap-cache"
        debootstrap --variant=minbase --cache-dir="$DL/rootfs/debootstrap-cache" \
            bookworm "$tmp" >"$DL/rootfs/debootstrap.log" 2>&1 ||
            { tail -20 "$DL/rootfs/debootstrap.log" >&2; exit 1; }
        tar -C "$tmp" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' \
            --exclude='./sys/*' -cf "$tarball.part" .
        mv "$tarball.part" "$tarball"
        rm -rf "$tmp"
    fi
}

# ------------------------------------------------------------- what goes in

# Pinned wheel versions (cp311, manylinux x86_64) so figures are repeatable.
W_NUMPY=numpy==2.4.6
W_NUMPY_OLD=numpy==1.26.4
W_SCI_SMALL=("$W_NUMPY" scipy==1.17.1 pandas==3.1.1)
W_SCI=("${W_SCI_SMALL[@]}" scikit-learn==1.9.1 sympy==1.14.0 matplotlib==3.11.2)
W_DATA=(pyarrow==26.0.1 grpcio==1.85.1 protobuf==7.36.2 opencv-python-headless==5.0.0.93)
W_WEB_SMALL=(django==5.2.19 botocore==1.44.5 boto3==1.44.5 plotly==5.24.1)
W_WEB=("${W_WEB_SMALL[@]}" kubernetes==37.0.2 babel==2.18.0 pytz==2026.6 tzdata==2026.6
    python-dateutil==4.0.0 six==1.17.0 mypy==2.4.1 ansible==12.3.0)
W_ML=(transformers==5.23.0 tokenizers==0.23.3)
W_TORCH=(torch==2.9.1 nvidia-cublas-cu12==12.8.4.1 nvidia-cudnn-cu12==9.10.2.21
    nvidia-cusparse-cu12==12.5.8.93 nvidia-cufft-cu12==11.3.3.83 nvidia-nccl-cu12==2.27.5
    nvidia-cusolver-cu12==11.7.3.90 triton==3.5.1)

D_PYTHON=(python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
    libpython3.11 libexpat1 libffi8 libsqlite3-0 libssl3 libbz2-1.0 liblzma5 libncursesw6
    libreadline8 ca-certificates openssl tzdata)
D_TOOLCHAIN=(gcc-12 cpp-12 g++-12 libstdc++-12-dev libgcc-12-dev binutils
    binutils-x86-64-linux-gnu libbinutils libctf0 libgprofng0 libc6-dev linux-libc-dev
    libc-dev-bin libpython3.11-dev libssl-dev perl perl-modules-5.36 libperl5.36 git
    git-man curl libcurl4 vim-runtime make libllvm15)
D_HEADERS=(libboost1.74-dev golang-1.19-src)

case $SIZE in
small) LAYERS=(base python sci-small web-small cleanup upgrade app config) ;;
medium | large) LAYERS=(base python toolchain headers sci data web ml cleanup upgrade app config) ;;
esac

# ----------------------------------------------------------------- builders

unpack_debs() { # ROOTFS PKG...
    local root=$1 p f
    shift
    for p in "$@"; do
        f=$(deb_file "$p")
        [[ -n $f ]] || { echo "$0: no cached .deb for $p" >&2; exit 1; }
        # keep-directory-symlink: bookworm's /lib, /bin, … are symlinks into /usr.
        dpkg-deb --fsys-tarfile "$f" | tar -C "$root" -x --keep-directory-symlink
    done
}

# Unpack wheels the way an installer lays them out (purelib/platlib →
# site-packages, scripts → bin, data → prefix), keeping file modes.
install_wheels() { # ROOTFS PREFIX SITE-PACKAGES SPEC...
    local root=$1 prefix=$2 site=$3 s files=()
    shift 3
    for s in "$@"; do files+=("$(wheel_file "$s")"); done
    python3 - "$root$prefix" "$root$site" "${files[@]}" <<'EOF'
import os, stat, sys, zipfile
prefix, site, wheels = sys.argv[1], sys.argv[2], sys.argv[3:]
for whl in wheels:
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            name = info.filename
            parts = name.split("/")
            if len(parts) > 2 and parts[0].endswith(".data"):
                kind, rest = parts[1], "/".join(parts[2:])
                base = {"purelib": site, "platlib": site, "scripts": prefix + "/bin",
                        "headers": prefix + "/include", "data": prefix}.get(kind, site)
                dest = os.path.join(base, rest)
            else:
                dest = os.path.join(site, name)
            if name.endswith("/"):
                os.makedirs(dest, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if os.path.lexists(dest):
                os.unlink(dest)
            with z.open(info) as src, open(dest, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(dest, 0o755 if mode & 0o111 else 0o644)
EOF
}

build_layer() { # NAME ROOTFS
    local r=$2
    case $1 in
    base)
        tar -C "$r" --numeric-owner -xpf "$DL/rootfs/bookworm-minbase.tar" ;;
    python)
        unpack_debs "$r" "${D_PYTHON[@]}"
        ln -sf $PY "$r/usr/bin/python3"
        mkdir -p "$r$SP" "$r/opt/venv/bin"
        ln -sf /usr/bin/$PY "$r/opt/venv/bin/python" ;;
    toolchain)
        unpack_debs "$r" "${D_TOOLCHAIN[@]}" ;;
    headers)
        unpack_debs "$r" "${D_HEADERS[@]}" "$(linux_headers_pkg)" ;;
    sci-small) install_wheels "$r" /opt/venv "$SP" "${W_SCI_SMALL[@]}" ;;
    sci) install_wheels "$r" /opt/venv "$SP" "${W_SCI[@]}" ;;
    data) install_wheels "$r" /opt/venv "$SP" "${W_DATA[@]}" ;;
    web-small) install_wheels "$r" /opt/venv "$SP" "${W_WEB_SMALL[@]}" ;;
    web) install_wheels "$r" /opt/venv "$SP" "${W_WEB[@]}" ;;
    ml)
        install_wheels "$r" /opt/venv "$SP" "${W_ML[@]}"
        if [[ $SIZE == large ]]; then install_wheels "$r" /opt/venv "$SP" "${W_TORCH[@]}"; fi ;;
    cleanup)
        # The classic "RUN rm -rf" layer: everything deleted here still ships below.
        rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man "$r"/usr/share/info \
            "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
            "$r"/usr/share/locale/[a-d]* "$r"/usr/lib/go-1.19/test "$r"/usr/include/boost/asio
        find "$r$SP" -depth -type d \( -name tests -o -name test -o -name testing \) \
            -exec rm -rf {} + ;;
    upgrade)
        # "pip install numpy<2": the old numpy is whited out / overwritten.
        rm -rf "$r$SP"/numpy "$r$SP"/numpy-*.dist-info "$r$SP"/numpy.libs
        install_wheels "$r" /opt/venv "$SP" "$W_NUMPY_OLD"
        # "RUN chmod -R g+w": every file touched is stored again in this layer.
        chmod -R g+w "$r$SP"/pandas "$r$SP"/plotly "$r"/usr/lib/$PY
        if [[ $SIZE == large ]]; then chmod -R g+w "$r$SP"/torch "$r$SP"/nvidia; fi ;;
    app)
        # The application: a vendored copy of django plus its own settings.
        install_wheels "$r" /app /app/vendor django==5.2.19
        mkdir -p "$r/app/conf"
        printf 'DEBUG = False\nALLOWED_HOSTS = ["*"]\n' >"$r/app/conf/settings.py" ;;
    config)
        printf 'imgaudit benchmark image (%s)\n' "$SIZE" >"$r/etc/motd"
        printf '%s\n' "$SIZE" >"$r/app/VERSION" ;;
    *) echo "$0: unknown layer $1" >&2; exit 1 ;;
    esac
}

# -------------------------------------------------------------------- main

log "size=$SIZE out=$OUTDIR downloads=$DL"
fetch_rootfs
fetch_debs "${D_PYTHON[@]}"
if [[ $SIZE != small ]]; then
    fetch_debs "${D_TOOLCHAIN[@]}" "${D_HEADERS[@]}" "$(linux_headers_pkg)"
fi
fetch_wheels "${W_SCI[@]}" "${W_DATA[@]}" "${W_WEB[@]}" "${W_ML[@]}"
fetch_wheels "$W_NUMPY_OLD" # on its own: pip refuses two versions of one name in one call
if [[ $SIZE == large ]]; then fetch_wheels "${W_TORCH[@]}"; fi

rm -rf "$OCI" "$BUNDLE" "$OUTDIR/bench-oci.tar" "$OUTDIR/bench-docker.tar" "$OUTDIR/.built"
umoci init --layout "$OCI"
umoci new --image "$OCI:bench"
umoci config --image "$OCI:bench" --os linux --architecture amd64 \
    --config.env "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "PYTHONPATH=/app/vendor" --config.workingdir /app \
    --config.cmd "/opt/venv/bin/python" --config.cmd "-m" --config.cmd "http.server"
umoci unpack --image "$OCI:bench" "$BUNDLE" >/dev/null

for name in "${LAYERS[@]}"; do
    log "layer $name"
    build_layer "$name" "$BUNDLE/rootfs"
    umoci repack --refresh-bundle --history.created_by "imgaudit-bench: $name" \
        --image "$OCI:bench" "$BUNDLE"
done
umoci gc --layout "$OCI"

log "export oci-archive and docker-archive"
skopeo --insecure-policy copy -q "oci:$OCI:bench" "oci-archive:$OUTDIR/bench-oci.tar:bench"
skopeo --insecure-policy copy -q "oci:$OCI:bench" \
    "docker-archive:$OUTDIR/bench-docker.tar:imgaudit-bench:$SIZE"

# ------------------------------------------------------------------ summary
final_bytes=$(du -sb "$BUNDLE/rootfs" | cut -f1)
final_entries=$(find "$BUNDLE/rootfs" -mindepth 1 | wc -l)
final_files=$(find "$BUNDLE/rootfs" -type f | wc -l)
read -r nlayers stored < <(python3 - "$OCI" <<'EOF'
import json, sys, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = idx["manifests"][0]["digest"].split(":")
man = json.load(open(os.path.join(d, "blobs", m[0], m[1])))
print(len(man["layers"]), sum(l["size"] for l in man["layers"]))
EOF
)
rm -rf "$BUNDLE"
{
    echo "size=$SIZE"
    echo "layers=$nlayers"
    echo "compressed_layer_bytes=$stored"
    echo "final_rootfs_bytes=$final_bytes"
    echo "final_rootfs_entries=$final_entries"
    echo "final_rootfs_files=$final_files"
    echo "oci_archive_bytes=$(stat -c %s "$OUTDIR/bench-oci.tar")"
    echo "docker_archive_bytes=$(stat -c %s "$OUTDIR/bench-docker.tar")"
} | tee "$OUTDIR/bench-image.txt"
cp "$OUTDIR/bench-image.txt" "$OUTDIR/.built"
log "done: $OUTDIR/bench-oci.tar, $OUTDIR/bench-docker.tar ($final_files files, $final_bytes bytes in the final filesystem)"
