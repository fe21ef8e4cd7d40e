#!/usr/bin/env python3
"""make-explorer-image.py OUTDIR [PATHS] -- a generated OCI layout for the
explorer bench (docs/PERFORMANCE.md, "The explorer page"): PATHS final file
paths (default 130,000) in a deep, package-like tree over 8 gzip layers, file
sizes log-normal (a few large libraries, many small files), one layer that
rewrites files and one that deletes a directory (so layers have modified,
removed and hidden files). Contents are zeros: only sizes and paths matter."""
import gzip, hashlib, io, json, os, random, sys, tarfile

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 130_000
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
rnd = random.Random(16)

def put(b):
    d = hashlib.sha256(b).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(b)
    return "sha256:" + d

roots = ["usr/lib/x86_64-linux-gnu", "usr/share/doc", "usr/share/locale",
         "usr/local/lib/python3.11/site-packages", "usr/include", "opt/app/node_modules",
         "usr/local/cuda/lib64", "usr/share/man"]

def paths(n, layer):
    for i in range(n):
        r = roots[rnd.randrange(len(roots))]
        depth = rnd.randint(1, 4)
        parts = [f"p{rnd.randrange(40 if d == 0 else 12)}" for d in range(depth)]
        yield f"{r}/{'/'.join(parts)}/f{layer}_{i}.{rnd.choice(['so', 'py', 'h', 'txt', 'js', 'mo'])}"

def size():
    return min(int(rnd.lognormvariate(7.5, 1.8)), 200_000_000)

layers, diff_ids, history, written = [], [], [], []
per = total // 6
plan = [("base", per), ("runtime", per), ("python", per), ("node", per), ("cuda", per),
        ("app", total - 5 * per), ("rewrite", 0), ("cleanup", 0)]
for l, (name, n) in enumerate(plan):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        def add(p, sz):
            ti = tarfile.TarInfo(p)
            ti.size = sz
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(bytes(sz)))
        if name == "rewrite":
            for p in rnd.sample(written, 3000):
                add(p, size())
        elif name == "cleanup":
            ti = tarfile.TarInfo("usr/share/doc/.wh.p1")
            t.addfile(ti)
            ti = tarfile.TarInfo("opt/app/node_modules/.wh.p2")
            t.addfile(ti)
        else:
            for p in paths(n, l):
                written.append(p)
                add(p, size())
    raw = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    gz = gzip.compress(raw, 1, mtime=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": put(gz), "size": len(gz)})
    history.append({"created_by": f"RUN install {name}"})
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": diff_ids},
                  "history": history}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": put(cfg), "size": len(cfg)},
                "layers": layers}).encode()
md = put(m)
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(m),
        "annotations": {"org.opencontainers.image.ref.name": "explorer"}}]}, f)
