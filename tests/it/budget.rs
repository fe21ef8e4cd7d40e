//! `imgaudit check`: budgets by construction (a budget that forbids build
//! tools fails on an image with gcc and passes on the same image without
//! it), exit codes for pass, warn, fail and error, exclusions, baselines,
//! dive's `.dive-ci` rules with dive's strict comparisons, GitHub
//! annotations, JUnit XML and snapshots of every renderer.

use crate::common::{analyze_json, imgaudit};
use crate::diff::scrub;
use crate::layout::{oci, tar, Img, E};
use serde_json::Value;
use std::path::Path;

/// Run `check` with a budget written to a file; returns (code, stdout, stderr).
fn check_with(
    image: &str,
    budget_name: &str,
    budget: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join(budget_name);
    std::fs::write(&file, budget).unwrap();
    let out = imgaudit()
        .args(["check", image, "-q", "--budget"])
        .arg(&file)
        .args(extra)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn check_json(image: &str, budget: &str, extra: &[&str]) -> (i32, Value) {
    let (code, out, err) = check_with(
        image,
        "budget.toml",
        budget,
        &[&["--format", "json"], extra].concat(),
    );
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, serde_json::from_str(&out).unwrap())
}

fn finding<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no finding {code} in {r}"))
}

/// The same app image with and without gcc (and its driver symlink).
fn images(dir: &Path) -> (String, String) {
    let with = dir.join("with-gcc");
    let without = dir.join("without-gcc");
    for (d, gcc) in [(&with, true), (&without, false)] {
        std::fs::create_dir_all(d).unwrap();
        let mut entries = vec![
            E::File("usr/lib/libc.so.6", 3000),
            E::File("app/server", 1200),
        ];
        if gcc {
            entries.push(E::File("usr/bin/gcc-12", 5000));
            entries.push(E::Sym("usr/bin/gcc", "gcc-12"));
        }
        Img::new().gz(tar(&entries)).write(d, |_, _| {});
    }
    (oci(&with), oci(&without))
}

const NO_BUILD_TOOLS: &str = r#"
[category.build-tools]
max_bytes = 0
"#;

#[test]
fn build_tools_budget_fails_with_gcc_and_passes_without() {
    let t = tempfile::tempdir().unwrap();
    let (with, without) = images(t.path());
    let (code, r) = check_json(&with, NO_BUILD_TOOLS, &[]);
    assert_eq!(code, 1);
    assert_eq!(r["passed"], false);
    let f = finding(&r, "B009");
    assert_eq!(f["rule"], "category.build-tools.max_bytes");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["measured"], 5000.0);
    assert_eq!(f["limit"], 0.0);
    assert_eq!(f["contributors"][0]["name"], "/usr/bin/gcc-12");
    assert_eq!(f["contributors"][0]["bytes"], 5000);
    assert_eq!(f["contributors"][0]["kind"], "path");

    let (code, r) = check_json(&without, NO_BUILD_TOOLS, &[]);
    assert_eq!(code, 0);
    assert_eq!(r["passed"], true);
    assert_eq!(finding(&r, "B009")["status"], "pass");
    assert_eq!(finding(&r, "B009")["measured"], 0.0);
}

#[test]
fn forbidden_paths_match_globs_including_symlinks() {
    let t = tempfile::tempdir().unwrap();
    let (with, without) = images(t.path());
    let budget = "forbidden_paths = [\"/usr/bin/gcc*\", \"/usr/bin/make\"]\n";
    let (code, r) = check_json(&with, budget, &[]);
    assert_eq!(code, 1);
    let f = finding(&r, "B010");
    assert_eq!(f["measured"], 2.0);
    let names: Vec<&str> = f["contributors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/usr/bin/gcc", "/usr/bin/gcc-12"]);
    let (code, _) = check_json(&without, budget, &[]);
    assert_eq!(code, 0);
}

#[test]
fn exit_codes_pass_warn_fail_error() {
    let t = tempfile::tempdir().unwrap();
    let (with, _) = images(t.path());
    let total = 3000 + 1200 + 5000;
    // Strict: exactly at the limit passes, one byte under fails.
    let (code, _, err) = check_with(
        &with,
        "b.toml",
        &format!("max_final_bytes = {total}\n"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = check_with(
        &with,
        "b.toml",
        &format!("max_final_bytes = {}\n", total - 1),
        &[],
    );
    assert_eq!(code, 1);
    assert!(out.contains("FAIL") && out.contains("B001"), "{out}");
    // Warn level: reported, exit 0.
    let (code, r) = check_json(
        &with,
        &format!(
            "max_final_bytes = {{ value = {}, level = \"warn\" }}\n",
            total - 1
        ),
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(finding(&r, "B001")["status"], "warn");
    assert_eq!(r["counts"]["warn"], 1);
    let (code, r) = check_json(
        &with,
        "[category.build-tools]\nmax_bytes = \"1 kB\"\nlevel = \"warn\"\n",
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(finding(&r, "B009")["status"], "warn");
    // Human sizes.
    let (code, _, _) = check_with(&with, "b.toml", "max_final_bytes = \"9.2 kB\"\n", &[]);
    assert_eq!(code, 0);
    let (code, _, _) = check_with(&with, "b.toml", "max_final_bytes = \"9.1 kB\"\n", &[]);
    assert_eq!(code, 1);
    // Errors: one line, exit 2.
    for (budget, needle) in [
        ("max_final_bytes = \"lots\"\n", "lots"),
        ("max_finl_bytes = 1\n", "max_finl_bytes"),
        ("[category.no-such-thing]\nmax_bytes = 0\n", "no-such-thing"),
        ("max_growth_bytes = 0\n", "--baseline"),
        ("forbidden_paths = [\"[\"]\n", "pattern"),
    ] {
        let (code, out, err) = check_with(&with, "b.toml", budget, &[]);
        assert_eq!(code, 2, "{budget}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{budget}: {err}");
    }
    let out = imgaudit()
        .args(["check", &with, "--budget", "/nonexistent/budget.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/budget.toml"));
}

#[test]
fn every_rule_measures_what_it_says() {
    // Layer 0 writes 1000 + 500 bytes; layer 1 deletes the 1000 and adds 200.
    let t = tempfile::tempdir().unwrap();
    Img::new()
        .gz(tar(&[
            E::File("var/cache/apt/archives/x.deb", 1000),
            E::File("usr/bin/tool", 500),
        ]))
        .gz(tar(&[
            E::File("var/cache/apt/archives/.wh.x.deb", 0),
            E::File("app/a", 200),
        ]))
        .write(t.path(), |_, _| {});
    let img = oci(t.path());
    let a = analyze_json(&img, &[]);
    let budget = r#"
max_compressed_bytes = 1
max_wasted_bytes = 999
max_wasted_percent = 50
min_efficiency = 0.99
max_layers = 1
max_layer_bytes = 1000
max_removable_bytes = "1 GB"
"#;
    let (code, r) = check_json(&img, budget, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        finding(&r, "B002")["measured"],
        a["totals"]["compressed_bytes"].as_u64().unwrap() as f64
    );
    assert_eq!(finding(&r, "B002")["status"], "fail");
    assert_eq!(finding(&r, "B003")["measured"], 1000.0);
    assert_eq!(finding(&r, "B003")["status"], "fail");
    assert_eq!(finding(&r, "B003")["contributors"][0]["layer"], 0);
    assert_eq!(finding(&r, "B003")["contributors"][0]["kind"], "layer");
    let pct = finding(&r, "B004")["measured"].as_f64().unwrap();
    assert!((pct - 1000.0 * 100.0 / 1700.0).abs() < 1e-9, "{pct}");
    assert_eq!(finding(&r, "B004")["status"], "fail");
    assert_eq!(finding(&r, "B005")["measured"], a["totals"]["efficiency"]);
    assert_eq!(finding(&r, "B006")["measured"], 2.0);
    assert_eq!(finding(&r, "B006")["status"], "fail");
    assert_eq!(finding(&r, "B007")["measured"], 1500.0);
    assert_eq!(finding(&r, "B007")["status"], "fail");
    assert_eq!(
        finding(&r, "B007")["contributors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(finding(&r, "B008")["status"], "pass");
    // Messages: readable sizes, and minimum rules fall under, not over.
    let msg = |c: &str| finding(&r, c)["message"].as_str().unwrap().to_string();
    assert_eq!(
        msg("B003"),
        "wasted bytes is 1.0 kB, over the limit of 999 B"
    );
    assert!(a["totals"]["efficiency"].as_f64().unwrap() < 0.99);
    assert_eq!(finding(&r, "B005")["status"], "fail");
    assert!(msg("B005").contains(", under the minimum of 0.990"), "{r}");
    // JSON: byte sizes and counts are exact integers, ratios floats.
    for f in r["findings"].as_array().unwrap() {
        let exact = matches!(f["unit"].as_str(), Some("bytes" | "count"));
        for k in ["measured", "limit"] {
            assert_eq!(f[k].is_u64(), exact, "{k} of {f}");
        }
    }
}

#[test]
fn exclusions_apply_to_every_path_rule() {
    let t = tempfile::tempdir().unwrap();
    let (with, _) = images(t.path());
    let budget = format!(
        "exclude_paths = [\"/usr/bin/**\"]\nforbidden_paths = [\"/usr/bin/gcc*\"]\nmax_final_bytes = {}\n{NO_BUILD_TOOLS}",
        3000 + 1200
    );
    let (code, r) = check_json(&with, &budget, &[]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["excluded_paths"], 2);
    assert_eq!(r["excluded_bytes"], 5000);
    assert_eq!(finding(&r, "B001")["measured"], 4200.0);
    assert_eq!(finding(&r, "B009")["measured"], 0.0);
    assert_eq!(finding(&r, "B010")["measured"], 0.0);
}

#[test]
fn growth_against_a_baseline() {
    let t = tempfile::tempdir().unwrap();
    let (with, without) = images(t.path());
    // with = without + 5000 bytes: +5000 / 4200 = +119.05%.
    let (code, r) = check_json(
        &with,
        "max_growth_bytes = 5000\nmax_growth_percent = 120\n",
        &["--baseline", &without],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(finding(&r, "B011")["measured"], 5000.0);
    let (code, r) = check_json(
        &with,
        "max_growth_bytes = 4999\nmax_growth_percent = 119\n",
        &["--baseline", &without],
    );
    assert_eq!(code, 1);
    assert_eq!(finding(&r, "B011")["status"], "fail");
    assert_eq!(finding(&r, "B012")["status"], "fail");
    assert_eq!(
        finding(&r, "B011")["contributors"][0]["name"],
        "/usr/bin/gcc-12"
    );
    assert!(
        without.ends_with(r["baseline"].as_str().unwrap()),
        "{}",
        r["baseline"]
    );
    // Shrinking is never growth.
    let (code, r) = check_json(&without, "max_growth_bytes = 0\n", &["--baseline", &with]);
    assert_eq!(code, 0);
    assert_eq!(finding(&r, "B011")["measured"], 0.0);
}

/// Download budgets (issue 17): the image's stored bytes, a category's
/// download and its growth over a baseline, each failing one byte under
/// the measured figure and passing at it, with the analysis's figures.
#[test]
fn download_budgets_fire_and_pass() {
    let t = tempfile::tempdir().unwrap();
    let (with, without) = images(t.path());
    let a = analyze_json(&with, &[]);
    let u = |v: &Value| v.as_u64().unwrap();
    let download = u(&a["totals"]["download_bytes"]);
    let gcc_download = a["largest_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/usr/bin/gcc-12")
        .map(|f| u(&f["download_bytes"]))
        .unwrap();
    let build_tools = a["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "build-tools")
        .map(|c| u(&c["final_download_bytes"]))
        .unwrap();
    assert!(gcc_download > 0 && build_tools >= gcc_download);
    let over = format!(
        "max_download_bytes = {}
[category.build-tools]
max_bytes = \"1 GB\"
max_download_bytes = {}
",
        download - 1,
        build_tools - 1
    );
    let (code, r) = check_json(&with, &over, &[]);
    assert_eq!(code, 1, "{r}");
    let f = finding(&r, "B014");
    assert_eq!(
        (&f["rule"], &f["status"]),
        (&"max_download_bytes".into(), &"fail".into())
    );
    assert_eq!(u(&f["measured"]), download);
    assert_eq!(f["contributors"][0]["kind"], "layer");
    assert_eq!(
        u(&f["contributors"][0]["bytes"]),
        u(&a["layers"][0]["download_bytes"])
    );
    let f = finding(&r, "B015");
    assert_eq!(f["rule"], "category.build-tools.max_download_bytes");
    assert_eq!(f["status"], "fail");
    assert_eq!(u(&f["measured"]), build_tools);
    assert_eq!(f["contributors"][0]["name"], "/usr/bin/gcc-12");
    assert_eq!(u(&f["contributors"][0]["bytes"]), gcc_download);
    assert!(
        f["message"].as_str().unwrap().contains("build-tools"),
        "{f}"
    );
    // The same table's max_bytes is its own rule, and passes.
    assert_eq!(finding(&r, "B009")["status"], "pass");
    // At the measured figures, both pass.
    let at = format!(
        "max_download_bytes = {download}
[category.build-tools]
max_download_bytes = {build_tools}
"
    );
    let (code, r) = check_json(&with, &at, &[]);
    assert_eq!(code, 0, "{r}");
    // Without gcc, build-tools downloads nothing; excluded, neither.
    let (code, r) = check_json(
        &without,
        "[category.build-tools]
max_download_bytes = 0
",
        &[],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(u(&finding(&r, "B015")["measured"]), 0);
    let (code, r) = check_json(
        &with,
        "exclude_paths = [\"/usr/bin/**\"]
[category.build-tools]
max_download_bytes = 0
",
        &[],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(u(&finding(&r, "B015")["measured"]), 0);
    // Growth of the download over a baseline: the new layer is the contributor.
    let base = analyze_json(&without, &[]);
    let growth = download - u(&base["totals"]["download_bytes"]);
    assert!(growth > 0);
    let (code, r) = check_json(
        &with,
        &format!(
            "max_download_growth_bytes = {growth}
"
        ),
        &["--baseline", &without],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(u(&finding(&r, "B016")["measured"]), growth);
    let (code, r) = check_json(
        &with,
        &format!(
            "max_download_growth_bytes = {}
",
            growth - 1
        ),
        &["--baseline", &without],
    );
    assert_eq!(code, 1, "{r}");
    let f = finding(&r, "B016");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["contributors"][0]["kind"], "layer");
    assert_eq!(u(&f["contributors"][0]["bytes"]), download);
    // Shrinking is no growth; without --baseline the rule is an error.
    let (code, r) = check_json(
        &without,
        "max_download_growth_bytes = 0
",
        &["--baseline", &with],
    );
    assert_eq!(code, 0, "{r}");
    let (code, _, err) = check_with(
        &with,
        "budget.toml",
        "max_download_growth_bytes = 0
",
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--baseline"), "{err}");
}

/// An image where dive's figures are known: `f` written twice.
fn dive_image(dir: &Path) -> (String, Value) {
    Img::new()
        .gz(tar(&[E::File("f", 1000), E::File("g", 3000)]))
        .gz(tar(&[E::File("f", 600), E::File("h", 2400)]))
        .write(dir, |_, _| {});
    let img = oci(dir);
    let a = analyze_json(&img, &[]);
    (img, a)
}

#[test]
fn dive_ci_rules_follow_dive_semantics() {
    let t = tempfile::tempdir().unwrap();
    let (img, a) = dive_image(t.path());
    // dive counts every copy of a path written more than once: 1000 + 600.
    let wasted = a["totals"]["dive_wasted_bytes"].as_u64().unwrap();
    assert_eq!(wasted, 1600);
    let eff = a["totals"]["efficiency"].as_f64().unwrap();
    // User bytes: every layer above the first (600 + 2400).
    let user_ratio = wasted as f64 / 3000.0;

    let run = |yaml: &str| {
        let (code, out, err) = check_with(&img, ".dive-ci", yaml, &["--format", "json"]);
        assert!(code == 0 || code == 1, "{err}");
        (code, serde_json::from_str::<Value>(&out).unwrap())
    };
    // Exactly at each threshold passes (dive compares strictly).
    let (code, r) = run(&format!(
        "rules:\n  lowestEfficiency: {eff}\n  highestWastedBytes: {wasted}\n  highestUserWastedPercent: {user_ratio}\n"
    ));
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 3);
    assert_eq!(finding(&r, "D003")["measured"], user_ratio);
    // Just past each threshold fails.
    let (code, r) = run(&format!(
        "rules:\n  lowestEfficiency: {}\n  highestWastedBytes: {}\n  highestUserWastedPercent: {}\n",
        eff + 1e-6,
        wasted - 1,
        user_ratio - 1e-6
    ));
    assert_eq!(code, 1);
    for c in ["D001", "D002", "D003"] {
        assert_eq!(finding(&r, c)["status"], "fail", "{c}");
    }
    // Defaults: lowestEfficiency 0.9 and highestUserWastedPercent 0.1 are on,
    // highestWastedBytes is off. This image's efficiency is under 0.9.
    assert!(eff < 0.9, "{eff}");
    let (code, r) = run("");
    assert_eq!(code, 1);
    assert_eq!(r["findings"].as_array().unwrap().len(), 2);
    assert_eq!(finding(&r, "D001")["limit"], 0.9);
    assert_eq!(finding(&r, "D003")["limit"], 0.1);
    // "disabled" turns a rule off; human sizes as dive reads them.
    let (code, r) = run("rules:\n  lowestEfficiency: disabled\n  highestUserWastedPercent: \"disabled\"\n  highestWastedBytes: 2KB\n");
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 1);
    assert_eq!(finding(&r, "D002")["limit"], 2000.0);
    // Rules dive does not know are ignored, as dive ignores them, with a
    // note naming them; the defaults still apply.
    let (code, out, err) = check_with(&img, ".dive-ci", "rules:\n  lowestEfficency: 0.1\n", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("\"lowestEfficency\" ignored"), "{out}");
}

#[test]
fn github_annotations_only_under_github_actions() {
    let t = tempfile::tempdir().unwrap();
    let (with, _) = images(t.path());
    let file = t.path().join("b.toml");
    std::fs::write(
        &file,
        format!("max_final_bytes = {{ value = 1, level = \"warn\" }}\n{NO_BUILD_TOOLS}"),
    )
    .unwrap();
    let run = |gh: bool| {
        let mut c = imgaudit();
        c.args(["check", &with, "-q", "--budget"]).arg(&file);
        if gh {
            c.env("GITHUB_ACTIONS", "true");
        } else {
            c.env_remove("GITHUB_ACTIONS");
        }
        c.output().unwrap()
    };
    let out = run(true);
    assert_eq!(out.status.code(), Some(1));
    // The table is on stdout; the annotations go to stderr, never into it.
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(!report.lines().any(|l| l.starts_with("::")), "{report}");
    let text = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        errors[0].starts_with("::error title=imgaudit B009 category.build-tools.max_bytes::"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("/usr/bin/gcc-12"), "{}", errors[0]);
    assert!(!errors[0].contains('\n'));
    let out = run(false);
    assert!(!String::from_utf8(out.stdout).unwrap().contains("::error"));
    assert!(!String::from_utf8(out.stderr).unwrap().contains("::error"));
    // With a JSON report on stdout the annotations go to stderr, keeping it valid.
    let out = imgaudit()
        .args(["check", &with, "-q", "--format", "json", "--budget"])
        .arg(&file)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["passed"], false);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.lines().filter(|l| l.starts_with("::error ")).count(),
        1,
        "{err}"
    );
}

#[test]
fn junit_report_lists_every_rule() {
    let t = tempfile::tempdir().unwrap();
    let (with, _) = images(t.path());
    let (code, _, err) = check_with(
        &with,
        "b.toml",
        &format!("max_final_bytes = \"1 GB\"\nmax_layers = {{ value = 0, level = \"warn\" }}\n{NO_BUILD_TOOLS}"),
        &["--junit", t.path().join("junit.xml").to_str().unwrap()],
    );
    assert_eq!(code, 1, "{err}");
    let xml = std::fs::read_to_string(t.path().join("junit.xml")).unwrap();
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(xml.contains(r#"failures="1""#), "{xml}");
    assert!(xml.contains("type=\"B009\""), "{xml}");
    assert!(xml.contains("<system-out>warning:"), "{xml}");
    insta::assert_snapshot!("check_junit", scrub(&xml, t.path()));
}

#[test]
fn check_renderers_snapshots() {
    let t = tempfile::tempdir().unwrap();
    let (with, _) = images(t.path());
    let budget = format!(
        "forbidden_paths = [\"/usr/bin/gcc*\"]\nmax_final_bytes = \"1 GB\"\nmax_layers = {{ value = 0, level = \"warn\" }}\n{NO_BUILD_TOOLS}"
    );
    for (format, name) in [
        ("table", "check_table"),
        ("markdown", "check_markdown"),
        ("json", "check_json"),
        ("html", "check_html"),
    ] {
        let (code, out, err) = check_with(&with, "budget.toml", &budget, &["--format", format]);
        assert_eq!(code, 1, "{err}");
        let text = scrub(&out, t.path());
        // The budget file lives in its own temp dir.
        let text = regex_free_budget(&text);
        insta::assert_snapshot!(name, text);
    }
}

/// Replace the budget file's temp path (`/tmp/.tmpXXXX/budget.toml`) with `BUDGET`.
fn regex_free_budget(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        match line.find("budget.toml") {
            Some(end) => {
                let start = line[..end].rfind([' ', '"', '`']).map_or(0, |i| i + 1);
                out.push_str(&line[..start]);
                out.push_str("BUDGET");
                out.push_str(&line[end + "budget.toml".len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Every TOML budget and every `.dive-ci` in docs/BUDGETS.md runs as
/// written on the committed demo image (with `--baseline` where the block
/// says it needs one): exit 0 or 1, one finding per rule it sets.
#[test]
fn budgets_md_examples_run_as_written() {
    let doc = std::fs::read_to_string(crate::common::repo_root().join("docs/BUDGETS.md")).unwrap();
    let demo = crate::common::repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string();
    let mut ran = (0, 0);
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, body) = after.split_once('\n').unwrap();
        let end = body.find("```").expect("closed code block");
        let block = &body[..end];
        rest = &body[end + 3..];
        let name = match lang.trim() {
            "toml" => "budget.toml",
            "yaml" if block.lines().any(|l| l.starts_with("rules:")) => ".dive-ci",
            _ => continue,
        };
        let mut extra = vec!["--format", "json"];
        if block.contains("--baseline") {
            extra.extend(["--baseline", &demo]);
        }
        let (code, out, err) = check_with(&demo, name, block, &extra);
        assert!(code == 0 || code == 1, "exit {code} for\n{block}\n{err}");
        let r: Value = serde_json::from_str(&out).unwrap();
        let findings = r["findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{block}");
        if name == "budget.toml" {
            // Every rule the block sets (top-level keys and categories) has a finding.
            let table: toml::Table = toml::from_str(block).unwrap();
            let mut keys: Vec<String> = table
                .keys()
                .filter(|k| *k != "exclude_paths" && *k != "category")
                .cloned()
                .collect();
            if let Some(c) = table.get("category").and_then(|c| c.as_table()) {
                for (id, t) in c {
                    let t = t.as_table().unwrap();
                    for rule in ["max_bytes", "max_download_bytes"] {
                        if t.contains_key(rule) {
                            keys.push(format!("category.{id}.{rule}"));
                        }
                    }
                }
            }
            let rules: Vec<&str> = findings
                .iter()
                .map(|f| f["rule"].as_str().unwrap())
                .collect();
            for k in &keys {
                assert!(rules.contains(&k.as_str()), "{k} missing from {rules:?}");
            }
            assert_eq!(rules.len(), keys.len(), "{rules:?}");
            ran.0 += 1;
        } else {
            ran.1 += 1;
        }
    }
    assert!(ran.0 >= 2 && ran.1 >= 1, "examples found: {ran:?}");
}

#[test]
fn a_binary_file_is_not_a_budget() {
    let t = tempfile::tempdir().unwrap();
    let (with, _) = images(t.path());
    let file = t.path().join("layer.tar.gz");
    std::fs::write(&file, crate::layout::gzip(b"max_layers = 1")).unwrap();
    let out = imgaudit()
        .args(["check", &with, "--budget"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("layer.tar.gz") && err.contains("not a budget file"),
        "{err}"
    );
}
