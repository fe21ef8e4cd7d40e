//! Terminal renderer: comfy-table tables with human units, for analyses,
//! diffs, budget checks and the many-image summary. Every cell and note is
//! shown through [`escape::terminal`], so no image-derived name reaches the
//! terminal raw. With a width (the terminal's), a table that does not fit
//! drops its optional columns (saying so) and cuts its one-line text
//! columns (`created_by`, versions) to the room left; without one, tables
//! take the width their content needs.

use super::escape;
use super::model::{Align, Cell, Fit, Line, Notes, Span, Table};
use super::sections;
use super::words::{headline_words, opt_bytes, plural, signed, signed_pct, status_word};
use super::RenderOptions;
use crate::analysis::Analysis;
use crate::budget::CheckReport;
use crate::diff::Diff;
use crate::summary::Summary;
use crate::units::{human, shorten};
use comfy_table::{
    presets::UTF8_FULL_CONDENSED, CellAlignment, ColumnConstraint, ContentArrangement, Width,
};
use std::io::{self, Write};

/// Widest a one-line text column is shown when there is room.
const TEXT_MAX: usize = 60;
/// Narrowest a shortened column is cut to.
const TEXT_MIN: usize = 12;

fn cell_text(c: &Cell, max: usize) -> String {
    match c {
        Cell::Command(s) | Cell::Name(s) if max != usize::MAX => escape::terminal(&shorten(s, max)),
        c => escape::terminal(c.raw()),
    }
}

fn line_text(line: &Line) -> String {
    line.iter()
        .map(|s| match s {
            Span::Text(t) | Span::Strong(t) | Span::Name(t) | Span::Code(t) => escape::terminal(t),
        })
        .collect()
}

/// Columns at most this wide (figures, IDs, words) never wrap.
const NO_WRAP: usize = 16;

/// Characters the widest cell (or the title) of column `i` takes.
fn column_width(t: &Table, i: usize, limit: usize) -> usize {
    t.rows
        .iter()
        .map(|r| cell_text(&r.cells[i], limit).chars().count())
        .chain([t.columns[i].title.chars().count()])
        .max()
        .unwrap_or(0)
}

/// Draw `t` within `width` (if any): drop optional columns, then cut
/// shortenable ones, then let comfy-table wrap what is still too wide.
pub fn draw(t: &Table, width: Option<usize>) -> String {
    let n = t.columns.len();
    let mut keep: Vec<bool> = vec![true; n];
    let mut limit: Vec<usize> = t
        .columns
        .iter()
        .map(|c| {
            if c.fit == Fit::Shorten {
                TEXT_MAX
            } else {
                usize::MAX
            }
        })
        .collect();
    let widths = |keep: &[bool], limit: &[usize]| -> usize {
        (0..n)
            .filter(|&i| keep[i])
            .map(|i| column_width(t, i, limit[i]) + 3)
            .sum::<usize>()
            + 1
    };
    let mut dropped = Vec::new();
    if let Some(width) = width {
        for i in (0..n).rev() {
            if widths(&keep, &limit) <= width {
                break;
            }
            if t.columns[i].fit == Fit::Optional {
                keep[i] = false;
                dropped.push(t.columns[i].title);
            }
        }
        for i in 0..n {
            let over = widths(&keep, &limit).saturating_sub(width);
            if over > 0 && keep[i] && t.columns[i].fit == Fit::Shorten {
                limit[i] = limit[i].saturating_sub(over).max(TEXT_MIN);
            }
        }
    }
    let mut ct = comfy_table::Table::new();
    ct.load_preset(UTF8_FULL_CONDENSED);
    if let Some(width) = width {
        ct.set_content_arrangement(ContentArrangement::Dynamic);
        ct.set_width(width.min(u16::MAX as usize) as u16);
    }
    let shown: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
    ct.set_header(
        shown
            .iter()
            .map(|&i| t.columns[i].title)
            .collect::<Vec<_>>(),
    );
    for r in &t.rows {
        ct.add_row(
            shown
                .iter()
                .map(|&i| cell_text(&r.cells[i], limit[i]))
                .collect::<Vec<_>>(),
        );
    }
    for (k, &i) in shown.iter().enumerate() {
        let Some(col) = ct.column_mut(k) else {
            continue;
        };
        if t.columns[i].align == Align::Right {
            col.set_cell_alignment(CellAlignment::Right);
        }
        // Figures, IDs and short words never wrap; long text may.
        let w = column_width(t, i, limit[i]);
        if width.is_some() && t.columns[i].fit == Fit::Keep && w <= NO_WRAP {
            col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w as u16 + 2)));
        }
    }
    let mut out = ct.to_string();
    if !dropped.is_empty() {
        dropped.reverse();
        out.push_str(&format!(
            "\n({} not shown to fit {} columns; --wide shows every column)",
            dropped.join(", "),
            width.unwrap_or(0)
        ));
    }
    out
}

/// A titled table after a blank line; nothing when it has no rows.
fn table(w: &mut dyn Write, t: &Table, o: &RenderOptions) -> io::Result<()> {
    if t.is_empty() {
        return Ok(());
    }
    writeln!(w, "\n{}", t.title)?;
    writeln!(w, "{}", draw(t, o.width))
}

fn notes(w: &mut dyn Write, n: &Notes) -> io::Result<()> {
    if n.is_empty() {
        return Ok(());
    }
    writeln!(w, "\n{}", n.title)?;
    for l in &n.lines {
        writeln!(w, "  {}", line_text(l))?;
    }
    Ok(())
}

pub fn render(a: &Analysis, o: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    let t = &a.totals;
    writeln!(w, "Image      {}", escape::terminal(&a.image.reference))?;
    if let Some(m) = &a.image.manifest_digest {
        writeln!(w, "Manifest   {m}")?;
    }
    writeln!(w, "Config     {}", a.image.config_digest)?;
    writeln!(w, "Platform   {}", escape::terminal(&a.image.platform))?;
    if let Some(c) = &a.image.created {
        writeln!(w, "Created    {}", escape::terminal(c))?;
    }
    writeln!(w)?;
    let wasted_pct = if t.layer_bytes > 0 {
        t.wasted_bytes as f64 * 100.0 / t.layer_bytes as f64
    } else {
        0.0
    };
    write!(
        w,
        "Final size {}  ({})   compressed {}   wasted {} ({:.1}% of layer bytes, download {})   dive efficiency {:.1}%",
        human(t.final_bytes),
        plural(t.files, "file"),
        opt_bytes(t.compressed_bytes),
        human(t.wasted_bytes),
        wasted_pct,
        human(t.wasted_download_bytes),
        t.efficiency * 100.0
    )?;
    writeln!(w)?;
    let s = sections::analysis(a);
    table(w, &s.layers, o)?;
    table(w, &s.dirs, o)?;
    table(w, &s.files, o)?;
    table(w, &s.wasted_files, o)?;
    match &s.categories {
        Some(c) => {
            table(w, c, o)?;
            table(w, &s.packages, o)?;
        }
        None => writeln!(
            w,
            "\nCategories, packages and savings: not computed (--sizes-only)"
        )?,
    }
    savings_tree(a, w)?;
    notes(w, &s.findings)?;
    notes(w, &s.warnings)
}

/// The savings breakdown drawn as a tree: the removable groups of the
/// final filesystem and their total, then what lower layers ship that the
/// final filesystem does not hold, then the required groups and the minimum.
fn savings_tree(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    let Some(s) = &a.savings else {
        return Ok(());
    };
    writeln!(w, "\nSavings breakdown (measured)")?;
    let group = |w: &mut dyn Write, g: &crate::breakdown::SavingsGroup| -> io::Result<()> {
        writeln!(w, "  {}", escape::terminal(&g.group))?;
        let several = g.fixes.len() > 1;
        for it in &g.items {
            let layers: Vec<String> = it.layers.iter().map(|l| l.to_string()).collect();
            let tag = match (&it.category, several) {
                (Some(c), true) => format!(" [{}]", escape::terminal(c)),
                _ => String::new(),
            };
            writeln!(
                w,
                "  ├── {} ({} {}): {}, download {}{tag}",
                escape::terminal(&shorten(&it.label, 70)),
                if layers.len() == 1 { "layer" } else { "layers" },
                layers.join(","),
                human(it.bytes),
                human(it.download_bytes)
            )?;
        }
        for f in &g.fixes {
            if several {
                writeln!(w, "  ├── Fix ({}): {}", f.category, f.fix)?;
            } else {
                writeln!(w, "  ├── Fix: {}", f.fix)?;
            }
        }
        writeln!(
            w,
            "  └── Subtotal: {}, download {}",
            human(g.subtotal),
            human(g.download_subtotal)
        )
    };
    writeln!(w, "Removable")?;
    for g in s.removable.iter().filter(|g| g.in_final) {
        group(w, g)?;
    }
    writeln!(
        w,
        "  Total removable from the final filesystem: {}, download {}",
        human(s.removable_bytes),
        human(s.removable_download_bytes)
    )?;
    if s.removable.iter().any(|g| !g.in_final) {
        writeln!(
            w,
            "Shipped in lower layers, not in the final filesystem (not in the total)"
        )?;
        for g in s.removable.iter().filter(|g| !g.in_final) {
            group(w, g)?;
        }
    }
    writeln!(w, "Required")?;
    for (i, g) in s.required.iter().enumerate() {
        let branch = if i + 1 == s.required.len() {
            "└──"
        } else {
            "├──"
        };
        writeln!(
            w,
            "  {branch} {}: {}, download {}",
            g.group,
            human(g.bytes),
            human(g.download_bytes)
        )?;
    }
    writeln!(w, "{}", line_text(&sections::minimum_line(a, s)))
}

pub fn render_diff(d: &Diff, o: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "Before     {}, {}",
        escape::terminal(&d.before.reference),
        escape::terminal(&d.before.platform)
    )?;
    writeln!(
        w,
        "After      {}, {}",
        escape::terminal(&d.after.reference),
        escape::terminal(&d.after.platform)
    )?;
    let s = sections::diff(d);
    if let Some(line) = &s.identical {
        writeln!(w, "\n{}", line_text(line))?;
        return Ok(());
    }
    writeln!(w)?;
    let f = &d.totals.final_bytes;
    write!(
        w,
        "Final size {} → {}  {} ({})",
        human(f.before),
        human(f.after),
        signed(f.delta),
        headline_words(f)
    )?;
    if let Some(c) = &d.totals.compressed_bytes {
        write!(
            w,
            "   compressed {} → {}  {} ({})",
            human(c.before),
            human(c.after),
            signed(c.delta),
            signed_pct(c)
        )?;
    }
    writeln!(w)?;
    table(w, &s.totals, o)?;
    match (&s.groups, &s.categories) {
        (Some(g), Some(c)) => {
            table(w, g, o)?;
            table(w, c, o)?;
        }
        _ => writeln!(
            w,
            "\nCategories: not computed on one side or both (--sizes-only)"
        )?,
    }
    table(w, &s.packages, o)?;
    table(w, &s.layers, o)?;
    if let Some((line, tables)) = &s.paths {
        writeln!(w, "\n{}", line_text(line))?;
        for t in tables {
            table(w, t, o)?;
        }
    }
    if let Some(t) = &s.savings {
        table(w, t, o)?;
        for l in &s.savings_notes {
            writeln!(w, "{}", line_text(l))?;
        }
    }
    Ok(())
}

pub fn render_check(r: &CheckReport, o: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "Image      {}, {}",
        escape::terminal(&r.image),
        escape::terminal(&r.platform)
    )?;
    if let Some(b) = &r.baseline {
        writeln!(w, "Baseline   {}", escape::terminal(b))?;
    }
    writeln!(w, "Budget     {}", escape::terminal(&r.budget))?;
    for n in &r.notes {
        writeln!(w, "Note       {}", escape::terminal(n))?;
    }
    writeln!(
        w,
        "Result     {}: {} passed, {}, {} failed",
        if r.passed { "PASSED" } else { "FAILED" },
        r.counts.pass,
        plural(r.counts.warn as u64, "warning"),
        r.counts.fail
    )?;
    if r.excluded_paths > 0 {
        writeln!(
            w,
            "Excluded   {} ({}) by exclude_paths",
            plural(r.excluded_paths, "path"),
            human(r.excluded_bytes)
        )?;
    }
    let s = sections::check(r);
    writeln!(w)?;
    writeln!(w, "{}", draw(&s.rules, o.width))?;
    for f in &s.details {
        writeln!(
            w,
            "\n{} {} {}",
            status_word(f.status),
            f.code,
            escape::terminal(&f.message)
        )?;
        for c in &f.contributors {
            writeln!(w, "  {}", line_text(c))?;
        }
    }
    Ok(())
}

pub fn render_summary(s: &Summary, o: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    let x = sections::summary(s);
    writeln!(w, "{}", draw(&x.images, o.width))?;
    notes(w, &x.failures)
}

/// The size history: each series' latest change, the records, the notable
/// steps and the creeps.
pub fn render_history(
    h: &crate::history::History,
    o: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    let s = super::sections::history(h);
    if h.records.is_empty() {
        return writeln!(w, "No records in the history (for this selection).");
    }
    for l in &s.headlines {
        writeln!(w, "{}", line_text(l))?;
    }
    table(w, &s.records, o)?;
    if s.steps.is_empty() {
        writeln!(
            w,
            "
No step beyond the normal noise."
        )?;
    }
    table(w, &s.steps, o)?;
    notes(w, &s.creeps)
}
