//! The first hour of a new user (issue 12): install helpers (completions,
//! man page), a missing command, report paths refused before any work,
//! sizes with units on the command line, the default budget file, and
//! GitHub annotations kept out of a report on standard output.

use crate::common::{have_tools, imgaudit, repo_root};
use std::path::{Path, PathBuf};

fn demo() -> String {
    repo_root()
        .join("testdata/demo/demo-oci.tar")
        .display()
        .to_string()
}

fn stdout_of(args: &[&str]) -> String {
    let out = imgaudit().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_every_shell_name_every_command_and_flag() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        for word in ["analyze", "diff", "check", "max-layer-bytes", "budget"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script must at least parse in bash.
    if have_tools("bash completions parse", &["bash"]) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("imgaudit.bash");
        std::fs::write(&file, stdout_of(&["completions", "bash"])).unwrap();
        let ok = std::process::Command::new("bash")
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap();
        assert!(ok.success(), "bash -n rejects the completion script");
    }
}

#[test]
fn man_page_has_a_section_per_command_and_renders() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "not roff"
    );
    assert!(page.contains(".TH imgaudit 1"), "no title line");
    for cmd in ["ANALYZE", "DIFF", "CHECK", "CACHE", "COMPLETIONS", "MAN"] {
        assert!(
            page.contains(&format!(".SH \"IMGAUDIT {cmd}\"")),
            "no section for {cmd}"
        );
    }
    assert!(page.contains("max\\-layer\\-bytes"), "options missing");
    // groff, where installed, typesets it without complaint.
    if std::process::Command::new("groff")
        .arg("--version")
        .output()
        .is_ok()
    {
        let mut child = std::process::Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(warnings.trim().is_empty(), "groff warnings: {warnings}");
    }
}

#[test]
fn an_image_without_a_command_is_told_to_use_analyze() {
    let out = imgaudit().args(["python:3.12-slim"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("imgaudit analyze python:3.12-slim"),
        "no suggestion: {err}"
    );
    assert!(!err.contains("unrecognized subcommand"), "{err}");
    // A real typo of a command keeps clap's own help.
    let out = imgaudit().args(["--frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A path in a directory that does not exist.
fn nowhere(dir: &Path) -> PathBuf {
    dir.join("no-such-dir").join("report.json")
}

#[test]
fn unwritable_report_paths_fail_before_any_image_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let bad = nowhere(dir.path());
    // The image does not exist either: the output path is what is refused,
    // so it was checked first.
    let missing_image = dir.path().join("missing.tar").display().to_string();
    for (cmd, args) in [
        (
            "analyze",
            vec!["analyze", missing_image.as_str(), "--output"],
        ),
        (
            "diff",
            vec![
                "diff",
                missing_image.as_str(),
                missing_image.as_str(),
                "--output",
            ],
        ),
    ] {
        let out = imgaudit().args(&args).arg(&bad).arg("-q").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--output") && err.contains("report.json"),
            "{cmd}: {err}"
        );
        assert!(
            !err.contains("missing.tar"),
            "{cmd} read the image first: {err}"
        );
    }
    let budget = dir.path().join("b.toml");
    std::fs::write(&budget, "max_final_bytes = \"1 GB\"\n").unwrap();
    let out = imgaudit()
        .args(["check", &missing_image, "--budget"])
        .arg(&budget)
        .arg("--junit")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--junit"), "{err}");
    assert!(!err.contains("missing.tar"), "{err}");
    // A file that exists is not truncated by the check.
    let keep = dir.path().join("keep.json");
    std::fs::write(&keep, "precious").unwrap();
    let out = imgaudit()
        .args(["analyze", &missing_image, "-q", "--output"])
        .arg(&keep)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    // And a new file is not left behind when the analysis fails.
    let fresh = dir.path().join("fresh.json");
    imgaudit()
        .args(["analyze", &missing_image, "-q", "--output"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(!fresh.exists(), "an empty report file was left behind");
}

#[test]
fn byte_options_take_units_and_the_limit_error_names_the_flag() {
    let ok = imgaudit()
        .args(["analyze", &demo(), "-q", "--max-layer-bytes", "2 GB"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = imgaudit()
        .args(["analyze", &demo(), "-q", "--max-layer-bytes", "1MB"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1.0 MB (1000000 bytes)"), "{err}");
    assert!(err.contains("--max-layer-bytes"), "{err}");
    assert!(
        !err.contains("bad gzip"),
        "the limit is not a corrupt stream: {err}"
    );
    let out = imgaudit()
        .args(["analyze", &demo(), "--max-layer-bytes", "2 parsecs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a size"));
}

#[test]
fn check_uses_a_budget_file_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    // None there: a clear error naming both file names.
    let out = imgaudit()
        .current_dir(dir.path())
        .args(["check", &demo(), "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--budget") && err.contains("imgaudit.toml") && err.contains(".dive-ci"),
        "{err}"
    );
    // dive's file alone is used, and named.
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.5\n",
    )
    .unwrap();
    let out = imgaudit()
        .current_dir(dir.path())
        .args(["check", &demo(), "-q"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("using budget .dive-ci"));
    // imgaudit.toml wins over .dive-ci; this one fails (exit 1).
    std::fs::write(
        dir.path().join("imgaudit.toml"),
        "max_final_bytes = \"1 MB\"\n",
    )
    .unwrap();
    let out = imgaudit()
        .current_dir(dir.path())
        .args(["check", &demo(), "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("using budget imgaudit.toml"));
}

#[test]
fn annotations_never_mix_into_a_report_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let budget = dir.path().join("b.toml");
    std::fs::write(&budget, "max_final_bytes = \"1 MB\"\n").unwrap();
    for format in ["markdown", "table", "json"] {
        let out = imgaudit()
            .env("GITHUB_ACTIONS", "true")
            .args(["check", &demo(), "-q", "--format", format, "--budget"])
            .arg(&budget)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.lines().any(|l| l.starts_with("::")),
            "{format}: workflow command in the report"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.lines().any(|l| l.starts_with("::error")),
            "{format}: {stderr}"
        );
    }
    // With --output the report is in the file and the annotations on stdout.
    let report = dir.path().join("comment.md");
    let out = imgaudit()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", &demo(), "-q", "--format", "markdown", "--budget"])
        .arg(&budget)
        .arg("--output")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("::error"));
    assert!(!std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .any(|l| l.starts_with("::")));
}

#[test]
fn one_failed_image_of_several_is_a_row_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.tar").display().to_string();
    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, "not an image\n".repeat(100)).unwrap();
    let not_image = not_image.display().to_string();
    for format in ["table", "json", "markdown"] {
        let out = imgaudit()
            .args([
                "analyze",
                &demo(),
                &missing,
                &not_image,
                "-q",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The good image is still reported, the two bad ones are rows.
        assert!(stdout.contains("demo-oci.tar"), "{format}: {stdout}");
        assert!(
            stdout.contains("gone.tar") && stdout.contains("notes.txt"),
            "{format}: {stdout}"
        );
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let rows = v["images"].as_array().unwrap();
            assert_eq!(rows.len(), 3);
            assert!(rows[0]["final_bytes"].as_u64().unwrap() > 0);
            assert!(rows[1]["error"].as_str().unwrap().contains("no such file"));
            assert!(rows[2]["error"]
                .as_str()
                .unwrap()
                .contains("not a container image"));
        }
        // Each failure once on stderr, naming the image once.
        assert_eq!(stderr.lines().count(), 2, "{stderr}");
        let gone = stderr.lines().find(|l| l.contains("gone.tar")).unwrap();
        assert_eq!(gone.matches("gone.tar").count(), 1, "{gone}");
    }
}
