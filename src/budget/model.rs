//! The budget model: which rules a budget sets, with which limits and
//! levels, plus its path patterns. Built by the parsers (`toml_file.rs`,
//! `dive_ci.rs`); read by [`super::check`].

use super::rules::{Rule, Syntax};
use crate::error::{Error, Result};
use crate::finding::{Amount, Level};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// A limit and its level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: Amount,
    pub level: Level,
}

/// One rule the budget sets.
#[derive(Debug, Clone)]
pub struct RuleLimit {
    pub rule: &'static Rule,
    pub limit: Limit,
    /// The category id of a `category.<id>.max_bytes` (or
    /// `.max_download_bytes`) rule.
    pub category: Option<String>,
}

impl RuleLimit {
    /// The rule as spelt in the budget file.
    pub fn key(&self) -> String {
        match &self.category {
            Some(id) => self.rule.key.replacen('*', id, 1),
            None => self.rule.key.to_string(),
        }
    }
}

/// A parsed budget: the rules it sets, in report order.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    pub limits: Vec<RuleLimit>,
    /// Glob patterns of paths that must not exist (rule `forbidden_paths`).
    pub forbidden_paths: Vec<String>,
    /// Glob patterns of paths no rule counts.
    pub exclude_paths: Vec<String>,
    /// Where the budget came from, for reports.
    pub origin: String,
    /// What the parser accepted but ignores (dive plugin rules), one line each.
    pub notes: Vec<String>,
    /// `[growth_window] builds`: how many recorded builds of the series the
    /// creep rule (`growth_window.max_percent`) looks back over.
    pub growth_window_builds: Option<usize>,
}

impl Budget {
    /// Add a rule; keeps `limits` in report order (table order, then
    /// category id).
    pub(crate) fn set(&mut self, rule: &'static Rule, limit: Limit, category: Option<String>) {
        self.limits
            .retain(|l| !(l.rule.code == rule.code && l.category == category));
        self.limits.push(RuleLimit {
            rule,
            limit,
            category,
        });
        self.limits
            .sort_by(|a, b| (a.rule.code, &a.category).cmp(&(b.rule.code, &b.category)));
    }

    /// The limit set for `key` (`max_final_bytes`, `lowestEfficiency`,
    /// `category.build-tools.max_bytes`), if any.
    pub fn limit(&self, key: &str) -> Option<Limit> {
        self.limits.iter().find(|l| l.key() == key).map(|l| l.limit)
    }

    /// Whether the budget is dive's (`.dive-ci`).
    pub fn is_dive(&self) -> bool {
        self.limits.iter().any(|l| l.rule.syntax == Syntax::DiveCi)
    }

    /// Read a budget file: `.dive-ci` (or any `.yaml`/`.yml`) as dive's
    /// format, everything else as TOML. A file that is not text (or is
    /// over 1 MiB) is refused as "not a budget file".
    pub fn load(path: &Path) -> Result<Budget> {
        let origin = path.display().to_string();
        let text = read_text(path)?;
        if is_dive_name(path) {
            Budget::from_dive_ci(&text, &origin)
        } else {
            Budget::from_toml(&text, &origin)
        }
    }

    /// The budget `check` uses when no `--budget` is given: `imgaudit.toml`
    /// in `dir`, else dive's `.dive-ci` there (as dive reads `.dive-ci` by
    /// default), else `None`. When both exist `imgaudit.toml` wins and the
    /// budget carries a note saying `.dive-ci` was not used. The path
    /// returned is the file used, for "using budget …" messages.
    pub fn discover(dir: &Path) -> Result<Option<(PathBuf, Budget)>> {
        let found: Vec<PathBuf> = DISCOVERED
            .iter()
            .map(|name| dir.join(name))
            .filter(|p| p.is_file())
            .collect();
        let Some(first) = found.first() else {
            return Ok(None);
        };
        let mut budget = Budget::load(first)?;
        for other in &found[1..] {
            budget.notes.push(format!(
                "{} is not used: {} wins when both exist (pass --budget to choose)",
                other.display(),
                DISCOVERED[0]
            ));
        }
        Ok(Some((first.clone(), budget)))
    }

    /// Whether the check needs every final path (forbidden paths, exclusions,
    /// per-path contributors).
    pub fn needs_paths(&self) -> bool {
        !self.exclude_paths.is_empty() || self.limits.iter().any(|l| l.rule.paths)
    }

    /// Whether the growth-window rule is set (it needs `--history`).
    pub fn needs_window(&self) -> bool {
        self.growth_window_builds.is_some()
    }

    /// Whether any rule compares with a baseline image.
    pub fn needs_baseline(&self) -> bool {
        self.limits.iter().any(|l| l.rule.baseline)
    }
}

/// The budget files [`Budget::discover`] looks for, the preferred first.
pub const DISCOVERED: [&str; 2] = ["imgaudit.toml", ".dive-ci"];

/// Budget files are small; anything larger is not one.
const MAX_BUDGET_FILE: u64 = 1 << 20;

/// A budget file's text, or an error saying why it is not one.
fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let origin = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path.to_path_buf())
        } else {
            Error::io(origin.clone(), e)
        }
    })?;
    let mut bytes = Vec::new();
    f.take(MAX_BUDGET_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(origin.clone(), e))?;
    let not = |why: &str| {
        bad(
            &origin,
            format!("not a budget file ({why}; expected TOML, or YAML for dive's .dive-ci)"),
        )
    };
    if bytes.len() as u64 > MAX_BUDGET_FILE {
        return Err(not("over 1 MiB"));
    }
    if bytes.contains(&0) {
        return Err(not("binary data"));
    }
    String::from_utf8(bytes).map_err(|_| not("not UTF-8 text"))
}

/// Whether a file name says dive's format.
pub(crate) fn is_dive_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".dive-ci") || name.ends_with(".yaml") || name.ends_with(".yml")
}

pub(crate) fn bad(origin: &str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        what: origin.to_string(),
        reason: reason.into(),
    }
}

/// Compile path globs (a leading `/` is ignored: paths are matched relative
/// to the root).
pub(crate) fn globs(origin: &str, patterns: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches('/');
        let g = Glob::new(p).map_err(|e| bad(origin, format!("pattern {p:?}: {e}")))?;
        b.add(g);
    }
    b.build().map_err(|e| bad(origin, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_prefers_imgaudit_toml_and_notes_the_other() {
        let t = tempfile::tempdir().unwrap();
        assert!(Budget::discover(t.path()).unwrap().is_none());
        std::fs::write(
            t.path().join(".dive-ci"),
            "rules:\n  lowestEfficiency: 0.5\n",
        )
        .unwrap();
        let (p, b) = Budget::discover(t.path()).unwrap().unwrap();
        assert_eq!(p, t.path().join(".dive-ci"));
        assert!(b.is_dive() && b.notes.is_empty());
        std::fs::write(t.path().join("imgaudit.toml"), "max_layers = 3\n").unwrap();
        let (p, b) = Budget::discover(t.path()).unwrap().unwrap();
        assert_eq!(p, t.path().join("imgaudit.toml"));
        assert!(!b.is_dive());
        assert_eq!(b.limit("max_layers").unwrap().value, Amount::Int(3));
        assert_eq!(b.notes.len(), 1);
        assert!(b.notes[0].contains(".dive-ci is not used"), "{:?}", b.notes);
        // A broken discovered file is an error, not silently skipped.
        std::fs::write(t.path().join("imgaudit.toml"), "max_layerz = 3\n").unwrap();
        let e = Budget::discover(t.path()).unwrap_err().to_string();
        assert!(
            e.contains("imgaudit.toml") && e.contains("max_layerz"),
            "{e}"
        );
        // A directory of that name is not a budget file.
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("imgaudit.toml")).unwrap();
        assert!(Budget::discover(d.path()).unwrap().is_none());
    }

    #[test]
    fn binary_files_are_not_budget_files() {
        let t = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("b.toml", &b"\x1f\x8b\x08\x00gzip"[..]),
            ("img.tar", &b"max_layers = 1\n\0\0\0"[..]),
            (".dive-ci", &b"\xff\xfe r"[..]),
        ] {
            let p = t.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let e = Budget::load(&p).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains("not a budget file"), "{e}");
        }
        let p = t.path().join("big.toml");
        std::fs::write(&p, vec![b'#'; (MAX_BUDGET_FILE + 1) as usize]).unwrap();
        let e = Budget::load(&p).unwrap_err().to_string();
        assert!(e.contains("over 1 MiB"), "{e}");
    }
}
