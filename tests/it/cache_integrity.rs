//! The layer cache never hides a broken image (issue 18): the cache is
//! warmed from a good image, then a broken image naming the same layers is
//! analysed with that warm cache, and must fail exactly as it does with
//! `--no-cache` (same exit code, same message). The broken shapes: an OCI
//! layout whose layer blob is missing, or does not match its digest, or is
//! a symlink cycle; a docker-archive whose layer member is truncated (plain
//! and gzip layers, plain and gzip-compressed archive) or a symlink cycle;
//! a daemon export whose layer member is truncated. `--verify full` hashes a
//! cached local blob, so a corrupted one of the same size is caught too.

use crate::cache::{analyze_cached, ok_json};
use crate::common::imgaudit;
use crate::hostile_fixtures::{docker_save, write_owned, M};
use crate::layout::{gzip, oci, sha, tar, Img, E};
use std::path::Path;
use std::process::Output;

/// Two layers: a gzip one and a plain one.
fn layers() -> (Vec<u8>, Vec<u8>) {
    (
        tar(&[E::File("usr/lib/base.so", 60_000), E::File("etc/os", 100)]),
        tar(&[E::File("app/main.py", 3_000)]),
    )
}

/// The one stderr line of a failed run (exit 2, no panic).
fn failure(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: expected exit 2; stderr: {err}; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    err
}

/// Warm a fresh cache from `good` (every one of its `layers` stored), then
/// analyse `broken` with it and without any cache: both must fail with the
/// same message, which is returned.
fn same_failure_warm_and_cold(good: &str, broken: &str, layers: u64, extra: &[&str]) -> String {
    let cache = tempfile::tempdir().unwrap();
    let a = ok_json(&analyze_cached(good, cache.path(), extra));
    assert_eq!(a["layers"].as_array().unwrap().len() as u64, layers);
    let entries = imgaudit()
        .args(["cache", "info", "--cache-dir"])
        .arg(cache.path())
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&entries.stdout);
    assert!(
        info.contains(&format!("layers: {layers}")),
        "the cache holds every layer of {good}: {info}"
    );
    let warm = failure(&analyze_cached(broken, cache.path(), extra), "warm");
    let cold = imgaudit()
        .args(["analyze", broken, "-q", "--no-cache"])
        .args(extra)
        .output()
        .unwrap();
    let cold = failure(&cold, "--no-cache");
    assert_eq!(warm, cold, "{broken}: warm and --no-cache runs differ");
    warm
}

/// A good OCI layout and a copy of it (same blobs) for spoiling.
fn layout_pair(t: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let (l0, l1) = layers();
    let good = t.join("good");
    let broken = t.join("broken");
    for dir in [&good, &broken] {
        Img::new()
            .gz(l0.clone())
            .plain(l1.clone())
            .write(dir, |_, _| {});
    }
    let blob0 = sha(&gzip(&l0))[7..].to_string();
    (good, broken, blob0)
}

#[test]
fn oci_layout_blob_missing_or_not_matching_its_digest() {
    let t = tempfile::tempdir().unwrap();
    let (good, broken, blob0) = layout_pair(t.path());
    let path = broken.join("blobs/sha256").join(&blob0);
    std::fs::remove_file(&path).unwrap();
    let err = same_failure_warm_and_cold(&oci(&good), &oci(&broken), 2, &[]);
    assert!(err.contains("missing") && err.contains(&blob0), "{err}");

    // Other bytes of another size under the digest's name.
    std::fs::write(&path, gzip(&tar(&[E::File("evil", 10)]))).unwrap();
    let err = same_failure_warm_and_cold(&oci(&good), &oci(&broken), 2, &[]);
    assert!(err.contains("layer 0") && err.contains(&blob0), "{err}");
}

#[test]
fn oci_layout_blob_that_is_a_symlink_cycle() {
    let t = tempfile::tempdir().unwrap();
    let (good, broken, blob0) = layout_pair(t.path());
    let dir = broken.join("blobs/sha256");
    std::fs::remove_file(dir.join(&blob0)).unwrap();
    std::os::unix::fs::symlink("loop", dir.join(&blob0)).unwrap();
    std::os::unix::fs::symlink(&blob0, dir.join("loop")).unwrap();
    let err = same_failure_warm_and_cold(&oci(&good), &oci(&broken), 2, &[]);
    assert!(err.contains(&blob0), "{err}");
}

#[test]
fn verify_full_hashes_a_cached_blob_of_the_same_size() {
    let t = tempfile::tempdir().unwrap();
    let (good, broken, blob0) = layout_pair(t.path());
    let (_, l1) = layers();
    let cache = tempfile::tempdir().unwrap();
    ok_json(&analyze_cached(&oci(&good), cache.path(), &[]));
    // Layer 1 is a plain tar: flip a byte of file content, size kept.
    let blob1 = broken.join("blobs/sha256").join(&sha(&l1)[7..]);
    let mut b = std::fs::read(&blob1).unwrap();
    b[512 + 100] ^= 0xff;
    std::fs::write(&blob1, &b).unwrap();
    // The default (--verify stored) trusts the cache on presence and size.
    ok_json(&analyze_cached(&oci(&broken), cache.path(), &[]));
    // --verify full hashes the blob: the same failure as without a cache.
    let err = same_failure_warm_and_cold(&oci(&good), &oci(&broken), 2, &["--verify", "full"]);
    assert!(
        err.contains("layer 1") && err.contains("digest mismatch") && err.contains(&sha(&l1)),
        "{err}"
    );
    // Layer 0 is gzip: a flipped byte in the compressed stream. Without a
    // cache the decoder trips over it first; with one, the hash catches it.
    std::fs::write(&blob1, &l1).unwrap();
    let blob0 = broken.join("blobs/sha256").join(&blob0);
    let mut b = std::fs::read(&blob0).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&blob0, &b).unwrap();
    let warm = failure(
        &analyze_cached(&oci(&broken), cache.path(), &["--verify", "full"]),
        "warm --verify full",
    );
    assert!(
        warm.contains("layer 0") && warm.contains("digest mismatch"),
        "{warm}"
    );
    let cold = imgaudit()
        .args(["analyze", &oci(&broken), "-q", "--verify", "full"])
        .output()
        .unwrap();
    assert!(failure(&cold, "--no-cache --verify full").contains("layer 0"));
}

/// A legacy docker-archive of `layers` (stored as given) whose config names
/// `tars` (the layers' uncompressed tars).
fn legacy_archive(path: &Path, tars: &[Vec<u8>], stored: &[Vec<u8>]) {
    let mut members = docker_save(tars, |_, _| {});
    for (i, s) in stored.iter().enumerate() {
        let name = format!("{i}/layer.tar");
        let m = members.iter_mut().find(|(n, _)| *n == name).unwrap();
        m.1 = M::File(s.clone());
    }
    write_owned(path, members);
}

#[test]
fn docker_archive_with_a_truncated_layer_member() {
    let (l0, l1) = layers();
    let tars = [l0.clone(), l1.clone()];
    let half = |b: &[u8]| b[..b.len() / 2].to_vec();
    // A plain layer member, then a gzip one (docker load accepts both).
    for (what, stored) in [
        ("plain", [l0.clone(), l1.clone()]),
        ("gzip", [gzip(&l0), l1.clone()]),
    ] {
        let t = tempfile::tempdir().unwrap();
        let good = t.path().join("good.tar");
        let broken = t.path().join("broken.tar");
        legacy_archive(&good, &tars, &stored);
        legacy_archive(&broken, &tars, &[half(&stored[0]), stored[1].clone()]);
        let (g, b) = (good.display().to_string(), broken.display().to_string());
        let err = same_failure_warm_and_cold(&g, &b, 2, &[]);
        assert!(err.contains("layer 0"), "{what}: {err}");
        // The same archives gzip-compressed as a whole (`docker save | gzip`).
        let (gz_good, gz_broken) = (t.path().join("good.tar.gz"), t.path().join("broken.tar.gz"));
        std::fs::write(&gz_good, gzip(&std::fs::read(&good).unwrap())).unwrap();
        std::fs::write(&gz_broken, gzip(&std::fs::read(&broken).unwrap())).unwrap();
        let (g, b) = (
            gz_good.display().to_string(),
            gz_broken.display().to_string(),
        );
        let err = same_failure_warm_and_cold(&g, &b, 2, &[]);
        assert!(err.contains("layer 0"), "{what}, gzip archive: {err}");
    }
}

#[test]
fn docker_archive_layer_member_that_is_a_symlink_cycle() {
    let (l0, l1) = layers();
    let t = tempfile::tempdir().unwrap();
    let good = t.path().join("good.tar");
    let broken = t.path().join("broken.tar");
    write_owned(&good, docker_save(&[l0.clone(), l1.clone()], |_, _| {}));
    let mut members = docker_save(&[l0, l1], |_, _| {});
    members.retain(|(n, _)| n != "0/layer.tar");
    members.push(("0/layer.tar".into(), M::Sym("other.tar")));
    members.push(("0/other.tar".into(), M::Sym("layer.tar")));
    write_owned(&broken, members);
    let (g, b) = (good.display().to_string(), broken.display().to_string());
    let err = same_failure_warm_and_cold(&g, &b, 2, &[]);
    assert!(err.contains("symlink chain longer than 8 hops"), "{err}");
}

/// The daemon source's cheap facts: a layer member whose size in the
/// export's index differs from the size the cache entry recorded is read,
/// and fails as it does with no cache. (The export is fed from files, as in
/// daemon.rs; the image ID is the config's digest.)
#[test]
fn daemon_export_with_a_truncated_layer_member() {
    use imgaudit::digest::Digest;
    use imgaudit::source::daemon::{open_export, Exporter, Inspected};
    use imgaudit::source::ResolveOptions;
    let (l0, l1) = layers();
    let t = tempfile::tempdir().unwrap();
    let good = t.path().join("good.tar");
    let broken = t.path().join("broken.tar");
    let tars = [l0.clone(), l1.clone()];
    legacy_archive(&good, &tars, &tars);
    legacy_archive(&broken, &tars, &[l0[..l0.len() / 2].to_vec(), l1.clone()]);
    let a = crate::common::analyze_json(good.to_str().unwrap(), &[]);
    let ins = Inspected {
        id: Digest::parse(a["image"]["config_digest"].as_str().unwrap(), "t").unwrap(),
        diff_ids: tars
            .iter()
            .map(|l| Digest::parse(&sha(l), "t").unwrap())
            .collect(),
        repo_digests: Vec::new(),
        platform: "linux/amd64".into(),
    };
    let cache = tempfile::tempdir().unwrap();
    let run = |archive: &Path, layer_cache: bool| {
        let p = archive.to_path_buf();
        let exporter: Exporter = std::sync::Arc::new(move || {
            Ok(Box::new(std::fs::File::open(&p)?) as Box<dyn std::io::Read + Send>)
        });
        // No document cache: every run makes an index pass of its export.
        let image = open_export("test:daemon", exporter, &ins, &ResolveOptions::default())?;
        let opts = imgaudit::AnalyzeOptions {
            layer_cache: layer_cache.then(|| cache.path().to_path_buf()),
            ..Default::default()
        };
        let rules = imgaudit::classify::Rules::load(&[]).unwrap();
        imgaudit::run::analyze_image(&image, &rules, &opts, &imgaudit::run::NoProgress)
    };
    let good_run = run(&good, true).expect("the good export");
    assert_eq!(good_run.layers.len(), 2);
    let warm = run(&broken, true).expect_err("a truncated member under a warm cache");
    let cold = run(&broken, false).expect_err("a truncated member with no cache");
    assert_eq!(warm.to_string(), cold.to_string());
    assert!(warm.to_string().contains("layer 0"), "{warm}");
}
