//! `--platform` on every source, with containerd's `platforms` rules
//! (normalisation, short forms, best-match ordering within one
//! architecture), and descriptor sizes checked for every document an index
//! reaches. Where skopeo defines the answer (which manifest of an index an
//! os/arch selects) it runs on the same layout and must agree.

use crate::common::{analyze_json, have_tools};
use crate::layout::{put_blob, sha, write_index, Img};
use crate::references::{docker_archive, image, imgaudit_pick, manifest_in, skopeo_pick};
use serde_json::{json, Value};
use std::path::Path;

/// A layout whose index lists linux/amd64, linux/arm64/v8, linux/arm/v6 and
/// linux/amd64/v2 (descriptor platforms as buildx writes them); `nested`
/// puts them in an index of their own, named `img` in index.json (the shape
/// skopeo needs). Returns the config digests in that order.
fn multi_platform(dir: &Path, nested: bool) -> Vec<String> {
    let plats: [(&'static str, Option<&str>); 4] = [
        ("amd64", None),
        ("arm64", Some("v8")),
        ("arm", Some("v6")),
        ("amd64", Some("v2")),
    ];
    let mut descs = Vec::new();
    let mut cfgs = Vec::new();
    for (i, (arch, variant)) in plats.iter().enumerate() {
        let mut img = image(10 + i, arch);
        img.platform = ("linux", arch);
        let (mut d, cfg) = manifest_in(dir, &img);
        if let Some(v) = variant {
            d["platform"]["variant"] = json!(v);
        }
        descs.push(d);
        cfgs.push(cfg);
    }
    if nested {
        let idx = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": descs,
        }))
        .unwrap();
        put_blob(dir, &idx);
        write_index(
            dir,
            &[json!({
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": sha(&idx), "size": idx.len(),
                "annotations": {"org.opencontainers.image.ref.name": "img"},
            })],
        );
    } else {
        write_index(dir, &descs);
    }
    cfgs
}

fn warnings(a: &Value) -> String {
    a["warnings"].to_string()
}

#[test]
fn multi_platform_layout_matches_like_containerd() {
    let t = tempfile::tempdir().unwrap();
    let cfg = multi_platform(t.path(), false);
    let r = format!("oci:{}", t.path().display());
    let pick = |p: Option<&str>| match p {
        Some(p) => imgaudit_pick(&r, &["--platform", p]),
        None => imgaudit_pick(&r, &[]),
    };
    // Equivalent spellings of arm64, short forms included.
    for p in [
        "arm64",
        "aarch64",
        "linux/arm64",
        "linux/aarch64",
        "linux/arm64/v8",
        "Linux/ARM64",
    ] {
        assert_eq!(pick(Some(p)), Ok(cfg[1].clone()), "{p}");
    }
    // amd64 (= amd64/v1) is not amd64/v2; the default is linux/amd64.
    for p in [
        None,
        Some("x86_64"),
        Some("linux/amd64"),
        Some("linux/amd64/v1"),
        Some("linux/x86-64"),
    ] {
        assert_eq!(pick(p), Ok(cfg[0].clone()), "{p:?}");
    }
    assert_eq!(pick(Some("linux/amd64/v2")), Ok(cfg[3].clone()));
    // Best match within one architecture, with a warning saying so.
    let a = analyze_json(&r, &["--platform", "linux/amd64/v3"]);
    assert_eq!(a["image"]["config_digest"], cfg[3]);
    assert!(
        warnings(&a).contains("no linux/amd64/v3"),
        "{}",
        warnings(&a)
    );
    let a = analyze_json(&r, &["--platform", "arm"]);
    assert_eq!(a["image"]["config_digest"], cfg[2]);
    assert!(warnings(&a).contains("no linux/arm/v7"), "{}", warnings(&a));
    // An exact match carries no such warning.
    let a = analyze_json(&r, &["--platform", "linux/arm/v6"]);
    assert_eq!(a["image"]["config_digest"], cfg[2]);
    assert!(
        !warnings(&a).contains("closest variant"),
        "{}",
        warnings(&a)
    );
    // Never another architecture: 386 is not taken for amd64, nor arm/v5 for arm/v6 upward.
    for p in ["linux/386", "linux/arm/v5", "linux/s390x", "windows/amd64"] {
        let e = pick(Some(p)).unwrap_err();
        assert!(e.contains("no image for platform"), "{p}: {e}");
        assert!(
            e.contains("linux/amd64, linux/arm64/v8, linux/arm/v6, linux/amd64/v2"),
            "{p}: {e}"
        );
    }
    // A specifier that is no platform at all.
    let e = pick(Some("nosuchthing")).unwrap_err();
    assert!(
        e.contains("neither a known operating system nor a known architecture"),
        "{e}"
    );
}

#[test]
fn multi_platform_selection_agrees_with_skopeo() {
    if !have_tools("multi_platform_selection_agrees_with_skopeo", &["skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let cfg = multi_platform(t.path(), true);
    let r = format!("oci:{}:img", t.path().display());
    for (arch, i) in [("arm64", 1), ("amd64", 0)] {
        let s = skopeo_pick(&r, Some(("linux", arch)));
        assert_eq!(s, Ok(cfg[i].clone()), "skopeo {arch}");
        assert_eq!(imgaudit_pick(&r, &["--platform", arch]), s, "{arch}");
    }
    // skopeo refuses a platform the index lacks; so does imgaudit.
    assert!(skopeo_pick(&r, Some(("linux", "s390x"))).is_err());
    assert!(imgaudit_pick(&r, &["--platform", "linux/s390x"]).is_err());
    // The known difference (docs/SOURCES.md): platform manifests listed
    // straight in index.json, unnamed, are one image to imgaudit; skopeo
    // refuses the layout ("more than one image").
    let flat = tempfile::tempdir().unwrap();
    let cfg = multi_platform(flat.path(), false);
    let r = format!("oci:{}", flat.path().display());
    assert!(skopeo_pick(&r, Some(("linux", "arm64"))).is_err());
    assert_eq!(
        imgaudit_pick(&r, &["--platform", "arm64"]),
        Ok(cfg[1].clone())
    );
}

#[test]
fn docker_archive_platform_comes_from_its_config() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("arm.tar");
    let cfg = docker_archive(&a, &[(image(0, "arm64"), vec!["arm:1"])]);
    let r = format!("docker-archive:{}", a.display());
    // One image: taken without --platform, whatever its platform.
    let j = analyze_json(&r, &[]);
    assert_eq!(j["image"]["platform"], "linux/arm64");
    for p in ["arm64", "linux/aarch64", "linux/arm64/v8"] {
        assert_eq!(
            imgaudit_pick(&r, &["--platform", p]),
            Ok(cfg[0].clone()),
            "{p}"
        );
    }
    // Another platform is an error naming the one the archive has.
    for p in ["linux/amd64", "amd64", "linux/arm"] {
        let e = imgaudit_pick(&r, &["--platform", p]).unwrap_err();
        assert!(e.contains("no image for platform"), "{p}: {e}");
        assert!(e.contains("(available: linux/arm64)"), "{p}: {e}");
    }
    // The same through a bare path and a reference with @N.
    let e = imgaudit_pick(&a.display().to_string(), &["--platform", "linux/amd64"]).unwrap_err();
    assert!(e.contains("available: linux/arm64"), "{e}");
    let e = imgaudit_pick(&format!("{r}:@0"), &["--platform", "linux/amd64"]).unwrap_err();
    assert!(e.contains("available: linux/arm64"), "{e}");
}

/// Rewrite `field` of the first index.json entry.
fn edit_index(dir: &Path, f: impl FnOnce(&mut Value)) {
    let p = dir.join("index.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v["manifests"][0]);
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
}

#[test]
fn descriptor_sizes_must_match_the_bytes() {
    // A manifest listed in index.json with the wrong size.
    let t = tempfile::tempdir().unwrap();
    let img = image(0, "amd64");
    img.write(t.path(), |_, _| {});
    let r = format!("oci:{}", t.path().display());
    assert!(imgaudit_pick(&r, &[]).is_ok());
    edit_index(t.path(), |d| {
        d["size"] = json!(d["size"].as_u64().unwrap() + 1)
    });
    let e = imgaudit_pick(&r, &[]).unwrap_err();
    assert!(e.contains("manifest sha256:"), "{e}");
    assert!(e.contains("the descriptor says"), "{e}");

    // A manifest reached through a nested index, with the wrong size there.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let (mut d, _) = manifest_in(dir, &image(1, "amd64"));
    let good = d["size"].as_u64().unwrap();
    d["size"] = json!(good - 1);
    let idx = serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [d]})).unwrap();
    put_blob(dir, &idx);
    let nested = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&idx), "size": idx.len()});
    write_index(dir, &[nested]);
    let r = format!("oci:{}", dir.display());
    let e = imgaudit_pick(&r, &[]).unwrap_err();
    assert!(
        e.contains(&format!(
            "the descriptor says {} bytes but the blob has {good}",
            good - 1
        )),
        "{e}"
    );
    // ... and the nested index's own size.
    edit_index(dir, |d| d["size"] = json!(7));
    let e = imgaudit_pick(&r, &[]).unwrap_err();
    assert!(
        e.contains("nested index") && e.contains("says 7 bytes"),
        "{e}"
    );

    // A config whose descriptor size is wrong.
    let t = tempfile::tempdir().unwrap();
    Img::new()
        .plain(crate::layout::tar(&[crate::layout::E::File("x", 10)]))
        .write(t.path(), |_, _| {});
    let p = t.path().join("index.json");
    let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    let mdig = v["manifests"][0]["digest"].as_str().unwrap().to_string();
    let mpath = t.path().join("blobs/sha256").join(&mdig[7..]);
    let mut m: Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    m["config"]["size"] = json!(m["config"]["size"].as_u64().unwrap() + 3);
    let mb = serde_json::to_vec(&m).unwrap();
    put_blob(t.path(), &mb);
    write_index(
        t.path(),
        &[
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&mb), "size": mb.len()}),
        ],
    );
    let e = imgaudit_pick(&format!("oci:{}", t.path().display()), &[]).unwrap_err();
    assert!(
        e.contains("config sha256:") && e.contains("the descriptor says"),
        "{e}"
    );
}
