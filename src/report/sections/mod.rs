//! Every report's sections, built once as neutral data ([`super::model`])
//! from a finished model; the table, Markdown and HTML renderers pick the
//! sections they show, in their own order, and only style them. Nothing
//! here escapes: image-derived text goes into `Name`/`Path`/`Command` cells
//! and spans, and each renderer escapes those for its output.

mod analysis;
mod check;
mod diff;
mod history;
mod summary;

pub use analysis::{analysis, minimum_line, AnalysisSections};
pub use check::{check, CheckSections, FindingDetail};
pub use diff::{diff, title as diff_title, DiffSections};
pub use history::{history, moved as history_moved, series as history_series, HistorySections};
pub use summary::{summary, SummarySections};

use super::model::Cell;
use super::words::{signed, signed_count, signed_pct};
use crate::diff::Change;
use crate::units::human;

/// A byte figure.
pub(crate) fn bytes(b: u64) -> Cell {
    Cell::Text(human(b))
}

/// A count.
pub(crate) fn count(n: impl ToString) -> Cell {
    Cell::Text(n.to_string())
}

/// A signed byte change, coloured by its sign.
pub(crate) fn delta(c: &Change) -> Cell {
    Cell::Delta(signed(c.delta), c.delta.signum() as i8)
}

/// Before, after, change and percent of a byte figure.
pub(crate) fn change_cells(c: &Change) -> Vec<Cell> {
    vec![
        bytes(c.before),
        bytes(c.after),
        delta(c),
        Cell::Text(signed_pct(c)),
    ]
}

/// Before, after, change and percent of a count.
pub(crate) fn count_change_cells(c: &Change) -> Vec<Cell> {
    vec![
        count(c.before),
        count(c.after),
        Cell::Delta(signed_count(c.delta), c.delta.signum() as i8),
        Cell::Text(signed_pct(c)),
    ]
}
