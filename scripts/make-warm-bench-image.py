#!/usr/bin/env python3
"""make-warm-bench-image.py OUTDIR — a generated OCI layout for timing warm runs
(docs/PERFORMANCE.md, "Warm runs with the layer cache's checks"): 24 gzip layers of
2,000 files each with random contents (seeded), 48,000 files, about 95 MB.
Pack it as an oci-archive with: tar -C OUTDIR -cf OUT.tar .
"""
import hashlib, io, json, os, random, sys, tarfile, gzip
out = sys.argv[1]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
rnd = random.Random(7)
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(blobs, d), "wb").write(b)
    return "sha256:" + d
layers, diff_ids = [], []
for l in range(24):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for f in range(2000):
            data = rnd.randbytes(rnd.randint(10, 4000))
            ti = tarfile.TarInfo(f"usr/share/l{l % 6}/d{f % 50}/file{f}.dat")
            ti.size = len(data); ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    gz = gzip.compress(raw, 1, mtime=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(gz), "size": len(gz)})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
                  "history": [{"created_by": f"RUN step {i}"} for i in range(24)]}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
                "layers": layers}).encode()
md = put(m)
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(out, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(m)}]}))
