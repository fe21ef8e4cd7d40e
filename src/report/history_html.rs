//! The size history as one self-contained HTML page. Each series gets two
//! inline SVG plots, readable without any script: final, compressed and
//! removable bytes over the builds (each build a point, its figures on
//! hover), the notable steps marked with what moved on hover, slow creeps
//! shaded; and a stacked area of the category groups. The tables (the
//! notable steps, the records) follow. Every string from the history
//! (series, references, labels, package names) is escaped by
//! [`escape::html_name`]; the page makes no request.

use super::escape::{html, html_name};
use super::model::{Cell, Span, Table};
use crate::history::{History, Record};
use crate::units::human;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Series drawn (the tables list every record).
const MAX_SERIES: usize = 8;
/// Plot size in SVG units.
const W: f64 = 900.0;
const H: f64 = 260.0;
const PAD_L: f64 = 70.0;
const PAD_R: f64 = 16.0;
const PAD_T: f64 = 14.0;
const PAD_B: f64 = 26.0;
/// Groups drawn in the stacked area; the rest are summed as "other".
const MAX_GROUPS: usize = 7;
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c9c9c",
];

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}\
h1{font-size:22px}h2{font-size:18px;margin-top:28px}\
svg{width:100%;height:auto;background:#fafafa;border:1px solid #ddd;margin:6px 0}\
.axis{stroke:#999;stroke-width:1}.grid{stroke:#e4e4e4;stroke-width:1}\
.tick{font-size:11px;fill:#666}\
.line{fill:none;stroke-width:2}.final{stroke:#4e79a7}.compressed{stroke:#59a14f}.removable{stroke:#e15759;stroke-dasharray:5 3}\
.pt{fill:#4e79a7}.step-mark{fill:#fff;stroke:#d62728;stroke-width:2.5;cursor:help}\
.step-line{stroke:#d62728;stroke-dasharray:3 3}.creep{fill:#f28e2b;opacity:.18;cursor:help}\
.legend{font-size:12px}table{border-collapse:collapse;margin:8px 0;font-size:13px}\
td,th{border:1px solid #ddd;padding:3px 8px}td.r{text-align:right}.up{color:#b00}.down{color:#070}";

fn x_of(i: usize, n: usize) -> f64 {
    if n <= 1 {
        return PAD_L + (W - PAD_L - PAD_R) / 2.0;
    }
    PAD_L + (W - PAD_L - PAD_R) * i as f64 / (n - 1) as f64
}

fn y_of(v: u64, max: u64) -> f64 {
    let max = max.max(1) as f64;
    H - PAD_B - (H - PAD_T - PAD_B) * v as f64 / max
}

fn axes(s: &mut String, max: u64) {
    for k in 0..=4 {
        let v = max / 4 * k;
        let y = y_of(v, max);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{PAD_L}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - PAD_R,
            PAD_L - 6.0,
            y + 4.0,
            html(&human(v))
        );
    }
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{PAD_L}\" x2=\"{PAD_L}\" y1=\"{PAD_T}\" y2=\"{}\"/><line class=\"axis\" x1=\"{PAD_L}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        H - PAD_B,
        W - PAD_R,
        H - PAD_B,
        H - PAD_B
    );
}

fn polyline(s: &mut String, class: &str, values: &[Option<u64>], max: u64) {
    let n = values.len();
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x_of(i, n), y_of(v, max))))
        .collect();
    if pts.is_empty() {
        return;
    }
    let data: Vec<String> = values
        .iter()
        .map(|v| v.map_or("-".into(), |v| v.to_string()))
        .collect();
    let _ = write!(
        s,
        "<polyline class=\"line {class}\" data-values=\"{}\" points=\"{}\"/>",
        data.join(" "),
        pts.join(" ")
    );
}

fn trend(h: &History, name: &str, recs: &[&Record]) -> String {
    let n = recs.len();
    let max = recs
        .iter()
        .map(|r| {
            r.totals
                .final_bytes
                .max(r.totals.compressed_bytes.unwrap_or(0))
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let max = max + max / 20;
    let mut s = format!(
        "<svg class=\"trend\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"final, compressed and removable bytes of {} over {n} builds\">",
        html_name(name)
    );
    axes(&mut s, max);
    let pos = |id: i64| recs.iter().position(|r| r.id == id);
    for c in h.creeps.iter().filter(|c| c.series == name) {
        if let (Some(a), Some(b)) = (pos(c.from), pos(c.to)) {
            let (x0, x1) = (x_of(a, n), x_of(b, n));
            let _ = write!(
                s,
                "<rect class=\"creep\" data-began=\"{}\" x=\"{x0:.1}\" y=\"{PAD_T}\" width=\"{:.1}\" height=\"{}\"><title>{}</title></rect>",
                c.began,
                (x1 - x0).max(2.0),
                H - PAD_T - PAD_B,
                html(&format!(
                    "slow creep: {} ({:+.1}%) over {} small growing steps, beginning with record {} (records {} → {})",
                    super::words::signed(c.final_bytes_delta),
                    c.percent,
                    c.steps,
                    c.began,
                    c.from,
                    c.to
                ))
            );
        }
    }
    polyline(
        &mut s,
        "final",
        &recs
            .iter()
            .map(|r| Some(r.totals.final_bytes))
            .collect::<Vec<_>>(),
        max,
    );
    polyline(
        &mut s,
        "compressed",
        &recs
            .iter()
            .map(|r| r.totals.compressed_bytes)
            .collect::<Vec<_>>(),
        max,
    );
    polyline(
        &mut s,
        "removable",
        &recs.iter().map(|r| r.removable_bytes).collect::<Vec<_>>(),
        max,
    );
    // One point per build, its figures on hover (thinned past 400 builds).
    let every = n.div_ceil(400).max(1);
    for (i, r) in recs.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            s,
            "<circle class=\"pt\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>record {} · {} · final {} · compressed {} · removable {}{}</title></circle>",
            x_of(i, n),
            y_of(r.totals.final_bytes, max),
            r.id,
            html(&r.recorded_at),
            human(r.totals.final_bytes),
            super::words::opt_bytes(r.totals.compressed_bytes),
            super::words::opt_bytes(r.removable_bytes),
            r.labels
                .get("commit")
                .map(|c| format!(" · commit {}", html_name(&c[..c.len().min(12)])))
                .unwrap_or_default()
        );
    }
    for st in h.notable().filter(|st| st.series == name) {
        let Some(i) = pos(st.to) else { continue };
        let r = recs[i];
        let (x, y) = (x_of(i, n), y_of(r.totals.final_bytes, max));
        let before = r.totals.final_bytes as i64 - st.final_bytes_delta;
        let pct = if before > 0 {
            format!(
                " ({:+.1}%)",
                st.final_bytes_delta as f64 * 100.0 / before as f64
            )
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "<g class=\"step\" data-from=\"{}\" data-to=\"{}\" data-delta=\"{}\"><line class=\"step-line\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{PAD_T}\" y2=\"{}\"/><circle class=\"step-mark\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\"><title>step, records {} → {}: {}{pct}, beyond the noise line of ±{}. Moved: {}</title></circle></g>",
            st.from,
            st.to,
            st.final_bytes_delta,
            H - PAD_B,
            st.from,
            st.to,
            super::words::signed(st.final_bytes_delta),
            human(st.threshold_bytes),
            html_name(&super::sections::history_moved(st, 5))
        );
    }
    let legend = [
        ("final", "#4e79a7"),
        ("compressed", "#59a14f"),
        ("removable", "#e15759"),
        ("notable step", "#d62728"),
        ("slow creep", "#f28e2b"),
    ];
    for (k, (label, color)) in legend.iter().enumerate() {
        let x = PAD_L + 10.0 + k as f64 * 120.0;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text class=\"legend\" x=\"{}\" y=\"{}\">{label}</text>",
            PAD_T + 2.0,
            x + 14.0,
            PAD_T + 11.0
        );
    }
    s.push_str("</svg>");
    s
}

fn groups_area(name: &str, recs: &[&Record]) -> String {
    let n = recs.len();
    // Groups by their largest size, the smallest folded into "other".
    let mut peak: std::collections::BTreeMap<&str, u64> = Default::default();
    for r in recs {
        for g in &r.groups {
            let p = peak.entry(g.name.as_str()).or_default();
            *p = (*p).max(g.bytes);
        }
    }
    let mut order: Vec<(&str, u64)> = peak.into_iter().filter(|g| g.1 > 0).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let other = order.len() > MAX_GROUPS;
    let shown: Vec<&str> = order
        .iter()
        .take(if other { MAX_GROUPS - 1 } else { MAX_GROUPS })
        .map(|g| g.0)
        .collect();
    let mut layers: Vec<(String, Vec<u64>)> = shown
        .iter()
        .map(|g| {
            (
                g.to_string(),
                recs.iter()
                    .map(|r| {
                        r.groups
                            .iter()
                            .find(|x| x.name == *g)
                            .map_or(0, |x| x.bytes)
                    })
                    .collect(),
            )
        })
        .collect();
    if other {
        layers.push((
            "other".into(),
            recs.iter()
                .map(|r| {
                    r.groups
                        .iter()
                        .filter(|x| !shown.contains(&x.name.as_str()))
                        .map(|x| x.bytes)
                        .sum()
                })
                .collect(),
        ));
    }
    let totals: Vec<u64> = (0..n)
        .map(|i| layers.iter().map(|l| l.1[i]).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let max = max + max / 20;
    let mut s = format!(
        "<svg class=\"groups\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"final bytes of {} by category group\">",
        html_name(name)
    );
    axes(&mut s, max);
    let mut base = vec![0u64; n];
    for (k, (g, vals)) in layers.iter().enumerate() {
        let top: Vec<u64> = (0..n).map(|i| base[i] + vals[i]).collect();
        let mut pts: Vec<String> = (0..n)
            .map(|i| format!("{:.1},{:.1}", x_of(i, n), y_of(top[i], max)))
            .collect();
        pts.extend(
            (0..n)
                .rev()
                .map(|i| format!("{:.1},{:.1}", x_of(i, n), y_of(base[i], max))),
        );
        let last = vals.last().copied().unwrap_or(0);
        let _ = write!(
            s,
            "<polygon class=\"group\" data-group=\"{}\" fill=\"{}\" fill-opacity=\"0.85\" points=\"{}\"><title>{}: {} in the latest build</title></polygon>",
            html_name(g),
            PALETTE[k % PALETTE.len()],
            pts.join(" "),
            html_name(g),
            human(last)
        );
        base = top;
    }
    for (k, (g, _)) in layers.iter().enumerate() {
        let x = PAD_L + 10.0 + (k % 4) as f64 * 190.0;
        let y = PAD_T + 2.0 + (k / 4) as f64 * 16.0;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{}\"/><text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>",
            PALETTE[k % PALETTE.len()],
            x + 14.0,
            y + 9.0,
            html_name(g)
        );
    }
    s.push_str("</svg>");
    s
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Delta(t, sign) => {
            let class = match sign {
                1 => "up",
                -1 => "down",
                _ => "",
            };
            format!("<td class=\"r {class}\">{}</td>", html(t))
        }
        Cell::Name(t) | Cell::Path(t) | Cell::Command(t) => format!("<td>{}</td>", html_name(t)),
        c => format!("<td>{}</td>", html(c.raw())),
    }
}

fn table(w: &mut dyn Write, t: &Table) -> io::Result<()> {
    if t.is_empty() {
        return Ok(());
    }
    writeln!(w, "<h2>{}</h2><table id=\"{}\"><tr>", html(&t.title), t.id)?;
    for c in &t.columns {
        write!(w, "<th>{}</th>", html(c.title))?;
    }
    writeln!(w, "</tr>")?;
    for r in &t.rows {
        let cells: String = r.cells.iter().map(cell).collect();
        writeln!(w, "<tr>{cells}</tr>")?;
    }
    writeln!(w, "</table>")
}

pub fn render(h: &History, w: &mut dyn Write) -> io::Result<()> {
    let s = super::sections::history(h);
    writeln!(
        w,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>imgaudit size history</title><style>{CSS}</style></head><body data-records=\"{}\" data-notable=\"{}\" data-creeps=\"{}\"><h1>Image size history</h1>",
        h.records.len(),
        h.notable().count(),
        h.creeps.len()
    )?;
    if h.records.is_empty() {
        writeln!(w, "<p>No records in the history (for this selection).</p>")?;
    }
    for l in &s.headlines {
        let t: String = l
            .iter()
            .map(|x| match x {
                Span::Text(t) => html(t),
                Span::Strong(t) => format!("<strong>{}</strong>", html(t)),
                Span::Name(t) | Span::Code(t) => html_name(t),
            })
            .collect();
        writeln!(w, "<p class=\"headline\">{t}</p>")?;
    }
    for name in super::sections::history_series(h)
        .into_iter()
        .take(MAX_SERIES)
    {
        let recs: Vec<&Record> = h.records.iter().filter(|r| r.series == name).collect();
        writeln!(
            w,
            "<section class=\"series\" data-series=\"{}\" data-records=\"{}\"><h2>{}</h2>",
            html_name(name),
            recs.len(),
            html_name(name)
        )?;
        writeln!(w, "{}", trend(h, name, &recs))?;
        writeln!(w, "{}", groups_area(name, &recs))?;
        writeln!(w, "</section>")?;
    }
    table(w, &s.steps)?;
    if !s.creeps.is_empty() {
        writeln!(w, "<h2>{}</h2><ul>", html(&s.creeps.title))?;
        for l in &s.creeps.lines {
            let t: String = l
                .iter()
                .map(|x| match x {
                    Span::Text(t) | Span::Strong(t) => html(t),
                    Span::Name(t) | Span::Code(t) => html_name(t),
                })
                .collect();
            writeln!(w, "<li>{t}</li>")?;
        }
        writeln!(w, "</ul>")?;
    }
    table(w, &s.records)?;
    writeln!(w, "</body></html>")
}
