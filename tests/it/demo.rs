//! The committed demo image (testdata/demo, built by testdata/recipes/demo.sh
//! from real Debian packages): the README command works, every column has
//! something in it, the figures add up, and the table is snapshotted.

use crate::common::{analyze_json, imgaudit, repo_root};

fn demo() -> String {
    repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string()
}

#[test]
fn demo_figures_add_up_and_fill_every_column() {
    let a = analyze_json(&demo(), &[]);
    let t = &a["totals"];
    let layers = a["layers"].as_array().unwrap();
    let sum = |k: &str| layers.iter().map(|l| l[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("file_bytes"), t["layer_bytes"].as_u64().unwrap());
    assert_eq!(
        t["layer_bytes"].as_u64().unwrap(),
        t["final_bytes"].as_u64().unwrap() + t["wasted_bytes"].as_u64().unwrap()
    );
    assert_eq!(sum("wasted_bytes"), t["wasted_bytes"].as_u64().unwrap());
    for col in ["added", "modified", "removed", "wasted_bytes"] {
        assert!(sum(col) > 0, "demo has nothing in column {col}");
    }
    assert!(t["compressed_bytes"].as_u64().unwrap() > 0);
    assert!(a["schema_version"].as_u64().unwrap() >= 1);
}

#[test]
fn demo_table_snapshot() {
    let out = imgaudit()
        .args(["analyze", &demo(), "--top", "8"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Progress never goes to stdout, and nothing at all to stderr when not a TTY.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let text = text.replace(&demo(), "testdata/demo/demo-oci.tar");
    insta::assert_snapshot!("demo_table", text);
}

#[test]
fn output_file_is_written() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("report.json");
    let out = imgaudit()
        .args(["analyze", &demo(), "--format", "json", "--output"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    assert!(v["totals"]["final_bytes"].as_u64().unwrap() > 0);
}
