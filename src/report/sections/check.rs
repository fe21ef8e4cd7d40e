//! Sections of a budget check report: one row per rule, then each failed
//! or warned finding with its largest contributors.

use crate::budget::{CheckReport, Status};
use crate::report::model::{Cell, Column, Line, Span, Table};
use crate::report::words::{level_word, show_value};
use crate::units::human;

/// A failed or warned finding.
pub struct FindingDetail {
    pub status: Status,
    pub code: &'static str,
    /// The finding's message (it may quote paths and commands from the
    /// image).
    pub message: String,
    pub contributors: Vec<Line>,
}

pub struct CheckSections {
    pub rules: Table,
    pub details: Vec<FindingDetail>,
}

pub fn check(r: &CheckReport) -> CheckSections {
    let mut rules = Table::new(
        "rules",
        "Rules",
        vec![
            Column::left("Status"),
            Column::left("Code"),
            Column::left("Rule"),
            Column::right("Measured"),
            Column::right("Limit"),
            Column::left("Level"),
        ],
    );
    let mut details = Vec::new();
    for f in &r.findings {
        rules.row(vec![
            Cell::Status(f.status),
            Cell::text(f.code.as_str()),
            Cell::Path(f.rule.clone()),
            Cell::Text(show_value(f.unit, f.measured)),
            Cell::Text(show_value(f.unit, f.limit)),
            Cell::text(level_word(f.level)),
        ]);
        if f.status == Status::Pass {
            continue;
        }
        let contributors = f
            .contributors
            .iter()
            .map(|c| {
                let mut line = vec![Span::Code(c.name.clone())];
                if let Some(b) = c.bytes {
                    line.push(Span::text(format!("  {}", human(b))));
                }
                // Layer contributors are named "layer N: …" already.
                if let Some(l) = c
                    .layer
                    .filter(|l| !c.name.starts_with(&format!("layer {l}")))
                {
                    line.push(Span::text(format!("  (layer {l})")));
                }
                line
            })
            .collect();
        details.push(FindingDetail {
            status: f.status,
            code: f.code.as_str(),
            message: f.message.clone(),
            contributors,
        });
    }
    CheckSections { rules, details }
}
