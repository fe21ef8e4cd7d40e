//! GitHub-flavoured Markdown for PR comments: the headline first, long lists
//! folded in `<details>`, and the whole document kept under
//! [`MAX_CHARS`] by dropping whole trailing sections with a note saying so.

use crate::analysis::Analysis;
use crate::budget::{CheckReport, Level, Status};
use crate::diff::{Change, Diff};
use crate::report::table::{headline_words, show_value, signed, signed_count, signed_pct};
use crate::summary::Summary;
use crate::units::{human, shorten};
use std::io::{self, Write};

/// GitHub refuses comments over 65,536 characters; stay clear of it.
pub const MAX_CHARS: usize = 65_000;
/// Lists longer than this are folded in `<details>`.
const FOLD: usize = 10;
/// Rows per table at most.
const MAX_ROWS: usize = 1000;

/// Escape text for a table cell or inline text.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Inline code for paths (backticks inside are replaced).
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace(['\n', '\r'], " "))
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
    fn table(&mut self, title: &str, headers: &[&str], right: &[usize], rows: Vec<Vec<String>>) {
        if rows.is_empty() {
            return;
        }
        let n = rows.len();
        let mut t = String::new();
        t.push_str(&format!("| {} |\n", headers.join(" | ")));
        let aligns: Vec<&str> = (0..headers.len())
            .map(|i| if right.contains(&i) { "---:" } else { "---" })
            .collect();
        t.push_str(&format!("|{}|\n", aligns.join("|")));
        for r in rows.iter().take(MAX_ROWS) {
            t.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        if n > MAX_ROWS {
            t.push_str(&format!("\n_{} more rows not shown._\n", n - MAX_ROWS));
        }
        if n > FOLD {
            self.push(format!(
                "<details><summary>{title} ({n})</summary>\n\n{t}\n</details>\n"
            ));
        } else {
            self.push(format!("**{title}**\n\n{t}"));
        }
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

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn opt(b: Option<u64>) -> String {
    b.map(human).unwrap_or_else(|| "unknown".into())
}

pub fn render(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    let mut d = Doc::new();
    let t = &a.totals;
    let mut head = format!(
        "### imgaudit: {}\n\n**{}** final · **{}** compressed · **{}** wasted",
        esc(&a.image.reference),
        human(t.final_bytes),
        opt(t.compressed_bytes),
        human(t.wasted_bytes)
    );
    if let Some(s) = &a.savings {
        head.push_str(&format!(
            " · **{}** removable (minimum {})",
            human(s.removable_bytes),
            human(s.minimum_bytes)
        ));
    }
    head.push_str(&format!(
        "\n\n{} · {} layers · {} files · dive efficiency {}\n",
        esc(&a.image.platform),
        a.layers.len(),
        t.files,
        pct(t.efficiency)
    ));
    d.push(head);
    if let Some(s) = &a.savings {
        let rows = s
            .removable
            .iter()
            .map(|g| {
                vec![
                    if g.in_final {
                        esc(&g.group)
                    } else {
                        format!("{} (shipped, not in final)", esc(&g.group))
                    },
                    human(g.subtotal),
                    esc(&g.fix),
                ]
            })
            .collect();
        d.table("Savings", &["Removable", "Bytes", "Fix"], &[1], rows);
        let rows = a
            .categories
            .iter()
            .filter(|c| c.final_bytes > 0 || c.wasted_bytes > 0)
            .map(|c| {
                vec![
                    esc(&c.id),
                    esc(&c.group),
                    human(c.final_bytes),
                    human(c.wasted_bytes),
                    c.files.to_string(),
                    if c.removable { "yes" } else { "" }.into(),
                ]
            })
            .collect();
        d.table(
            "Categories",
            &["Category", "Group", "Final", "Wasted", "Files", "Removable"],
            &[2, 3, 4],
            rows,
        );
    }
    let rows = a
        .layers
        .iter()
        .map(|l| {
            vec![
                l.index.to_string(),
                opt(l.compressed_bytes),
                human(l.file_bytes),
                human(l.wasted_bytes),
                code(&shorten(l.created_by.as_deref().unwrap_or(""), 80)),
            ]
        })
        .collect();
    d.table(
        "Layers",
        &["#", "Compressed", "Files size", "Wasted", "Created by"],
        &[0, 1, 2, 3],
        rows,
    );
    let rows = a
        .largest_files
        .iter()
        .map(|f| vec![code(&f.path), human(f.bytes), f.layer.to_string()])
        .collect();
    d.table("Largest files", &["File", "Size", "Layer"], &[1, 2], rows);
    let rows = a
        .largest_dirs
        .iter()
        .map(|f| vec![code(&f.path), human(f.bytes)])
        .collect();
    d.table("Largest directories", &["Directory", "Size"], &[1], rows);
    let rows = a
        .packages
        .iter()
        .map(|p| {
            vec![
                esc(&p.name),
                esc(&shorten(&p.version, 24)),
                human(p.bytes),
                p.layer.to_string(),
                esc(&p.category),
            ]
        })
        .collect();
    d.table(
        "Packages",
        &["Package", "Version", "Size", "Layer", "Category"],
        &[2, 3],
        rows,
    );
    if let Some(s) = &a.savings {
        if !s.findings.is_empty() {
            let mut f = String::from("**Findings**\n\n");
            for x in &s.findings {
                f.push_str(&format!("- `{}` {}\n", x.code, esc(&x.message)));
            }
            d.push(f);
        }
    }
    if !a.warnings.is_empty() {
        let mut f = String::from("**Warnings**\n\n");
        for m in &a.warnings {
            f.push_str(&format!("- {}\n", esc(m)));
        }
        d.push(f);
    }
    d.finish(w)
}

fn change_cells(c: &Change) -> Vec<String> {
    vec![
        human(c.before),
        human(c.after),
        signed(c.delta),
        signed_pct(c),
    ]
}

pub fn render_diff(x: &Diff, w: &mut dyn Write) -> io::Result<()> {
    let mut d = Doc::new();
    let f = &x.totals.final_bytes;
    let mut head = format!(
        "### imgaudit diff: {} → {}\n\n**{} → {}** ({}, {})",
        esc(&x.before.reference),
        esc(&x.after.reference),
        human(f.before),
        human(f.after),
        signed(f.delta),
        headline_words(f)
    );
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
        .map(|g| format!("{} gone ({})", esc(&g.group), human(g.final_bytes.before)))
        .collect();
    if !gone.is_empty() {
        head.push_str(&format!("\n{}\n", gone.join(" · ")));
    }
    d.push(head);
    let mut rows: Vec<Vec<String>> = x
        .totals
        .byte_rows()
        .into_iter()
        .map(|(label, c)| [vec![label.to_string()], change_cells(c)].concat())
        .collect();
    rows.push(vec![
        "layers".into(),
        x.totals.layers.before.to_string(),
        x.totals.layers.after.to_string(),
        signed_count(x.totals.layers.delta),
        String::new(),
    ]);
    rows.push(vec![
        "files".into(),
        x.totals.files.before.to_string(),
        x.totals.files.after.to_string(),
        signed_count(x.totals.files.delta),
        signed_pct(&x.totals.files),
    ]);
    d.table(
        "Totals",
        &["", "Before", "After", "Change", "%"],
        &[1, 2, 3, 4],
        rows,
    );
    let rows = x
        .groups
        .iter()
        .map(|g| [vec![esc(&g.group)], change_cells(&g.final_bytes)].concat())
        .collect();
    d.table(
        "Groups",
        &["Group", "Before", "After", "Change", "%"],
        &[1, 2, 3, 4],
        rows,
    );
    let rows = x
        .categories
        .iter()
        .map(|c| {
            [
                vec![esc(&c.id), esc(&c.group)],
                change_cells(&c.final_bytes),
            ]
            .concat()
        })
        .collect();
    d.table(
        "Categories",
        &["Category", "Group", "Before", "After", "Change", "%"],
        &[2, 3, 4, 5],
        rows,
    );
    for (title, v) in [
        ("Packages added", &x.packages.added),
        ("Packages removed", &x.packages.removed),
        ("Packages grown", &x.packages.grown),
        ("Packages shrunk", &x.packages.shrunk),
    ] {
        let rows = v
            .iter()
            .map(|p| {
                let version = match (&p.version_before, &p.version_after) {
                    (Some(b), Some(a)) if b != a => format!("{} → {}", esc(b), esc(a)),
                    (Some(v), _) | (None, Some(v)) => esc(v),
                    _ => String::new(),
                };
                vec![esc(&p.name), version, signed(p.bytes.delta)]
            })
            .collect();
        d.table(title, &["Package", "Version", "Change"], &[2], rows);
    }
    let l = &x.layers;
    d.push(format!(
        "**Layers** (matched by diff_id): {} shared ({}), {} only before, {} only after\n",
        l.shared.len(),
        human(l.shared_file_bytes),
        l.only_before.len(),
        l.only_after.len()
    ));
    let rows = l
        .one_sided()
        .map(|(k, r)| {
            vec![
                k.to_string(),
                r.before_index.or(r.after_index).unwrap_or(0).to_string(),
                human(r.file_bytes),
                code(&shorten(r.created_by.as_deref().unwrap_or(""), 80)),
            ]
        })
        .collect();
    d.table(
        "Layers on one side only",
        &["Side", "#", "Files size", "Created by"],
        &[1, 2],
        rows,
    );
    if x.paths.available {
        let p = &x.paths;
        d.push(format!(
            "**Paths**: {} added ({}), {} removed ({}), {} grown, {} shrunk\n",
            p.added_count,
            human(p.added_bytes),
            p.removed_count,
            human(p.removed_bytes),
            p.grown_count,
            p.shrunk_count
        ));
        for (title, v) in [
            ("Largest added paths", &p.added),
            ("Largest removed paths", &p.removed),
            ("Largest grown paths", &p.grown),
            ("Largest shrunk paths", &p.shrunk),
        ] {
            let rows = v
                .iter()
                .map(|p| [vec![code(&p.path)], change_cells(&p.bytes)[..3].to_vec()].concat())
                .collect();
            d.table(
                title,
                &["Path", "Before", "After", "Change"],
                &[1, 2, 3],
                rows,
            );
        }
    }
    if let Some(s) = &x.savings {
        let mut rows: Vec<Vec<String>> = s
            .removable
            .iter()
            .map(|r| {
                let name = if r.in_final {
                    esc(&r.group)
                } else {
                    format!("{} (shipped, not in final)", esc(&r.group))
                };
                [vec![name], change_cells(&r.subtotal)[..3].to_vec()].concat()
            })
            .collect();
        rows.push(
            [
                vec!["**total removable**".into()],
                change_cells(&s.removable_bytes)[..3].to_vec(),
            ]
            .concat(),
        );
        rows.push(
            [
                vec!["**minimum**".into()],
                change_cells(&s.minimum_bytes)[..3].to_vec(),
            ]
            .concat(),
        );
        d.table(
            "Savings breakdown, side by side",
            &["Removable", "Before", "After", "Change"],
            &[1, 2, 3],
            rows,
        );
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
        "### {} imgaudit check: {}\n\n**{}**: {} passed, {} warnings, {} failed (budget {})\n",
        if r.passed { "✅" } else { "❌" },
        esc(&r.image),
        if r.passed { "Passed" } else { "Failed" },
        r.counts.pass,
        r.counts.warn,
        r.counts.fail,
        code(&r.budget)
    );
    if let Some(b) = &r.baseline {
        head.push_str(&format!("\nBaseline: {}\n", esc(b)));
    }
    d.push(head);
    let rows = r
        .findings
        .iter()
        .map(|f| {
            vec![
                icon(f.status).to_string(),
                format!("`{}`", f.code),
                code(&f.rule),
                show_value(f.unit, f.measured),
                show_value(f.unit, f.limit),
                match f.level {
                    Level::Fail => "fail",
                    Level::Warn => "warn",
                }
                .into(),
            ]
        })
        .collect();
    d.table(
        "Rules",
        &["", "Code", "Rule", "Measured", "Limit", "Level"],
        &[3, 4],
        rows,
    );
    for f in r.findings.iter().filter(|f| f.status != Status::Pass) {
        let mut s = format!("{} **{}** {}\n", icon(f.status), f.code, esc(&f.message));
        if !f.contributors.is_empty() {
            let mut list = String::new();
            for c in &f.contributors {
                list.push_str(&format!(
                    "- {}{}\n",
                    code(&c.name),
                    c.bytes
                        .map(|b| format!(" {}", human(b)))
                        .unwrap_or_default()
                ));
            }
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
    d.push(format!("### imgaudit: {} images\n", s.rows.len()));
    let rows = s
        .rows
        .iter()
        .map(|r| {
            vec![
                esc(&r.reference),
                esc(&r.platform),
                human(r.final_bytes),
                opt(r.compressed_bytes),
                human(r.wasted_bytes),
                r.removable_bytes.map(human).unwrap_or_else(|| "n/a".into()),
                r.layers.to_string(),
            ]
        })
        .collect();
    d.table(
        "Images",
        &[
            "Image",
            "Platform",
            "Final",
            "Compressed",
            "Wasted",
            "Removable",
            "Layers",
        ],
        &[2, 3, 4, 5, 6],
        rows,
    );
    d.finish(w)
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

    #[test]
    fn escapes_cells() {
        assert_eq!(esc("a|b<c>*"), "a\\|b&lt;c&gt;\\*");
    }
}
