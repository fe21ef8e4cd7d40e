//! Sections of an analysis report: layers, largest directories and files,
//! categories, packages, the savings breakdown, findings and warnings.

use super::{bytes, count};
use crate::analysis::Analysis;
use crate::breakdown::Savings;
use crate::report::model::{Cell, Column, Line, Notes, Span, Table};
use crate::report::words::{layer_id, DOWNLOAD, LAYER_ID, WASTED_DOWNLOAD};

pub struct AnalysisSections {
    pub layers: Table,
    pub dirs: Table,
    pub files: Table,
    /// dive's list of wasted files beside our exact hidden bytes.
    pub wasted_files: Table,
    /// `None` with `--sizes-only` (and so for the next four).
    pub categories: Option<Table>,
    pub packages: Table,
    /// The removable groups in the final filesystem and their total.
    pub savings: Option<Table>,
    /// Groups shipped in lower layers but not in the final filesystem
    /// (hidden by later layers): not part of the removable total.
    pub shipped: Option<Table>,
    /// Every measured item of every removable group.
    pub savings_items: Table,
    /// History findings (IA001…).
    pub findings: Notes,
    pub warnings: Notes,
}

pub fn analysis(a: &Analysis) -> AnalysisSections {
    let mut layers = Table::new(
        "layers",
        "Layers",
        vec![
            Column::right("#"),
            Column::left(LAYER_ID),
            Column::right(DOWNLOAD),
            Column::right("Files size"),
            Column::right("Added").optional(),
            Column::right("Modified").optional(),
            Column::right("Removed").optional(),
            Column::right("Wasted"),
            Column::right(WASTED_DOWNLOAD).optional(),
            Column::left("Created by").shorten(),
        ],
    );
    for l in &a.layers {
        layers.row(vec![
            count(l.index),
            Cell::Text(layer_id(l.diff_id.as_str())),
            bytes(l.download_bytes),
            bytes(l.file_bytes),
            count(l.added),
            count(l.modified),
            count(l.removed),
            bytes(l.wasted_bytes),
            bytes(l.wasted_download_bytes),
            Cell::Command(l.created_by.clone().unwrap_or_default()),
        ]);
    }
    let mut dirs = Table::new(
        "largest-dirs",
        "Largest directories",
        vec![
            Column::left("Directory"),
            Column::right("Size"),
            Column::right(DOWNLOAD),
        ],
    );
    for d in &a.largest_dirs {
        dirs.row(vec![
            Cell::Path(d.path.clone()),
            bytes(d.bytes),
            bytes(d.download_bytes),
        ]);
    }
    let mut files = Table::new(
        "largest-files",
        "Largest files",
        vec![
            Column::left("File"),
            Column::right("Size"),
            Column::right(DOWNLOAD),
            Column::right("Layer"),
        ],
    );
    for f in &a.largest_files {
        files.row(vec![
            Cell::Path(f.path.clone()),
            bytes(f.bytes),
            bytes(f.download_bytes),
            count(f.layer),
        ]);
    }
    // dive's figure counts every copy of a path written by two or more
    // layers, the one that stays included; ours is what is really hidden.
    let mut wasted_files = Table::new(
        "wasted-files",
        "Wasted files, as dive lists them (dive counts every copy, the visible one too; Hidden is imgaudit's exact figure: bytes at the path not in the final filesystem)",
        vec![
            Column::left("Path"),
            Column::right("Layers"),
            Column::right("dive's bytes"),
            Column::right("Hidden"),
        ],
    );
    for f in &a.dive_wasted_files {
        wasted_files.row(vec![
            Cell::Path(f.path.clone()),
            count(f.count),
            bytes(f.dive_bytes),
            bytes(f.hidden_bytes),
        ]);
    }
    let (savings, shipped, savings_items) = match &a.savings {
        Some(s) => {
            let (t, h, i) = savings_tables(s);
            (Some(t), h, i)
        }
        None => (
            None,
            None,
            Table::new("savings-items", "Removable items", vec![]),
        ),
    };
    let mut findings = Notes::new("findings", "Findings");
    for f in a.savings.iter().flat_map(|s| &s.findings) {
        findings.lines.push(vec![
            Span::Strong(f.code.to_string()),
            Span::text(" "),
            Span::Name(f.message.clone()),
        ]);
    }
    let mut warnings = Notes::new("warnings", "Warnings");
    for m in &a.warnings {
        warnings.lines.push(vec![Span::Name(m.clone())]);
    }
    AnalysisSections {
        layers,
        dirs,
        files,
        wasted_files,
        categories: a.savings.as_ref().map(|_| categories(a)),
        packages: packages(a),
        savings,
        shipped,
        savings_items,
        findings,
        warnings,
    }
}

fn categories(a: &Analysis) -> Table {
    let mut t = Table::new(
        "categories",
        "Categories",
        vec![
            Column::left("Category"),
            Column::left("Group"),
            Column::right("Final"),
            Column::right(DOWNLOAD),
            Column::right("Wasted"),
            Column::right(WASTED_DOWNLOAD).optional(),
            Column::right("Files"),
            Column::left("Removable"),
        ],
    );
    for c in a
        .categories
        .iter()
        .filter(|c| c.final_bytes > 0 || c.wasted_bytes > 0)
    {
        t.row(vec![
            Cell::Category(c.id.clone()),
            Cell::text(&c.group),
            bytes(c.final_bytes),
            bytes(c.final_download_bytes),
            bytes(c.wasted_bytes),
            bytes(c.wasted_download_bytes),
            count(c.files),
            Cell::text(if c.removable { "yes" } else { "" }),
        ]);
    }
    t
}

/// The largest packages: as many as the largest files shown, at least 10.
fn packages(a: &Analysis) -> Table {
    let shown = a.largest_files.len().max(10);
    let title = if a.packages.len() > shown {
        format!("Largest packages ({} of {})", shown, a.packages.len())
    } else {
        format!("Largest packages ({} in all)", a.packages.len())
    };
    let mut t = Table::new(
        "packages",
        title,
        vec![
            Column::left("Package"),
            Column::left("Manager").optional(),
            Column::left("Version").shorten(),
            Column::right("Size"),
            Column::right(DOWNLOAD),
            Column::right("Files").optional(),
            Column::right("Layer"),
            Column::left("Category"),
        ],
    );
    for p in a.packages.iter().take(shown) {
        let manager = serde_json::to_value(p.manager)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        t.row(vec![
            Cell::Name(p.name.clone()),
            Cell::Text(manager),
            Cell::Name(p.version.clone()),
            bytes(p.bytes),
            bytes(p.download_bytes),
            count(p.files),
            count(p.layer),
            Cell::Category(p.category.clone()),
        ]);
    }
    t
}

fn savings_tables(s: &Savings) -> (Table, Option<Table>, Table) {
    let columns = || {
        vec![
            Column::left("Removable"),
            Column::right("Bytes"),
            Column::right(DOWNLOAD),
            Column::left("Fix").optional(),
        ]
    };
    let mut t = Table::new("savings", "Savings", columns());
    let mut shipped = Table::new(
        "shipped",
        "Shipped in lower layers, not in the final filesystem (not in the total)",
        columns(),
    );
    let mut items = Table::new(
        "savings-items",
        "Removable items",
        vec![
            Column::left("Group"),
            Column::left("Item"),
            Column::right("Layer"),
            Column::right("Bytes"),
            Column::right(DOWNLOAD),
        ],
    );
    for g in &s.removable {
        let row = vec![
            Cell::text(&g.group),
            bytes(g.subtotal),
            bytes(g.download_subtotal),
            Cell::text(&g.fix),
        ];
        if g.in_final {
            t.row(row);
        } else {
            shipped.row(row);
        }
        for it in &g.items {
            let layers: Vec<String> = it.layers.iter().map(|l| l.to_string()).collect();
            items.row(vec![
                Cell::text(&g.group),
                Cell::Path(it.label.clone()),
                Cell::Text(layers.join(",")),
                bytes(it.bytes),
                bytes(it.download_bytes),
            ]);
        }
    }
    t.strong_row(vec![
        Cell::text("Total removable from the final filesystem"),
        bytes(s.removable_bytes),
        bytes(s.removable_download_bytes),
        Cell::Empty,
    ]);
    let shipped = (!shipped.is_empty()).then_some(shipped);
    (t, shipped, items)
}

/// "Minimum: X (final F - removable R); download D (of T, measured per file)".
pub fn minimum_line(a: &Analysis, s: &Savings) -> Line {
    let mut line = vec![
        Span::Strong(format!("Minimum: {}", crate::units::human(s.minimum_bytes))),
        Span::text(format!(
            " (final {} - removable {})",
            crate::units::human(a.totals.final_bytes),
            crate::units::human(s.removable_bytes)
        )),
    ];
    line.push(Span::text(format!(
        "; download {} (of {}, measured per file)",
        crate::units::human(s.minimum_download_bytes),
        crate::units::human(a.totals.download_bytes)
    )));
    line
}
