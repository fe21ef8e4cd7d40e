//! The result of `imgaudit check`: the findings of every rule the budget
//! sets, their counts and the exclusions. Renderers format it
//! (`crate::report`).

use crate::finding::{Finding, Status};
use serde::Serialize;

/// Counts of findings by status.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.status {
                Status::Pass => c.pass += 1,
                Status::Warn => c.warn += 1,
                Status::Fail => c.fail += 1,
            }
        }
        c
    }
}

/// The result of `imgaudit check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub schema_version: u32,
    pub image: String,
    pub platform: String,
    pub baseline: Option<String>,
    pub budget: String,
    /// `false` when any fail-level rule failed (exit code 1).
    pub passed: bool,
    pub counts: Counts,
    /// Paths matching `exclude_paths`, left out of every rule.
    pub excluded_paths: u64,
    pub excluded_bytes: u64,
    pub findings: Vec<Finding>,
    /// What the budget file holds that no rule evaluates (dive plugin
    /// rules, …), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
