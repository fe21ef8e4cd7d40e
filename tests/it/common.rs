//! Shared helpers: the CLI under test, JSON parsing, fixture recipes and the
//! skip-or-fail rule for tests that need outside tools.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn imgaudit() -> Command {
    let mut c = Command::cargo_bin("imgaudit").expect("binary built");
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("imgaudit-test-cache"),
    );
    c.env_remove("NO_COLOR");
    // Each test starts from cold: the layer cache would otherwise carry one
    // test's layers into another's (tests/it/cache.rs turns it back on).
    c.env("IMGAUDIT_NO_CACHE", "1");
    // Tests talk to loopback services only, never through a proxy.
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c
}

/// Run `analyze --format json` on `image` and parse the result.
pub fn analyze_json(image: &str, extra: &[&str]) -> Value {
    let out = imgaudit()
        .args(["analyze", image, "--format", "json", "-q"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "analyze {image} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Run analyze expecting failure; returns stderr.
pub fn analyze_err(image: &str, extra: &[&str]) -> String {
    let out = imgaudit()
        .args(["analyze", image, "-q"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2 for {image}, got {:?}; stdout: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.lines().count(), 1, "one error line expected: {err}");
    err
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `true` when every tool is on PATH; otherwise print why the test is
/// skipped, or fail under CI=true.
pub fn have_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !std::process::Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if in_ci() {
        panic!("{test}: required tools missing under CI=true: {missing:?}");
    }
    eprintln!("SKIP {test}: tools not installed: {missing:?}");
    false
}

/// The accounting fixture set, built once per test run by its recipe.
pub fn accounting_fixtures() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if !have_tools("accounting fixtures", &["umoci", "skopeo", "python3"]) {
            return None;
        }
        let out = repo_root().join("target/test-fixtures/accounting");
        if !out.join("expected.json").exists() {
            let _ = std::fs::remove_dir_all(&out);
            let status = std::process::Command::new("bash")
                .arg(repo_root().join("testdata/recipes/accounting.sh"))
                .arg(&out)
                .status()
                .expect("run recipe");
            assert!(status.success(), "accounting recipe failed");
        }
        Some(out)
    })
    .as_ref()
}

/// `true` when a Docker daemon answers (DOCKER_HOST, else /var/run/docker.sock);
/// otherwise print why the test is skipped, or fail under CI=true.
pub fn have_daemon(test: &str) -> bool {
    if !have_tools(test, &["docker"]) {
        return false;
    }
    let ok = std::process::Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return true;
    }
    if in_ci() {
        panic!("{test}: no Docker daemon answers under CI=true (.ci/run starts one)");
    }
    eprintln!("SKIP {test}: no Docker daemon answers (start dockerd, or set DOCKER_HOST)");
    false
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A temporary OCI layout whose layers are these tars, each gzip-compressed
/// (written byte by byte by `layout.rs`).
pub fn gzip_layout(layers: &[Vec<u8>]) -> tempfile::TempDir {
    use crate::layout::{gzip, Img, GZ};
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    for l in layers {
        img.layers.push((gzip(l), GZ.into(), l.clone()));
    }
    img.write(t.path(), |_, _| {});
    t
}

/// `v` without the download figures (keys containing `download`, and the
/// measured minimum compressed size): they differ, rightly, between the
/// same files stored with different compression.
pub fn without_download(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| !k.contains("download") && k != "minimum_compressed_bytes");
            m.values_mut().for_each(without_download);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(without_download),
        _ => {}
    }
}
