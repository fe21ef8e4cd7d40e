//! Hostile and broken outer archives (issue 7, "outer archive" group):
//! manifest.json paths that leave the archive, `./` prefixes, symlinked
//! members and symlink cycles, oversized and deeply nested documents, the
//! Docker 25+ shapes, gzip-compressed docker-save archives and archives with
//! no directory entries. Each fixture is written member by member here.

use crate::common::{analyze_err, analyze_json};
use crate::hostile_fixtures::{docker_save, write_archive, write_owned, M};
use crate::layout::{gzip, oci, pack, put_blob, sha, tar, write_index, Img, E};
use serde_json::json;

fn layer() -> Vec<u8> {
    tar(&[E::File("etc/hostname", 100), E::File("bin/tool", 900)])
}

#[test]
fn manifest_layer_paths_leaving_the_archive_are_refused() {
    for bad in ["../outside.tar", "/etc/passwd", "0/../../x.tar", "/"] {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("img.tar");
        write_owned(
            &p,
            docker_save(&[layer()], |m, _| m[0]["Layers"][0] = json!(bad)),
        );
        let err = analyze_err(p.to_str().unwrap(), &[]);
        assert!(
            err.contains("img.tar")
                && (err.contains("leaves the image") || err.contains("empty path")),
            "{bad}: {err}"
        );
    }
    // The config path too, absolute this time (the `..` case is in errors.rs).
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("img.tar");
    write_owned(
        &p,
        docker_save(&[layer()], |m, _| m[0]["Config"] = json!("/etc/passwd")),
    );
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(err.contains("leaves the image"), "{err}");
}

#[test]
fn dot_slash_prefixes_are_accepted() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("img.tar");
    let mut members = docker_save(&[layer()], |m, _| {
        m[0]["Config"] = json!("./config.json");
        m[0]["Layers"][0] = json!("./0/layer.tar");
    });
    // Member names with `./` too, as `tar -C dir .` writes them.
    for (name, _) in members.iter_mut() {
        *name = format!("./{name}");
    }
    write_owned(&p, members);
    let a = analyze_json(p.to_str().unwrap(), &[]);
    assert_eq!(a["totals"]["final_bytes"], 1000);
}

#[test]
fn symlinked_layer_member_one_hop_is_followed_and_cycles_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("img.tar");
    let l = layer();
    let mut members = docker_save(std::slice::from_ref(&l), |m, _| {
        m[0]["Layers"][0] = json!("0/layer.tar");
    });
    // The layer is a symlink to a blob stored elsewhere, as Docker 25+ writes.
    members.retain(|(n, _)| n != "0/layer.tar");
    members.push(("blobs/sha256/abc".into(), M::File(l)));
    members.push(("0/layer.tar".into(), M::Sym("../blobs/sha256/abc")));
    write_owned(&p, members);
    assert_eq!(
        analyze_json(p.to_str().unwrap(), &[])["totals"]["final_bytes"],
        1000
    );

    // A cycle: a -> b -> a.
    let q = t.path().join("cycle.tar");
    let mut members = docker_save(&[layer()], |_, _| {});
    members.retain(|(n, _)| n != "0/layer.tar");
    members.push(("0/layer.tar".into(), M::Sym("other.tar")));
    members.push(("0/other.tar".into(), M::Sym("layer.tar")));
    write_owned(&q, members);
    let err = analyze_err(q.to_str().unwrap(), &[]);
    assert!(
        err.contains("cycle.tar") && err.contains("symlink chain longer than 8 hops"),
        "{err}"
    );

    // A symlink member that points out of the archive is not followed.
    let r = t.path().join("escape.tar");
    let mut members = docker_save(&[layer()], |_, _| {});
    members.retain(|(n, _)| n != "0/layer.tar");
    members.push(("0/layer.tar".into(), M::Sym("../../../../etc/passwd")));
    write_owned(&r, members);
    let err = analyze_err(r.to_str().unwrap(), &[]);
    assert!(err.contains("leaves the image"), "{err}");
}

#[test]
fn oversized_documents_in_an_archive_are_refused() {
    let pad = "x".repeat((4 << 20) + 1);
    // manifest.json over 4 MiB.
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("big-manifest.tar");
    let mut members = docker_save(&[layer()], |_, _| {});
    members[0].1 =
        M::File(format!(r#"[{{"Config":"config.json","Layers":[],"X":"{pad}"}}]"#).into_bytes());
    write_owned(&p, members);
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("manifest.json") && err.contains("larger than the 4.2 MB limit (4194304 bytes)"),
        "{err}"
    );
    // The config over 4 MiB.
    let p = t.path().join("big-config.tar");
    write_owned(&p, docker_save(&[layer()], |_, c| c["pad"] = json!(pad)));
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("config") && err.contains("larger than the 4.2 MB limit (4194304 bytes)"),
        "{err}"
    );
    // index.json over 4 MiB inside an OCI archive (the layout case is in errors.rs).
    let dir = t.path().join("layout");
    std::fs::create_dir(&dir).unwrap();
    Img::new().gz(layer()).write(&dir, |_, _| {});
    std::fs::write(
        dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[],"x":"{pad}"}}"#),
    )
    .unwrap();
    let p = t.path().join("big-index.tar");
    pack(&dir, &p);
    let err = analyze_err(&format!("oci-archive:{}", p.display()), &[]);
    assert!(
        err.contains("index.json") && err.contains("larger than"),
        "{err}"
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    // index.json of an OCI layout, nested 100,000 deep (well under 4 MiB).
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(layer()).write(t.path(), |_, _| {});
    std::fs::write(
        t.path().join("index.json"),
        format!(r#"{{"x":{},"manifests":[]}}"#, deep(100_000)),
    )
    .unwrap();
    // serde_json skips unknown fields without recursing: parsed, then empty.
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(err.contains("lists no image manifests"), "{err}");
    // Where the nesting meets a typed field it is a type error, and where a
    // free-form value recurses, serde_json's depth limit (128) stops it.
    std::fs::write(
        t.path().join("index.json"),
        format!(r#"{{"manifests":{}}}"#, deep(100_000)),
    )
    .unwrap();
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(
        err.contains("index.json") && err.contains("invalid JSON"),
        "{err}"
    );
    // The same inside a config.
    let p = t.path().join("img.tar");
    let mut members = docker_save(&[layer()], |_, _| {});
    members[1].1 = M::File(
        format!(
            r#"{{"rootfs":{{"type":"layers","diff_ids":[]}},"x":{}}}"#,
            deep(50_000)
        )
        .into_bytes(),
    );
    write_owned(&p, members);
    let err = analyze_err(p.to_str().unwrap(), &[]);
    // (the unknown field is skipped; the empty diff_ids are what is wrong)
    assert!(err.contains("0 diff_ids"), "{err}");
    // manifest.json itself.
    let p = t.path().join("img2.tar");
    let mut members = docker_save(&[layer()], |_, _| {});
    members[0].1 = M::File(deep(200_000).into_bytes());
    write_owned(&p, members);
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("manifest.json") && err.contains("invalid JSON"),
        "{err}"
    );
}

/// A Docker 25+ `docker save`: manifest.json plus an OCI layout (index.json,
/// blobs) in one archive.
fn docker25(dir: &std::path::Path, tweak_index: impl FnOnce(&mut serde_json::Value)) {
    let img = Img::new().gz(layer());
    img.write(dir, |_, _| {});
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mdesc = idx["manifests"][0].clone();
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            dir.join("blobs/sha256")
                .join(&mdesc["digest"].as_str().unwrap()[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let cfg = m["config"]["digest"].as_str().unwrap().to_string();
    let layer = m["layers"][0]["digest"].as_str().unwrap().to_string();
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&json!([{
            "Config": format!("blobs/sha256/{}", &cfg[7..]),
            "RepoTags": ["hostile:25"],
            "Layers": [format!("blobs/sha256/{}", &layer[7..])],
        }]))
        .unwrap(),
    )
    .unwrap();
    let mut idx = idx;
    tweak_index(&mut idx);
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
}

#[test]
fn docker25_archive_with_both_manifest_json_and_index_json() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    docker25(&dir, |_| {});
    let p = t.path().join("img.tar");
    pack(&dir, &p);
    let a = analyze_json(&format!("docker-archive:{}", p.display()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 1000);
    // The OCI manifest supplied the media type: compressed size known.
    assert!(
        a["layers"][0]["compressed_bytes"].as_u64().unwrap_or(0) > 0,
        "{}",
        a["layers"]
    );
    // `"manifests": null` in the index: manifest.json alone still works.
    let dir2 = t.path().join("d2");
    std::fs::create_dir(&dir2).unwrap();
    docker25(&dir2, |i| i["manifests"] = json!(null));
    let p2 = t.path().join("img2.tar");
    pack(&dir2, &p2);
    assert_eq!(
        analyze_json(&format!("docker-archive:{}", p2.display()), &[])["totals"]["final_bytes"],
        1000
    );
    // …and as an OCI layout the null list is "no manifests", one clear line.
    let err = analyze_err(&oci(&dir2), &[]);
    assert!(err.contains("lists no image manifests"), "{err}");
}

#[test]
fn zero_layer_image_is_empty_not_an_error() {
    let t = tempfile::tempdir().unwrap();
    Img::new().write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 0);
    assert_eq!(a["layers"].as_array().unwrap().len(), 0);
    // And a docker-save archive with no layers.
    let p = t.path().join("empty.tar");
    write_owned(&p, docker_save(&[], |_, _| {}));
    assert_eq!(
        analyze_json(p.to_str().unwrap(), &[])["totals"]["final_bytes"],
        0
    );
}

#[test]
fn index_whose_manifest_blobs_are_missing() {
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(layer()).write(t.path(), |_, _| {});
    let gone = format!("sha256:{}", "e".repeat(64));
    write_index(
        t.path(),
        &[
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": gone, "size": 10}),
        ],
    );
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(
        err.contains("every manifest it lists is missing") && err.contains(&gone),
        "{err}"
    );
}

#[test]
fn attestations_in_a_nested_index_are_skipped() {
    let t = tempfile::tempdir().unwrap();
    let img = Img::new().gz(layer());
    let cfg = img.config();
    let m = serde_json::to_vec(&img.write_blobs(t.path(), &cfg)).unwrap();
    put_blob(t.path(), &m);
    // An attestation manifest (buildx shape): platform unknown/unknown, its
    // blob present and itself a valid manifest of another "image".
    let att = Img::new().plain(tar(&[E::File("sbom.json", 5)]));
    let acfg = att.config();
    let am = serde_json::to_vec(&att.write_blobs(t.path(), &acfg)).unwrap();
    put_blob(t.path(), &am);
    let nested = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&am), "size": am.len(),
             "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&m), "size": m.len(),
             "platform": {"os": "linux", "architecture": "arm64"}},
        ]
    }))
    .unwrap();
    put_blob(t.path(), &nested);
    write_index(
        t.path(),
        &[
            json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&nested), "size": nested.len()}),
        ],
    );
    // Only one real platform is left, so it is picked without --platform.
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 1000);
    assert_eq!(a["image"]["platform"], "linux/amd64");
    let err = analyze_err(&oci(t.path()), &["--platform", "unknown/unknown"]);
    assert!(
        err.contains("unknown/unknown") && !err.contains("available: unknown"),
        "{err}"
    );
}

#[test]
fn gzip_compressed_docker_save_writes_only_to_the_cache_dir() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("img.tar");
    write_owned(&p, docker_save(&[layer()], |_, _| {}));
    let gz = t.path().join("img.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&p).unwrap())).unwrap();
    let cache = t.path().join("cache");
    let tmp = t.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = crate::common::imgaudit()
        .env("TMPDIR", &tmp)
        .args(["analyze", gz.to_str().unwrap(), "-q", "--format", "json"])
        .args(["--cache-dir", cache.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["totals"]["final_bytes"], 1000);
    // The decompressed copy was an anonymous temp file in the cache dir:
    // nothing left there, nothing in TMPDIR, nothing next to the input.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let left: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    let mut beside: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["cache", "img.tar", "img.tar.gz", "tmp"]);
    // A corrupt gzip archive: one line naming the file.
    let mut b = std::fs::read(&gz).unwrap();
    let n = b.len();
    b.truncate(n / 2);
    std::fs::write(&gz, b).unwrap();
    let err = analyze_err(
        gz.to_str().unwrap(),
        &["--cache-dir", cache.to_str().unwrap()],
    );
    assert!(err.contains("img.tar.gz") && err.contains("gzip"), "{err}");
}

#[test]
fn archive_without_directory_entries() {
    // OCI archive whose members are files only (no `blobs/` or `blobs/sha256/` entries).
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    Img::new().gz(layer()).write(&dir, |_, _| {});
    let mut members = Vec::new();
    for e in crate::common::files_under(&dir) {
        let rel = e.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
        members.push((rel, M::File(std::fs::read(&e).unwrap())));
    }
    let p = t.path().join("flat.tar");
    write_owned(&p, members);
    assert_eq!(
        analyze_json(&format!("oci-archive:{}", p.display()), &[])["totals"]["final_bytes"],
        1000
    );
    // And explicit directory members are harmless.
    let q = t.path().join("dirs.tar");
    write_archive(&q, &[("blobs", M::Dir), ("blobs/sha256", M::Dir)]);
    let err = analyze_err(q.to_str().unwrap(), &[]);
    assert!(err.contains("neither manifest.json"), "{err}");
}
