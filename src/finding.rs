//! Findings: the one structured type for everything imgaudit flags, budget
//! rules (`check`, codes `B…` and `D…`) and the analysis's own history
//! findings (`IA…`). A finding is data: a [`Code`] from one enum (unique
//! codes), the measured value and the limit as exact [`Amount`]s, and its
//! contributors (paths, layers, groups) as a list, never as text pasted
//! into a message. Renderers decide how to show and escape them; a finding
//! prints nothing itself.
//!
//! This module depends on nothing else in the crate but [`crate::units`], so
//! every pipeline stage may use it.

use serde::{Serialize, Serializer};
use std::fmt;

/// Every finding code imgaudit emits. Codes are stable (docs/BUDGETS.md,
/// docs/CATEGORIES.md): a code is never reused for another meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    B001,
    B002,
    B003,
    B004,
    B005,
    B006,
    B007,
    B008,
    B009,
    B010,
    B011,
    B012,
    B013,
    B014,
    B015,
    B016,
    D001,
    D002,
    D003,
    IA001,
    IA002,
    IA003,
}

impl Code {
    /// Every code, in order.
    pub const ALL: [Code; 22] = [
        Code::B001,
        Code::B002,
        Code::B003,
        Code::B004,
        Code::B005,
        Code::B006,
        Code::B007,
        Code::B008,
        Code::B009,
        Code::B010,
        Code::B011,
        Code::B012,
        Code::B013,
        Code::B014,
        Code::B015,
        Code::B016,
        Code::D001,
        Code::D002,
        Code::D003,
        Code::IA001,
        Code::IA002,
        Code::IA003,
    ];

    /// The code as written in reports: `B009`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::B001 => "B001",
            Code::B002 => "B002",
            Code::B003 => "B003",
            Code::B004 => "B004",
            Code::B005 => "B005",
            Code::B006 => "B006",
            Code::B007 => "B007",
            Code::B008 => "B008",
            Code::B009 => "B009",
            Code::B010 => "B010",
            Code::B011 => "B011",
            Code::B012 => "B012",
            Code::B013 => "B013",
            Code::B014 => "B014",
            Code::B015 => "B015",
            Code::B016 => "B016",
            Code::D001 => "D001",
            Code::D002 => "D002",
            Code::D003 => "D003",
            Code::IA001 => "IA001",
            Code::IA002 => "IA002",
            Code::IA003 => "IA003",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a finding counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the check (exit code 1).
    #[default]
    Fail,
    /// Reported, exit code unaffected.
    Warn,
}

/// Outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// Unit of a finding's measured value and limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Bytes,
    Percent,
    Ratio,
    Count,
}

impl Unit {
    /// `amount` for people: `155 MB`, `5.0%`, `0.950`, `3`.
    pub fn show(self, amount: impl Into<f64>) -> String {
        let v: f64 = amount.into();
        match self {
            Unit::Bytes => crate::units::human(v as u64),
            Unit::Percent => format!("{v:.1}%"),
            Unit::Ratio => format!("{v:.3}"),
            Unit::Count => format!("{v}"),
        }
    }
}

/// A measured value or a limit: exact for byte sizes and counts, a float
/// for ratios and percentages. JSON writes an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    Int(u64),
    Real(f64),
}

impl Amount {
    pub fn as_f64(self) -> f64 {
        match self {
            Amount::Int(i) => i as f64,
            Amount::Real(f) => f,
        }
    }

    /// `self > other`, exact when both are integers; NaN compares false.
    pub fn above(self, other: Amount) -> bool {
        match (self, other) {
            (Amount::Int(a), Amount::Int(b)) => a > b,
            (a, b) => a.as_f64() > b.as_f64(),
        }
    }

    /// `self < other`, exact when both are integers; NaN compares false.
    pub fn below(self, other: Amount) -> bool {
        match (self, other) {
            (Amount::Int(a), Amount::Int(b)) => a < b,
            (a, b) => a.as_f64() < b.as_f64(),
        }
    }
}

impl From<Amount> for f64 {
    fn from(a: Amount) -> f64 {
        a.as_f64()
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Amount::Int(i) => s.serialize_u64(i),
            Amount::Real(f) => s.serialize_f64(f),
        }
    }
}

/// What a contributor is, so a renderer knows how to show its `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContributorKind {
    /// `name` is an image path, exactly as in the image (`/usr/bin/gcc-12`).
    Path,
    /// `name` is `layer N: <created_by, shortened>`.
    Layer,
    /// `name` is a savings group and its fix.
    Group,
    /// `name` is a savings item's label (a path, a directory or a package).
    Item,
}

/// Something that makes up a finding's measured value: a path, a layer, a
/// savings group. Kept as data so each renderer can escape it for its output.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Contributor {
    pub name: String,
    pub bytes: Option<u64>,
    /// Layer index, when the contributor is a path or a layer.
    pub layer: Option<u32>,
    pub kind: ContributorKind,
}

/// One finding: an evaluated budget rule or a history finding of the
/// analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code.
    pub code: Code,
    /// The rule as spelled in the budget file (`category.build-tools.max_bytes`),
    /// or the name of the history pattern for `IA…` findings.
    pub rule: String,
    pub level: Level,
    pub status: Status,
    pub unit: Unit,
    pub measured: Amount,
    pub limit: Amount,
    /// One line for people; sizes readable, no image paths (those are in
    /// `contributors`).
    pub message: String,
    /// The largest contributors to the measured value, largest first.
    pub contributors: Vec<Contributor>,
    /// History findings only: the layer the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// History findings only: the bytes it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(seen.len(), Code::ALL.len());
        // ALL is sorted, so a variant added out of order shows up here.
        assert!(Code::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn amounts_compare_exactly_and_serialize_as_their_kind() {
        let big = Amount::Int(u64::MAX);
        assert!(big.above(Amount::Int(u64::MAX - 1)));
        assert!(!Amount::Int(5).above(Amount::Int(5)));
        assert!(Amount::Real(0.5).below(Amount::Int(1)));
        assert!(!Amount::Real(f64::NAN).above(Amount::Real(0.1)));
        assert_eq!(serde_json::to_string(&Amount::Int(5000)).unwrap(), "5000");
        assert_eq!(
            serde_json::to_string(&Amount::Int(u64::MAX)).unwrap(),
            u64::MAX.to_string()
        );
        assert_eq!(serde_json::to_string(&Amount::Real(0.9)).unwrap(), "0.9");
        assert_eq!(Unit::Bytes.show(Amount::Int(162_529_280)), "163 MB");
    }
}
