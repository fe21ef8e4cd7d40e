//! Sections of a diff report: the totals, groups and categories, packages,
//! layers (by diff_id), the largest path changes and the savings side by
//! side; for two identical images, one line instead.

use super::{bytes, change_cells, count, count_change_cells, delta};
use crate::diff::{Change, Diff};
use crate::report::model::{Cell, Column, Line, Span, Table};
use crate::report::words::{
    image_name, layer_id, plural, points, signed, DOWNLOAD, DOWNLOAD_DELTA, LAYER_ID,
};
use crate::units::human;

pub struct DiffSections {
    /// Set when the images are identical: the renderers print this line
    /// and nothing below it.
    pub identical: Option<Line>,
    pub totals: Table,
    /// `None` when either side was analysed with `--sizes-only`.
    pub groups: Option<Table>,
    pub categories: Option<Table>,
    pub packages: Table,
    pub layers: Table,
    /// `None` when the path lists were not kept.
    pub paths: Option<(Line, Vec<Table>)>,
    pub savings: Option<Table>,
    /// Figures beside the savings table that are not rows of its total.
    pub savings_notes: Vec<Line>,
}

fn change_columns(first: &'static str) -> Vec<Column> {
    vec![
        Column::left(first),
        Column::right("Before"),
        Column::right("After"),
        Column::right("Change"),
        Column::right("%"),
    ]
}

fn named_change(name: Cell, c: &Change) -> Vec<Cell> {
    let mut v = vec![name];
    v.extend(change_cells(c));
    v
}

/// [`change_columns`] plus the change of the rows' download bytes.
fn change_download_columns(first: &'static str) -> Vec<Column> {
    let mut v = change_columns(first);
    v.push(Column::right(DOWNLOAD_DELTA));
    v
}

/// [`named_change`] plus the change of the download bytes.
fn named_change_download(name: Cell, c: &Change, download: &Change) -> Vec<Cell> {
    let mut v = named_change(name, c);
    v.push(delta(download));
    v
}

pub fn diff(d: &Diff) -> DiffSections {
    let identical = d.is_empty().then(|| identical_line(d));
    let mut totals = Table::new("totals", "Totals", change_columns("Figure"));
    let t = &d.totals;
    totals.row(named_change(Cell::text("final"), &t.final_bytes));
    if let Some(c) = &t.compressed_bytes {
        totals.row(named_change(Cell::text("compressed"), c));
    }
    totals.row(named_change(Cell::text("layer bytes"), &t.layer_bytes));
    totals.row(named_change(Cell::text("wasted"), &t.wasted_bytes));
    if let Some(c) = &t.removable_bytes {
        totals.row(named_change(Cell::text("removable"), c));
    }
    totals.row(named_change(Cell::text("download"), &t.download_bytes));
    totals.row(named_change(
        Cell::text("wasted download"),
        &t.wasted_download_bytes,
    ));
    for (name, c) in [("files", &t.files), ("layers", &t.layers)] {
        let mut row = vec![Cell::text(name)];
        row.extend(count_change_cells(c));
        totals.row(row);
    }
    let pts = points(t.efficiency_before, t.efficiency_after);
    let sign = if pts.starts_with('+') {
        1
    } else if pts.starts_with('-') {
        -1
    } else {
        0
    };
    totals.row(vec![
        Cell::text("efficiency"),
        Cell::Text(format!("{:.1}%", t.efficiency_before * 100.0)),
        Cell::Text(format!("{:.1}%", t.efficiency_after * 100.0)),
        Cell::Delta(pts, sign),
        Cell::Empty,
    ]);

    let (groups, categories) = if d.groups.is_empty() {
        (None, None)
    } else {
        let mut g = Table::new(
            "groups",
            "Groups (final bytes)",
            change_download_columns("Group"),
        );
        for x in &d.groups {
            g.row(named_change_download(
                Cell::text(&x.group),
                &x.final_bytes,
                &x.final_download_bytes,
            ));
        }
        let mut columns = change_download_columns("Category");
        columns.insert(1, Column::left("Group").optional());
        let mut c = Table::new("categories", "Categories (final bytes)", columns);
        for x in &d.categories {
            let mut row = named_change_download(
                Cell::Category(x.id.clone()),
                &x.final_bytes,
                &x.final_download_bytes,
            );
            row.insert(1, Cell::text(&x.group));
            c.row(row);
        }
        (Some(g), Some(c))
    };

    DiffSections {
        identical,
        totals,
        groups,
        categories,
        packages: packages(d),
        layers: layers(d),
        paths: d.paths.available.then(|| paths(d)),
        savings: d.savings.as_ref().map(|s| {
            let mut t = Table::new(
                "savings",
                "Savings breakdown, side by side",
                change_download_columns("Removable"),
            );
            for r in s.removable.iter().filter(|r| r.in_final) {
                t.row(named_change_download(
                    Cell::text(&r.group),
                    &r.subtotal,
                    &r.download_subtotal,
                ));
            }
            t.strong_row(named_change_download(
                Cell::text("Total removable from the final filesystem"),
                &s.removable_bytes,
                &s.removable_download_bytes,
            ));
            t
        }),
        savings_notes: d.savings.iter().flat_map(savings_notes).collect(),
    }
}

fn savings_notes(s: &crate::diff::SavingsDiff) -> Vec<Line> {
    let mut v = Vec::new();
    for r in s.removable.iter().filter(|r| !r.in_final) {
        v.push(vec![
            Span::text(format!(
                "{} (shipped in lower layers, not in the final filesystem, not in the total): ",
                r.group
            )),
            Span::Strong(format!(
                "{} → {}",
                human(r.subtotal.before),
                human(r.subtotal.after)
            )),
        ]);
    }
    v.push(vec![
        Span::text("Minimum (final - removable): "),
        Span::Strong(format!(
            "{} → {}",
            human(s.minimum_bytes.before),
            human(s.minimum_bytes.after)
        )),
        Span::text("; its download (measured per file): "),
        Span::Strong(format!(
            "{} → {} ({})",
            human(s.minimum_download_bytes.before),
            human(s.minimum_download_bytes.after),
            signed(s.minimum_download_bytes.delta)
        )),
    ]);
    v
}

fn identical_line(d: &Diff) -> Line {
    let same_config = d.before.config_digest == d.after.config_digest;
    let what = if same_config {
        format!(
            "The images are identical: same config {}, ",
            layer_id(&d.before.config_digest)
        )
    } else {
        "The images have the same layers and files (their configs differ): ".to_string()
    };
    vec![Span::text(format!(
        "{what}{}, {} final in {}.",
        plural(d.totals.layers.after, "layer"),
        human(d.totals.final_bytes.after),
        plural(d.totals.files.after, "file"),
    ))]
}

fn packages(d: &Diff) -> Table {
    let p = &d.packages;
    let mut t = Table::new(
        "packages",
        format!(
            "Packages ({} added, {} removed, {} grown, {} shrunk, {} unchanged; largest shown)",
            p.added.len(),
            p.removed.len(),
            p.grown.len(),
            p.shrunk.len(),
            p.unchanged
        ),
        vec![
            Column::left("Package"),
            Column::left("Change"),
            Column::left("Version").shorten(),
            Column::right("Before"),
            Column::right("After"),
            Column::right("Δ"),
            Column::right(DOWNLOAD_DELTA),
        ],
    );
    for (kind, v) in [
        ("added", &p.added),
        ("removed", &p.removed),
        ("grown", &p.grown),
        ("shrunk", &p.shrunk),
    ] {
        for x in v {
            let version = match (&x.version_before, &x.version_after) {
                (Some(b), Some(a)) if b != a => format!("{b} → {a}"),
                (Some(v), _) | (None, Some(v)) => v.clone(),
                (None, None) => String::new(),
            };
            t.row(vec![
                Cell::Name(x.name.clone()),
                Cell::text(kind),
                Cell::Name(version),
                bytes(x.bytes.before),
                bytes(x.bytes.after),
                delta(&x.bytes),
                delta(&x.download_bytes),
            ]);
        }
    }
    t
}

fn layers(d: &Diff) -> Table {
    let l = &d.layers;
    let mut t = Table::new(
        "layers",
        format!(
            "Layers by diff_id ({} shared = {}, download {}, {} only before, {} only after)",
            l.shared.len(),
            human(l.shared_file_bytes),
            human(l.shared_download_bytes),
            l.only_before.len(),
            l.only_after.len()
        ),
        vec![
            Column::left("Side"),
            Column::left(LAYER_ID),
            Column::right("Before #"),
            Column::right("After #"),
            Column::right("Files size"),
            Column::right(DOWNLOAD),
            Column::left("Created by").shorten(),
        ],
    );
    for (kind, v) in [
        ("shared", &l.shared),
        ("only before", &l.only_before),
        ("only after", &l.only_after),
    ] {
        for x in v {
            let index = |i: Option<usize>| i.map(count).unwrap_or(Cell::Empty);
            t.row(vec![
                Cell::text(kind),
                Cell::Text(layer_id(&x.diff_id)),
                index(x.before_index),
                index(x.after_index),
                bytes(x.file_bytes),
                bytes(x.download_bytes),
                Cell::Command(x.created_by.clone().unwrap_or_default()),
            ]);
        }
    }
    t
}

fn paths(d: &Diff) -> (Line, Vec<Table>) {
    let p = &d.paths;
    let line = vec![
        Span::Strong("Paths".into()),
        Span::text(format!(
            ": {} added ({}), {} removed ({}), {} grown, {} shrunk",
            p.added_count,
            human(p.added_bytes),
            p.removed_count,
            human(p.removed_bytes),
            p.grown_count,
            p.shrunk_count
        )),
    ];
    let mut tables = Vec::new();
    for (id, title, v) in [
        ("paths-added", "Largest added paths", &p.added),
        ("paths-removed", "Largest removed paths", &p.removed),
        ("paths-grown", "Largest grown paths", &p.grown),
        ("paths-shrunk", "Largest shrunk paths", &p.shrunk),
    ] {
        let mut t = Table::new(
            id,
            title,
            vec![
                Column::left("Path"),
                Column::right("Before"),
                Column::right("After"),
                Column::right("Change"),
            ],
        );
        for x in v {
            t.row(vec![
                Cell::Path(x.path.clone()),
                bytes(x.bytes.before),
                bytes(x.bytes.after),
                delta(&x.bytes),
            ]);
        }
        if !t.is_empty() {
            tables.push(t);
        }
    }
    (line, tables)
}

/// The two images as titles name them: `before → after`.
pub fn title(d: &Diff) -> (String, String) {
    (
        image_name(&d.before.reference, d.before.source),
        image_name(&d.after.reference, d.after.source),
    )
}
