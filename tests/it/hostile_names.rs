//! Attacker-controlled names through every report. An image is written in
//! the test whose file names, package name and version and `created_by`
//! commands hold escape sequences (CSI, an OSC window title), CR, LF
//! followed by `::error::`, U+202E, `|`, backticks, markup and `%0A`; it is
//! run through `analyze`, `diff` and `check` (every rule that lists paths or
//! layers, TOML and `.dive-ci`) in every format, with GitHub annotations and
//! JUnit, and each output is checked the way its reader would be fooled:
//! no raw control byte in terminal, Markdown or annotation output, no line
//! starting with `::` except imgaudit's own annotations, Markdown tables
//! that keep their column count, HTML that Chromium parses into no element
//! the report did not write, JUnit that an XML parser accepts. JSON keeps
//! the exact names.

use crate::common::{have_tools, imgaudit};
use crate::layout::{oci, Img};
use serde_json::Value;
use std::path::Path;

/// File names under /srv (each also a forbidden path).
const NAMES: &[&str] = &[
    "srv/csi\x1b[2J\x1b[31mred",
    "srv/osc\x1b]0;pwned\x07title",
    "srv/cr\rfake row",
    "srv/lf\n::error::injected",
    "srv/rlo\u{202e}gpj.exe",
    "srv/pipe|cell|break",
    "srv/back\\|slash-pipe",
    "srv/tick`code``span",
    "srv/<script>alert(1)</script>",
    "srv/<img src=x onerror=alert(2)>",
    "srv/pct%0A::warning::encoded",
    "srv/c1\u{9b}31mcsi",
];
/// Written by layer 0 and deleted by layer 1 (wasted, hidden).
const HIDDEN: &str = "srv/hidden\x1b[31m|`x`\n::error::gone";
const PACKAGE: &str = "evil|<b>`pkg`\x1b[31m";
const VERSION: &str = "1.0|`</td><script>alert(3)</script>\u{202e}";
const COMMANDS: [&str; 2] = [
    "RUN echo \x1b]0;owned\x07 && printf '\n::error::cmd' | `x` <script>alert(4)</script>",
    "RUN rm -rf /srv/hidden\r\n::warning::second\u{202e}",
];

fn entry(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    b.append_data(&mut h, path, data).unwrap();
}

fn hostile_image(dir: &Path) -> String {
    let mut b = tar::Builder::new(Vec::new());
    for (i, n) in NAMES.iter().enumerate() {
        entry(&mut b, n, &vec![b'a' + i as u8; 1000 + 100 * i]);
    }
    entry(&mut b, HIDDEN, &[b'h'; 5000]);
    let pkg_file = "srv/pkgfile|<i>`p`";
    entry(&mut b, pkg_file, &[b'p'; 3000]);
    entry(
        &mut b,
        "var/lib/dpkg/status",
        format!("Package: {PACKAGE}\nStatus: install ok installed\nVersion: {VERSION}\n\n")
            .as_bytes(),
    );
    entry(
        &mut b,
        &format!("var/lib/dpkg/info/{PACKAGE}.list"),
        format!("/srv\n/{pkg_file}\n").as_bytes(),
    );
    let layer0 = b.into_inner().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    entry(&mut b, &HIDDEN.replace("srv/", "srv/.wh."), &[]);
    let layer1 = b.into_inner().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    Img::new().gz(layer0).gz(layer1).write(dir, |_, config| {
        config["history"] = serde_json::json!([
            {"created_by": COMMANDS[0]},
            {"created_by": COMMANDS[1]},
        ]);
    });
    oci(dir)
}

fn baseline_image(dir: &Path) -> String {
    let mut b = tar::Builder::new(Vec::new());
    entry(&mut b, "srv/plain", &[b'x'; 100]);
    std::fs::create_dir_all(dir).unwrap();
    Img::new().gz(b.into_inner().unwrap()).write(dir, |_, _| {});
    oci(dir)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], github: bool) -> Out {
    let mut c = imgaudit();
    c.args(args).arg("-q");
    if github {
        c.env("GITHUB_ACTIONS", "true");
    } else {
        c.env_remove("GITHUB_ACTIONS");
    }
    let o = c.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// No raw control character (other than the line feeds that end lines) and
/// no bidi override.
fn assert_inert(what: &str, s: &str) {
    for (i, line) in s.lines().enumerate() {
        if let Some(c) = line.chars().find(|&c| {
            (c.is_control() && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        }) {
            panic!("{what}: raw U+{:04X} on line {}: {line:?}", c as u32, i + 1);
        }
    }
    assert!(!s.contains('\r'), "{what}: raw CR");
}

/// Lines that GitHub would read as workflow commands must be imgaudit's
/// own annotations; returns how many there are.
fn own_commands(what: &str, s: &str) -> usize {
    let mut n = 0;
    for line in s.lines().filter(|l| l.starts_with("::")) {
        let ok = ["::error title=imgaudit ", "::warning title=imgaudit "]
            .iter()
            .any(|p| line.starts_with(p));
        assert!(ok, "{what}: foreign workflow command: {line:?}");
        n += 1;
    }
    n
}

/// Cells of a GFM table row as GitHub splits it: a backslash escapes the
/// next character, every other `|` separates cells.
fn gfm_cells(row: &str) -> usize {
    let mut pipes = 0;
    let mut chars = row.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => pipes += 1,
            _ => {}
        }
    }
    pipes - 1
}

fn assert_markdown_tables(what: &str, md: &str) {
    let mut header: Option<usize> = None;
    let mut tables = 0;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = gfm_cells(line);
            match header {
                None => {
                    header = Some(n);
                    tables += 1;
                }
                Some(h) => assert_eq!(
                    n, h,
                    "{what}: row splits into {n} cells, header has {h}: {line:?}"
                ),
            }
        } else {
            header = None;
        }
    }
    assert!(tables > 0, "{what}: no table");
}

fn check_text(what: &str, s: &str) {
    assert_inert(what, s);
    assert_eq!(own_commands(what, s), 0, "{what}");
}

fn junit_parses(path: &Path) {
    if !have_tools("hostile_names junit", &["python3"]) {
        return;
    }
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(len(r.iter('testcase').__next__().attrib))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "JUnit does not parse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Chromium's DOM of an HTML report holds only the elements the report
/// writes: its own scripts, no image, no element from a name.
fn html_has_no_injected_element(what: &str, page: &Path) {
    if !have_tools("hostile_names html", &["chromium"]) {
        return;
    }
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("</html>"),
        "{what}: no DOM: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let src = std::fs::read_to_string(page).unwrap();
    // Every element the DOM has, the page wrote (counted by tag).
    for tag in [
        "<script", "<img", "<b>", "<i>", "<td", "<tr", "<iframe", "<svg",
    ] {
        assert_eq!(
            dom.matches(tag).count(),
            src.matches(tag).count(),
            "{what}: {tag} elements in the DOM differ from those written"
        );
    }
    assert!(!dom.contains("<img"), "{what}: injected <img>");
    let body = &dom[dom.find("<body").unwrap()..];
    let body = &body[..body.find('>').unwrap()];
    assert!(
        !body.contains("data-js-error"),
        "{what}: script error: {body}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert("),
        "{what}: name not shown escaped"
    );
}

#[test]
fn hostile_names_are_inert_in_every_report() {
    let t = tempfile::tempdir().unwrap();
    let img = hostile_image(&t.path().join("hostile"));
    let base = baseline_image(&t.path().join("base"));

    // JSON keeps the exact names.
    let o = run(&["analyze", &img, "--format", "json", "--top", "50"], false);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let files: Vec<&str> = v["largest_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for n in NAMES {
        assert!(
            files.contains(&format!("/{n}").as_str()),
            "{n:?} not in {files:?}"
        );
    }
    assert!(
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == PACKAGE && p["version"] == VERSION),
        "{}",
        v["packages"]
    );
    assert_eq!(v["layers"][0]["created_by"], COMMANDS[0]);
    assert!(v["totals"]["wasted_bytes"].as_u64().unwrap() >= 5000);

    let html_dir = t.path().join("html");
    std::fs::create_dir_all(&html_dir).unwrap();
    let commands: Vec<(&str, Vec<&str>)> = vec![
        ("analyze", vec!["analyze", &img, "--top", "50"]),
        ("diff", vec!["diff", &base, &img, "--top", "50"]),
        ("diff back", vec!["diff", &img, &base, "--top", "50"]),
    ];
    for (what, args) in &commands {
        for format in ["table", "markdown", "html", "json"] {
            let what = format!("{what} --format {format}");
            let o = run(&[&args[..], &["--format", format]].concat(), false);
            assert_eq!(o.code, 0, "{what}: {}", o.stderr);
            match format {
                "table" => {
                    check_text(&what, &o.stdout);
                    assert!(
                        o.stdout.contains("\\x1b]0;pwned\\x07"),
                        "{what}: {}",
                        o.stdout
                    );
                    assert!(o.stdout.contains("\\u{202e}"), "{what}");
                }
                "markdown" => {
                    check_text(&what, &o.stdout);
                    assert_markdown_tables(&what, &o.stdout);
                }
                "html" => {
                    let page = html_dir.join(format!("{}.html", what.replace(' ', "_")));
                    std::fs::write(&page, &o.stdout).unwrap();
                    html_has_no_injected_element(&what, &page);
                }
                _ => {
                    serde_json::from_str::<Value>(&o.stdout).expect("valid JSON");
                }
            }
        }
    }

    // check: every rule that lists paths or layers, failing.
    let budget = t.path().join("budget.toml");
    std::fs::write(
        &budget,
        "max_final_bytes = 1\nmax_wasted_bytes = 0\nmax_layer_bytes = 1\nmax_removable_bytes = 0\n\
         max_growth_bytes = 0\nmax_growth_percent = 0\nforbidden_paths = [\"/srv/**\"]\n\
         [category.other]\nmax_bytes = 0\n",
    )
    .unwrap();
    let dive = t.path().join(".dive-ci");
    std::fs::write(
        &dive,
        "rules:\n  lowestEfficiency: 0.9999\n  highestWastedBytes: 1\n  highestUserWastedPercent: 0.0001\n",
    )
    .unwrap();
    let budgets = [
        (budget.to_str().unwrap(), vec!["--baseline", base.as_str()]),
        (dive.to_str().unwrap(), vec![]),
    ];
    for (file, extra) in &budgets {
        let junit = t.path().join("junit.xml");
        let args = [
            &[
                "check",
                &img,
                "--budget",
                file,
                "--junit",
                junit.to_str().unwrap(),
            ][..],
            &extra[..],
        ]
        .concat();
        let j = run(&[&args[..], &["--format", "json"]].concat(), false);
        assert_eq!(j.code, 1, "{}", j.stderr);
        let report: Value = serde_json::from_str(&j.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        let not_passed = findings.iter().filter(|f| f["status"] != "pass").count();
        assert!(not_passed >= 3, "{report}");
        assert!(
            findings
                .iter()
                .any(|f| !f["contributors"].as_array().unwrap().is_empty()),
            "{report}"
        );
        junit_parses(&junit);
        for format in ["table", "markdown", "html"] {
            let what = format!("check {file} --format {format}");
            let o = run(&[&args[..], &["--format", format]].concat(), false);
            assert_eq!(o.code, 1, "{what}: {}", o.stderr);
            match format {
                "html" => {
                    let page = html_dir.join(format!("check-{}.html", not_passed));
                    std::fs::write(&page, &o.stdout).unwrap();
                    html_has_no_injected_element(&what, &page);
                }
                _ => {
                    check_text(&what, &o.stdout);
                    if format == "markdown" {
                        assert_markdown_tables(&what, &o.stdout);
                    }
                }
            }
            // Under GitHub Actions: the annotations, one line per finding
            // that did not pass, and nothing else that GitHub would run.
            let g = run(&[&args[..], &["--format", format]].concat(), true);
            assert_eq!(g.code, 1, "{what}: {}", g.stderr);
            // The report is on stdout, so the annotations go to stderr
            // (GitHub reads both) and the report carries none of them.
            let annotations = &g.stderr;
            assert!(
                !g.stdout.lines().any(|l| l.starts_with("::")),
                "{what}: a workflow command in the report"
            );
            assert_inert(&what, annotations);
            assert_eq!(
                own_commands(&what, annotations),
                not_passed,
                "{what}: {annotations}"
            );
        }
    }
}

#[test]
fn gfm_cell_counting_follows_github() {
    assert_eq!(gfm_cells("| a | b |"), 2);
    assert_eq!(gfm_cells("| `a\\|b` | c |"), 2);
    assert_eq!(gfm_cells("| a\\\\| b |"), 2);
    assert_eq!(gfm_cells("| a\\| b |"), 1);
}
