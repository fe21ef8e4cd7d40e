//! The size history (issue 15): recording from `analyze`/`check`, parallel
//! writers, files that are not a history (left untouched), `history import`,
//! steps and creeps, the Markdown chart, `check`'s baseline from the
//! history compared with the same check against the baseline image, and
//! version 1 histories (SQLite and PostgreSQL) migrated to version 2.

use crate::common::{gzip_layout, imgaudit};
use crate::layout::{tar, E};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A one-layer layout whose only file has `n` bytes (plus a fixed second
/// layer, so layer changes are visible).
fn image(n: usize) -> tempfile::TempDir {
    gzip_layout(&[
        tar(&[E::Dir("app"), E::File("app/data.bin", n)]),
        tar(&[E::File("etc/conf", 1000)]),
    ])
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn history_json(db: &Path, extra: &[&str]) -> Value {
    let out = imgaudit()
        .args(["history", "--history", s(db), "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn analyze_to(image: &Path, json: &Path) {
    let out = imgaudit()
        .args([
            "analyze",
            s(image),
            "--format",
            "json",
            "-q",
            "--output",
            s(json),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn final_bytes(json: &Path) -> i64 {
    let v: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    v["totals"]["final_bytes"].as_i64().unwrap()
}

/// Saved `analyze --format json` of images with these data sizes.
fn saved(dir: &Path, sizes: &[usize]) -> Vec<PathBuf> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let img = image(n);
            let out = dir.join(format!("build-{i:02}.json"));
            analyze_to(img.path(), &out);
            out
        })
        .collect()
}

#[test]
fn parallel_writers_lose_no_record() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("sizes.db");
    let img = image(50_000);
    let bin = assert_cmd::cargo::cargo_bin("imgaudit");
    // Eight processes create and write the same new history at once.
    let jobs = 8;
    let children: Vec<_> = (0..jobs)
        .map(|i| {
            std::process::Command::new(&bin)
                .args(["analyze", s(img.path()), "-q", "--format", "json"])
                .args(["--history", s(&db), "--series", "app"])
                .args(["--label", &format!("job={i}")])
                .env("IMGAUDIT_NO_CACHE", "1")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let h = history_json(&db, &[]);
    let records = h["records"].as_array().unwrap();
    assert_eq!(records.len(), jobs);
    let mut seen: Vec<String> = records
        .iter()
        .map(|r| r["labels"]["job"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    let want: Vec<String> = (0..jobs).map(|i| i.to_string()).collect();
    assert_eq!(seen, want);
    assert_eq!(h["steps"].as_array().unwrap().len(), jobs - 1);
    // Label filter and --last read the same store.
    let one = history_json(&db, &["--label", "job=3"]);
    assert_eq!(one["records"].as_array().unwrap().len(), 1);
    let last = history_json(&db, &["--last", "2"]);
    let ids: Vec<i64> = last["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let all: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, all[all.len() - 2..]);
}

fn sha(p: &Path) -> String {
    crate::layout::sha(&std::fs::read(p).unwrap())
}

#[test]
fn files_that_are_not_a_history_are_refused_and_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let img = image(10_000);
    // A real history, then damaged copies of it.
    let good = t.path().join("good.db");
    imgaudit()
        .args(["analyze", s(img.path()), "-q", "--history", s(&good)])
        .assert()
        .success();
    let bytes = std::fs::read(&good).unwrap();
    assert!(bytes.len() >= 4096 * 2, "{}", bytes.len());
    let saved_json = t.path().join("saved.json");
    analyze_to(img.path(), &saved_json);
    let mut damaged = bytes.clone();
    for b in &mut damaged[100..bytes.len()] {
        *b = 0xa5;
    }
    let other = t.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me');")
            .unwrap();
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.txt",
            b"shopping list\n".to_vec(),
            "not an imgaudit history",
        ),
        (
            "report.json",
            b"{\"records\": []}".to_vec(),
            "not an imgaudit history",
        ),
        ("damaged.db", damaged, "damaged imgaudit history"),
        (
            "truncated.db",
            bytes[..10].to_vec(),
            "not an imgaudit history",
        ),
        (
            "other.db",
            std::fs::read(&other).unwrap(),
            "not an imgaudit history",
        ),
    ];
    for (name, content, want) in cases {
        let p = t.path().join(name);
        std::fs::write(&p, &content).unwrap();
        let before = sha(&p);
        for args in [
            vec!["analyze", s(img.path()), "-q", "--history", s(&p)],
            vec!["history", "--history", s(&p)],
            vec!["history", "import", "--history", s(&p), s(&saved_json)],
        ] {
            let out = imgaudit().args(&args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(
                err.contains(name) && err.contains(want),
                "{name} {args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
            assert_eq!(sha(&p), before, "{name} was modified by {args:?}");
        }
    }
    // A history written by a newer imgaudit is refused, not migrated down.
    {
        let c = rusqlite::Connection::open(&good).unwrap();
        c.execute(
            "UPDATE imgaudit_meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    let out = imgaudit()
        .args(["analyze", s(img.path()), "-q", "--history", s(&good)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("newer imgaudit"), "{err}");
    // Reading a history that does not exist does not create one.
    let missing = t.path().join("missing.db");
    let out = imgaudit()
        .args(["history", "--history", s(&missing)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
}

#[test]
fn import_finds_the_jump_and_names_what_moved() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    let sizes = [
        400_000, 401_000, 400_500, 401_200, 900_000, 900_400, 900_100,
    ];
    let files = saved(t.path(), &sizes);
    imgaudit()
        .args(["history", "import", "--history", s(&db), "--series", "app"])
        .args(files.iter().map(|f| s(f)))
        .assert()
        .success();
    let h = history_json(&db, &["--series", "app"]);
    let records = h["records"].as_array().unwrap();
    assert_eq!(records.len(), sizes.len());
    let steps = h["steps"].as_array().unwrap();
    assert_eq!(steps.len(), sizes.len() - 1);
    for (i, st) in steps.iter().enumerate() {
        assert_eq!(st["from"], records[i]["id"]);
        assert_eq!(st["to"], records[i + 1]["id"]);
        assert_eq!(
            st["final_bytes_delta"].as_i64().unwrap(),
            final_bytes(&files[i + 1]) - final_bytes(&files[i])
        );
    }
    let notable: Vec<&Value> = steps.iter().filter(|s| s["notable"] == true).collect();
    assert_eq!(notable.len(), 1, "{notable:?}");
    let jump = notable[0];
    assert_eq!(jump["to"], records[4]["id"]);
    // The layer that moved is listed, by what the saved analyses say.
    let layer_bytes = |f: &Path| -> i64 {
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        v["layers"][0]["file_bytes"].as_i64().unwrap()
    };
    let layer = jump["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "layer")
        .unwrap();
    assert_eq!(layer["name"], "layer 0");
    assert_eq!(
        layer["delta_bytes"].as_i64().unwrap(),
        layer_bytes(&files[4]) - layer_bytes(&files[3])
    );
    assert!(h["creeps"].as_array().unwrap().is_empty());
    // The table and the Markdown name the same step.
    let md = imgaudit()
        .args(["history", "--history", s(&db), "--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("```mermaid\nxychart-beta"), "{md}");
    let line = md
        .lines()
        .find(|l| l.trim_start().starts_with("line ["))
        .unwrap();
    assert_eq!(line.matches(',').count(), sizes.len() - 1, "{line}");
    assert!(
        md.contains(&format!("{} → {}", records[3]["id"], records[4]["id"])),
        "{md}"
    );
}

#[test]
fn a_slow_creep_is_reported_with_the_build_where_it_began() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    // Flat, then growing by 0.3 % per build: no step is notable.
    let mut sizes = vec![1_000_000; 4];
    for i in 1..=8 {
        sizes.push(1_000_000 + i * 3_000);
    }
    let files = saved(t.path(), &sizes);
    imgaudit()
        .args(["history", "import", "--history", s(&db), "--series", "app"])
        .args(files.iter().map(|f| s(f)))
        .assert()
        .success();
    let h = history_json(&db, &[]);
    let records = h["records"].as_array().unwrap();
    assert!(h["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["notable"] == false));
    let creeps = h["creeps"].as_array().unwrap();
    assert_eq!(creeps.len(), 1, "{creeps:?}");
    assert_eq!(creeps[0]["began"], records[4]["id"]);
    assert_eq!(creeps[0]["to"], records[sizes.len() - 1]["id"]);
    assert_eq!(
        creeps[0]["final_bytes_delta"].as_i64().unwrap(),
        final_bytes(&files[sizes.len() - 1]) - final_bytes(&files[3])
    );
    let table = imgaudit()
        .args(["history", "--history", s(&db)])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("Slow creep") && table.contains("small growing steps"),
        "{table}"
    );
}

#[test]
fn check_takes_its_baseline_from_the_history_like_from_the_image() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    let (main, pr) = (image(300_000), image(420_000));
    imgaudit()
        .args(["analyze", s(main.path()), "-q", "--history", s(&db)])
        .args(["--series", "app", "--label", "branch=main"])
        .assert()
        .success();
    // A later record of the series on another branch.
    imgaudit()
        .args(["analyze", s(pr.path()), "-q", "--history", s(&db)])
        .args(["--series", "app", "--label", "branch=feature"])
        .assert()
        .success();
    let budget = t.path().join("b.toml");
    std::fs::write(&budget, "max_growth_bytes = \"50 kB\"\n").unwrap();
    let check = |extra: &[&str]| -> (Option<i32>, Value) {
        let out = imgaudit()
            .args([
                "check",
                s(pr.path()),
                "--budget",
                s(&budget),
                "--format",
                "json",
                "-q",
            ])
            .args(extra)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let growth = |v: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "max_growth_bytes")
            .unwrap_or_else(|| panic!("{v}"))["measured"]
            .clone()
    };
    let (code_image, by_image) = check(&["--baseline", s(main.path())]);
    let (code_hist, by_hist) = check(&[
        "--history",
        s(&db),
        "--series",
        "app",
        "--baseline-label",
        "branch=main",
    ]);
    assert_eq!(code_image, Some(1));
    assert_eq!(code_hist, code_image);
    assert_eq!(growth(&by_hist), growth(&by_image));
    // Without --baseline-label: the latest record of the series (the same
    // image), so no growth; and check recorded its own run.
    let (code, latest) = check(&["--history", s(&db), "--series", "app"]);
    assert_eq!(code, Some(0), "{latest}");
    assert_eq!(
        history_json(&db, &[])
            .get("records")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn ci_labels_are_recorded() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    let img = image(1000);
    imgaudit()
        .args(["analyze", s(img.path()), "-q", "--label", "team=web"])
        .env("IMGAUDIT_HISTORY", s(&db))
        .env("GITLAB_CI", "true")
        .env("CI_COMMIT_SHA", "0123456789abcdef")
        .env("CI_COMMIT_BRANCH", "main")
        .env("CI_PIPELINE_URL", "https://gitlab.example/p/-/pipelines/7")
        .env_remove("GITHUB_ACTIONS")
        .assert()
        .success();
    let h = history_json(&db, &[]);
    let l = &h["records"][0]["labels"];
    assert_eq!(l["ci"], "gitlab-ci");
    assert_eq!(l["commit"], "0123456789abcdef");
    assert_eq!(l["branch"], "main");
    assert_eq!(l["run_url"], "https://gitlab.example/p/-/pipelines/7");
    assert_eq!(l["team"], "web");
}

#[test]
fn growth_window_catches_a_creep_that_per_build_limits_let_through() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    let sizes: Vec<usize> = (0..7).map(|i| 500_000 + i * 2_000).collect();
    let files = saved(t.path(), &sizes[..6]);
    imgaudit()
        .args(["history", "import", "--history", s(&db), "--series", "app"])
        .args(files.iter().map(|f| s(f)))
        .assert()
        .success();
    let now = image(sizes[6]);
    let now_json = t.path().join("now.json");
    analyze_to(now.path(), &now_json);
    let budget = t.path().join("b.toml");
    // Each build grows 0.4 %: a 1 % per-build limit passes, the window fails.
    std::fs::write(
        &budget,
        "max_growth_percent = 1\n[growth_window]\nbuilds = 5\nmax_percent = 1.5\n",
    )
    .unwrap();
    let out = imgaudit()
        .args([
            "check",
            s(now.path()),
            "--budget",
            s(&budget),
            "--format",
            "json",
            "-q",
        ])
        .args(["--history", s(&db), "--series", "app"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{v}");
    let find = |code: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(find("B012")["status"], "pass");
    let w = find("B013");
    assert_eq!(w["status"], "fail", "{w}");
    // The oldest of the last 5 records is the second file imported.
    let (base, cur) = (final_bytes(&files[1]) as f64, final_bytes(&now_json) as f64);
    let want = (cur - base) * 100.0 / base;
    let got = w["measured"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    let contributors = w["contributors"].as_array().unwrap();
    // The builds of the window that grew, whose growth adds up to it.
    let sum: f64 = contributors
        .iter()
        .map(|c| c["bytes"].as_f64().unwrap())
        .sum();
    assert_eq!(sum, cur - base, "{contributors:?}");
    assert!(contributors
        .iter()
        .any(|c| c["name"].as_str().unwrap().starts_with("this build")));
    // Without a history the rule is refused before any image is read.
    std::fs::write(&budget, "[growth_window]\nbuilds = 5\nmax_percent = 1.5\n").unwrap();
    let out = imgaudit()
        .args(["check", s(now.path()), "--budget", s(&budget), "-q"])
        .env_remove("IMGAUDIT_HISTORY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("growth_window needs"));
}

/// `chromium --headless` on a page (html.rs's runner): (DOM, stderr).
fn chromium(page: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["--window-size=1100,1400"];
    args.extend_from_slice(extra);
    let r = crate::html::chromium(page, &args);
    (r.dom, r.stderr)
}

/// The value of attribute `name` in the first element after `from` in `dom`.
fn attr_after<'a>(dom: &'a str, from: &str, name: &str) -> &'a str {
    let at = dom
        .find(from)
        .unwrap_or_else(|| panic!("no {from} in the DOM"));
    let rest = &dom[at..];
    let k = format!("{name}=\"");
    let v = rest
        .find(&k)
        .unwrap_or_else(|| panic!("no {name} after {from}"))
        + k.len();
    &rest[v..v + rest[v..].find('"').unwrap()]
}

#[test]
fn history_html_in_chromium_marks_the_steps_and_the_creep() {
    if !crate::common::have_tools("history_html_in_chromium", &["chromium"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    let jump = saved(t.path(), &[300_000, 300_500, 301_000, 700_000, 700_400]);
    let creep_dir = t.path().join("creep");
    std::fs::create_dir(&creep_dir).unwrap();
    let mut sizes = vec![600_000; 3];
    sizes.extend((1..=6).map(|i| 600_000 + i * 2_000));
    let creep = saved(&creep_dir, &sizes);
    for (series, files) in [("app", &jump), ("svc", &creep)] {
        imgaudit()
            .args(["history", "import", "--history", s(&db), "--series", series])
            .args(files.iter().map(|f| s(f)))
            .assert()
            .success();
    }
    let h = history_json(&db, &[]);
    let page = t.path().join("history.html");
    imgaudit()
        .args([
            "history",
            "--history",
            s(&db),
            "--format",
            "html",
            "--output",
            s(&page),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&page).unwrap();
    for needle in ["http:", "https:", " src=", "@import", "url(", "<script"] {
        assert!(!text.contains(needle), "page contains {needle:?}");
    }
    let (dom, stderr) = chromium(&page, &["--dump-dom"]);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "{console:?}");
    let notable: Vec<&Value> = h["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["notable"] == true)
        .collect();
    assert_eq!(notable.len(), 1);
    assert_eq!(attr_after(&dom, "<body", "data-notable"), "1");
    assert_eq!(dom.matches("class=\"step-mark\"").count(), 1);
    // The mark sits on the step the JSON names, and its hover text says what moved.
    let step = &dom[dom.find("class=\"step\"").unwrap()..];
    assert_eq!(
        attr_after(step, "class=\"step\"", "data-to"),
        notable[0]["to"].to_string()
    );
    let title = &step[step.find("<title>").unwrap()..step.find("</title>").unwrap()];
    let moved = &notable[0]["changes"][0];
    assert!(
        title.contains(moved["name"].as_str().unwrap()) && title.contains("beyond the noise line"),
        "{title}"
    );
    // Each series' final line carries exactly the recorded figures.
    for (series, files) in [("app", &jump), ("svc", &creep)] {
        let section = &dom[dom.find(&format!("data-series=\"{series}\"")).unwrap()..];
        let want: Vec<String> = files.iter().map(|f| final_bytes(f).to_string()).collect();
        assert_eq!(
            attr_after(section, "class=\"line final\"", "data-values"),
            want.join(" ")
        );
        let points = &section[..section.find("</svg>").unwrap()];
        assert_eq!(points.matches("class=\"pt\"").count(), files.len());
    }
    // The creep is shaded from the build where it began.
    assert_eq!(h["creeps"].as_array().unwrap().len(), 1);
    assert_eq!(
        attr_after(&dom, "class=\"creep\"", "data-began"),
        h["creeps"][0]["began"].to_string()
    );
    let dir = crate::common::repo_root().join("target/test-artifacts/html");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("history.png");
    let _ = std::fs::remove_file(&png);
    chromium(&page, &[&format!("--screenshot={}", png.display())]);
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5_000);
}

/// A PostgreSQL server started for one test: `initdb` and `pg_ctl` in a
/// temporary directory, as the `postgres` user when the tests run as root,
/// listening on a free loopback port, password authentication only.
struct Pg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    password: String,
}

const PG_USER: &str = "imgaudit";

impl Pg {
    fn start(test: &str) -> Option<Pg> {
        let bin = ["/usr/lib/postgresql"]
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists() && b.join("pg_ctl").exists());
        let Some(bin) = bin else {
            if crate::common::in_ci() {
                panic!("{test}: PostgreSQL (initdb, pg_ctl) missing under CI=true");
            }
            eprintln!("SKIP {test}: PostgreSQL server binaries not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let password = format!("pw-{}", std::process::id());
        std::fs::write(dir.path().join("pwfile"), &password).unwrap();
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if root {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres", s(dir.path())])
                .status()
                .is_ok_and(|st| st.success());
            if !ok {
                if crate::common::in_ci() {
                    panic!("{test}: no `postgres` user to run the server as");
                }
                eprintln!("SKIP {test}: no `postgres` user to run the server as");
                return None;
            }
        }
        let run = |args: &[&str]| {
            let mut c = if root {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", "postgres", "--"]);
                c
            } else {
                std::process::Command::new(args[0])
            };
            if root {
                c.args(args);
            } else {
                c.args(&args[1..]);
            }
            let out = c.output().unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let data = dir.path().join("data");
        let initdb = bin.join("initdb");
        let pwfile = format!("--pwfile={}", dir.path().join("pwfile").display());
        run(&[
            s(&initdb),
            "-D",
            s(&data),
            "-U",
            PG_USER,
            "--auth=scram-sha-256",
            &pwfile,
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let log = dir.path().join("log");
        run(&[
            s(&bin.join("pg_ctl")),
            "-D",
            s(&data),
            "-l",
            s(&log),
            "-o",
            &opts,
            "-w",
            "start",
        ]);
        Some(Pg {
            dir,
            bin,
            port,
            password,
        })
    }

    /// The URL without the password (it comes from PGPASSWORD).
    fn url(&self) -> String {
        format!("postgres://{PG_USER}@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut c = std::process::Command::new("runuser");
        let pg_ctl = self.bin.join("pg_ctl");
        let args = [s(&pg_ctl), "-D", s(&data), "-m", "immediate", "stop"];
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let _ = if root {
            c.args(["-u", "postgres", "--"]).args(args).output()
        } else {
            std::process::Command::new(args[0])
                .args(&args[1..])
                .output()
        };
    }
}

#[test]
fn postgres_store_reads_back_what_sqlite_does_and_keeps_parallel_records() {
    let Some(pg) = Pg::start("postgres_store") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let files = saved(t.path(), &[200_000, 200_400, 600_000, 600_200, 600_900]);
    let lite = t.path().join("h.db");
    let url = pg.url();
    for db in [s(&lite), url.as_str()] {
        let out = imgaudit()
            .args(["history", "import", "--history", db, "--series", "app"])
            .args(files.iter().map(|f| s(f)))
            .env("PGPASSWORD", &pg.password)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(!err.contains(&pg.password), "{err}");
    }
    let read = |db: &str, extra: &[&str]| -> Value {
        let out = imgaudit()
            .args(["history", "--history", db, "--format", "json"])
            .args(extra)
            .env("PGPASSWORD", &pg.password)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // The same records, steps and creeps from both stores, and the same
    // answers to the same filters.
    for extra in [&[][..], &["--last", "3"][..], &["--series", "nope"][..]] {
        assert_eq!(read(&url, extra), read(s(&lite), extra), "{extra:?}");
    }
    assert_eq!(
        read(&url, &[])["records"].as_array().unwrap().len(),
        files.len()
    );
    // Parallel writers lose nothing here either.
    let img = image(20_000);
    let bin = assert_cmd::cargo::cargo_bin("imgaudit");
    let jobs = 6;
    let children: Vec<_> = (0..jobs)
        .map(|i| {
            std::process::Command::new(&bin)
                .args(["analyze", s(img.path()), "-q", "--series", "par"])
                .args(["--history", &url, "--label", &format!("job={i}")])
                .env("IMGAUDIT_NO_CACHE", "1")
                .env("PGPASSWORD", &pg.password)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let par = read(&url, &["--series", "par"]);
    assert_eq!(par["records"].as_array().unwrap().len(), jobs);
    // A wrong password in the URL is an error that does not print it.
    let bad = format!(
        "postgres://{PG_USER}:not-the-Secret-42@127.0.0.1:{}/postgres",
        pg.port
    );
    let out = imgaudit()
        .args(["history", "--history", &bad])
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("not-the-Secret-42"), "{err}");
    assert!(
        err.contains(&format!("postgres://{PG_USER}@127.0.0.1:{}", pg.port)),
        "{err}"
    );
}

/// The schema version 1 tables (docs/HISTORY.md before version 2): every
/// record's packages inside its `figures` document.
const V1_SCHEMA: &str = "
CREATE TABLE imgaudit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO imgaudit_meta VALUES ('application', 'imgaudit-history'), ('schema_version', '1');
CREATE TABLE records (
    id {id}, series TEXT NOT NULL, recorded_at TEXT NOT NULL, reference TEXT NOT NULL,
    manifest_digest TEXT, config_digest TEXT NOT NULL, platform TEXT NOT NULL,
    labels TEXT NOT NULL, compressed_bytes BIGINT, layer_bytes BIGINT NOT NULL,
    final_bytes BIGINT NOT NULL, wasted_bytes BIGINT NOT NULL, files BIGINT NOT NULL,
    efficiency DOUBLE PRECISION NOT NULL, dive_wasted_bytes BIGINT NOT NULL,
    tar_bytes BIGINT NOT NULL, removable_bytes BIGINT, figures TEXT NOT NULL);
CREATE INDEX records_series_id ON records (series, id);
CREATE TABLE record_labels (
    record_id BIGINT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (record_id, key));
CREATE INDEX record_labels_key_value ON record_labels (key, value, record_id);
";

const V1_COLUMNS: &str = "id, series, recorded_at, reference, manifest_digest, config_digest, \
    platform, labels, compressed_bytes, layer_bytes, final_bytes, wasted_bytes, files, \
    efficiency, dive_wasted_bytes, tar_bytes, removable_bytes, figures";

/// The packages the version 1 records below hold, largest first as version
/// 1 stored them: one grows, one is removed at the third record, one added.
fn v1_packages(k: usize) -> Value {
    let mut p = vec![
        ("dpkg:libc6", 10_000_000 + k as u64 * 1000),
        ("apk:ü-名", 77),
    ];
    if k < 2 {
        p.push(("pip:numpy", 30_000_000));
    } else {
        p.push(("dpkg:new", 5_000));
    }
    p.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Value::Array(
        p.into_iter()
            .map(|(n, b)| serde_json::json!({"name": n, "bytes": b}))
            .collect(),
    )
}

/// Records written by this imgaudit (`history import`), the rows of a
/// version 1 history holding the same records plus [`v1_packages`], and
/// what `history --format json` says of the current file.
fn v1_rows(dir: &Path) -> (Value, Vec<Vec<rusqlite::types::Value>>) {
    let db = dir.join("current.db");
    let files = saved(dir, &[200_000, 300_000, 300_500, 301_000]);
    imgaudit()
        .args(["history", "import", "--history", s(&db), "--series", "app"])
        .args(files.iter().map(|f| s(f)))
        .assert()
        .success();
    let current = history_json(&db, &[]);
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut st = c
        .prepare(&format!("SELECT {V1_COLUMNS} FROM records ORDER BY id"))
        .unwrap();
    let mut rows: Vec<Vec<rusqlite::types::Value>> = st
        .query_map([], |r| (0..18).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (k, row) in rows.iter_mut().enumerate() {
        let rusqlite::types::Value::Text(f) = &row[17] else {
            panic!("figures is text")
        };
        let mut f: Value = serde_json::from_str(f).unwrap();
        assert!(f.get("packages").is_none(), "version 2 keeps them apart");
        f["packages"] = v1_packages(k);
        row[17] = rusqlite::types::Value::Text(f.to_string());
    }
    (current, rows)
}

/// A version 1 history read by this imgaudit: migrated, and read back as
/// the same records with their packages, and the steps name the packages
/// that moved.
fn check_migrated(current: &Value, migrated: &Value) {
    let recs = migrated["records"].as_array().unwrap();
    assert_eq!(recs.len(), 4);
    for (k, r) in recs.iter().enumerate() {
        assert_eq!(r["packages"], v1_packages(k), "record {k}");
        let mut r = r.clone();
        r["packages"] = Value::Array(vec![]);
        assert_eq!(r, current["records"][k], "record {k}");
    }
    let steps = migrated["steps"].as_array().unwrap();
    let change = |step: usize, name: &str| -> Option<i64> {
        steps[step]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "package" && c["name"] == name)
            .map(|c| c["delta_bytes"].as_i64().unwrap())
    };
    assert_eq!(change(0, "dpkg:libc6"), Some(1000));
    assert_eq!(change(0, "apk:ü-名"), None);
    // The removed package is the largest change of its step.
    assert_eq!(steps[1]["changes"][0]["name"], "pip:numpy");
    assert_eq!(change(1, "pip:numpy"), Some(-30_000_000));
    assert_eq!(change(1, "dpkg:new"), Some(5_000));
    assert_eq!(change(2, "dpkg:new"), None);
}

#[test]
fn a_version_1_history_is_migrated_and_reads_the_same() {
    let t = tempfile::tempdir().unwrap();
    let (current, rows) = v1_rows(t.path());
    let old = t.path().join("v1.db");
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch(&V1_SCHEMA.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
            .unwrap();
        for row in &rows {
            c.execute(
                &format!(
                    "INSERT INTO records ({V1_COLUMNS}) VALUES ({})",
                    (1..=18)
                        .map(|i| format!("?{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                rusqlite::params_from_iter(row.iter()),
            )
            .unwrap();
        }
    }
    let migrated = history_json(&old, &[]);
    check_migrated(&current, &migrated);
    // The file is at version 2 now, every record's packages in their
    // column and out of its figures; reading again reads the same.
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        let v: String = c
            .query_row(
                "SELECT value FROM imgaudit_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, "2");
        let left: i64 = c
            .query_row(
                "SELECT count(*) FROM records WHERE packages IS NULL OR figures LIKE '%\"packages\"%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
    assert_eq!(history_json(&old, &[]), migrated);
    // A record added after the migration reads alongside the old ones.
    let img = image(400_000);
    imgaudit()
        .args(["analyze", s(img.path()), "-q", "--history", s(&old)])
        .args(["--series", "app"])
        .assert()
        .success();
    let after = history_json(&old, &[]);
    assert_eq!(after["records"].as_array().unwrap().len(), 5);
    assert_eq!(after["records"][3], migrated["records"][3]);
    // A damaged packages value is an error naming the file and the record.
    let id = after["records"][1]["id"].as_i64().unwrap();
    rusqlite::Connection::open(&old)
        .unwrap()
        .execute("UPDATE records SET packages = x'01ff' WHERE id = ?1", [id])
        .unwrap();
    let out = imgaudit()
        .args(["history", "--history", s(&old)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(s(&old)) && err.contains(&format!("record {id}: packages")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn postgres_migrates_a_version_1_history() {
    let Some(pg) = Pg::start("postgres_migrates") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let (current, rows) = v1_rows(t.path());
    let mut c = postgres::Client::connect(
        &format!(
            "host=127.0.0.1 port={} user={PG_USER} password={} dbname=postgres",
            pg.port, pg.password
        ),
        postgres::NoTls,
    )
    .unwrap();
    c.batch_execute(&V1_SCHEMA.replace("{id}", "BIGSERIAL PRIMARY KEY"))
        .unwrap();
    let insert = format!(
        "INSERT INTO records ({V1_COLUMNS}) VALUES ({})",
        (1..=18)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for row in &rows {
        use rusqlite::types::Value as V;
        let params: Vec<Box<dyn postgres::types::ToSql + Sync>> = row
            .iter()
            .enumerate()
            .map(|(i, v)| -> Box<dyn postgres::types::ToSql + Sync> {
                match v {
                    V::Integer(n) => Box::new(*n),
                    V::Real(x) => Box::new(*x),
                    V::Text(s) => Box::new(s.clone()),
                    V::Null if i == 4 => Box::new(None::<String>),
                    V::Null => Box::new(None::<i64>),
                    V::Blob(_) => panic!("no blob in a version 1 record"),
                }
            })
            .collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref()).collect();
        c.execute(&insert, &refs).unwrap();
    }
    let url = pg.url();
    let read = || -> Value {
        let out = imgaudit()
            .args(["history", "--history", &url, "--format", "json"])
            .env("PGPASSWORD", &pg.password)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let migrated = read();
    check_migrated(&current, &migrated);
    let v: String = c
        .query_one(
            "SELECT value FROM imgaudit_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(v, "2");
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM records WHERE packages IS NULL OR figures LIKE '%\"packages\"%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    assert_eq!(read(), migrated);
}
