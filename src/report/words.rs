//! Wording shared by every renderer: signed sizes and counts, percent
//! changes, the headline of a diff, a budget value in its unit, plurals,
//! the short layer ID, and the name an image is shown under in titles.
//! One ASCII hyphen-minus is the minus sign everywhere.

use crate::budget::{Level, Status, Unit};
use crate::diff::Change;
use crate::source::SourceKind;
use crate::units::human;

/// A size that may be unknown.
pub fn opt_bytes(b: Option<u64>) -> String {
    b.map(human).unwrap_or_else(|| "unknown".into())
}

/// Signed human size: `+1.2 MB`, `-333 MB`, `0 B`.
pub fn signed(delta: i64) -> String {
    match delta.signum() {
        1 => format!("+{}", human(delta as u64)),
        -1 => format!("-{}", human(delta.unsigned_abs())),
        _ => "0 B".into(),
    }
}

/// Signed count: `+3`, `-2`, `0`.
pub fn signed_count(delta: i64) -> String {
    match delta.signum() {
        1 => format!("+{delta}"),
        _ => delta.to_string(),
    }
}

/// Signed percent (`+3.2%`, `-60.5%`, `0.0%`), `new` when there was
/// nothing before.
pub fn signed_pct(c: &Change) -> String {
    match c.percent {
        Some(_) if c.delta == 0 => "0.0%".into(),
        Some(p) => format!("{}{:.1}%", if p > 0.0 { "+" } else { "-" }, p.abs()),
        None if c.after > 0 => "new".into(),
        None => "".into(),
    }
}

/// A change of a ratio in percentage points: `+1.5 pts`, `-0.2 pts`, and
/// `0.0 pts` when it rounds to nothing (never `+0.0`).
pub fn points(before: f64, after: f64) -> String {
    let d = (after - before) * 100.0;
    let shown = format!("{:.1}", d.abs());
    if shown == "0.0" {
        "0.0 pts".into()
    } else {
        format!("{}{shown} pts", if d > 0.0 { "+" } else { "-" })
    }
}

/// "after is 60.5% smaller" / "after is 3.2% larger" / "no change".
pub fn headline_words(c: &Change) -> String {
    match (c.delta.signum(), c.percent) {
        (0, _) => "no change".into(),
        (-1, Some(p)) => format!("after is {:.1}% smaller", p.abs()),
        (1, Some(p)) => format!("after is {p:.1}% larger"),
        _ => "after is larger (before was empty)".into(),
    }
}

/// `1 warning`, `2 warnings`, `0 layers`.
pub fn plural(n: impl Into<u64>, word: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A budget finding's measured value or limit in its unit.
pub fn show_value(unit: Unit, v: impl Into<f64>) -> String {
    unit.show(v)
}

pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
    }
}

pub fn level_word(l: Level) -> &'static str {
    match l {
        Level::Fail => "fail",
        Level::Warn => "warn",
    }
}

/// The short layer ID every report shows: the first 12 hex digits of the
/// layer's diff_id (the digest of its uncompressed tar, which names the
/// same layer in every image whatever its compression).
pub fn layer_id(diff_id: &str) -> String {
    let hex = diff_id.split_once(':').map(|(_, h)| h).unwrap_or(diff_id);
    hex.chars().take(12).collect()
}

/// The column title for [`layer_id`].
pub const LAYER_ID: &str = "Diff ID";

/// The column title of a download figure: the stored (compressed) bytes a
/// pull transfers for the row, as attributed while decoding (issue 17).
pub const DOWNLOAD: &str = "Download";

/// The column title of a change of download bytes (`diff`).
pub const DOWNLOAD_DELTA: &str = "Download Δ";

/// The column title of the stored bytes of files hidden by later layers.
pub const WASTED_DOWNLOAD: &str = "Wasted download";

/// The name an image goes by in a report's title: a registry or daemon
/// reference as written; for an archive or layout, its file name (with the
/// tag or ref it was picked by), never the directories of the machine that
/// ran the analysis. `kind` is `None` when unknown: a reference that names
/// a path (absolute, relative with `./`, or with a file transport prefix)
/// is then treated as a file.
pub fn image_name(reference: &str, kind: Option<SourceKind>) -> String {
    // "PATH (TAG)": the tag a docker archive's manifest gave the image.
    let (main, tag) = match reference
        .strip_suffix(')')
        .and_then(|r| r.rsplit_once(" ("))
    {
        Some((m, t)) => (m, Some(t)),
        None => (reference, None),
    };
    let prefixed = ["docker-archive:", "oci-archive:", "oci:"]
        .iter()
        .find_map(|p| main.strip_prefix(p));
    let is_file = match kind {
        Some(SourceKind::Registry | SourceKind::DockerDaemon) => false,
        Some(_) => true,
        None => {
            prefixed.is_some()
                || main.starts_with('/')
                || main.starts_with("./")
                || main.starts_with("../")
        }
    };
    if !is_file {
        return reference.to_string();
    }
    let path = prefixed.unwrap_or(main).trim_end_matches('/');
    let file = path.rsplit('/').next().unwrap_or(path);
    let file = if file.is_empty() { path } else { file };
    match tag {
        Some(t) => format!("{file} ({t})"),
        None => file.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_are_ascii_and_zero_is_unsigned() {
        assert_eq!(signed(-5300), "-5.3 kB");
        assert_eq!(signed(350), "+350 B");
        assert_eq!(signed_count(-2), "-2");
        assert_eq!(points(0.9995, 0.9996), "0.0 pts");
        assert_eq!(points(0.5, 0.6), "+10.0 pts");
        assert_eq!(points(0.6, 0.5), "-10.0 pts");
        assert_eq!(signed_pct(&Change::new(10, 5)), "-50.0%");
        assert_eq!(signed_pct(&Change::new(10, 10)), "0.0%");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1u64, "warning"), "1 warning");
        assert_eq!(plural(0u64, "warning"), "0 warnings");
    }

    #[test]
    fn titles_name_files_not_machine_paths() {
        let k = Some(SourceKind::DockerArchive);
        assert_eq!(image_name("/home/ci/work/app.tar", k), "app.tar");
        assert_eq!(
            image_name("/home/ci/work/app.tar (reg:5000/org/app:1)", k),
            "app.tar (reg:5000/org/app:1)"
        );
        assert_eq!(
            image_name("/tmp/x/layout:v1", Some(SourceKind::Oci)),
            "layout:v1"
        );
        assert_eq!(
            image_name("ghcr.io/org/app:1", Some(SourceKind::Registry)),
            "ghcr.io/org/app:1"
        );
        assert_eq!(image_name("ghcr.io/org/app:1", None), "ghcr.io/org/app:1");
        assert_eq!(image_name("/tmp/a/b.tar", None), "b.tar");
        assert_eq!(image_name("oci:/tmp/a/dir/", None), "dir");
    }

    #[test]
    fn layer_ids() {
        assert_eq!(layer_id("sha256:1c62478eda4c0123"), "1c62478eda4c");
    }
}
