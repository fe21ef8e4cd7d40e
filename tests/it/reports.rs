//! Markdown reports and the many-image summary: headline first, long lists
//! folded, under 65,000 characters with a truncation note, `--output` for
//! every format, and snapshots of each renderer.

use crate::common::{imgaudit, repo_root};
use crate::layout::{oci, tar, Img, E};
use serde_json::Value;

fn demo() -> String {
    repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = imgaudit().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn analyze_markdown_snapshot_and_shape() {
    let (code, md, err) = run(&["analyze", &demo(), "--format", "markdown", "--top", "8"]);
    assert_eq!(code, 0, "{err}");
    assert!(md.starts_with("### imgaudit: "), "{md}");
    // The headline comes before any table.
    let head_end = md.find("\n|").unwrap();
    assert!(md[..head_end].contains("final") && md[..head_end].contains("removable"));
    assert!(md.chars().count() < 65_000);
    // Balanced folds.
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    insta::assert_snapshot!(
        "demo_markdown",
        md.replace(&demo(), "testdata/demo/demo-oci.tar")
    );
}

#[test]
fn markdown_long_lists_fold_and_huge_reports_truncate() {
    let t = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..1500)
        .map(|i| {
            format!(
                "srv/data/{}/file-{i:05}.bin",
                "deeply/nested/directory/name".repeat(2)
            )
        })
        .collect();
    let entries: Vec<E> = names.iter().map(|n| E::File(n, 10)).collect();
    Img::new().gz(tar(&entries)).write(t.path(), |_, _| {});
    let img = oci(t.path());
    let (code, md, err) = run(&[
        "analyze", &img, "--format", "markdown", "--top", "1500", "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let n = md.chars().count();
    assert!(n < 65_000, "{n}");
    assert!(
        md.contains("Truncated to stay under 65000 characters"),
        "{}",
        &md[md.len() - 400..]
    );
    assert!(md.starts_with("### imgaudit: "));
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    // Long tables are folded.
    assert!(
        md.contains("<details><summary>Largest files (1500)</summary>")
            || md.contains("<details><summary>Layers"),
        "{}",
        &md[..2000.min(md.len())]
    );
}

#[test]
fn many_images_one_summary_table() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    let b = t.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    Img::new()
        .gz(tar(&[E::File("x", 100)]))
        .write(&a, |_, _| {});
    Img::new()
        .gz(tar(&[E::File("y", 300), E::File("z", 50)]))
        .gz(tar(&[E::File(".wh.z", 0)]))
        .write(&b, |_, _| {});
    let (ia, ib) = (oci(&a), oci(&b));
    let (code, out, err) = run(&["analyze", &ia, &ib, &demo(), "--format", "json", "-q"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["images"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        ia.ends_with(rows[0]["reference"].as_str().unwrap()),
        "{}",
        rows[0]["reference"]
    );
    assert_eq!(rows[0]["final_bytes"], 100);
    assert_eq!(rows[1]["final_bytes"], 300);
    assert_eq!(rows[1]["wasted_bytes"], 50);
    assert_eq!(rows[1]["layers"], 2);
    assert!(rows[2]["removable_bytes"].as_u64().unwrap() > 0);
    // Relative references from the temp dir keep table widths fixed.
    std::os::unix::fs::symlink(demo(), t.path().join("demo-oci.tar")).unwrap();
    for (format, name) in [
        ("table", "summary_table"),
        ("markdown", "summary_markdown"),
        ("json", "summary_json"),
        ("html", "summary_html"),
    ] {
        let out = imgaudit()
            .current_dir(t.path())
            .args([
                "analyze",
                "oci:a",
                "oci:b",
                "demo-oci.tar",
                "--format",
                format,
                "-q",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
    }
    // An error names the image it came from.
    let (code, _, err) = run(&["analyze", &ia, "/nonexistent/x.tar", "-q"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.tar"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn output_flag_works_for_every_format_and_command() {
    let t = tempfile::tempdir().unwrap();
    let budget = t.path().join("b.toml");
    std::fs::write(&budget, "max_final_bytes = \"1 GB\"\n").unwrap();
    let d = demo();
    for format in ["table", "json", "markdown", "html"] {
        let commands: Vec<Vec<&str>> = vec![
            vec!["analyze", &d],
            vec!["analyze", &d, &d],
            vec!["diff", &d, &d],
            vec!["check", &d, "--budget", budget.to_str().unwrap()],
        ];
        for (i, c) in commands.iter().enumerate() {
            let p = t.path().join(format!("out-{format}-{i}"));
            let out = imgaudit()
                .args(c)
                .args(["--format", format, "-q", "--output"])
                .arg(&p)
                .env_remove("GITHUB_ACTIONS")
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{c:?} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout.is_empty(), "{c:?} {format}");
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(!text.is_empty());
            match format {
                "json" => {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["schema_version"], 1);
                }
                "html" => assert!(text.starts_with("<!DOCTYPE html>")),
                "markdown" => assert!(text.starts_with("### ")),
                _ => {}
            }
        }
    }
}

#[test]
fn default_analysis_json_has_no_path_list() {
    let (code, out, err) = run(&["analyze", &demo(), "--format", "json", "-q"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("paths").is_none());
    assert!(v["totals"]["files"].as_u64().unwrap() > 20);
    assert_eq!(v["largest_files"].as_array().unwrap().len(), 20);
}

/// dive's wasted-file list (and our exact hidden bytes beside it) is in the
/// table, Markdown and HTML reports, each row as the JSON model has it.
#[test]
fn wasted_files_are_listed_in_every_format() {
    let demo = crate::common::repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string();
    let json = crate::common::analyze_json(&demo, &[]);
    let files = json["dive_wasted_files"].as_array().unwrap();
    assert!(!files.is_empty());
    for format in ["table", "markdown", "html"] {
        let out = crate::common::imgaudit()
            .args(["analyze", &demo, "-q", "--wide", "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let at = text
            .find("Wasted files, as dive lists them")
            .unwrap_or_else(|| panic!("{format}: no wasted-files section"));
        let text = &text[at..];
        for f in files {
            let path = f["path"].as_str().unwrap();
            let dive = imgaudit::units::human(f["dive_bytes"].as_u64().unwrap());
            let hidden = imgaudit::units::human(f["hidden_bytes"].as_u64().unwrap());
            let row = text
                .lines()
                .find(|l| l.contains(path))
                .unwrap_or_else(|| panic!("{format}: no row for {path}"));
            assert!(
                row.contains(&dive) && row.contains(&hidden),
                "{format}: {row}"
            );
        }
    }
}
