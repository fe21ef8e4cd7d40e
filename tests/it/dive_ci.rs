//! `.dive-ci` files against dive itself: for every YAML shape dive accepts
//! (or calls misconfigured), `imgaudit check --budget .dive-ci` and
//! `dive --ci --ci-config` on the same generated docker-archive must reach
//! the same verdict (pass = exit 0, failed rules = exit 1, a misconfigured
//! file = imgaudit's exit 2, where dive prints MISCONFIGURED or a
//! configuration error and exits 1) and fail the same rules. One image has
//! the shape of dive's own test image (its Dockerfile.test-image: a base
//! layer, one file copied, chmod-ed, moved and deleted across 13 layers);
//! the config shaped like dive's own `.data/.dive-ci` must pass or fail
//! there exactly as it does in dive.

use crate::common::{analyze_json, have_tools, imgaudit};
use crate::layout::{tar, Img, E};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Exit 0.
    Pass,
    /// Exit 1 with these failed rules.
    Fail(BTreeSet<String>),
    /// A configuration dive will not evaluate.
    Misconfigured,
}

/// dive's CI verdict for `yaml` on `archive`.
fn dive(archive: &Path, yaml: &str) -> Verdict {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("dive-ci.yaml");
    std::fs::write(&cfg, yaml).unwrap();
    let out = std::process::Command::new("dive")
        .args(["--source", "docker-archive"])
        .arg(archive)
        .arg("--ci")
        .arg("--ci-config")
        .arg(&cfg)
        .current_dir(t.path())
        .output()
        .unwrap();
    let text = strip_ansi(&String::from_utf8_lossy(&out.stdout));
    let text = text + &strip_ansi(&String::from_utf8_lossy(&out.stderr));
    match out.status.code() {
        Some(0) => Verdict::Pass,
        Some(1) if text.contains("Result:FAIL") => Verdict::Fail(
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("FAIL: "))
                .map(|l| l.split(':').next().unwrap().to_string())
                .collect(),
        ),
        Some(1) if text.contains("MISCONFIGURED") || text.contains("configuration error") => {
            Verdict::Misconfigured
        }
        _ => panic!("dive: unexpected outcome {:?}: {text}", out.status),
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params letter
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// imgaudit's verdict for `yaml` (written as `.dive-ci`) on `archive`.
fn imgaudit_verdict(archive: &Path, yaml: &str) -> Verdict {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join(".dive-ci");
    std::fs::write(&cfg, yaml).unwrap();
    let out = imgaudit()
        .args(["check", "-q", "--format", "json", "--budget"])
        .arg(&cfg)
        .arg(archive)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Verdict::Pass,
        Some(1) => {
            let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            Verdict::Fail(
                r["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["status"] == "fail")
                    .map(|f| f["rule"].as_str().unwrap().to_string())
                    .collect(),
            )
        }
        Some(2) => {
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(".dive-ci"), "names the file: {err}");
            Verdict::Misconfigured
        }
        other => panic!("imgaudit exit {other:?}: {err}"),
    }
}

/// Write `img` as an OCI layout and copy it to a docker-archive with skopeo.
fn docker_archive(dir: &Path, name: &str, img: Img) -> PathBuf {
    let layout = dir.join(format!("{name}-oci"));
    std::fs::create_dir_all(&layout).unwrap();
    img.write(&layout, |_, _| {});
    let archive = dir.join(format!("{name}.tar"));
    let ok = std::process::Command::new("skopeo")
        .args(["copy", "-q"])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!(
            "docker-archive:{}:{name}:latest",
            archive.display()
        ))
        .status()
        .unwrap();
    assert!(ok.success(), "skopeo copy {name}");
    archive
}

/// The shape of dive's test image: a base layer, then one file added,
/// copied, chmod-ed (rewritten whole), moved, copied again, its directory
/// deleted, a directory added, and more copies.
fn dive_test_shaped(dir: &Path) -> PathBuf {
    const F: usize = 7_000;
    let layers: Vec<Vec<E>> = vec![
        vec![
            E::Dir("bin/"),
            E::File("bin/busybox", 900_000),
            E::Dir("etc/"),
            E::File("etc/passwd", 340),
            E::File("etc/group", 280),
        ],
        vec![E::File("somefile.txt", F)],
        vec![
            E::Dir("root/"),
            E::Dir("root/example/"),
            E::Dir("root/example/really/"),
            E::Dir("root/example/really/nested/"),
        ],
        vec![E::File("root/example/somefile1.txt", F)],
        vec![E::File("root/example/somefile1.txt", F)],
        vec![E::File("root/example/somefile2.txt", F)],
        vec![E::File("root/example/somefile3.txt", F)],
        vec![
            E::File("root/example/.wh.somefile3.txt", 0),
            E::File("root/saved.txt", F),
        ],
        vec![E::File("root/.saved.txt", F)],
        vec![E::File("root/.wh.example", 0)],
        vec![
            E::Dir("root/.data/"),
            E::File("root/.data/build.sh", 1_500),
            E::File("root/.data/test.sh", 2_600),
        ],
        vec![E::File("tmp/saved.again1.txt", F)],
        vec![E::File("root/.data/saved.again2.txt", F)],
        vec![E::File("root/saved.txt", F)],
    ];
    let img = layers
        .iter()
        .fold(Img::new(), |img, entries| img.gz(tar(entries)));
    docker_archive(dir, "dive-test-shaped", img)
}

/// `f` written twice: dive's efficiency 0.8, wasted 1600 bytes.
fn wasteful(dir: &Path) -> PathBuf {
    let img = Img::new()
        .gz(tar(&[E::File("f", 1000), E::File("g", 3000)]))
        .gz(tar(&[E::File("f", 600), E::File("h", 400)]));
    docker_archive(dir, "wasteful", img)
}

/// The `.dive-ci` of dive's repository, by shape: a document marker, a
/// `plugins:` list, comments and blank lines, the three rules with an
/// unquoted `20Mb`, and a `plugin/rule` key dive ignores.
const DIVE_REPO_SHAPE: &str = "---
plugins:
  - sizecheck

rules:
  # the image must keep at least this share of its bytes
  lowestEfficiency: 0.95

  # at most this many bytes may be wasted
  highestWastedBytes: 20Mb

  # wasted bytes per byte added above the base layer
  highestUserWastedPercent: 0.10

  sizecheck/maxsize: error
";

/// Exactly at each threshold passes, just past fails (strict comparisons);
/// dive truncates fractional bytes and reads thousands commas.
fn exact_thresholds(eff: f64, wasted: u64) -> Vec<String> {
    let under = wasted - 1;
    vec![
        format!(
            "rules:\n  lowestEfficiency: {eff}\n  highestWastedBytes: {wasted}\n  highestUserWastedPercent: disabled\n"
        ),
        format!(
            "rules:\n  lowestEfficiency: {}\n  highestWastedBytes: {under}.9999B\n",
            eff + 1e-9
        ),
        format!(
            "rules:\n  highestWastedBytes: \"{},{:03}\"\n  highestUserWastedPercent: disabled\n  lowestEfficiency: 0\n",
            under / 1000,
            under % 1000
        ),
    ]
}

#[test]
fn dive_ci_verdicts_match_dive() {
    if !have_tools("dive_ci_verdicts_match_dive", &["dive", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    // Thresholds set exactly at a figure go only to the image whose figures
    // are exact by construction; dive_compat.rs compares the figures.
    for (archive, exact) in [
        (dive_test_shaped(t.path()), false),
        (wasteful(t.path()), true),
    ] {
        let a = analyze_json(archive.to_str().unwrap(), &[]);
        let eff = a["totals"]["efficiency"].as_f64().unwrap();
        let wasted = a["totals"]["dive_wasted_bytes"].as_u64().unwrap();
        let mut shapes: Vec<String> = [
            DIVE_REPO_SHAPE,
            "",
            "---\n...\n",
            "rules:\n",
            "rules: {lowestEfficiency: 0.99, highestWastedBytes: 1KB}\n",
            "rules: {lowestEfficiency: disabled, highestUserWastedPercent: 'disabled'}\n",
            "rules:\n  lowestEfficiency: \"0.5\"\n  highestWastedBytes: '1 kB'\n  highestUserWastedPercent: \"0.9\"\n",
            "RULES:\n  LowestEfficiency: 0.5\n  HIGHESTUSERWASTEDPERCENT: 1\n",
            "rules:\n  lowestEfficiency:\n  highestUserWastedPercent: ~\n",
            "rules:\n  lowestEfficency: 0.999999  # misspelt: dive ignores it\n",
            "lowestEfficiency: 0.999999\n",
            "x: &t 0.5\nrules:\n  lowestEfficiency: *t\n  highestUserWastedPercent: !!str 1\n",
            "rules: {lowestEfficiency: 0.5}\n...\n---\nrules: {lowestEfficiency: 1}\n",
            // Misconfigured, for dive and for imgaudit.
            "rules:\n  lowestEfficiency: abc\n",
            "rules:\n  lowestEfficiency: 1.5\n",
            "rules:\n  highestUserWastedPercent: Disabled\n",
            "rules:\n  highestWastedBytes: -1\n",
            "rules:\n  lowestEfficiency: true\n",
            "rules: [1]\n",
            "- rules\n",
            "rules:\n  lowestEfficiency: 0.5\n  lowestEfficiency: 0.6\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Exactly at each threshold passes, just past fails (strict
        // comparisons); dive truncates fractional bytes and reads commas.
        if exact {
            shapes.extend(exact_thresholds(eff, wasted));
        }
        let mut verdicts = Vec::new();
        for yaml in &shapes {
            let theirs = dive(&archive, yaml);
            let ours = imgaudit_verdict(&archive, yaml);
            assert_eq!(
                ours,
                theirs,
                "{}: imgaudit and dive disagree on\n{yaml}",
                archive.display()
            );
            verdicts.push(theirs);
        }
        // The shapes exercise every verdict.
        assert!(verdicts.contains(&Verdict::Pass));
        assert!(verdicts.contains(&Verdict::Misconfigured));
        assert!(verdicts.iter().any(|v| matches!(v, Verdict::Fail(_))));
    }
}

#[test]
fn dive_repo_config_notes_the_plugin_rule() {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join(".dive-ci");
    std::fs::write(&cfg, DIVE_REPO_SHAPE).unwrap();
    let img = t.path().join("img");
    Img::new()
        .gz(tar(&[E::File("a", 100)]))
        .write(&img, |_, _| {});
    let out = imgaudit()
        .args(["check", "-q", "--budget"])
        .arg(&cfg)
        .arg(crate::layout::oci(&img))
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Note") && text.contains("\"sizecheck/maxsize\" ignored"),
        "{text}"
    );
}
