//! The budget model: which rules a budget sets, with which limits and
//! levels, plus its path patterns. Built by the parsers (`toml_file.rs`,
//! `dive_ci.rs`); read by [`super::check`].

use super::rules::{Rule, Syntax};
use crate::error::{Error, Result};
use crate::finding::{Amount, Level};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::Path;

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
    /// The category id of a `category.<id>.max_bytes` rule.
    pub category: Option<String>,
}

impl RuleLimit {
    /// The rule as spelt in the budget file.
    pub fn key(&self) -> String {
        match &self.category {
            Some(id) => format!("category.{id}.max_bytes"),
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
    /// format, everything else as TOML.
    pub fn load(path: &Path) -> Result<Budget> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound(path.to_path_buf())
            } else {
                Error::io(path.display().to_string(), e)
            }
        })?;
        let origin = path.display().to_string();
        if is_dive_name(path) {
            Budget::from_dive_ci(&text, &origin)
        } else {
            Budget::from_toml(&text, &origin)
        }
    }

    /// Whether the check needs every final path (forbidden paths, exclusions,
    /// per-path contributors).
    pub fn needs_paths(&self) -> bool {
        !self.exclude_paths.is_empty() || self.limits.iter().any(|l| l.rule.paths)
    }

    /// Whether any rule compares with a baseline image.
    pub fn needs_baseline(&self) -> bool {
        self.limits.iter().any(|l| l.rule.baseline)
    }
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
