//! Hostile and broken image metadata (issue 7, "metadata" group): documents
//! that are both index and manifest, diff_id and rootfs problems in docker-save
//! archives, malformed digests in every place one can appear (rejected before
//! any path is built from them), descriptor sizes that lie, and an index
//! chain 10,000 deep. The OCI-layout variants already in errors.rs are not
//! repeated here.

use crate::common::analyze_err;
use crate::hostile_fixtures::{docker_save, write_owned};
use crate::layout::{oci, put_blob, sha, tar, write_index, Img, E};
use serde_json::json;
use std::time::{Duration, Instant};

fn simple() -> Img {
    Img::new().gz(tar(&[E::File("a", 100)]))
}

const BAD_DIGESTS: [&str; 5] = [
    "sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
    "sha256:abc",
    "sha256:../x",
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    "sha256:../../../../../../../../../../etc/passwd/aaaaaaaaaaaaaaaaaaaaaaaa",
];

#[test]
fn top_level_index_with_both_manifests_and_layers_is_refused() {
    let t = tempfile::tempdir().unwrap();
    simple().write(t.path(), |_, _| {});
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("index.json")).unwrap()).unwrap();
    let mut idx = idx;
    idx["layers"] = json!([]);
    std::fs::write(t.path().join("index.json"), idx.to_string()).unwrap();
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(
        err.contains("index.json") && err.contains("ambiguous document"),
        "{err}"
    );
}

#[test]
fn docker_save_diff_id_count_and_rootfs_type() {
    let l = tar(&[E::File("a", 10)]);
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("count.tar");
    write_owned(
        &p,
        docker_save(std::slice::from_ref(&l), |_, c| {
            c["rootfs"]["diff_ids"] = json!([sha(&l), sha(&l)])
        }),
    );
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("count.tar") && err.contains("2 diff_ids") && err.contains("1 layers"),
        "{err}"
    );
    let p = t.path().join("rootfs.tar");
    write_owned(
        &p,
        docker_save(std::slice::from_ref(&l), |_, c| {
            c["rootfs"]["type"] = json!("zfs")
        }),
    );
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("rootfs.tar") && err.contains("rootfs.type is \"zfs\""),
        "{err}"
    );
    // rootfs missing altogether: type "" is not "layers" either.
    let p = t.path().join("norootfs.tar");
    write_owned(
        &p,
        docker_save(std::slice::from_ref(&l), |_, c| {
            c.as_object_mut().unwrap().remove("rootfs");
        }),
    );
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(err.contains("rootfs.type"), "{err}");
}

#[test]
fn bad_layer_and_config_digests_are_rejected_before_use() {
    for bad in BAD_DIGESTS {
        // Layer descriptor digest.
        let t = tempfile::tempdir().unwrap();
        simple().write(t.path(), |m, _| m["layers"][0]["digest"] = json!(bad));
        let err = analyze_err(&oci(t.path()), &[]);
        assert!(
            err.contains("invalid digest") && err.contains("layer 0"),
            "{bad}: {err}"
        );
        // Config descriptor digest (set after the tweak by Img::write, so
        // rewrite the manifest by hand).
        let t = tempfile::tempdir().unwrap();
        let img = simple();
        let cfg = img.config();
        let mut m = img.write_blobs(t.path(), &cfg);
        m["config"]["digest"] = json!(bad);
        let mb = serde_json::to_vec(&m).unwrap();
        put_blob(t.path(), &mb);
        write_index(
            t.path(),
            &[
                json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&mb), "size": mb.len()}),
            ],
        );
        let err = analyze_err(&oci(t.path()), &[]);
        assert!(
            err.contains("invalid digest") && err.contains("config"),
            "{bad}: {err}"
        );
        // A diff_id.
        let t = tempfile::tempdir().unwrap();
        simple().write(t.path(), |_, c| c["rootfs"]["diff_ids"][0] = json!(bad));
        let err = analyze_err(&oci(t.path()), &[]);
        assert!(
            err.contains("invalid digest") && err.contains("diff_ids"),
            "{bad}: {err}"
        );
    }
    // docker-save `blobs/sha256/<hex>` layer paths are digests too.
    let l = tar(&[E::File("a", 10)]);
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("img.tar");
    let mut members = docker_save(std::slice::from_ref(&l), |m, _| {
        m[0]["Layers"][0] = json!("blobs/sha256/NOTHEX");
    });
    members.push((
        "blobs/sha256/NOTHEX".into(),
        crate::hostile_fixtures::M::File(l),
    ));
    write_owned(&p, members);
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("invalid digest") && err.contains("NOTHEX"),
        "{err}"
    );
}

#[test]
fn descriptor_sizes_that_lie() {
    let img = simple();
    let real = img.layers[0].0.len() as i64;
    for (size, expect) in [
        (
            json!(real + 1),
            format!("descriptor says {} bytes", real + 1),
        ),
        (
            json!(real - 1),
            format!("descriptor says {} bytes", real - 1),
        ),
        (
            json!(i64::MAX),
            format!("descriptor says {} bytes", i64::MAX),
        ),
        (json!(-1), "negative descriptor size".to_string()),
        (json!(1e300), "invalid JSON".to_string()),
        (json!(u64::MAX), "invalid JSON".to_string()),
    ] {
        let t = tempfile::tempdir().unwrap();
        img.write(t.path(), |m, _| m["layers"][0]["size"] = size.clone());
        let err = analyze_err(&oci(t.path()), &[]);
        assert!(err.contains(&expect), "{size}: {err}");
        if expect.starts_with("descriptor") {
            assert!(
                err.contains("layer 0") && err.contains(&format!("has {real}")),
                "{err}"
            );
        }
    }
}

#[test]
fn index_nested_ten_thousand_deep_is_refused_quickly() {
    let t = tempfile::tempdir().unwrap();
    simple().write(t.path(), |_, _| {});
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("index.json")).unwrap()).unwrap();
    // Innermost: the real index; then 10,000 indexes each pointing at the previous.
    let mut inner = serde_json::to_vec(&idx).unwrap();
    put_blob(t.path(), &inner);
    for _ in 0..10_000 {
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&inner), "size": inner.len()}],
        });
        inner = serde_json::to_vec(&doc).unwrap();
        put_blob(t.path(), &inner);
    }
    std::fs::write(t.path().join("index.json"), &inner).unwrap();
    let started = Instant::now();
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(
        err.contains("index") && err.contains("nested more than 8 deep"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // Nine levels is still fine (limit + 1 hop for the top-level index.json).
    let t2 = tempfile::tempdir().unwrap();
    simple().write(t2.path(), |_, _| {});
    let mut inner: Vec<u8> = std::fs::read(t2.path().join("index.json")).unwrap();
    put_blob(t2.path(), &inner);
    for _ in 0..8 {
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&inner), "size": inner.len()}],
        });
        inner = serde_json::to_vec(&doc).unwrap();
        put_blob(t2.path(), &inner);
    }
    std::fs::write(t2.path().join("index.json"), &inner).unwrap();
    let a = crate::common::analyze_json(&oci(t2.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 100);
}
