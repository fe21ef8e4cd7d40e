#!/usr/bin/env python3
"""Re-shape a `docker-archive` tar (as written by `skopeo copy ... docker-archive:`)
into the two layouts that `docker save` has produced over the years.

usage: docker_shapes.py legacy   IN.tar OUT.tar
       docker_shapes.py docker25 IN.tar OUT.tar

legacy   -- Docker <= 24 `docker save` (graph-driver image store):
              <v1id>/VERSION      "1.0"
              <v1id>/json         legacy v1 image JSON for that layer
              <v1id>/layer.tar    the uncompressed layer (a real file)
              <config-hex>.json   the image config
              manifest.json       [{"Config": "<hex>.json", "RepoTags": [...],
                                    "Layers": ["<v1id>/layer.tar", ...]}]
              repositories        {"<name>": {"<tag>": "<top v1id>"}}

docker25 -- Docker >= 25 `docker save` (graph-driver image store): an OCI image
            layout inside the tar, plus the Docker manifest.json whose Config and
            Layers point *into* blobs/sha256/:
              blobs/sha256/<diffid-hex>   uncompressed layers (digest == diff_id)
              blobs/sha256/<config-hex>   the image config
              blobs/sha256/<hex>          one legacy v1 JSON per layer (unreferenced,
                                          Docker writes them too)
              blobs/sha256/<manifest-hex> OCI manifest (layers media type
                                          application/vnd.oci.image.layer.v1.tar)
              index.json, oci-layout
              manifest.json   [{"Config": "blobs/sha256/<hex>", "RepoTags": [...],
                                "Layers": ["blobs/sha256/<hex>", ...],
                                "LayerSources": {"sha256:<diffid>": {descriptor}}}]
              repositories

The layer bytes are copied verbatim, so both outputs have exactly the same
layer content (and diff_ids) as the input. Entry mtimes are the image's
`created` time (falling back to 0) so the output is deterministic.
"""
import hashlib
import io
import json
import sys
import tarfile
from datetime import datetime, timezone


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_docker_archive(path):
    """Return (config_bytes, [layer_bytes...], repo_tags) from a docker-archive tar."""
    with tarfile.open(path) as tar:
        members = {(m.name[2:] if m.name.startswith("./") else m.name): m
                   for m in tar.getmembers()}

        def read(name, depth=0):
            m = members[name]
            if m.issym() and depth < 8:
                # skopeo writes <v1id>/layer.tar as a symlink to ../<diffid>.tar
                target = m.linkname
                if not target.startswith("/"):
                    parts = name.split("/")[:-1] + target.split("/")
                    stack = []
                    for p in parts:
                        if p == "..":
                            stack.pop()
                        elif p not in ("", "."):
                            stack.append(p)
                    target = "/".join(stack)
                return read(target.lstrip("/"), depth + 1)
            f = tar.extractfile(m)
            return f.read()

        manifest = json.loads(read("manifest.json"))
        if len(manifest) != 1:
            sys.exit("expected exactly one image in %s" % path)
        item = manifest[0]
        config = read(item["Config"])
        layers = [read(name) for name in item["Layers"]]
        return config, layers, item.get("RepoTags") or []


def created_epoch(config: dict) -> int:
    created = config.get("created")
    if not created:
        return 0
    # 2023-11-14T22:13:20Z or with fractional seconds
    created = created.rstrip("Z").split(".")[0]
    return int(datetime.strptime(created, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp())


def chain_ids(diff_ids):
    """OCI ChainID: chain[0] = diff[0]; chain[n] = sha256(chain[n-1] + " " + diff[n])."""
    out = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + sha256_hex((out[-1] + " " + d).encode()))
    return out


def v1_entries(config: dict, diff_ids):
    """Legacy v1 layer JSON documents and their ids, shaped like Docker's.

    Non-top layers get a minimal document with a zero `created`; the top layer
    carries the image's config fields, as `docker save` does. The id is the
    sha256 of the document (with layer_id/parent folded in), like moby's
    v1.CreateID, so ids are stable and chain through `parent`.
    """
    docs = []
    parent = ""
    chains = chain_ids(diff_ids)
    for i, chain in enumerate(chains):
        top = i == len(chains) - 1
        if top:
            doc = {k: v for k, v in config.items()
                   if k in ("created", "author", "architecture", "os", "config",
                            "container_config", "variant")}
        else:
            doc = {"created": "1970-01-01T00:00:00Z",
                   "container_config": {"Hostname": "", "Domainname": "", "User": "",
                                        "AttachStdin": False, "AttachStdout": False,
                                        "AttachStderr": False, "Tty": False,
                                        "OpenStdin": False, "StdinOnce": False,
                                        "Env": None, "Cmd": None, "Image": "",
                                        "Volumes": None, "WorkingDir": "",
                                        "Entrypoint": None, "OnBuild": None,
                                        "Labels": None},
                   "os": config.get("os", "linux")}
        id_src = dict(doc, layer_id=chain, parent=parent)
        v1id = sha256_hex(json.dumps(id_src, sort_keys=True, separators=(",", ":")).encode())
        doc = dict(doc, id=v1id)
        if parent:
            doc["parent"] = parent
        docs.append((v1id, json.dumps(doc, separators=(",", ":")).encode()))
        parent = v1id
    return docs


class TarWriter:
    def __init__(self, path, mtime):
        self.tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)
        self.mtime = mtime
        self.dirs = set()

    def _dirs_for(self, name):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.dirs:
                self.dirs.add(d)
                ti = tarfile.TarInfo(d)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                ti.mtime = self.mtime
                self.tar.addfile(ti)

    def add(self, name, data: bytes, mode=0o644):
        self._dirs_for(name)
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = mode
        ti.mtime = self.mtime
        self.tar.addfile(ti, io.BytesIO(data))

    def close(self):
        self.tar.close()


def split_tag(repo_tag: str):
    name, _, tag = repo_tag.rpartition(":")
    if "/" in tag or not name:
        return repo_tag, "latest"
    return name, tag


def write_legacy(config_bytes, layers, repo_tags, out):
    config = json.loads(config_bytes)
    diff_ids = config["rootfs"]["diff_ids"]
    assert len(diff_ids) == len(layers), "config diff_ids do not match layer count"
    for d, data in zip(diff_ids, layers):
        assert d == "sha256:" + sha256_hex(data), "layer bytes do not match diff_id " + d
    v1 = v1_entries(config, diff_ids)
    config_hex = sha256_hex(config_bytes)
    w = TarWriter(out, created_epoch(config))
    # Docker walks its temp dir in lexical order; do the same.
    files = {}
    for (v1id, doc), data in zip(v1, layers):
        files[v1id + "/VERSION"] = b"1.0"
        files[v1id + "/json"] = doc
        files[v1id + "/layer.tar"] = data
    files[config_hex + ".json"] = config_bytes
    manifest = [{"Config": config_hex + ".json", "RepoTags": repo_tags or None,
                 "Layers": [v1id + "/layer.tar" for v1id, _ in v1]}]
    files["manifest.json"] = (json.dumps(manifest, separators=(",", ":")) + "\n").encode()
    if repo_tags:
        repos = {}
        for rt in repo_tags:
            name, tag = split_tag(rt)
            repos.setdefault(name, {})[tag] = v1[-1][0]
        files["repositories"] = (json.dumps(repos, separators=(",", ":")) + "\n").encode()
    for name in sorted(files):
        w.add(name, files[name])
    w.close()


def write_docker25(config_bytes, layers, repo_tags, out):
    config = json.loads(config_bytes)
    diff_ids = config["rootfs"]["diff_ids"]
    assert len(diff_ids) == len(layers), "config diff_ids do not match layer count"
    blobs = {}
    layer_descs = []
    for d, data in zip(diff_ids, layers):
        assert d == "sha256:" + sha256_hex(data), "layer bytes do not match diff_id " + d
        blobs[d.split(":", 1)[1]] = data
        layer_descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": d, "size": len(data)})
    config_hex = sha256_hex(config_bytes)
    blobs[config_hex] = config_bytes
    v1 = v1_entries(config, diff_ids)
    for _, doc in v1:
        blobs[sha256_hex(doc)] = doc
    platform = {"architecture": config.get("architecture", "amd64"),
                "os": config.get("os", "linux")}
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + config_hex, "size": len(config_bytes),
                   "platform": platform},
        "layers": layer_descs,
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    manifest_hex = sha256_hex(manifest_bytes)
    blobs[manifest_hex] = manifest_bytes
    index_manifests = []
    for rt in repo_tags:
        _, tag = split_tag(rt)
        index_manifests.append({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + manifest_hex, "size": len(manifest_bytes),
            "annotations": {"io.containerd.image.name": rt,
                            "org.opencontainers.image.ref.name": tag},
            "platform": platform})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": index_manifests}
    docker_manifest = [{
        "Config": "blobs/sha256/" + config_hex,
        "RepoTags": repo_tags or None,
        "Layers": ["blobs/sha256/" + d.split(":", 1)[1] for d in diff_ids],
        "LayerSources": {d["digest"]: {"mediaType": d["mediaType"], "size": d["size"],
                                       "digest": d["digest"]} for d in layer_descs},
    }]
    files = {"blobs/sha256/" + h: data for h, data in blobs.items()}
    files["index.json"] = json.dumps(index, separators=(",", ":")).encode()
    files["manifest.json"] = (json.dumps(docker_manifest, separators=(",", ":")) + "\n").encode()
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    if repo_tags:
        repos = {}
        for rt in repo_tags:
            name, tag = split_tag(rt)
            repos.setdefault(name, {})[tag] = v1[-1][0]
        files["repositories"] = (json.dumps(repos, separators=(",", ":")) + "\n").encode()
    w = TarWriter(out, created_epoch(config))
    for name in sorted(files):
        w.add(name, files[name])
    w.close()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("legacy", "docker25"):
        sys.exit(__doc__)
    mode, src, dst = sys.argv[1:]
    config_bytes, layers, repo_tags = read_docker_archive(src)
    if mode == "legacy":
        write_legacy(config_bytes, layers, repo_tags, dst)
    else:
        write_docker25(config_bytes, layers, repo_tags, dst)


if __name__ == "__main__":
    main()
