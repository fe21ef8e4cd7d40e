//! Report layout through the library's rendering API: tables fit a given
//! terminal width (optional columns dropped with a note, `created_by` cut)
//! and take their full width without one; a failed image is a row and a
//! message in every format; titles name the image file, not the directory
//! it was read from; one short layer ID (the diff_id's) in `analyze` and
//! `diff`.

use crate::common::{imgaudit, repo_root};
use imgaudit::report::{self, Format, RenderOptions};
use imgaudit::summary::{Summary, SummaryRow};

fn demo() -> String {
    repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string()
}

fn demo_analysis() -> imgaudit::analysis::Analysis {
    let r = imgaudit::source::ImageRef::parse(&demo()).unwrap();
    imgaudit::analyze(
        &r,
        &imgaudit::AnalyzeOptions::default(),
        &imgaudit::run::NoProgress,
    )
    .unwrap()
}

fn table(a: &imgaudit::analysis::Analysis, width: Option<usize>) -> String {
    let mut out = Vec::new();
    report::render_analysis_with(a, None, Format::Table, &RenderOptions { width }, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// The lines of the table that follows `title`.
fn table_after<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| !l.is_empty() && !l.starts_with(char::is_alphabetic))
        .collect()
}

#[test]
fn tables_fit_the_terminal_width_or_take_their_full_width() {
    let a = demo_analysis();
    let wide = table(&a, None);
    let layers = table_after(&wide, "Layers");
    assert!(
        layers[1].contains("Added") && layers[1].contains("Removed"),
        "{wide}"
    );
    assert!(
        layers.iter().any(|l| l.chars().count() > 80),
        "the demo's layer table is wider than 80 columns at full width"
    );
    for width in [80, 100] {
        let narrow = table(&a, Some(width));
        for l in narrow
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
        {
            assert!(l.chars().count() <= width, "{width}: {l:?}\n{narrow}");
        }
        let layers = table_after(&narrow, "Layers");
        let header = layers[1];
        assert!(
            header.contains("Diff ID") && header.contains("Created by"),
            "{narrow}"
        );
        if width == 80 {
            assert!(!header.contains("Added"), "{narrow}");
            assert!(
                narrow.contains(
                    "(Added, Modified, Removed, Wasted download not shown to fit 80 columns"
                ),
                "{narrow}"
            );
            // created_by is cut with an ellipsis, on one line per layer.
            assert_eq!(layers.len(), 3 + a.layers.len() + 2, "{narrow}");
            assert!(layers[3].ends_with("… │"), "{}", layers[3]);
        }
        // Same figures, whatever the width.
        for l in &a.layers {
            assert!(narrow.contains(&l.diff_id.as_str()[7..19]), "{narrow}");
        }
        if width == 80 {
            insta::assert_snapshot!("demo_table_80", narrow.replace(&demo(), "demo-oci.tar"));
        }
    }
}

#[test]
fn a_failed_image_is_a_row_and_a_message_in_every_format() {
    let a = demo_analysis();
    // A reference of fixed length keeps the snapshots' widths the same on
    // every machine.
    let mut row = SummaryRow::of(&a);
    if let SummaryRow::Image(r) = &mut row {
        r.reference = "demo-oci.tar".into();
    }
    let s = Summary {
        by_platform: false,
        rows: vec![
            row,
            SummaryRow::failed(
                "docker://registry.invalid/app:1",
                "cannot reach the registry: connection refused",
            ),
        ],
    };
    assert_eq!(s.failed(), 1);
    let render = |f: Format| {
        let mut out = Vec::new();
        report::render_summary(&s, f, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
    let rows = json["images"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["final_bytes"], a.totals.final_bytes);
    assert_eq!(rows[1]["reference"], "docker://registry.invalid/app:1");
    assert_eq!(
        rows[1]["error"],
        "cannot reach the registry: connection refused"
    );
    assert!(rows[1].get("final_bytes").is_none(), "{}", rows[1]);
    for f in [Format::Table, Format::Markdown, Format::Html] {
        let text = render(f);
        assert!(text.contains("registry.invalid/app:1"), "{f:?}: {text}");
        assert!(text.contains("connection refused"), "{f:?}: {text}");
        let row = text
            .lines()
            .find(|l| l.contains("registry.invalid/app:1") && l.contains("failed"))
            .unwrap_or_else(|| panic!("{f:?}: no failed row: {text}"));
        assert!(!row.contains("connection refused"), "{f:?}: {row}");
    }
    for (f, name) in [
        (Format::Table, "summary_failed_table"),
        (Format::Markdown, "summary_failed_markdown"),
    ] {
        insta::assert_snapshot!(name, render(f));
    }
    let md = render(Format::Markdown);
    assert!(md.starts_with("### imgaudit: 2 images, 1 failed"), "{md}");
    let widths: Vec<usize> = md
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.matches('|').count())
        .collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{md}");
}

#[test]
fn titles_name_the_image_file_not_the_machine_path() {
    let dir = repo_root().join("testdata/demo").display().to_string();
    for format in ["markdown", "html"] {
        let out = imgaudit()
            .args(["analyze", &demo(), "-q", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains(&dir), "{format}: {dir} in the report");
        assert!(
            text.contains("imgaudit: demo-oci.tar"),
            "{format}: {}",
            &text[..300.min(text.len())]
        );
    }
    let out = imgaudit()
        .args(["diff", &demo(), &demo(), "-q", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("### imgaudit diff: demo-oci.tar → demo-oci.tar"),
        "{text}"
    );
}

#[test]
fn one_short_layer_id_in_analyze_diff_and_check() {
    let t = tempfile::tempdir().unwrap();
    let (b, a) = crate::diff::pair(t.path());
    let json = crate::common::analyze_json(&a, &[]);
    let run = |args: &[&str]| {
        let out = imgaudit().args(args).arg("-q").output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let analyzed = run(&["analyze", &a]);
    let diffed = run(&["diff", &b, &a]);
    // check lists every layer (max_layers 0 fails and names them all).
    let budget = t.path().join("layers.toml");
    std::fs::write(&budget, "max_layers = 0\n").unwrap();
    let checked = {
        let out = imgaudit()
            .args(["check", &a, "-q", "--budget"])
            .arg(&budget)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    for l in json["layers"].as_array().unwrap() {
        let id = &l["diff_id"].as_str().unwrap()[7..19];
        let blob = &l["digest"].as_str().unwrap()[7..19];
        assert!(analyzed.contains(id), "{id}: {analyzed}");
        assert!(diffed.contains(id), "{id}: {diffed}");
        assert!(
            checked.contains(&format!("diff ID {id}")),
            "{id}: {checked}"
        );
        for out in [&analyzed, &diffed, &checked] {
            assert!(!out.contains(blob), "{blob}: {out}");
        }
    }
    assert!(analyzed.contains("Diff ID") && diffed.contains("Diff ID"));
}
