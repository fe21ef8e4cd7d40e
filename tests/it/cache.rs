//! The layer cache: a warm run gives the same analysis as a cold one, shared
//! layers are not read again (only their presence and size are checked; see
//! cache_integrity.rs for broken images under a warm cache), damaged entries
//! are rebuilt, unverified reads are not remembered, two processes can share
//! one cache, and `imgaudit cache info|prune` report what is there.

use crate::common::{imgaudit, repo_root};
use crate::layout::{oci, tar, Img, E};
use std::path::Path;

/// `analyze --format json` with the layer cache in `cache`.
pub(crate) fn analyze_cached(image: &str, cache: &Path, extra: &[&str]) -> std::process::Output {
    imgaudit()
        .env_remove("IMGAUDIT_NO_CACHE")
        .args(["analyze", image, "--format", "json", "-q", "--cache-dir"])
        .arg(cache)
        .args(extra)
        .output()
        .unwrap()
}

pub(crate) fn ok_json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn cache_entries(cache: &Path) -> u64 {
    let out = imgaudit()
        .args(["cache", "info", "--cache-dir"])
        .arg(cache)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("layers: "))
        .expect("cache info names the number of layers")
        .trim()
        .parse()
        .unwrap()
}

fn entry_files(cache: &Path) -> Vec<std::path::PathBuf> {
    crate::common::files_under(&cache.join("layers"))
}

#[test]
fn warm_run_matches_cold_run_on_real_images() {
    for img in [
        "testdata/demo/demo-oci.tar",
        "testdata/categories/categories-oci.tar",
    ] {
        let img = repo_root().join(img).display().to_string();
        let cache = tempfile::tempdir().unwrap();
        let cold = analyze_cached(&img, cache.path(), &[]);
        let layers = ok_json(&cold)["layers"].as_array().unwrap().len() as u64;
        assert_eq!(
            cache_entries(cache.path()),
            layers,
            "{img}: one entry a layer"
        );
        let warm = analyze_cached(&img, cache.path(), &[]);
        assert_eq!(
            ok_json(&warm),
            ok_json(&cold),
            "{img}: warm differs from cold"
        );
        // And the same as a run that never saw a cache.
        let plain = imgaudit()
            .args(["analyze", &img, "--format", "json", "-q"])
            .output()
            .unwrap();
        assert_eq!(
            ok_json(&plain),
            ok_json(&cold),
            "{img}: cached differs from --no-cache"
        );
    }
}

#[test]
fn shared_layers_are_not_read_again() {
    let base = tar(&[E::File("usr/lib/base.so", 50_000), E::File("etc/os", 100)]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    Img::new()
        .gz(base.clone())
        .gz(tar(&[E::File("app/a.py", 300)]))
        .write(a.path(), |_, _| {});
    Img::new()
        .gz(base.clone())
        .gz(tar(&[E::File("app/b.py", 700)]))
        .write(b.path(), |_, _| {});
    let cache = tempfile::tempdir().unwrap();
    ok_json(&analyze_cached(&oci(a.path()), cache.path(), &[]));
    // Image B's base layer blob is spoilt in place, its size kept: only the
    // cache can supply the layer, so a warm run that passes did not read it
    // (the blob's cheap facts, presence and size, still hold; issue 18).
    let base_blob = crate::layout::sha(&crate::layout::gzip(&base));
    let blob = b.path().join("blobs/sha256").join(&base_blob[7..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();
    let v = ok_json(&analyze_cached(&oci(b.path()), cache.path(), &[]));
    assert_eq!(v["totals"]["final_bytes"], 50_000 + 100 + 700);
    assert_eq!(v["layers"][0]["file_bytes"], 50_100);
    assert_eq!(cache_entries(cache.path()), 3);
    // Without the cache the spoilt blob is an error.
    let out = imgaudit()
        .args(["analyze", &oci(b.path()), "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn damaged_entries_are_ignored_and_rebuilt() {
    let img = repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string();
    let cache = tempfile::tempdir().unwrap();
    let cold = ok_json(&analyze_cached(&img, cache.path(), &[]));
    let files = entry_files(cache.path());
    assert!(!files.is_empty());
    for (n, f) in files.iter().enumerate() {
        let mut b = std::fs::read(f).unwrap();
        if n % 2 == 0 {
            let mid = b.len() / 2;
            b[mid] ^= 0x55; // a flipped byte
        } else {
            b.truncate(b.len() / 3); // a torn write
        }
        std::fs::write(f, b).unwrap();
    }
    let again = ok_json(&analyze_cached(&img, cache.path(), &[]));
    assert_eq!(again, cold);
    // Rebuilt: a third run reads valid entries only (same answer, same count).
    assert_eq!(cache_entries(cache.path()), files.len() as u64);
    let third = ok_json(&analyze_cached(&img, cache.path(), &[]));
    assert_eq!(third, cold);
}

#[test]
fn unverified_reads_are_not_remembered_and_prune_empties() {
    let img = repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string();
    let cache = tempfile::tempdir().unwrap();
    ok_json(&analyze_cached(&img, cache.path(), &["--no-verify"]));
    assert_eq!(cache_entries(cache.path()), 0);
    ok_json(&analyze_cached(&img, cache.path(), &[]));
    let n = cache_entries(cache.path());
    assert!(n > 0);
    let out = imgaudit()
        .args(["cache", "prune", "--cache-dir"])
        .arg(cache.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("removed {n} cached layers")),
        "{text}"
    );
    assert_eq!(cache_entries(cache.path()), 0);
}

#[test]
fn two_processes_share_one_cache() {
    let img = repo_root()
        .join("testdata/categories/categories-oci.tar")
        .display()
        .to_string();
    let cache = tempfile::tempdir().unwrap();
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("imgaudit"))
            .args(["analyze", &img, "--format", "json", "-q", "--cache-dir"])
            .arg(cache.path())
            .env_remove("IMGAUDIT_NO_CACHE")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (p1, p2) = (spawn(), spawn());
    let (o1, o2) = (
        p1.wait_with_output().unwrap(),
        p2.wait_with_output().unwrap(),
    );
    let (v1, v2) = (ok_json(&o1), ok_json(&o2));
    assert_eq!(v1, v2);
    let warm = ok_json(&analyze_cached(&img, cache.path(), &[]));
    assert_eq!(warm, v1);
    // No temporary files left behind, one entry a layer.
    let files = entry_files(cache.path());
    assert!(files
        .iter()
        .all(|f| f.extension().is_some_and(|e| e == "layer")));
    assert_eq!(files.len(), v1["layers"].as_array().unwrap().len());
}

/// Mode bits of `p` (permission bits only).
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn cache_directories_are_private() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("new/cache");
    let img = repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string();
    ok_json(&analyze_cached(&img, &cache, &[]));
    let layers = cache.join("layers");
    let mut dirs = vec![t.path().join("new"), cache.clone(), layers.clone()];
    let files = entry_files(&cache);
    assert!(!files.is_empty());
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
        dirs.push(f.parent().unwrap().to_path_buf());
    }
    for d in &dirs {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
    // The cache directory made for a gzip-compressed archive's temporary
    // file (no layer cache) is private too.
    let gz = t.path().join("demo.tar.gz");
    std::fs::write(
        &gz,
        crate::layout::gzip(
            &std::fs::read(repo_root().join("testdata/demo/demo-oci.tar")).unwrap(),
        ),
    )
    .unwrap();
    let tmp_cache = t.path().join("gz-cache");
    let out = imgaudit()
        .args([
            "analyze",
            gz.to_str().unwrap(),
            "-q",
            "--no-cache",
            "--cache-dir",
        ])
        .arg(&tmp_cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&tmp_cache), 0o700);
}

#[test]
fn prune_never_follows_a_symlink_out_of_the_cache() {
    let t = tempfile::tempdir().unwrap();
    // Files outside the cache that look exactly like entries.
    let victim = t.path().join("victim");
    let victim_files = [
        victim.join("ab").join(format!("{}.layer", "ab".repeat(32))),
        victim.join("cd").join(format!("{}.docs", "cd".repeat(32))),
        victim.join("ab").join(".tmp-x"),
        victim.join("ef").join(format!("{}.layer", "ef".repeat(32))),
    ];
    for f in &victim_files {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, b"not yours").unwrap();
    }
    let prune = |cache: &Path| {
        let out = imgaudit()
            .args(["cache", "prune", "--cache-dir"])
            .arg(cache)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // `layers` itself a symlink to that directory.
    let c1 = t.path().join("c1");
    std::fs::create_dir(&c1).unwrap();
    std::os::unix::fs::symlink(&victim, c1.join("layers")).unwrap();
    let text = prune(&c1);
    assert!(text.starts_with("removed 0 cached layers"), "{text}");
    // A two-hex subdirectory that is a symlink, beside a real entry.
    let c2 = t.path().join("c2");
    let img = repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string();
    ok_json(&analyze_cached(&img, &c2, &[]));
    let real = entry_files(&c2).len();
    assert!(real > 0);
    let hex = (0..=255u8)
        .map(|b| format!("{b:02x}"))
        .find(|h| !c2.join("layers").join(h).exists())
        .unwrap();
    std::os::unix::fs::symlink(victim.join("ef"), c2.join("layers").join(&hex)).unwrap();
    let text = prune(&c2);
    assert!(
        text.starts_with(&format!("removed {real} cached layers")),
        "{text}"
    );
    for f in &victim_files {
        assert_eq!(std::fs::read(f).unwrap(), b"not yours", "{}", f.display());
    }
}
