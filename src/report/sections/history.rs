//! Sections of the size history report (`imgaudit history`): the latest
//! change of each series against the record before it, the records, the
//! notable steps with what moved, and the creeps. Series names, references
//! and labels come from the history (ultimately from images and CI), so they
//! are `Name` cells and spans.

use super::{bytes, count};
use crate::history::{History, Record, Step};
use crate::report::model::{Cell, Column, Line, Notes, Span, Table};
use crate::report::words::{opt_bytes, signed};

pub struct HistorySections {
    /// One line per series: its latest build against the one before.
    pub headlines: Vec<Line>,
    pub records: Table,
    /// The steps beyond the series' normal noise.
    pub steps: Table,
    pub creeps: Notes,
}

fn pct(delta: i64, before: u64) -> String {
    if before == 0 {
        return "n/a".into();
    }
    format!("{:+.1}%", delta as f64 * 100.0 / before as f64)
}

/// The series in order of first appearance.
pub fn series(h: &History) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in &h.records {
        if !out.contains(&r.series.as_str()) {
            out.push(&r.series);
        }
    }
    out
}

/// Short words for what moved most in a step.
pub fn moved(s: &Step, n: usize) -> String {
    s.changes
        .iter()
        .take(n)
        .map(|c| format!("{} {} {}", c.kind, c.name, signed(c.delta_bytes)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label_text(r: &Record) -> String {
    ["branch", "commit", "pull_request"]
        .iter()
        .filter_map(|k| {
            r.labels.get(*k).map(|v| {
                let v = if *k == "commit" && v.len() > 12 {
                    &v[..12]
                } else {
                    v
                };
                format!("{k}={v}")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn history(h: &History) -> HistorySections {
    let by_id = |id: i64| h.records.iter().find(|r| r.id == id);
    let mut headlines = Vec::new();
    for name in series(h) {
        let recs: Vec<&Record> = h.records.iter().filter(|r| r.series == name).collect();
        let last = recs[recs.len() - 1];
        let mut line = vec![
            Span::Name(name.to_string()),
            Span::text(format!(
                ": {} final",
                crate::units::human(last.totals.final_bytes)
            )),
        ];
        match recs.len().checked_sub(2).map(|i| recs[i]) {
            Some(prev) => {
                let d = last.totals.final_bytes as i64 - prev.totals.final_bytes as i64;
                line.push(Span::text(", "));
                line.push(Span::Strong(format!(
                    "{} ({})",
                    signed(d),
                    pct(d, prev.totals.final_bytes)
                )));
                line.push(Span::text(format!(
                    " from the previous build (record {} → {})",
                    prev.id, last.id
                )));
            }
            None => line.push(Span::text(format!(
                " (record {}, the first of its series)",
                last.id
            ))),
        }
        headlines.push(line);
    }

    let mut records = Table::new(
        "records",
        "Records",
        vec![
            Column::right("Id"),
            Column::left("Recorded"),
            Column::left("Series"),
            Column::right("Final"),
            Column::right("Change"),
            Column::right("Compressed").optional(),
            Column::right("Wasted").optional(),
            Column::right("Removable").optional(),
            Column::left("Labels").shorten(),
        ],
    );
    let mut prev: std::collections::HashMap<&str, u64> = Default::default();
    for r in &h.records {
        let change = match prev.insert(&r.series, r.totals.final_bytes) {
            Some(p) => {
                let d = r.totals.final_bytes as i64 - p as i64;
                Cell::Delta(signed(d), d.signum() as i8)
            }
            None => Cell::Empty,
        };
        records.row(vec![
            count(r.id),
            Cell::text(r.recorded_at.clone()),
            Cell::Name(r.series.clone()),
            bytes(r.totals.final_bytes),
            change,
            Cell::Text(opt_bytes(r.totals.compressed_bytes)),
            bytes(r.totals.wasted_bytes),
            Cell::Text(opt_bytes(r.removable_bytes)),
            Cell::Name(label_text(r)),
        ]);
    }

    let mut steps = Table::new(
        "steps",
        "Steps beyond the normal noise",
        vec![
            Column::left("Series"),
            Column::right("Records"),
            Column::right("Change"),
            Column::right("%"),
            Column::right("Noise line").optional(),
            Column::left("What moved").shorten(),
        ],
    );
    for s in h.notable() {
        let before = by_id(s.from).map_or(0, |r| r.totals.final_bytes);
        steps.row(vec![
            Cell::Name(s.series.clone()),
            Cell::text(format!("{} → {}", s.from, s.to)),
            Cell::Delta(
                signed(s.final_bytes_delta),
                s.final_bytes_delta.signum() as i8,
            ),
            Cell::text(pct(s.final_bytes_delta, before)),
            Cell::text(format!("±{}", crate::units::human(s.threshold_bytes))),
            Cell::Name(moved(s, 3)),
        ]);
    }

    let mut creeps = Notes::new("creeps", "Slow creep");
    for c in &h.creeps {
        creeps.lines.push(vec![
            Span::Name(c.series.clone()),
            Span::text(format!(
                ": {} ({:+.1}%) over {} small growing steps, beginning with record {} (records {} → {}); no single step was beyond the noise line",
                signed(c.final_bytes_delta),
                c.percent,
                c.steps,
                c.began,
                c.from,
                c.to
            )),
        ]);
    }
    HistorySections {
        headlines,
        records,
        steps,
        creeps,
    }
}
