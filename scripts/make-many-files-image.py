#!/usr/bin/env python3
"""make-many-files-image.py OUTDIR FILES [LAYERS [SIZE]] — a generated OCI layout
for measuring memory per entry (docs/PERFORMANCE.md, "Memory per entry"):
FILES regular files of SIZE bytes each (default 0: empty), 1,000 to a
directory (`srv/dNNNN/fNNNNNNN`), spread evenly over LAYERS gzip layers
(default 1). Written as raw ustar headers streamed through gzip, so two
million entries take seconds and little memory.
Pack it as an oci-archive with: tar -C OUTDIR -cf OUT.tar .
"""
import hashlib, json, os, sys, zlib

out = sys.argv[1]
files = int(sys.argv[2])
nlayers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
size = int(sys.argv[4]) if len(sys.argv) > 4 else 0
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)


def put(b):
    d = hashlib.sha256(b).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(b)
    return "sha256:" + d


def header(name, typeflag, size):
    h = bytearray(512)
    n = name.encode()
    assert len(n) < 100
    h[0 : len(n)] = n
    h[100:108] = (b"0000644" if typeflag == b"0" else b"0000755") + b"\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


data = bytes(size)
pad = bytes(-size % 512)
layers, diff_ids = [], []
per_layer = -(-files // nlayers)
for l in range(nlayers):
    tmp = os.path.join(blobs, "tmp")
    diff, stored = hashlib.sha256(), hashlib.sha256()
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    gz_size = 0
    with open(tmp, "wb") as f:

        def emit(b):
            global gz_size
            diff.update(b)
            c = z.compress(b)
            stored.update(c)
            gz_size += len(c)
            f.write(c)

        first, last = l * per_layer, min(files, (l + 1) * per_layer)
        chunk = []
        for i in range(first, last):
            if i % 1000 == 0 or i == first:
                chunk.append(header(f"srv/d{i // 1000:04d}/", b"5", 0))
            chunk.append(header(f"srv/d{i // 1000:04d}/f{i:07d}", b"0", size))
            if size:
                chunk.append(data + pad)
            if len(chunk) >= 4096:
                emit(b"".join(chunk))
                chunk = []
        chunk.append(bytes(1024))
        emit(b"".join(chunk))
        c = z.flush()
        stored.update(c)
        gz_size += len(c)
        f.write(c)
    d = stored.hexdigest()
    os.replace(tmp, os.path.join(blobs, d))
    diff_ids.append("sha256:" + diff.hexdigest())
    layers.append(
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + d, "size": gz_size}
    )
cfg = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"RUN step {i}"} for i in range(nlayers)],
    }
).encode()
m = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
        "layers": layers,
    }
).encode()
md = put(m)
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(out, "index.json"), "w") as f:
    f.write(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(m)}],
            }
        )
    )
