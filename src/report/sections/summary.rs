//! Sections of the many-image summary: one row per image (a failed image
//! is a row too), and the failures' messages.

use super::{bytes, count};
use crate::report::model::{Cell, Column, Notes, Span, Table};
use crate::report::words::opt_bytes;
use crate::summary::{Summary, SummaryRow};

pub struct SummarySections {
    pub images: Table,
    /// One line per image that could not be analysed.
    pub failures: Notes,
}

pub fn summary(s: &Summary) -> SummarySections {
    let mut images = Table::new(
        "images",
        if s.by_platform { "Platforms" } else { "Images" },
        vec![
            Column::left("Image"),
            Column::left("Platform"),
            Column::right("Final"),
            Column::right("Compressed"),
            Column::right("Wasted"),
            Column::right("Removable"),
            Column::right("Layers").optional(),
            Column::right("Files").optional(),
            Column::right("Efficiency").optional(),
        ],
    );
    let mut failures = Notes::new("failures", "Failed");
    for row in &s.rows {
        match row {
            SummaryRow::Image(r) => images.row(vec![
                Cell::Name(r.reference.clone()),
                Cell::Name(r.platform.clone()),
                bytes(r.final_bytes),
                Cell::Text(opt_bytes(r.compressed_bytes)),
                bytes(r.wasted_bytes),
                Cell::Text(
                    r.removable_bytes
                        .map(crate::units::human)
                        .unwrap_or_else(|| "n/a".into()),
                ),
                count(r.layers),
                count(r.files),
                Cell::Text(format!("{:.1}%", r.efficiency * 100.0)),
            ]),
            SummaryRow::Failed(f) => {
                let mut cells = vec![Cell::Name(f.reference.clone()), Cell::text("failed")];
                cells.extend((0..7).map(|_| Cell::text("-")));
                images.row(cells);
                failures.lines.push(vec![
                    Span::Code(f.reference.clone()),
                    Span::text(": "),
                    Span::Name(f.error.clone()),
                ]);
            }
        }
    }
    SummarySections { images, failures }
}
