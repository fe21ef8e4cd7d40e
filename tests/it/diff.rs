//! `imgaudit diff`: an image against itself shows no change; a pair built
//! by construction (a shared base layer, a build layer with gcc and make
//! replaced by a slim app layer) shows exactly the changes written; every
//! renderer is snapshotted.

use crate::common::{analyze_json, imgaudit, repo_root};
use crate::layout::{oci, tar, Img, E};
use serde_json::Value;
use std::path::Path;

fn demo() -> String {
    repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string()
}

/// Run `diff` and return (exit code, stdout, stderr).
pub fn diff(before: &str, after: &str, extra: &[&str]) -> (i32, String, String) {
    let out = imgaudit()
        .args(["diff", before, after, "-q"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn diff_json(before: &str, after: &str) -> Value {
    let (code, out, err) = diff(before, after, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn base_layer() -> Vec<u8> {
    tar(&[
        E::File("usr/lib/libc.so.6", 2000),
        E::File("etc/os-release", 40),
    ])
}

/// Before: base + a layer with gcc, make and the app. After: the same base
/// (same diff_id) + the app alone, grown, and one new file.
pub fn pair(dir: &Path) -> (String, String) {
    let b = dir.join("before");
    let a = dir.join("after");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::create_dir_all(&a).unwrap();
    Img::new()
        .gz(base_layer())
        .gz(tar(&[
            E::File("usr/bin/gcc-12", 5000),
            E::File("usr/bin/make", 700),
            E::File("app/main", 100),
        ]))
        .write(&b, |_, _| {});
    Img::new()
        .gz(base_layer())
        .gz(tar(&[E::File("app/main", 400), E::File("app/new", 50)]))
        .write(&a, |_, _| {});
    (oci(&b), oci(&a))
}

/// Replace temp paths in a report with fixed names.
pub fn scrub(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "TMP")
}

#[test]
fn diff_of_an_image_with_itself_shows_no_change() {
    let d = diff_json(&demo(), &demo());
    for k in [
        "final_bytes",
        "compressed_bytes",
        "layer_bytes",
        "wasted_bytes",
        "files",
        "layers",
        "removable_bytes",
    ] {
        assert_eq!(d["totals"][k]["delta"], 0, "{k}");
        assert_eq!(d["totals"][k]["before"], d["totals"][k]["after"], "{k}");
    }
    assert!(d["totals"]["final_bytes"]["before"].as_u64().unwrap() > 0);
    assert_eq!(d["paths"]["available"], true);
    for k in [
        "added_count",
        "removed_count",
        "grown_count",
        "shrunk_count",
    ] {
        assert_eq!(d["paths"][k], 0, "{k}");
    }
    assert_eq!(d["layers"]["only_before"].as_array().unwrap().len(), 0);
    assert_eq!(d["layers"]["only_after"].as_array().unwrap().len(), 0);
    assert_eq!(d["layers"]["shared"].as_array().unwrap().len(), 4);
    for k in ["added", "removed", "grown", "shrunk"] {
        assert!(d["packages"][k].as_array().unwrap().is_empty(), "{k}");
    }
    assert!(d["packages"]["unchanged"].as_u64().unwrap() > 0);
    for c in d["categories"].as_array().unwrap() {
        assert_eq!(c["final_bytes"]["delta"], 0, "{c}");
    }
    // The path list used for the diff is not in the JSON.
    assert!(d.get("before_paths").is_none());
    // Every text format says so in a line instead of tables of zeros.
    for format in ["table", "markdown", "html"] {
        let (code, text, err) = diff(&demo(), &demo(), &["--format", format]);
        assert_eq!(code, 0, "{err}");
        assert!(
            text.contains("The images are identical"),
            "{format}: {text}"
        );
        assert!(
            text.contains("4 layers, 3.8 MB final in 113 files"),
            "{text}"
        );
        assert!(
            !text.contains("Totals") && !text.contains("Removable"),
            "{text}"
        );
        if format != "html" {
            assert!(text.lines().count() <= 6, "{format}: {text}");
        }
    }
}

#[test]
fn diff_by_construction() {
    let t = tempfile::tempdir().unwrap();
    let (b, a) = pair(t.path());
    let d = diff_json(&b, &a);
    let f = &d["totals"]["final_bytes"];
    assert_eq!(f["before"], 2040 + 5000 + 700 + 100);
    assert_eq!(f["after"], 2040 + 400 + 50);
    assert_eq!(f["delta"], -(5000 + 700 + 100 - 400 - 50));
    let pct = f["percent"].as_f64().unwrap();
    assert!((pct - (-5350.0 * 100.0 / 7840.0)).abs() < 1e-9, "{pct}");
    let paths = &d["paths"];
    assert_eq!(paths["added_count"], 1);
    assert_eq!(paths["removed_count"], 2);
    assert_eq!(paths["grown_count"], 1);
    assert_eq!(paths["added"][0]["path"], "/app/new");
    assert_eq!(paths["removed"][0]["path"], "/usr/bin/gcc-12");
    assert_eq!(paths["removed"][0]["bytes"]["before"], 5000);
    assert_eq!(paths["removed"][1]["path"], "/usr/bin/make");
    assert_eq!(paths["grown"][0]["path"], "/app/main");
    assert_eq!(paths["grown"][0]["bytes"]["delta"], 300);
    let layers = &d["layers"];
    assert_eq!(layers["shared"].as_array().unwrap().len(), 1);
    assert_eq!(layers["shared"][0]["before_index"], 0);
    assert_eq!(layers["shared"][0]["after_index"], 0);
    assert_eq!(layers["shared_file_bytes"], 2040);
    assert_eq!(layers["only_before"][0]["before_index"], 1);
    assert_eq!(layers["only_after"][0]["after_index"], 1);
    let bt = d["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "build-tools")
        .expect("build-tools listed");
    assert_eq!(bt["final_bytes"]["before"], 5700);
    assert_eq!(bt["final_bytes"]["after"], 0);
    // Groups are sums of their categories, on both sides.
    let total_before: u64 = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["final_bytes"]["before"].as_u64().unwrap())
        .sum();
    assert_eq!(total_before, 7840);
}

/// Download deltas (issue 17): every figure is the two analyses' own, and
/// the text formats show the change.
#[test]
fn diff_shows_download_deltas() {
    let t = tempfile::tempdir().unwrap();
    let (b, a) = pair(t.path());
    let d = diff_json(&b, &a);
    let (jb, ja) = (analyze_json(&b, &[]), analyze_json(&a, &[]));
    let u = |v: &Value| v.as_u64().unwrap();
    let change = |c: &Value, before: u64, after: u64, what: &str| {
        assert_eq!((u(&c["before"]), u(&c["after"])), (before, after), "{what}");
        assert_eq!(
            c["delta"].as_i64().unwrap(),
            after as i64 - before as i64,
            "{what}"
        );
    };
    for k in [
        "download_bytes",
        "final_download_bytes",
        "wasted_download_bytes",
    ] {
        change(&d["totals"][k], u(&jb["totals"][k]), u(&ja["totals"][k]), k);
    }
    // The after image dropped gcc and make: it downloads less.
    assert!(d["totals"]["download_bytes"]["delta"].as_i64().unwrap() < 0);
    let cat = |j: &Value, id: &str| {
        j["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map_or(0, |c| u(&c["final_download_bytes"]))
    };
    for c in d["categories"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        change(&c["final_download_bytes"], cat(&jb, id), cat(&ja, id), id);
    }
    let bt = d["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "build-tools")
        .unwrap();
    assert!(u(&bt["final_download_bytes"]["before"]) > 0);
    assert_eq!(bt["final_download_bytes"]["after"], 0);
    // Groups sum their categories' download on both sides.
    let side = |k: &str, v: &str| -> u64 {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|x| u(&x["final_download_bytes"][v]))
            .sum()
    };
    assert_eq!(side("groups", "before"), side("categories", "before"));
    assert_eq!(side("groups", "after"), side("categories", "after"));
    // Layers carry their stored size; the shared one's is counted once.
    let layer = |j: &Value, i: u64| u(&j["layers"][i as usize]["download_bytes"]);
    let l = &d["layers"];
    assert_eq!(u(&l["shared"][0]["download_bytes"]), layer(&jb, 0));
    assert_eq!(u(&l["shared_download_bytes"]), layer(&jb, 0));
    assert_eq!(u(&l["only_before"][0]["download_bytes"]), layer(&jb, 1));
    assert_eq!(u(&l["only_after"][0]["download_bytes"]), layer(&ja, 1));
    let s = &d["savings"];
    for k in [
        "minimum_download_bytes",
        "removable_download_bytes",
        "hidden_download_bytes",
    ] {
        change(&s[k], u(&jb["savings"][k]), u(&ja["savings"][k]), k);
    }
    // The table's totals have a download row with the signed change.
    let (_, text, _) = diff(&b, &a, &[]);
    let delta = d["totals"]["download_bytes"]["delta"].as_i64().unwrap();
    let want = format!("-{}", imgaudit::units::human(delta.unsigned_abs()));
    assert!(
        text.lines()
            .any(|l| l.contains("│ download ") && l.contains(&want)),
        "{want}: {text}"
    );
}

#[test]
fn diff_renderers_snapshots() {
    let t = tempfile::tempdir().unwrap();
    let (b, a) = pair(t.path());
    for (format, name) in [
        ("table", "diff_table"),
        ("markdown", "diff_markdown"),
        ("html", "diff_html"),
    ] {
        let (code, out, err) = diff(&b, &a, &["--format", format]);
        assert_eq!(code, 0, "{err}");
        assert!(err.is_empty(), "{err}");
        insta::assert_snapshot!(name, scrub(&out, t.path()));
    }
    let (code, out, _) = diff(&b, &a, &["--format", "json"]);
    assert_eq!(code, 0);
    let mut v: Value = serde_json::from_str(&scrub(&out, t.path())).unwrap();
    // Config digests change with the recipe's timestamps: keep them, they
    // are written by the test (deterministic).
    v["schema_version"] = Value::from(1);
    insta::assert_json_snapshot!("diff_json", v);
}

#[test]
fn diff_markdown_headline_first() {
    let t = tempfile::tempdir().unwrap();
    let (b, a) = pair(t.path());
    let (_, out, _) = diff(&b, &a, &["--format", "markdown"]);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("### imgaudit diff:"), "{first}");
    assert!(out.contains("after is 68.2% smaller"), "{out}");
    assert!(
        out.contains("Build tools gone") || out.contains("gone ("),
        "{out}"
    );
}

#[test]
fn diff_errors_exit_2_with_one_line() {
    let (code, out, err) = diff(&demo(), "/nonexistent/image.tar", &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/image.tar"), "{err}");
}
