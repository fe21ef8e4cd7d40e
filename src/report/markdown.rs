//! GitHub-flavoured Markdown for PR comments: the headline first, long lists
//! folded in `<details>`, and the whole document kept under
//! [`MAX_CHARS`] by dropping whole trailing sections with a note saying so.
//! Image-derived text goes through [`escape::markdown`] (inline) or
//! [`escape::markdown_code`] (paths and commands, safe for `|` and
//! backticks inside table cells).

use super::escape;
use super::model::{Cell, Line, Notes, Span, Table};
use super::sections;
use super::words::{headline_words, image_name, opt_bytes, plural, signed, signed_pct};
use crate::analysis::Analysis;
use crate::budget::{CheckReport, Status};
use crate::diff::Diff;
use crate::summary::Summary;
use crate::units::{human, shorten};
use std::io::{self, Write};

/// GitHub refuses comments over 65,536 characters; stay clear of it.
pub const MAX_CHARS: usize = 65_000;
/// Lists longer than this are folded in `<details>`.
const FOLD: usize = 10;
/// Rows per table at most.
const MAX_ROWS: usize = 1000;
/// `created_by` commands are cut to this many characters.
const COMMAND_MAX: usize = 80;

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) | Cell::Name(s) | Cell::Category(s) | Cell::Delta(s, _) => {
            escape::markdown(s)
        }
        Cell::Path(s) => escape::markdown_code(s, true),
        Cell::Command(s) => escape::markdown_code(&shorten(s, COMMAND_MAX), true),
        Cell::Status(s) => icon(*s).to_string(),
        Cell::Empty => String::new(),
    }
}

fn line(l: &Line) -> String {
    l.iter()
        .map(|s| match s {
            Span::Text(t) | Span::Name(t) => escape::markdown(t),
            Span::Strong(t) => format!("**{}**", escape::markdown(t)),
            Span::Code(t) => escape::markdown_code(t, false),
        })
        .collect()
}

/// A document made of whole sections, truncated section by section.
struct Doc {
    sections: Vec<String>,
}

impl Doc {
    fn new() -> Doc {
        Doc {
            sections: Vec::new(),
        }
    }
    fn push(&mut self, s: String) {
        self.sections.push(s);
    }
    /// A table, folded in `<details>` when longer than [`FOLD`] rows.
    fn table(&mut self, t: &Table) {
        if t.rows.is_empty() {
            return;
        }
        let n = t.rows.len();
        let titles: Vec<&str> = t.columns.iter().map(|c| c.title).collect();
        let mut s = format!("| {} |\n", titles.join(" | "));
        let aligns: Vec<&str> = t
            .columns
            .iter()
            .map(|c| match c.align {
                super::model::Align::Right => "---:",
                super::model::Align::Left => "---",
            })
            .collect();
        s.push_str(&format!("|{}|\n", aligns.join("|")));
        for r in t.rows.iter().take(MAX_ROWS) {
            let mut cells: Vec<String> = r.cells.iter().map(cell).collect();
            if r.strong {
                if let Some(first) = cells.first_mut() {
                    *first = format!("**{first}**");
                }
            }
            s.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        if n > MAX_ROWS {
            s.push_str(&format!("\n_{} more rows not shown._\n", n - MAX_ROWS));
        }
        let title = escape::markdown(&t.title);
        if n > FOLD {
            self.push(format!(
                "<details><summary>{title} ({n})</summary>\n\n{s}\n</details>\n"
            ));
        } else {
            self.push(format!("**{title}**\n\n{s}"));
        }
    }
    fn notes(&mut self, n: &Notes) {
        if n.is_empty() {
            return;
        }
        let mut s = format!("**{}**\n\n", escape::markdown(&n.title));
        for l in &n.lines {
            s.push_str(&format!("- {}\n", line(l)));
        }
        self.push(s);
    }
    /// Write the sections that fit; cut the first one that does not at a
    /// line boundary (closing its fold), then add a note saying what was
    /// left out.
    fn finish(self, w: &mut dyn Write) -> io::Result<()> {
        let note_room = 300;
        let mut used = 0;
        let total = self.sections.len();
        for (i, s) in self.sections.iter().enumerate() {
            let len = s.chars().count() + 1;
            if used + len > MAX_CHARS - note_room {
                let room = (MAX_CHARS - note_room).saturating_sub(used + 20);
                let mut cut: String = s.chars().take(room).collect();
                cut.truncate(cut.rfind('\n').unwrap_or(0));
                let kept_lines = cut.lines().count();
                if kept_lines > 3 {
                    writeln!(w, "{cut}")?;
                    if s.starts_with("<details>") {
                        writeln!(w, "\n</details>")?;
                    }
                    writeln!(w)?;
                }
                writeln!(
                    w,
                    "> [!NOTE]\n> Truncated to stay under {MAX_CHARS} characters: {} of {total} sections cut or left out. Use `--format json` or `--format html` for everything.",
                    total - i
                )?;
                return Ok(());
            }
            used += len;
            writeln!(w, "{s}")?;
        }
        Ok(())
    }
}

pub fn render(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    let mut d = Doc::new();
    let t = &a.totals;
    let mut head = format!(
        "### imgaudit: {}\n\n**{}** final · **{}** compressed · **{}** wasted",
        escape::markdown(&image_name(&a.image.reference, Some(a.image.source))),
        human(t.final_bytes),
        opt_bytes(t.compressed_bytes),
        human(t.wasted_bytes)
    );
    if let Some(s) = &a.savings {
        head.push_str(&format!(
            " · **{}** removable (minimum {}, download {} measured)",
            human(s.removable_bytes),
            human(s.minimum_bytes),
            human(s.minimum_download_bytes)
        ));
    }
    head.push_str(&format!(
        "\n\n{} · {} · {} · dive efficiency {:.1}%\n",
        escape::markdown(&a.image.platform),
        plural(a.layers.len() as u64, "layer"),
        plural(t.files, "file"),
        t.efficiency * 100.0
    ));
    d.push(head);
    let s = sections::analysis(a);
    for t in [&s.savings, &s.shipped, &s.categories]
        .into_iter()
        .flatten()
    {
        d.table(t);
    }
    d.table(&s.layers);
    d.table(&s.files);
    d.table(&s.wasted_files);
    d.table(&s.dirs);
    d.table(&s.packages);
    d.notes(&s.findings);
    d.notes(&s.warnings);
    d.finish(w)
}

pub fn render_diff(x: &Diff, w: &mut dyn Write) -> io::Result<()> {
    let mut d = Doc::new();
    let (before, after) = sections::diff_title(x);
    let s = sections::diff(x);
    let mut head = format!(
        "### imgaudit diff: {} → {}\n\n",
        escape::markdown(&before),
        escape::markdown(&after)
    );
    if let Some(l) = &s.identical {
        head.push_str(&format!("{}\n", line(l)));
        d.push(head);
        return d.finish(w);
    }
    let f = &x.totals.final_bytes;
    head.push_str(&format!(
        "**{} → {}** ({}, {})",
        human(f.before),
        human(f.after),
        signed(f.delta),
        headline_words(f)
    ));
    if let Some(c) = &x.totals.compressed_bytes {
        head.push_str(&format!(
            " · compressed {} → {} ({})",
            human(c.before),
            human(c.after),
            signed_pct(c)
        ));
    }
    head.push('\n');
    let gone: Vec<String> = x
        .groups
        .iter()
        .filter(|g| g.final_bytes.before > 0 && g.final_bytes.after == 0)
        .map(|g| {
            format!(
                "{} gone ({})",
                escape::markdown(&g.group),
                human(g.final_bytes.before)
            )
        })
        .collect();
    if !gone.is_empty() {
        head.push_str(&format!("\n{}\n", gone.join(" · ")));
    }
    d.push(head);
    d.table(&s.totals);
    for t in [&s.groups, &s.categories].into_iter().flatten() {
        d.table(t);
    }
    d.table(&s.packages);
    d.table(&s.layers);
    if let Some((l, tables)) = &s.paths {
        d.push(format!("{}\n", line(l)));
        for t in tables {
            d.table(t);
        }
    }
    if let Some(t) = &s.savings {
        d.table(t);
        let notes: Vec<String> = s.savings_notes.iter().map(line).collect();
        d.push(format!("{}\n", notes.join("  \n")));
    }
    d.finish(w)
}

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
    }
}

pub fn render_check(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    let mut d = Doc::new();
    let mut head = format!(
        "### {} imgaudit check: {}\n\n**{}**: {} passed, {}, {} failed (budget {})\n",
        if r.passed { "✅" } else { "❌" },
        escape::markdown(&image_name(&r.image, None)),
        if r.passed { "Passed" } else { "Failed" },
        r.counts.pass,
        plural(r.counts.warn as u64, "warning"),
        r.counts.fail,
        escape::markdown_code(&image_name(&r.budget, None), false)
    );
    if let Some(b) = &r.baseline {
        head.push_str(&format!(
            "\nBaseline: {}\n",
            escape::markdown(&image_name(b, None))
        ));
    }
    d.push(head);
    let s = sections::check(r);
    d.table(&s.rules);
    for f in &s.details {
        let mut s = format!(
            "{} **{}** {}\n",
            icon(f.status),
            f.code,
            escape::markdown(&f.message)
        );
        if !f.contributors.is_empty() {
            let list: String = f
                .contributors
                .iter()
                .map(|c| format!("- {}\n", line(c)))
                .collect();
            if f.contributors.len() > FOLD {
                s.push_str(&format!(
                    "\n<details><summary>Largest contributors ({})</summary>\n\n{list}\n</details>\n",
                    f.contributors.len()
                ));
            } else {
                s.push_str(&format!("\nLargest contributors:\n\n{list}"));
            }
        }
        d.push(s);
    }
    d.finish(w)
}

pub fn render_summary(s: &Summary, w: &mut dyn Write) -> io::Result<()> {
    let mut d = Doc::new();
    let mut head = format!("### imgaudit: {}", plural(s.rows.len() as u64, "image"));
    if s.failed() > 0 {
        head.push_str(&format!(", {} failed", s.failed()));
    }
    d.push(head + "\n");
    let x = sections::summary(s);
    d.table(&x.images);
    d.notes(&x.failures);
    d.finish(w)
}

/// Builds per series in the Mermaid chart.
const CHART_BUILDS: usize = 30;

/// Text safe inside a Mermaid quoted string.
fn mermaid_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '"' || c == '`' || c.is_control() {
                '\''
            } else {
                c
            }
        })
        .collect()
}

/// The size history for a pull-request comment: each series' change against
/// the build before in one line, a Mermaid `xychart-beta` chart of the last
/// builds (GitHub renders it), the notable steps and the creeps.
pub fn render_history(h: &crate::history::History, w: &mut dyn Write) -> io::Result<()> {
    let s = super::sections::history(h);
    let mut doc = Doc::new();
    if h.records.is_empty() {
        doc.push("No records in the history (for this selection).\n".into());
        return doc.finish(w);
    }
    let mut head = String::from("### Image size history\n\n");
    for l in &s.headlines {
        head.push_str(&format!("{}\n\n", line(l)));
    }
    doc.push(head);
    for name in super::sections::history_series(h).into_iter().take(4) {
        let recs: Vec<_> = h.records.iter().filter(|r| r.series == name).collect();
        let recs = &recs[recs.len().saturating_sub(CHART_BUILDS)..];
        let max = recs.iter().map(|r| r.totals.final_bytes).max().unwrap_or(0);
        let (div, unit) = if max >= 10_000_000_000 {
            (1e9, "GB")
        } else if max >= 10_000_000 {
            (1e6, "MB")
        } else {
            (1e3, "kB")
        };
        let xs: Vec<String> = recs.iter().map(|r| format!("\"{}\"", r.id)).collect();
        let ys: Vec<String> = recs
            .iter()
            .map(|r| format!("{:.2}", r.totals.final_bytes as f64 / div))
            .collect();
        doc.push(format!(
            "```mermaid\nxychart-beta\n    title \"{} final size, last {} builds\"\n    x-axis \"record\" [{}]\n    y-axis \"{unit}\"\n    line [{}]\n```\n",
            mermaid_text(name),
            recs.len(),
            xs.join(", "),
            ys.join(", ")
        ));
    }
    if s.steps.is_empty() {
        doc.push("No step beyond the normal noise.\n".into());
    }
    doc.table(&s.steps);
    doc.notes(&s.creeps);
    doc.finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_whole_sections_with_a_note() {
        let mut d = Doc::new();
        for i in 0..100 {
            d.push(format!("section {i} {}", "x".repeat(1000)));
        }
        let mut out = Vec::new();
        d.finish(&mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.chars().count() < MAX_CHARS, "{}", s.len());
        assert!(s.contains("Truncated"));
        assert!(s.contains("section 0 ") && !s.contains("section 99 "));
    }
}
