//! Size budgets for CI, organised as cargo-deny organises its checks:
//!
//! - `model.rs`: the [`Budget`] (which rules are set, with which [`Limit`]s),
//!   loaded by `toml_file.rs` (docs/BUDGETS.md) or `dive_ci.rs` (dive's
//!   `.dive-ci`);
//! - `rules.rs`: the rules as data, one row per rule ([`rules::RULES`]);
//! - `check.rs`: [`check`] evaluates the rules on an [`Analysis`](crate::analysis::Analysis)
//!   (and an optional baseline) into a [`CheckReport`] (`report.rs`) with one
//!   [`Finding`] per rule (the crate's shared finding type,
//!   [`crate::finding`]);
//! - `size.rs`: [`parse_size`], human sizes for files and options.
//!
//! Forbidden paths and path exclusions need every final path: callers
//! analyse with `Detail { paths: true, .. }` (see [`Budget::needs_paths`]).

mod check;
mod dive_ci;
mod model;
mod report;
pub mod rules;
mod size;
mod toml_file;

pub use crate::finding::{
    Amount, Code, Contributor, ContributorKind, Finding, Level, Status, Unit,
};
pub use check::{check, check_with_window, dive_user_wasted_ratio, Window};
pub use model::{Budget, Limit, RuleLimit, DISCOVERED};
pub use report::{CheckReport, Counts};
pub use size::{parse_size, parse_size_arg};
