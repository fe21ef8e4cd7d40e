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

/// The download figures (issue 17) where they are exact: each layer's is
/// the size of its blob in the archive, the image's their sum; the
/// categories split the final and the wasted download bytes exactly; the
/// savings split the image's; and every renderer shows them.
#[test]
fn demo_download_figures_are_consistent() {
    let a = analyze_json(&demo(), &[]);
    let u = |v: &serde_json::Value| v.as_u64().unwrap();
    let t = &a["totals"];
    // The blob sizes, read from the archive itself (tar member sizes).
    let mut blobs = std::collections::BTreeMap::new();
    let mut ar = tar::Archive::new(std::fs::File::open(demo()).unwrap());
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let path = e.path().unwrap().display().to_string();
        if let Some(hex) = path.strip_prefix("blobs/sha256/") {
            blobs.insert(format!("sha256:{hex}"), e.header().size().unwrap());
        }
    }
    let layers = a["layers"].as_array().unwrap();
    let mut sum = 0;
    for l in layers {
        let digest = l["digest"].as_str().unwrap();
        assert_eq!(u(&l["download_bytes"]), blobs[digest], "layer {digest}");
        assert!(u(&l["wasted_download_bytes"]) <= u(&l["download_bytes"]));
        sum += u(&l["download_bytes"]);
    }
    assert_eq!(u(&t["download_bytes"]), sum);
    assert_eq!(t["compressed_bytes"], t["download_bytes"]);
    let wasted: u64 = layers.iter().map(|l| u(&l["wasted_download_bytes"])).sum();
    assert_eq!(u(&t["wasted_download_bytes"]), wasted);
    assert!(u(&t["final_download_bytes"]) + wasted <= sum);
    let cats = a["categories"].as_array().unwrap();
    let cat_sum = |k: &str| cats.iter().map(|c| u(&c[k])).sum::<u64>();
    assert_eq!(
        cat_sum("final_download_bytes"),
        u(&t["final_download_bytes"])
    );
    assert_eq!(cat_sum("wasted_download_bytes"), wasted);
    let s = &a["savings"];
    let removable = s["removable"].as_array().unwrap();
    let in_final: u64 = removable
        .iter()
        .filter(|g| g["in_final"] == true)
        .map(|g| u(&g["download_subtotal"]))
        .sum();
    assert_eq!(in_final, u(&s["removable_download_bytes"]));
    for g in removable {
        let items: u64 = g["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| u(&i["download_bytes"]))
            .sum();
        assert_eq!(items, u(&g["download_subtotal"]), "{}", g["group"]);
    }
    assert_eq!(u(&s["hidden_download_bytes"]), wasted);
    let required: u64 = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| u(&g["download_bytes"]))
        .sum();
    assert_eq!(
        required + u(&s["removable_download_bytes"]),
        u(&t["final_download_bytes"])
    );
    assert_eq!(
        u(&s["minimum_download_bytes"]),
        sum - u(&s["removable_download_bytes"]) - u(&s["hidden_download_bytes"])
    );
    assert_eq!(s["minimum_compressed_bytes"], s["minimum_download_bytes"]);
    let pkgs: u64 = a["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| u(&p["download_bytes"]))
        .sum();
    assert!(pkgs > 0 && pkgs <= u(&t["final_download_bytes"]));
    // The package cache barely compresses; the docs compress well: the
    // reason download figures are measured per file.
    let cat = |id: &str| cats.iter().find(|c| c["id"] == id).unwrap();
    let ratio =
        |c: &serde_json::Value| u(&c["final_download_bytes"]) as f64 / u(&c["final_bytes"]) as f64;
    assert!(
        ratio(cat("package-caches")) > 0.9,
        "{}",
        cat("package-caches")
    );
    assert!(ratio(cat("docs")) < 0.6, "{}", cat("docs"));
    // Every renderer shows the figures: the largest file's download in the
    // table, Markdown and HTML.
    let f = &a["largest_files"][0];
    let shown = imgaudit::units::human(u(&f["download_bytes"]));
    for format in ["table", "markdown", "html"] {
        let out = imgaudit()
            .args(["analyze", &demo(), "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains(f["path"].as_str().unwrap()) && l.contains(&shown))
            .unwrap_or_else(|| panic!("{format}: no line with the largest file and {shown}"));
        assert!(
            line.contains(&imgaudit::units::human(u(&f["bytes"]))),
            "{line}"
        );
        let minimum = imgaudit::units::human(u(&s["minimum_download_bytes"]));
        assert!(
            text.contains(&minimum),
            "{format}: minimum download {minimum}"
        );
    }
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
