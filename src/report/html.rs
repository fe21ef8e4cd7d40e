//! One self-contained HTML file (inline CSS, JS and SVG; no network
//! requests): the headline, a zoomable treemap of the final filesystem
//! coloured by category, per-layer bars (kept vs wasted), the savings
//! breakdown and packages; for a diff, both sides. The treemap's directory
//! tree is computed by [`crate::dirtree`]; the page's script only lays it out.
//!
//! Headline figures carry `id` and `data-bytes` attributes so tests (and
//! scripts) can read them back from the DOM; once the treemap is drawn the
//! body gets `data-treemap-ready` and the number of boxes drawn.

use crate::analysis::Analysis;
use crate::budget::{CheckReport, Status};
use crate::diff::{Change, Diff};
use crate::dirtree::DirTree;
use crate::report::table::{headline_words, show_value, signed, signed_pct};
use crate::summary::Summary;
use crate::units::{human, shorten};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Escape text for HTML content and attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

const STYLE: &str = r##"
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; }
h1 { font-size: 1.4em; margin: 0.2em 0; word-break: break-all; }
h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #666; font-size: 0.9em; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.fig { background: #f4f5f7; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.fig .k { font-size: 0.8em; color: #666; }
.fig .v { font-size: 1.3em; font-weight: 600; }
.down { color: #1a7f37; } .up { color: #cf222e; }
table { border-collapse: collapse; font-size: 0.9em; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.9em; word-break: break-all; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.treemap { position: relative; width: 100%; height: 520px; background: #fafafa; border: 1px solid #ddd; overflow: hidden; }
.tm { position: absolute; box-sizing: border-box; border: 1px solid #fff; overflow: hidden; font-size: 11px; padding: 1px 3px; color: #111; cursor: default; }
.tm.dir { cursor: zoom-in; }
.tm .lbl { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; pointer-events: none; }
.crumbs { margin: 6px 0; font-size: 0.9em; }
.crumbs a { cursor: pointer; color: #0969da; text-decoration: underline; }
.legend { display: flex; flex-wrap: wrap; gap: 10px; font-size: 0.85em; margin: 6px 0; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.sides > div { min-width: 0; overflow-x: auto; }
svg.layers { max-width: 100%; height: auto; }
.sides .treemap { height: 420px; }
details summary { cursor: pointer; margin: 6px 0; }
.pass { color: #1a7f37; } .warn { color: #9a6700; } .fail { color: #cf222e; font-weight: 600; }
"##;

const SCRIPT: &str = r##"
(function () {
  "use strict";
  window.addEventListener("error", function (e) {
    document.body.setAttribute("data-js-error", String(e.message));
  });
  function human(b) {
    var u = ["B", "kB", "MB", "GB", "TB", "PB"], i = 0, v = b;
    if (b < 1000) return b + " B";
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + u[i];
  }
  function worst(row, side) {
    var s = 0, mx = 0, mn = Infinity;
    row.forEach(function (q) { s += q.a; mx = Math.max(mx, q.a); mn = Math.min(mn, q.a); });
    return Math.max(side * side * mx / (s * s), (s * s) / (side * side * mn));
  }
  function squarify(items, x, y, w, h) {
    var out = [], total = 0;
    items.forEach(function (i) { total += i.v; });
    if (total <= 0 || w <= 0 || h <= 0) return out;
    var scale = w * h / total;
    var rest = items.filter(function (i) { return i.v > 0; })
      .map(function (i) { return { n: i, a: i.v * scale }; });
    while (rest.length) {
      var side = Math.min(w, h), row = [rest[0]], k = 1;
      while (k < rest.length && worst(row.concat([rest[k]]), side) <= worst(row, side)) { row.push(rest[k]); k++; }
      rest = rest.slice(k);
      var s = 0; row.forEach(function (q) { s += q.a; });
      if (w >= h) {
        var cw = s / h, yy = y;
        row.forEach(function (q) { var hh = q.a / cw; out.push({ n: q.n, x: x, y: yy, w: cw, h: hh }); yy += hh; });
        x += cw; w -= cw;
      } else {
        var rh = s / w, xx = x;
        row.forEach(function (q) { var ww = q.a / rh; out.push({ n: q.n, x: xx, y: y, w: ww, h: rh }); xx += ww; });
        y += rh; h -= rh;
      }
    }
    return out;
  }
  function items(node) {
    var v = node.children.map(function (c) { return { v: c.bytes, node: c }; });
    if (node.rest > 0) v.push({ v: node.rest, node: null });
    v.sort(function (a, b) { return b.v - a.v; });
    return v;
  }
  function drawTreemap(el) {
    var data = JSON.parse(document.getElementById(el.getAttribute("data-tree")).textContent);
    if (!data) { el.textContent = "No directory tree (analysed with --sizes-only?)"; return 0; }
    var cats = data.categories, colors = data.colors, path = [data.root];
    var crumbs = el.previousElementSibling;
    function colorOf(n) {
      if (!n || !n.categories.length) return "#ddd";
      return colors[n.categories[0][0]] || "#ccc";
    }
    function tip(n, prefix) {
      var t = prefix + "  " + human(n.bytes);
      n.categories.slice(0, 4).forEach(function (c) { t += "\n  " + cats[c[0]] + ": " + human(c[1]); });
      return t;
    }
    function render() {
      var node = path[path.length - 1], W = el.clientWidth, H = el.clientHeight, drawn = 0;
      el.innerHTML = "";
      crumbs.innerHTML = "";
      path.forEach(function (p, i) {
        var a = document.createElement(i + 1 < path.length ? "a" : "span");
        a.textContent = (i === 0 ? "/" : p.name + "/") + (i + 1 === path.length ? "  (" + human(p.bytes) + ")" : "");
        if (i + 1 < path.length) a.addEventListener("click", function () { path = path.slice(0, i + 1); render(); });
        crumbs.appendChild(a);
      });
      var prefix = path.slice(1).map(function (p) { return p.name; }).join("/");
      squarify(items(node), 0, 0, W, H).forEach(function (r) {
        var d = document.createElement("div"), n = r.n.node;
        d.className = "tm" + (n && n.children.length ? " dir" : "");
        d.style.left = r.x + "px"; d.style.top = r.y + "px";
        d.style.width = r.w + "px"; d.style.height = r.h + "px";
        d.style.background = colorOf(n);
        var name = n ? n.name : "(smaller entries)";
        d.title = n ? tip(n, "/" + (prefix ? prefix + "/" : "") + name) : name + "  " + human(r.n.v);
        if (r.w > 40 && r.h > 14) {
          var l = document.createElement("div"); l.className = "lbl";
          l.textContent = name + " " + human(r.n.v); d.appendChild(l);
        }
        if (n && n.children.length) {
          d.addEventListener("click", function () { path.push(n); render(); });
          if (r.w > 30 && r.h > 30) {
            squarify(items(n), 0, 0, r.w - 4, r.h - 18).forEach(function (c) {
              var s = document.createElement("div"), cn = c.n.node;
              s.className = "tm"; s.style.left = (1 + c.x) + "px"; s.style.top = (15 + c.y) + "px";
              s.style.width = c.w + "px"; s.style.height = c.h + "px"; s.style.background = colorOf(cn);
              s.style.pointerEvents = "none";
              d.appendChild(s); drawn++;
            });
          }
        }
        el.appendChild(d); drawn++;
      });
      return drawn;
    }
    return render();
  }
  var total = 0, maps = document.querySelectorAll(".treemap");
  for (var i = 0; i < maps.length; i++) total += drawTreemap(maps[i]);
  document.body.setAttribute("data-treemap-boxes", String(total));
  document.body.setAttribute("data-treemap-ready", "1");
})();
"##;

fn page_start(out: &mut String, title: &str) {
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        esc(title)
    );
}

fn page_end(out: &mut String, with_script: bool) {
    if with_script {
        let _ = writeln!(out, "<script>{SCRIPT}</script>");
    }
    out.push_str("</body>\n</html>\n");
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

fn table(out: &mut String, headers: &[&str], numeric: &[usize], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for (i, h) in headers.iter().enumerate() {
        let c = if numeric.contains(&i) {
            " class=\"n\""
        } else {
            ""
        };
        let _ = write!(out, "<th{c}>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for (i, cell) in r.iter().enumerate() {
            let c = if numeric.contains(&i) {
                " class=\"n\""
            } else {
                ""
            };
            // Cells are already escaped HTML.
            let _ = write!(out, "<td{c}>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// A table folded in `<details>` when long.
fn folded(
    out: &mut String,
    title: &str,
    headers: &[&str],
    numeric: &[usize],
    rows: &[Vec<String>],
) {
    if rows.is_empty() {
        return;
    }
    if rows.len() > 15 {
        let _ = write!(
            out,
            "<details><summary>{} ({})</summary>",
            esc(title),
            rows.len()
        );
        table(out, headers, numeric, rows);
        out.push_str("</details>\n");
    } else {
        let _ = write!(out, "<h3>{}</h3>", esc(title));
        table(out, headers, numeric, rows);
    }
}

/// The tree data element and the treemap container.
fn treemap(out: &mut String, id: &str, tree: Option<&DirTree>) {
    #[derive(serde::Serialize)]
    struct Data<'a> {
        categories: &'a [String],
        colors: Vec<String>,
        root: &'a crate::dirtree::DirNode,
    }
    let data = tree.map(|t| Data {
        categories: &t.categories,
        colors: t.categories.iter().map(|c| color(c)).collect(),
        root: &t.root,
    });
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"{id}\">{}</script>\n<div class=\"crumbs\"></div><div class=\"treemap\" data-tree=\"{id}\"></div>",
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
            esc(&c.id),
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
            "<g><title>layer {}: {} kept, {} wasted — {}</title><text x=\"0\" y=\"{}\" font-size=\"12\">#{}</text><rect x=\"{label_w}\" y=\"{}\" width=\"{kw:.1}\" height=\"{}\" fill=\"#4c78a8\"/><rect x=\"{:.1}\" y=\"{}\" width=\"{ww:.1}\" height=\"{}\" fill=\"#e45756\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text></g>",
            l.index,
            human(kept),
            human(l.wasted_bytes),
            esc(&shorten(l.created_by.as_deref().unwrap_or(""), 80)),
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

fn savings(out: &mut String, a: &Analysis) {
    let Some(s) = &a.savings else {
        out.push_str("<p>Categories, packages and savings: not computed (--sizes-only).</p>\n");
        return;
    };
    let mut rows = Vec::new();
    for g in &s.removable {
        let name = if g.in_final {
            esc(&g.group)
        } else {
            format!("{} (shipped, not in the final filesystem)", esc(&g.group))
        };
        rows.push(vec![name, human(g.subtotal), esc(&g.fix)]);
    }
    table(out, &["Removable", "Bytes", "Fix"], &[1], &rows);
    let _ = writeln!(
        out,
        "<p>Total removable from the final filesystem: <b id=\"savings-removable\" data-bytes=\"{}\">{}</b>; minimum <b>{}</b>.</p>",
        s.removable_bytes,
        human(s.removable_bytes),
        human(s.minimum_bytes)
    );
    let mut rows = Vec::new();
    for g in &s.removable {
        for it in &g.items {
            rows.push(vec![
                esc(&g.group),
                format!("<code>{}</code>", esc(&it.label)),
                human(it.bytes),
            ]);
        }
    }
    folded(
        out,
        "Removable items",
        &["Group", "Item", "Bytes"],
        &[2],
        &rows,
    );
}

fn categories_table(out: &mut String, a: &Analysis) {
    let rows: Vec<Vec<String>> = a
        .categories
        .iter()
        .filter(|c| c.final_bytes > 0 || c.wasted_bytes > 0)
        .map(|c| {
            vec![
                format!(
                    "<span class=\"sw\" style=\"background:{}\"></span>{}",
                    color(&c.id),
                    esc(&c.id)
                ),
                esc(&c.group),
                human(c.final_bytes),
                human(c.wasted_bytes),
                c.files.to_string(),
                if c.removable { "yes" } else { "" }.into(),
            ]
        })
        .collect();
    folded(
        out,
        "Categories",
        &["Category", "Group", "Final", "Wasted", "Files", "Removable"],
        &[2, 3, 4],
        &rows,
    );
}

fn packages(out: &mut String, a: &Analysis) {
    let rows: Vec<Vec<String>> = a
        .packages
        .iter()
        .map(|p| {
            vec![
                esc(&p.name),
                esc(&shorten(&p.version, 30)),
                human(p.bytes),
                p.files.to_string(),
                p.layer.to_string(),
                esc(&p.category),
            ]
        })
        .collect();
    folded(
        out,
        "Packages",
        &["Package", "Version", "Size", "Files", "Layer", "Category"],
        &[2, 3, 4],
        &rows,
    );
}

fn analysis_body(out: &mut String, a: &Analysis, tree: Option<&DirTree>, side: &str) {
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
    out.push_str("<h2>Savings breakdown</h2>\n");
    savings(out, a);
    categories_table(out, a);
    packages(out, a);
    let rows: Vec<Vec<String>> = a
        .largest_files
        .iter()
        .map(|f| {
            vec![
                format!("<code>{}</code>", esc(&f.path)),
                human(f.bytes),
                f.layer.to_string(),
            ]
        })
        .collect();
    folded(
        out,
        "Largest files",
        &["File", "Size", "Layer"],
        &[1, 2],
        &rows,
    );
}

pub fn render(a: &Analysis, tree: Option<&DirTree>, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    page_start(&mut out, &format!("imgaudit: {}", a.image.reference));
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<div class=\"meta\">{} · config {} · imgaudit {}</div>",
        esc(&a.image.reference),
        esc(&a.image.platform),
        esc(a.image.config_digest.short()),
        esc(a.tool.version)
    );
    analysis_body(&mut out, a, tree, "");
    if !a.warnings.is_empty() {
        out.push_str("<h2>Warnings</h2><ul>");
        for m in &a.warnings {
            let _ = write!(out, "<li>{}</li>", esc(m));
        }
        out.push_str("</ul>\n");
    }
    page_end(&mut out, true);
    w.write_all(out.as_bytes())
}

fn change_cells(c: &Change) -> Vec<String> {
    let class = match c.delta.signum() {
        1 => "up",
        -1 => "down",
        _ => "",
    };
    vec![
        human(c.before),
        human(c.after),
        format!("<span class=\"{class}\">{}</span>", signed(c.delta)),
        signed_pct(c),
    ]
}

pub fn render_diff(
    d: &Diff,
    sides: Option<(&Analysis, &Analysis)>,
    trees: (Option<&DirTree>, Option<&DirTree>),
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut out = String::new();
    page_start(
        &mut out,
        &format!(
            "imgaudit diff: {} → {}",
            d.before.reference, d.after.reference
        ),
    );
    let f = &d.totals.final_bytes;
    let _ = writeln!(
        out,
        "<h1>{} → {}</h1>\n<p class=\"fig\" style=\"display:inline-block\"><span class=\"v\"><span id=\"before-final\" data-bytes=\"{}\">{}</span> → <span id=\"after-final\" data-bytes=\"{}\">{}</span></span> <span id=\"delta-final\" data-bytes=\"{}\" class=\"{}\">{} ({})</span></p>",
        esc(&d.before.reference),
        esc(&d.after.reference),
        f.before,
        human(f.before),
        f.after,
        human(f.after),
        f.delta,
        if f.delta < 0 { "down" } else if f.delta > 0 { "up" } else { "" },
        signed(f.delta),
        esc(&headline_words(f))
    );
    let rows: Vec<Vec<String>> = d
        .totals
        .byte_rows()
        .into_iter()
        .map(|(label, c)| [vec![label.to_string()], change_cells(c)].concat())
        .collect();
    table(
        &mut out,
        &["", "Before", "After", "Change", "%"],
        &[1, 2, 3, 4],
        &rows,
    );
    let rows: Vec<Vec<String>> = d
        .groups
        .iter()
        .map(|g| [vec![esc(&g.group)], change_cells(&g.final_bytes)].concat())
        .collect();
    folded(
        &mut out,
        "Groups",
        &["Group", "Before", "After", "Change", "%"],
        &[1, 2, 3, 4],
        &rows,
    );
    let rows: Vec<Vec<String>> = d
        .categories
        .iter()
        .map(|c| {
            [
                vec![format!(
                    "<span class=\"sw\" style=\"background:{}\"></span>{}",
                    color(&c.id),
                    esc(&c.id)
                )],
                change_cells(&c.final_bytes),
            ]
            .concat()
        })
        .collect();
    folded(
        &mut out,
        "Categories",
        &["Category", "Before", "After", "Change", "%"],
        &[1, 2, 3, 4],
        &rows,
    );
    for (title, v) in [
        ("Packages added", &d.packages.added),
        ("Packages removed", &d.packages.removed),
        ("Packages grown", &d.packages.grown),
        ("Packages shrunk", &d.packages.shrunk),
    ] {
        let rows: Vec<Vec<String>> = v
            .iter()
            .map(|p| [vec![esc(&p.name)], change_cells(&p.bytes)[..3].to_vec()].concat())
            .collect();
        folded(
            &mut out,
            title,
            &["Package", "Before", "After", "Change"],
            &[1, 2, 3],
            &rows,
        );
    }
    let l = &d.layers;
    let _ = writeln!(
        out,
        "<h2>Layers</h2><p>Matched by diff_id: {} shared ({}), {} only before, {} only after.</p>",
        l.shared.len(),
        human(l.shared_file_bytes),
        l.only_before.len(),
        l.only_after.len()
    );
    let rows: Vec<Vec<String>> = l
        .one_sided()
        .map(|(side, r)| {
            vec![
                side.to_string(),
                r.before_index.or(r.after_index).unwrap_or(0).to_string(),
                human(r.file_bytes),
                format!(
                    "<code>{}</code>",
                    esc(&shorten(r.created_by.as_deref().unwrap_or(""), 100))
                ),
            ]
        })
        .collect();
    folded(
        &mut out,
        "Layers on one side only",
        &["Side", "#", "Files size", "Created by"],
        &[1, 2],
        &rows,
    );
    if d.paths.available {
        for (title, v) in [
            ("Largest added paths", &d.paths.added),
            ("Largest removed paths", &d.paths.removed),
            ("Largest grown paths", &d.paths.grown),
        ] {
            let rows: Vec<Vec<String>> = v
                .iter()
                .map(|p| {
                    [
                        vec![format!("<code>{}</code>", esc(&p.path))],
                        change_cells(&p.bytes)[..3].to_vec(),
                    ]
                    .concat()
                })
                .collect();
            folded(
                &mut out,
                title,
                &["Path", "Before", "After", "Change"],
                &[1, 2, 3],
                &rows,
            );
        }
    }
    if let Some((b, a)) = sides {
        out.push_str("<h2>Side by side</h2>\n<div class=\"sides\">");
        for (name, x, t) in [("before", b, trees.0), ("after", a, trees.1)] {
            let _ = write!(out, "<div><h3>{name}: {}</h3>", esc(&x.image.reference));
            analysis_body(&mut out, x, t, name);
            out.push_str("</div>");
        }
        out.push_str("</div>\n");
    }
    page_end(&mut out, true);
    w.write_all(out.as_bytes())
}

pub fn render_check(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    page_start(&mut out, &format!("imgaudit check: {}", r.image));
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p id=\"result\" data-passed=\"{}\" class=\"{}\">{}: {} passed, {} warnings, {} failed (budget <code>{}</code>)</p>",
        esc(&r.image),
        r.passed,
        if r.passed { "pass" } else { "fail" },
        if r.passed { "Passed" } else { "Failed" },
        r.counts.pass,
        r.counts.warn,
        r.counts.fail,
        esc(&r.budget)
    );
    let rows: Vec<Vec<String>> = r
        .findings
        .iter()
        .map(|f| {
            let (class, word) = match f.status {
                Status::Pass => ("pass", "pass"),
                Status::Warn => ("warn", "warn"),
                Status::Fail => ("fail", "FAIL"),
            };
            let contributors: Vec<String> = f
                .contributors
                .iter()
                .map(|c| {
                    format!(
                        "<code>{}</code>{}",
                        esc(&c.name),
                        c.bytes
                            .map(|b| format!(" {}", human(b)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            vec![
                format!("<span class=\"{class}\">{word}</span>"),
                f.code.to_string(),
                esc(&f.rule),
                show_value(f.unit, f.measured),
                show_value(f.unit, f.limit),
                esc(&f.message),
                contributors.join("<br>"),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "Status",
            "Code",
            "Rule",
            "Measured",
            "Limit",
            "Message",
            "Largest contributors",
        ],
        &[3, 4],
        &rows,
    );
    page_end(&mut out, false);
    w.write_all(out.as_bytes())
}

pub fn render_summary(s: &Summary, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    page_start(&mut out, "imgaudit summary");
    let _ = writeln!(out, "<h1>{} images</h1>", s.rows.len());
    let rows: Vec<Vec<String>> = s
        .rows
        .iter()
        .map(|r| {
            vec![
                esc(&r.reference),
                esc(&r.platform),
                human(r.final_bytes),
                r.compressed_bytes
                    .map(human)
                    .unwrap_or_else(|| "unknown".into()),
                human(r.wasted_bytes),
                r.removable_bytes.map(human).unwrap_or_else(|| "n/a".into()),
                r.layers.to_string(),
            ]
        })
        .collect();
    table(
        &mut out,
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
        &rows,
    );
    page_end(&mut out, false);
    w.write_all(out.as_bytes())
}
