//! One self-contained HTML file (inline CSS, JS and SVG; no network
//! requests): the headline, the explorer (a zoomable treemap of the final
//! filesystem down to files, each coloured by its category, with search, a
//! layer selector showing what a layer added, modified, removed and wasted,
//! details on hover, deep links `#path=`, `#q=`, `#layer=`), per-layer bars
//! (kept vs wasted), the savings breakdown and packages; for a diff, both
//! sides. The explorer's model is [`crate::explore`], inlined as compact
//! JSON; the page's script only lays it out.
//! The stylesheet and script are `assets/report.css` and `assets/report.js`,
//! included at build time. Every text is escaped ([`escape::html`];
//! image-derived text through [`escape::html_name`]).
//!
//! Headline figures carry `id` and `data-bytes` attributes so tests (and
//! scripts) can read them back from the DOM; once the treemap is drawn the
//! body gets `data-treemap-ready` and the number of boxes drawn.

use super::escape::{self, html as esc, html_name};
use super::model::{Align, Cell, Line, Notes, Span, Table};
use super::sections;
use super::words::{headline_words, image_name, plural, signed};
use crate::analysis::Analysis;
use crate::budget::{CheckReport, Status};
use crate::diff::Diff;
use crate::explore::changes::PathSet;
use crate::explore::{Explorer, Kind, Node};
use crate::summary::Summary;
use crate::units::{human, shorten};
use std::fmt::Write as _;
use std::io::{self, Write};

const STYLE: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");
/// `created_by` commands are cut to this many characters.
const COMMAND_MAX: usize = 100;
/// Tables longer than this are folded in `<details>`.
const FOLD: usize = 15;

/// JSON safe inside a `<script>` element.
fn script_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A stable colour per category id.
pub fn color(id: &str) -> String {
    let known = match id {
        "build-tools" => "#d62728",
        "cuda" => "#9467bd",
        "ml-frameworks" => "#8c564b",
        "python-bytecode" => "#e377c2",
        "package-caches" => "#ff7f0e",
        "package-indexes" => "#ffbb78",
        "debug-symbols" => "#bcbd22",
        "docs" => "#17becf",
        "tests" => "#aec7e8",
        "vcs" => "#7f7f7f",
        "logs-temp" => "#c49c94",
        "other" => "#c7c7c7",
        "python-packages" => "#1f77b4",
        "language-runtime" => "#2ca02c",
        "base-system" => "#98df8a",
        _ => "",
    };
    if !known.is_empty() {
        return known.into();
    }
    let h = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    format!("hsl({}, 55%, 60%)", h % 360)
}

fn fig(out: &mut String, id: &str, label: &str, bytes: Option<u64>) {
    let _ = write!(
        out,
        "<div class=\"fig\"><div class=\"k\">{}</div><div class=\"v\" id=\"{id}\"{}>{}</div></div>",
        esc(label),
        bytes
            .map(|b| format!(" data-bytes=\"{b}\""))
            .unwrap_or_default(),
        bytes.map(human).unwrap_or_else(|| "unknown".into())
    );
}

/// A tree node as a compact array (see `assets/report.js`): a directory
/// `[0, name, bytes, files, children, download]`, a file `[1, name, bytes,
/// layer, category, package, modified, download]`, folded files `[2, name,
/// bytes, files, download]` (`download`: the stored bytes attributed to the
/// files, issue 17); -1 stands for none.
fn node_json(n: &Node) -> serde_json::Value {
    use serde_json::json;
    let opt = |v: Option<i64>| v.unwrap_or(-1);
    match &n.kind {
        Kind::Dir { files } => json!([
            0,
            n.name,
            n.bytes,
            files,
            n.children.iter().map(node_json).collect::<Vec<_>>(),
            n.download
        ]),
        Kind::File {
            layer,
            category,
            package,
            modified,
        } => json!([
            1,
            n.name,
            n.bytes,
            layer,
            opt(category.map(i64::from)),
            opt(package.map(i64::from)),
            u8::from(*modified),
            n.download
        ]),
        Kind::Small { files } => json!([2, n.name, n.bytes, files, n.download]),
    }
}

fn set_json(s: &PathSet) -> serde_json::Value {
    serde_json::json!({
        "count": s.count,
        "bytes": s.bytes,
        "paths": s.paths.iter().map(|p| serde_json::json!([p.path, p.bytes, p.other.map_or(-1, i64::from)])).collect::<Vec<_>>(),
    })
}

/// The explorer's data as the page's script reads it.
fn explorer_json(x: &Explorer) -> serde_json::Value {
    serde_json::json!({
        "categories": x.categories,
        "colors": x.categories.iter().map(|c| color(c)).collect::<Vec<_>>(),
        "packages": x.packages,
        "root": node_json(&x.root),
        "layers": x.layers.iter().map(|l| serde_json::json!({
            "index": l.index,
            "created_by": l.created_by,
            "file_bytes": l.file_bytes,
            "wasted_bytes": l.wasted_bytes,
            "download_bytes": l.download_bytes,
            "wasted_download_bytes": l.wasted_download_bytes,
            "paths": l.paths.as_ref().map(|p| serde_json::json!({
                "added": set_json(&p.added),
                "modified": set_json(&p.modified),
                "removed": set_json(&p.removed),
                "hidden": set_json(&p.hidden),
            })),
        })).collect::<Vec<_>>(),
    })
}

/// The explorer's data element, controls and treemap container.
fn treemap(out: &mut String, id: &str, tree: Option<&Explorer>) {
    let data = tree.map(explorer_json);
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"{id}\">{}</script>\n<div class=\"explorer\" data-tree=\"{id}\"><div class=\"controls\"><input type=\"search\" class=\"q\" placeholder=\"search paths: substring or glob (*.so, **/test/**)\" aria-label=\"search paths\"><select class=\"layer\" aria-label=\"show what a layer changed\"></select><span class=\"total\" aria-live=\"polite\"></span></div><nav class=\"crumbs\" aria-label=\"path\"></nav><div class=\"treemap\" role=\"tree\" aria-label=\"final filesystem: click or Enter zooms into a directory, Backspace zooms out, / searches\"></div><div class=\"details\" aria-live=\"polite\"></div><div class=\"layer-panel\"></div></div>",
        script_json(&data)
    );
}

fn legend(out: &mut String, a: &Analysis) {
    out.push_str("<div class=\"legend\">");
    for c in a.categories.iter().filter(|c| c.final_bytes > 0) {
        let _ = write!(
            out,
            "<span><span class=\"sw\" style=\"background:{}\"></span>{} {}</span>",
            color(&c.id),
            html_name(&c.id),
            human(c.final_bytes)
        );
    }
    out.push_str("</div>\n");
}

/// Per-layer horizontal bars: kept (final) and wasted bytes.
fn layer_bars(out: &mut String, a: &Analysis) {
    let max = a
        .layers
        .iter()
        .map(|l| l.file_bytes)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (label_w, bar_w, row_h) = (60.0, 640.0, 20.0);
    let h = row_h * a.layers.len() as f64 + 24.0;
    let _ = write!(
        out,
        "<svg class=\"layers\" width=\"{}\" height=\"{h}\" viewBox=\"0 0 {} {h}\" role=\"img\" aria-label=\"bytes per layer\">",
        label_w + bar_w + 120.0,
        label_w + bar_w + 120.0
    );
    for (i, l) in a.layers.iter().enumerate() {
        let y = i as f64 * row_h;
        let kept = l.file_bytes.saturating_sub(l.wasted_bytes);
        let kw = kept as f64 / max * bar_w;
        let ww = l.wasted_bytes as f64 / max * bar_w;
        let _ = write!(
            out,
            "<g><title>layer {}: {} kept, {} wasted, download {} — {}</title><text x=\"0\" y=\"{}\" font-size=\"12\">#{}</text><rect x=\"{label_w}\" y=\"{}\" width=\"{kw:.1}\" height=\"{}\" fill=\"#4c78a8\"/><rect x=\"{:.1}\" y=\"{}\" width=\"{ww:.1}\" height=\"{}\" fill=\"#e45756\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text></g>",
            l.index,
            human(kept),
            human(l.wasted_bytes),
            human(l.download_bytes),
            html_name(&shorten(l.created_by.as_deref().unwrap_or(""), 80)),
            y + 14.0,
            l.index,
            y + 3.0,
            row_h - 6.0,
            label_w + kw,
            y + 3.0,
            row_h - 6.0,
            label_w + kw + ww + 6.0,
            y + 14.0,
            human(l.file_bytes)
        );
    }
    let y = row_h * a.layers.len() as f64 + 16.0;
    let _ = writeln!(
        out,
        "<rect x=\"{label_w}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#4c78a8\"/><text x=\"{}\" y=\"{y}\" font-size=\"11\">kept</text><rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#e45756\"/><text x=\"{}\" y=\"{y}\" font-size=\"11\">wasted</text></svg>",
        y - 9.0,
        label_w + 14.0,
        label_w + 60.0,
        y - 9.0,
        label_w + 74.0
    );
}

fn page_start(out: &mut String, title: &str) {
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>",
        esc(title)
    );
}

fn page_end(out: &mut String, with_script: bool) {
    if with_script {
        let _ = writeln!(out, "<script>\n{SCRIPT}</script>");
    }
    out.push_str("</body>\n</html>\n");
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => esc(s),
        Cell::Name(s) => html_name(s),
        Cell::Path(s) => format!("<code>{}</code>", html_name(s)),
        Cell::Command(s) => format!("<code>{}</code>", html_name(&shorten(s, COMMAND_MAX))),
        Cell::Delta(s, sign) => {
            let class = match sign {
                1 => "up",
                -1 => "down",
                _ => "",
            };
            format!("<span class=\"{class}\">{}</span>", esc(s))
        }
        Cell::Category(id) => format!(
            "<span class=\"sw\" style=\"background:{}\"></span>{}",
            esc(&color(id)),
            html_name(id)
        ),
        Cell::Status(s) => {
            let (class, word) = match s {
                Status::Pass => ("pass", "pass"),
                Status::Warn => ("warn", "warn"),
                Status::Fail => ("fail", "FAIL"),
            };
            format!("<span class=\"{class}\">{word}</span>")
        }
        Cell::Empty => String::new(),
    }
}

fn line(l: &Line) -> String {
    l.iter()
        .map(|s| match s {
            Span::Text(t) => esc(t),
            Span::Strong(t) => format!("<b>{}</b>", esc(t)),
            Span::Name(t) => html_name(t),
            Span::Code(t) => format!("<code>{}</code>", html_name(t)),
        })
        .collect()
}

/// A table without a title.
fn bare_table(out: &mut String, t: &Table) {
    let _ = write!(out, "<table data-section=\"{}\"><thead><tr>", t.id);
    let class = |a: Align| {
        if a == Align::Right {
            " class=\"n\""
        } else {
            ""
        }
    };
    for c in &t.columns {
        let _ = write!(out, "<th{}>{}</th>", class(c.align), esc(c.title));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in &t.rows {
        out.push_str(if r.strong {
            "<tr class=\"strong\">"
        } else {
            "<tr>"
        });
        for (c, col) in r.cells.iter().zip(&t.columns) {
            let _ = write!(out, "<td{}>{}</td>", class(col.align), cell(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// A titled table, folded in `<details>` when long; nothing when empty.
fn table(out: &mut String, t: &Table) {
    if t.is_empty() {
        return;
    }
    if t.rows.len() > FOLD {
        let _ = write!(
            out,
            "<details><summary>{} ({})</summary>",
            esc(&t.title),
            t.rows.len()
        );
        bare_table(out, t);
        out.push_str("</details>\n");
    } else {
        let _ = write!(out, "<h3>{}</h3>", esc(&t.title));
        bare_table(out, t);
    }
}

fn notes(out: &mut String, n: &Notes) {
    if n.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h2>{}</h2><ul data-section=\"{}\">",
        esc(&n.title),
        n.id
    );
    for l in &n.lines {
        let _ = write!(out, "<li>{}</li>", line(l));
    }
    out.push_str("</ul>\n");
}

fn analysis_body(
    out: &mut String,
    a: &Analysis,
    s: &sections::AnalysisSections,
    tree: Option<&Explorer>,
    side: &str,
) {
    let p = if side.is_empty() {
        String::new()
    } else {
        format!("{side}-")
    };
    let t = &a.totals;
    out.push_str("<div class=\"figures\">");
    fig(
        out,
        &format!("{p}final-bytes"),
        "final",
        Some(t.final_bytes),
    );
    fig(
        out,
        &format!("{p}compressed-bytes"),
        "compressed",
        t.compressed_bytes,
    );
    fig(
        out,
        &format!("{p}download-bytes"),
        "download",
        Some(t.download_bytes),
    );
    fig(
        out,
        &format!("{p}wasted-bytes"),
        "wasted",
        Some(t.wasted_bytes),
    );
    fig(
        out,
        &format!("{p}removable-bytes"),
        "removable",
        a.savings.as_ref().map(|s| s.removable_bytes),
    );
    let _ = write!(
        out,
        "<div class=\"fig\"><div class=\"k\">layers</div><div class=\"v\" id=\"{p}layer-count\">{}</div></div><div class=\"fig\"><div class=\"k\">files</div><div class=\"v\" id=\"{p}file-count\">{}</div></div><div class=\"fig\"><div class=\"k\">dive efficiency</div><div class=\"v\">{:.1}%</div></div>",
        a.layers.len(),
        t.files,
        t.efficiency * 100.0
    );
    out.push_str("</div>\n<h2>Final filesystem</h2>\n");
    legend(out, a);
    treemap(out, &format!("{p}tree-data"), tree);
    out.push_str("<h2>Layers</h2>\n");
    layer_bars(out, a);
    table(out, &s.layers);
    out.push_str("<h2>Savings breakdown</h2>\n");
    match (&a.savings, &s.savings) {
        (Some(x), Some(st)) => {
            bare_table(out, st);
            let _ = writeln!(
                out,
                "<p>Total removable from the final filesystem: <b id=\"{p}savings-removable\" data-bytes=\"{}\">{}</b> (download <b id=\"{p}savings-removable-download\" data-bytes=\"{}\">{}</b>); minimum <b>{}</b>, download <b id=\"{p}minimum-download\" data-bytes=\"{}\">{}</b> (measured per file).</p>",
                x.removable_bytes,
                human(x.removable_bytes),
                x.removable_download_bytes,
                human(x.removable_download_bytes),
                human(x.minimum_bytes),
                x.minimum_download_bytes,
                human(x.minimum_download_bytes)
            );
        }
        _ => {
            out.push_str("<p>Categories, packages and savings: not computed (--sizes-only).</p>\n")
        }
    }
    for t in [&s.shipped, &s.categories].into_iter().flatten() {
        table(out, t);
    }
    table(out, &s.savings_items);
    table(out, &s.packages);
    table(out, &s.files);
    table(out, &s.wasted_files);
    notes(out, &s.findings);
}

pub fn render(a: &Analysis, tree: Option<&Explorer>, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    let name = image_name(&a.image.reference, Some(a.image.source));
    page_start(&mut out, &format!("imgaudit: {}", escape::terminal(&name)));
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<div class=\"meta\">{} · config {} · imgaudit {}</div>",
        html_name(&name),
        html_name(&a.image.platform),
        esc(a.image.config_digest.short()),
        esc(a.tool.version)
    );
    let s = sections::analysis(a);
    analysis_body(&mut out, a, &s, tree, "");
    notes(&mut out, &s.warnings);
    page_end(&mut out, true);
    w.write_all(out.as_bytes())
}

pub fn render_diff(
    d: &Diff,
    sides: Option<(&Analysis, &Analysis)>,
    trees: (Option<&Explorer>, Option<&Explorer>),
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut out = String::new();
    let (before, after) = sections::diff_title(d);
    page_start(
        &mut out,
        &escape::terminal(&format!("imgaudit diff: {before} → {after}")),
    );
    let f = &d.totals.final_bytes;
    let _ = writeln!(
        out,
        "<h1>{} → {}</h1>\n<p class=\"fig\" style=\"display:inline-block\"><span class=\"v\"><span id=\"before-final\" data-bytes=\"{}\">{}</span> → <span id=\"after-final\" data-bytes=\"{}\">{}</span></span> <span id=\"delta-final\" data-bytes=\"{}\" class=\"{}\">{} ({})</span></p>",
        html_name(&before),
        html_name(&after),
        f.before,
        human(f.before),
        f.after,
        human(f.after),
        f.delta,
        if f.delta < 0 { "down" } else if f.delta > 0 { "up" } else { "" },
        signed(f.delta),
        esc(&headline_words(f))
    );
    let s = sections::diff(d);
    if let Some(l) = &s.identical {
        let _ = writeln!(out, "<p id=\"identical\">{}</p>", line(l));
        page_end(&mut out, false);
        return w.write_all(out.as_bytes());
    }
    bare_table(&mut out, &s.totals);
    for t in [&s.groups, &s.categories].into_iter().flatten() {
        table(&mut out, t);
    }
    table(&mut out, &s.packages);
    out.push_str("<h2>Layers</h2>\n");
    table(&mut out, &s.layers);
    if let Some((l, tables)) = &s.paths {
        let _ = writeln!(out, "<p>{}</p>", line(l));
        for t in tables {
            table(&mut out, t);
        }
    }
    if let Some(t) = &s.savings {
        table(&mut out, t);
        for l in &s.savings_notes {
            let _ = writeln!(out, "<p>{}</p>", line(l));
        }
    }
    if let Some((b, a)) = sides {
        out.push_str("<h2>Side by side</h2>\n<div class=\"sides\">");
        for (name, x, t) in [("before", b, trees.0), ("after", a, trees.1)] {
            let _ = write!(
                out,
                "<div><h3>{name}: {}</h3>",
                html_name(&image_name(&x.image.reference, Some(x.image.source)))
            );
            analysis_body(&mut out, x, &sections::analysis(x), t, name);
            out.push_str("</div>");
        }
        out.push_str("</div>\n");
    }
    page_end(&mut out, true);
    w.write_all(out.as_bytes())
}

pub fn render_check(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    let name = image_name(&r.image, None);
    page_start(
        &mut out,
        &format!("imgaudit check: {}", escape::terminal(&name)),
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p id=\"result\" data-passed=\"{}\" class=\"{}\">{}: {} passed, {}, {} failed (budget <code>{}</code>)</p>",
        html_name(&name),
        r.passed,
        if r.passed { "pass" } else { "fail" },
        if r.passed { "Passed" } else { "Failed" },
        r.counts.pass,
        plural(r.counts.warn as u64, "warning"),
        r.counts.fail,
        html_name(&image_name(&r.budget, None))
    );
    let s = sections::check(r);
    bare_table(&mut out, &s.rules);
    for f in &s.details {
        let _ = write!(
            out,
            "<h3>{} {} {}</h3>",
            cell(&Cell::Status(f.status)),
            esc(f.code),
            html_name(&f.message)
        );
        if !f.contributors.is_empty() {
            out.push_str("<ul>");
            for c in &f.contributors {
                let _ = write!(out, "<li>{}</li>", line(c));
            }
            out.push_str("</ul>\n");
        }
    }
    page_end(&mut out, false);
    w.write_all(out.as_bytes())
}

pub fn render_summary(s: &Summary, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    page_start(&mut out, "imgaudit summary");
    let mut h = plural(s.rows.len() as u64, "image");
    if s.failed() > 0 {
        h.push_str(&format!(", {} failed", s.failed()));
    }
    let _ = writeln!(out, "<h1>{h}</h1>");
    let x = sections::summary(s);
    bare_table(&mut out, &x.images);
    notes(&mut out, &x.failures);
    page_end(&mut out, false);
    w.write_all(out.as_bytes())
}
