# deb.sh -- shared by the fixture recipes that build images from real .debs
# with umoci: install a downloaded .deb into a rootfs the way `dpkg -i` would
# (unpack + a real dpkg database entry), pin timestamps, cut a layer.
# Callers set DEBS (the downloaded .debs), ROOTFS, WORK (scratch space), MARK
# (a timestamp file), IMG, TAG, BUNDLE, CREATED and SOURCE_DATE_EPOCH.

deb_of() { # deb_of PKG -> path of its downloaded .deb
    local f
    for f in "$DEBS/$1"_*.deb; do
        [ -e "$f" ] && { echo "$f"; return 0; }
    done
    echo "recipe: no .deb downloaded for $1" >&2
    return 1
}

install_deb() { # install_deb PKG: unpack + register in the dpkg database, like dpkg -i would
    local pkg="$1" deb ctl
    deb="$(deb_of "$pkg")"
    ctl="$WORK/ctl-$pkg"
    dpkg-deb -x "$deb" "$ROOTFS"
    mkdir -p "$ROOTFS/var/lib/dpkg/info" "$ctl"
    dpkg-deb -e "$deb" "$ctl"
    # info/PKG.list: every path of the package, "/." for the root, no trailing
    # slash, symlink/hardlink targets dropped (the format dpkg writes).
    dpkg-deb -c "$deb" \
        | sed -E 's/^([^ ]+ +){5}//; s/ -> .*$//; s/ link to .*$//; s#^\./#/#; s#/$##; s#^$#/.#' \
        >"$ROOTFS/var/lib/dpkg/info/$pkg.list"
    [ -f "$ctl/md5sums" ] && cp "$ctl/md5sums" "$ROOTFS/var/lib/dpkg/info/$pkg.md5sums"
    [ -f "$ctl/conffiles" ] && cp "$ctl/conffiles" "$ROOTFS/var/lib/dpkg/info/$pkg.conffiles"
    # status stanza: the control fields with "Status: install ok installed"
    # after Package, and a Conffiles field (path + md5 of the shipped file).
    dpkg-deb -f "$deb" >"$ctl/fields"
    python3 - "$ctl/fields" "$ctl/conffiles" "$ROOTFS" >>"$ROOTFS/var/lib/dpkg/status" <<'PY'
import hashlib, os, sys
fields, conffiles, root = sys.argv[1:]
lines = open(fields).read().rstrip("\n").split("\n")
out = []
for line in lines:
    out.append(line)
    if line.startswith("Package:"):
        out.append("Status: install ok installed")
if os.path.exists(conffiles):
    cf = [p.strip() for p in open(conffiles) if p.strip() and not p.startswith("remove-on-upgrade")]
    if cf:
        # Conffiles goes before Description in dpkg's status file
        i = next((n for n, l in enumerate(out) if l.startswith("Description:")), len(out))
        entries = ["Conffiles:"]
        for p in cf:
            with open(root + p, "rb") as f:
                entries.append(f" {p} {hashlib.md5(f.read()).hexdigest()}")
        out[i:i] = entries
print("\n".join(out))
print()
PY
}


pin_new_times() { # everything created or changed since the last call gets SOURCE_DATE_EPOCH
    find "$ROOTFS" -newer "$MARK" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    touch "$MARK"
}
repack() { # repack "CREATED_BY"
    pin_new_times
    umoci repack --refresh-bundle --image "$IMG:$TAG" \
        --history.created "$CREATED" --history.created_by "$1" "$BUNDLE"
}
