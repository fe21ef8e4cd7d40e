//! The HTML report: one self-contained file (no network requests), read
//! back in headless Chromium: no console errors, the treemap drawn, the
//! headline figures in the DOM equal to the JSON's, and a screenshot taken
//! (target/test-artifacts/html/). Chromium tests skip with a reason locally
//! when it is missing and fail under CI=true.

use crate::common::{analyze_json, have_tools, imgaudit, repo_root};
use crate::diff::{pair, scrub};
use crate::layout::{oci, tar, Img, E};
use std::path::{Path, PathBuf};

fn demo() -> String {
    repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string()
}

fn html(args: &[&str], out: &Path) -> String {
    let o = imgaudit()
        .args(args)
        .args(["--format", "html", "-q", "--output"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

/// Nothing in the page can make a request: no URLs, no external sources.
fn assert_self_contained(page: &str) {
    for needle in ["http:", "https:", "//cdn", " src=", "@import", "url("] {
        assert!(!page.contains(needle), "page contains {needle:?}");
    }
    assert!(page.contains("<style>") && page.contains("</html>"));
}

pub(crate) struct Run {
    pub dom: String,
    pub stderr: String,
}

/// `chromium --headless` on a page with a fresh profile and no background
/// networking (the page's DOM with `--dump-dom`, and its console on stderr).
pub(crate) fn chromium(page: &Path, extra: &[&str]) -> Run {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Console messages Chromium logged for the page.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// `data-bytes` of the element with `id`.
fn dom_bytes(dom: &str, id: &str) -> i64 {
    let tag = format!("id=\"{id}\"");
    let at = dom
        .find(&tag)
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let rest = &dom[at..];
    let v = rest.find("data-bytes=\"").expect("data-bytes") + "data-bytes=\"".len();
    rest[v..rest[v..].find('"').unwrap() + v].parse().unwrap()
}

fn body_attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body").expect("body")..];
    let body = &body[..body.find('>').unwrap()];
    let k = format!("{name}=\"");
    let at = body.find(&k)? + k.len();
    Some(&body[at..at + body[at..].find('"')?])
}

fn artifacts() -> PathBuf {
    let d = repo_root().join("target/test-artifacts/html");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn screenshot(page: &Path, name: &str) {
    let png = artifacts().join(name);
    let _ = std::fs::remove_file(&png);
    chromium(page, &[&format!("--screenshot={}", png.display())]);
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 5_000,
        "screenshot suspiciously small: {}",
        bytes.len()
    );
}

#[test]
fn analyze_html_is_self_contained_and_snapshotted() {
    let t = tempfile::tempdir().unwrap();
    Img::new()
        .gz(tar(&[
            E::File("usr/bin/gcc-12", 5000),
            E::File("usr/share/doc/a/README", 300),
            E::File("app/server", 1200),
        ]))
        .gz(tar(&[E::File("usr/share/doc/a/.wh.README", 0)]))
        .write(&t.path().join("img"), |_, _| {});
    let img = oci(&t.path().join("img"));
    let page = html(&["analyze", &img], &t.path().join("r.html"));
    assert_self_contained(&page);
    // The explorer's data: the tree down to files, in compact arrays.
    assert!(page.contains("[1,\"gcc-12\",5000,0,"), "tree data missing");
    insta::assert_snapshot!("small_html", scrub(&page, t.path()));
}

#[test]
fn analyze_html_in_chromium() {
    if !have_tools("analyze_html_in_chromium", &["chromium"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("demo.html");
    let page = html(&["analyze", &demo()], &p);
    assert_self_contained(&page);
    let a = analyze_json(&demo(), &[]);
    let run = chromium(&p, &["--dump-dom"]);
    assert!(
        console_lines(&run.stderr).is_empty(),
        "console: {:?}",
        console_lines(&run.stderr)
    );
    assert_eq!(body_attr(&run.dom, "data-js-error"), None);
    assert_eq!(body_attr(&run.dom, "data-treemap-ready"), Some("1"));
    let boxes: usize = body_attr(&run.dom, "data-treemap-boxes")
        .unwrap()
        .parse()
        .unwrap();
    assert!(boxes >= 5, "{boxes} treemap boxes");
    // Boxes drawn by the script exist in the DOM.
    assert!(run.dom.matches("class=\"tm").count() >= boxes);
    assert_eq!(
        dom_bytes(&run.dom, "final-bytes"),
        a["totals"]["final_bytes"].as_i64().unwrap()
    );
    assert_eq!(
        dom_bytes(&run.dom, "compressed-bytes"),
        a["totals"]["compressed_bytes"].as_i64().unwrap()
    );
    assert_eq!(
        dom_bytes(&run.dom, "wasted-bytes"),
        a["totals"]["wasted_bytes"].as_i64().unwrap()
    );
    assert_eq!(
        dom_bytes(&run.dom, "removable-bytes"),
        a["savings"]["removable_bytes"].as_i64().unwrap()
    );
    // Download figures (issue 17): the image's, the removable groups' and
    // the measured minimum.
    for (id, v) in [
        ("download-bytes", &a["totals"]["download_bytes"]),
        (
            "savings-removable-download",
            &a["savings"]["removable_download_bytes"],
        ),
        ("minimum-download", &a["savings"]["minimum_download_bytes"]),
    ] {
        assert!(v.as_i64().unwrap() > 0, "{id}");
        assert_eq!(dom_bytes(&run.dom, id), v.as_i64().unwrap(), "{id}");
    }
    // One bar group per layer.
    assert_eq!(
        run.dom.matches("<title>layer ").count(),
        a["layers"].as_array().unwrap().len()
    );
    screenshot(&p, "demo-analyze.png");
}

#[test]
fn diff_html_in_chromium_shows_both_sides() {
    let t = tempfile::tempdir().unwrap();
    let (b, a) = pair(t.path());
    let p = t.path().join("diff.html");
    let page = html(&["diff", &b, &a], &p);
    assert_self_contained(&page);
    assert!(page.contains("id=\"before-tree-data\"") && page.contains("id=\"after-tree-data\""));
    if !have_tools("diff_html_in_chromium_shows_both_sides", &["chromium"]) {
        return;
    }
    let run = chromium(&p, &["--dump-dom"]);
    assert!(
        console_lines(&run.stderr).is_empty(),
        "console: {:?}",
        console_lines(&run.stderr)
    );
    assert_eq!(body_attr(&run.dom, "data-js-error"), None);
    assert_eq!(body_attr(&run.dom, "data-treemap-ready"), Some("1"));
    assert_eq!(dom_bytes(&run.dom, "before-final"), 7840);
    assert_eq!(dom_bytes(&run.dom, "after-final"), 2490);
    assert_eq!(dom_bytes(&run.dom, "delta-final"), 2490 - 7840);
    assert_eq!(dom_bytes(&run.dom, "before-final-bytes"), 7840);
    assert_eq!(dom_bytes(&run.dom, "after-final-bytes"), 2490);
    assert_eq!(run.dom.matches("class=\"treemap\"").count(), 2);
    assert_eq!(run.dom.matches("class=\"explorer\"").count(), 2);
    screenshot(&p, "diff.png");
}

#[test]
fn console_errors_are_detected() {
    // The console check above must be able to fail: a page that logs an
    // error and throws is caught by both detectors.
    if !have_tools("console_errors_are_detected", &["chromium"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("bad.html");
    std::fs::write(
        &p,
        "<!DOCTYPE html><html><body><script>window.addEventListener('error', function (e) { document.body.setAttribute('data-js-error', e.message); }); console.error('boom');</script><script>null.x;</script></body></html>",
    )
    .unwrap();
    let run = chromium(&p, &["--dump-dom"]);
    assert!(!console_lines(&run.stderr).is_empty(), "{}", run.stderr);
    assert!(
        body_attr(&run.dom, "data-js-error").is_some(),
        "{}",
        run.dom
    );
}
