//! References into archives and layouts that hold several images
//! (`docker-archive:PATH:REF`, `docker-archive:PATH:@N`, `oci:DIR:REF`,
//! `oci-archive:PATH:REF`), checked against skopeo itself: for every
//! reference form, imgaudit must select the image skopeo selects (same
//! config digest), or fail where skopeo fails. The archives and layouts are
//! written byte by byte here, so every image is known by construction.

use crate::common::{have_tools, imgaudit};
use crate::layout::{pack, put_blob, sha, tar, write_index, Img, E};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// What a tool made of a reference: the selected image's config digest, or
/// the error it printed.
pub type Pick = Result<String, String>;

/// skopeo's selection: the digest of the config `skopeo inspect --config
/// --raw` prints.
pub fn skopeo_pick(reference: &str, platform: Option<(&str, &str)>) -> Pick {
    let mut c = Command::new("skopeo");
    if let Some((os, arch)) = platform {
        c.args(["--override-os", os, "--override-arch", arch]);
    }
    let out = c
        .args(["inspect", "--config", "--raw", reference])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(sha(&out.stdout))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// imgaudit's selection: `image.config_digest` of the JSON report; a
/// failure must be exit 2 with one error line, never a panic.
pub fn imgaudit_pick(reference: &str, extra: &[&str]) -> Pick {
    let out = imgaudit()
        .args(["analyze", reference, "--format", "json", "-q"])
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if out.status.success() {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        return Ok(v["image"]["config_digest"].as_str().unwrap().to_string());
    }
    assert_eq!(out.status.code(), Some(2), "{reference}: {err}");
    assert!(!err.contains("panicked"), "{reference}: {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "{reference}: one line expected: {err}"
    );
    Err(err)
}

/// Both tools agree on `reference`: the same image, or both refuse it.
fn agree(reference: &str) -> Pick {
    let s = skopeo_pick(reference, None);
    let i = imgaudit_pick(reference, &[]);
    match (&s, &i) {
        (Ok(a), Ok(b)) => assert_eq!(
            a, b,
            "{reference}: skopeo and imgaudit chose different images"
        ),
        (Err(_), Err(_)) => {}
        _ => panic!("{reference}: skopeo says {s:?}, imgaudit says {i:?}"),
    }
    i
}

/// A one-layer image whose single file differs by `seed`.
pub fn image(seed: usize, arch: &'static str) -> Img {
    let mut img = Img::new().plain(tar(&[E::File(&format!("f{seed}"), 100 + seed)]));
    img.platform = ("linux", arch);
    img
}

/// A legacy `docker save` archive: `<layer>/layer.tar`, `<config>.json` and
/// manifest.json with one entry per image and the given RepoTags. Returns
/// the config digests, in entry order.
pub fn docker_archive(out: &Path, images: &[(Img, Vec<&str>)]) -> Vec<String> {
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut entries = Vec::new();
    let mut configs = Vec::new();
    for (img, tags) in images {
        let cfg = serde_json::to_vec(&img.config()).unwrap();
        let cfg_name = format!("{}.json", &sha(&cfg)[7..]);
        let mut layers = Vec::new();
        for (_, _, t) in &img.layers {
            let name = format!("{}/layer.tar", &sha(t)[7..]);
            members.push((name.clone(), t.clone()));
            layers.push(name);
        }
        members.push((cfg_name.clone(), cfg.clone()));
        entries.push(json!({"Config": cfg_name, "RepoTags": tags, "Layers": layers}));
        configs.push(sha(&cfg));
    }
    members.push((
        "manifest.json".into(),
        serde_json::to_vec(&entries).unwrap(),
    ));
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(bytes.len() as u64);
        b.append_data(&mut h, name, &bytes[..]).unwrap();
    }
    b.finish().unwrap();
    configs
}

/// Write `img`'s blobs and manifest into `dir`; returns the manifest's
/// descriptor (with `platform`) and the config digest.
pub fn manifest_in(dir: &Path, img: &Img) -> (Value, String) {
    let config = img.config();
    let m = serde_json::to_vec(&img.write_blobs(dir, &config)).unwrap();
    put_blob(dir, &m);
    let desc = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha(&m), "size": m.len(),
        "platform": {"os": img.platform.0, "architecture": img.platform.1},
    });
    (desc, sha(&serde_json::to_vec(&config).unwrap()))
}

fn named(mut desc: Value, name: &str) -> Value {
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": name});
    desc
}

#[test]
fn docker_archive_references_select_what_skopeo_selects() {
    if !have_tools(
        "docker_archive_references_select_what_skopeo_selects",
        &["skopeo"],
    ) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("multi.tar");
    let cfg = docker_archive(
        &a,
        &[
            (image(0, "amd64"), vec!["alpha:latest"]),
            (
                image(1, "arm64"),
                vec!["registry.example:5000/org/team/beta:v1", "gamma:2"],
            ),
            (image(2, "amd64"), vec![]),
            (image(3, "amd64"), vec!["docker.io/library/delta:latest"]),
        ],
    );
    let r = |suffix: &str| format!("docker-archive:{}{suffix}", a.display());
    // (reference suffix, the entry it names by construction; None = refused)
    let cases: &[(&str, Option<usize>)] = &[
        ("", None),
        (":alpha", Some(0)),
        (":alpha:latest", Some(0)),
        (":docker.io/library/alpha:latest", Some(0)),
        (":index.docker.io/library/alpha:latest", Some(0)),
        (":latest", None),
        (":registry.example:5000/org/team/beta:v1", Some(1)),
        (":registry.example:5000/org/team/beta", None),
        (":registry.example/org/team/beta:v1", None),
        (":gamma:2", Some(1)),
        (":gamma", None),
        (":delta", Some(3)),
        (":@0", Some(0)),
        (":@1", Some(1)),
        (":@2", Some(2)),
        (":@4", None),
        (":@x", None),
        (":Alpha", None),
        (
            ":alpha:latest@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            None,
        ),
    ];
    for (suffix, want) in cases {
        let got = agree(&r(suffix));
        match want {
            Some(i) => assert_eq!(got.as_deref(), Ok(cfg[*i].as_str()), "{suffix}"),
            None => assert!(got.is_err(), "{suffix}"),
        }
    }
    // No reference: an error that lists every image, as skopeo refuses too.
    let err = imgaudit_pick(&r(""), &[]).unwrap_err();
    for needle in [
        "4 images",
        "@0 (alpha:latest)",
        "gamma:2",
        "@2 (untagged)",
        "delta",
    ] {
        assert!(err.contains(needle), "{needle} missing from: {err}");
    }
    // A path holding ':' works when it exists (skopeo cannot express it).
    let odd = t.path().join("a:b");
    std::fs::create_dir(&odd).unwrap();
    std::fs::copy(&a, odd.join("multi.tar")).unwrap();
    let odd_ref = format!("docker-archive:{}:gamma:2", odd.join("multi.tar").display());
    assert_eq!(imgaudit_pick(&odd_ref, &[]).as_deref(), Ok(cfg[1].as_str()));
}

#[test]
fn a_tag_on_two_images_is_refused_where_skopeo_takes_the_first() {
    if !have_tools(
        "a_tag_on_two_images_is_refused_where_skopeo_takes_the_first",
        &["skopeo"],
    ) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("twice.tar");
    let cfg = docker_archive(
        &a,
        &[
            (image(0, "amd64"), vec!["alpha:latest"]),
            (
                image(1, "amd64"),
                vec!["docker.io/library/alpha:latest", "other:1"],
            ),
        ],
    );
    let r = format!("docker-archive:{}:alpha", a.display());
    // The known difference (docs/SOURCES.md): skopeo silently takes @0 ...
    assert_eq!(skopeo_pick(&r, None).as_deref(), Ok(cfg[0].as_str()));
    // ... imgaudit names both and asks for @N.
    let err = imgaudit_pick(&r, &[]).unwrap_err();
    assert!(err.contains("2 images are tagged"), "{err}");
    assert!(
        err.contains("@0 (alpha:latest)") && err.contains("@1 ("),
        "{err}"
    );
    // Where the reference is unique, both agree.
    assert_eq!(
        agree(&format!("docker-archive:{}:other:1", a.display())),
        Ok(cfg[1].clone())
    );
}

#[test]
fn oci_layout_references_select_what_skopeo_selects() {
    if !have_tools(
        "oci_layout_references_select_what_skopeo_selects",
        &["skopeo"],
    ) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("layout");
    std::fs::create_dir(&dir).unwrap();
    let (alpha, alpha_cfg) = manifest_in(&dir, &image(0, "amd64"));
    let (beta, beta_cfg) = manifest_in(&dir, &image(1, "arm64"));
    // A multi-platform image under one name: an index of two manifests.
    let (v2_amd, v2_amd_cfg) = manifest_in(&dir, &image(2, "amd64"));
    let (v2_arm, v2_arm_cfg) = manifest_in(&dir, &image(3, "arm64"));
    let idx = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [v2_amd, v2_arm],
    }))
    .unwrap();
    put_blob(&dir, &idx);
    let v2 = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&idx), "size": idx.len()});
    write_index(
        &dir,
        &[
            named(alpha, "alpha"),
            named(beta, "registry.example:5000/org/team/beta:v1"),
            named(v2, "v2"),
        ],
    );
    let archive = t.path().join("layout.tar");
    pack(&dir, &archive);
    for transport in [
        format!("oci:{}", dir.display()),
        format!("oci-archive:{}", archive.display()),
    ] {
        let r = |suffix: &str| format!("{transport}{suffix}");
        let cases: &[(&str, Option<&str>)] = &[
            ("", None),
            (":alpha", Some(&alpha_cfg)),
            (":alpha:latest", None),
            (":registry.example:5000/org/team/beta:v1", Some(&beta_cfg)),
            (":registry.example:5000/org/team/beta", None),
            (":v2", Some(&v2_amd_cfg)),
            (":nosuch", None),
        ];
        for (suffix, want) in cases {
            let got = agree(&r(suffix));
            match want {
                Some(c) => assert_eq!(got.as_deref(), Ok(*c), "{transport}{suffix}"),
                None => assert!(got.is_err(), "{transport}{suffix}"),
            }
        }
        // The platform inside a named multi-platform image, as skopeo picks it.
        let s = skopeo_pick(&r(":v2"), Some(("linux", "arm64")));
        let i = imgaudit_pick(&r(":v2"), &["--platform", "linux/arm64"]);
        assert_eq!(s.as_deref(), Ok(v2_arm_cfg.as_str()));
        assert_eq!(i, s);
        // No reference: every image listed by name.
        let err = imgaudit_pick(&r(""), &[]).unwrap_err();
        for needle in [
            "3 images",
            "@0 alpha",
            "@1 registry.example:5000/org/team/beta:v1",
            "@2 v2",
        ] {
            assert!(err.contains(needle), "{needle} missing from: {err}");
        }
        // --all-platforms lists the named image's platforms only.
        let all = crate::common::analyze_json(&r(":v2"), &["--all-platforms"]);
        let rows: Vec<&str> = all["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["platform"].as_str().unwrap())
            .collect();
        assert_eq!(rows, ["linux/amd64", "linux/arm64"]);
        let err = crate::common::analyze_err(&r(""), &["--all-platforms"]);
        assert!(err.contains("3 images"), "{err}");
        // `@N` (newer containers/image has it for layouts too).
        assert_eq!(imgaudit_pick(&r(":@1"), &[]), Ok(beta_cfg.clone()));
        assert!(imgaudit_pick(&r(":@3"), &[])
            .unwrap_err()
            .contains("no image @3"));
    }
}

#[test]
fn a_name_on_two_index_entries_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let (a, _) = manifest_in(dir, &image(0, "amd64"));
    let (b, _) = manifest_in(dir, &image(1, "amd64"));
    write_index(dir, &[named(a, "dup"), named(b, "dup")]);
    let err = imgaudit_pick(&format!("oci:{}:dup", dir.display()), &[]).unwrap_err();
    assert!(err.contains("2 entries are named \"dup\""), "{err}");
    assert!(err.contains("@0 dup") && err.contains("@1 dup"), "{err}");
    // The same name on two platforms' manifests is one multi-platform image.
    let (c, c_cfg) = manifest_in(dir, &image(2, "arm64"));
    let (d, d_cfg) = manifest_in(dir, &image(3, "amd64"));
    write_index(dir, &[named(c, "multi"), named(d, "multi")]);
    let r = format!("oci:{}:multi", dir.display());
    assert_eq!(imgaudit_pick(&r, &[]), Ok(d_cfg));
    assert_eq!(imgaudit_pick(&r, &["--platform", "arm64"]), Ok(c_cfg));
}

#[test]
fn docker_25_containerd_names_match_once_normalised() {
    // Docker 25+ `docker save` names index entries with the containerd
    // annotation (the full name) and ref.name (the tag only).
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let (a, a_cfg) = manifest_in(dir, &image(0, "amd64"));
    let (b, b_cfg) = manifest_in(dir, &image(1, "amd64"));
    let with = |mut d: Value, full: &str, tag: &str| {
        d["annotations"] =
            json!({"io.containerd.image.name": full, "org.opencontainers.image.ref.name": tag});
        d
    };
    write_index(
        dir,
        &[
            with(a, "docker.io/library/alpha:latest", "latest"),
            with(b, "registry.example:5000/org/beta:v1", "v1"),
        ],
    );
    let r = |s: &str| format!("oci:{}:{s}", dir.display());
    assert_eq!(imgaudit_pick(&r("alpha"), &[]), Ok(a_cfg.clone()));
    assert_eq!(imgaudit_pick(&r("alpha:latest"), &[]), Ok(a_cfg.clone()));
    assert_eq!(imgaudit_pick(&r("latest"), &[]), Ok(a_cfg));
    assert_eq!(
        imgaudit_pick(&r("registry.example:5000/org/beta:v1"), &[]),
        Ok(b_cfg)
    );
    assert!(imgaudit_pick(&r("beta"), &[]).is_err());
}
