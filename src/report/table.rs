//! Terminal renderer: comfy-table tables with human units, for analyses,
//! diffs, budget checks and the many-image summary.

use crate::analysis::Analysis;
use crate::budget::{CheckReport, Level, Status, Unit};
use crate::diff::{Change, Diff};
use crate::summary::Summary;
use crate::units::{human, shorten};
use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};
use std::io::{self, Write};

pub(crate) fn opt_bytes(b: Option<u64>) -> String {
    b.map(human).unwrap_or_else(|| "unknown".into())
}

fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(headers.to_vec());
    t
}

fn right_align(t: &mut Table, cols: &[usize]) {
    for &c in cols {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn render(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    let t = &a.totals;
    writeln!(w, "Image      {}", a.image.reference)?;
    if let Some(m) = &a.image.manifest_digest {
        writeln!(w, "Manifest   {m}")?;
    }
    writeln!(w, "Config     {}", a.image.config_digest)?;
    writeln!(w, "Platform   {}", a.image.platform)?;
    if let Some(c) = &a.image.created {
        writeln!(w, "Created    {c}")?;
    }
    writeln!(w)?;
    let wasted_pct = if t.layer_bytes > 0 {
        t.wasted_bytes as f64 * 100.0 / t.layer_bytes as f64
    } else {
        0.0
    };
    writeln!(
        w,
        "Final size {}  ({} files)   compressed {}   wasted {} ({:.1}% of layer bytes)   dive efficiency {:.1}%",
        human(t.final_bytes),
        t.files,
        opt_bytes(t.compressed_bytes),
        human(t.wasted_bytes),
        wasted_pct,
        t.efficiency * 100.0
    )?;
    writeln!(w)?;

    let mut lt = table(&[
        "#",
        "Digest",
        "Compressed",
        "Files size",
        "Added",
        "Modified",
        "Removed",
        "Wasted",
        "Created by",
    ]);
    for l in &a.layers {
        let digest = l.digest.as_ref().unwrap_or(&l.diff_id);
        lt.add_row(vec![
            l.index.to_string(),
            digest.short().to_string(),
            opt_bytes(l.compressed_bytes),
            human(l.file_bytes),
            l.added.to_string(),
            l.modified.to_string(),
            l.removed.to_string(),
            human(l.wasted_bytes),
            shorten(l.created_by.as_deref().unwrap_or(""), 60),
        ]);
    }
    right_align(&mut lt, &[0, 2, 3, 4, 5, 6, 7]);
    writeln!(w, "Layers")?;
    writeln!(w, "{lt}")?;

    if !a.largest_dirs.is_empty() {
        let mut dt = table(&["Directory", "Size"]);
        for d in &a.largest_dirs {
            dt.add_row(vec![d.path.clone(), human(d.bytes)]);
        }
        right_align(&mut dt, &[1]);
        writeln!(w, "\nLargest directories")?;
        writeln!(w, "{dt}")?;
    }
    if !a.largest_files.is_empty() {
        let mut ft = table(&["File", "Size", "Layer"]);
        for f in &a.largest_files {
            ft.add_row(vec![f.path.clone(), human(f.bytes), f.layer.to_string()]);
        }
        right_align(&mut ft, &[1, 2]);
        writeln!(w, "\nLargest files")?;
        writeln!(w, "{ft}")?;
    }
    render_breakdown(a, w)?;
    if !a.warnings.is_empty() {
        writeln!(w, "\nWarnings")?;
        for m in &a.warnings {
            writeln!(w, "  - {m}")?;
        }
    }
    Ok(())
}

/// Categories, packages and the savings breakdown (rendered after the layers).
pub fn render_breakdown(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    let Some(s) = &a.savings else {
        writeln!(
            w,
            "\nCategories, packages and savings: not computed (--sizes-only)"
        )?;
        return Ok(());
    };
    let mut ct = table(&["Category", "Group", "Final", "Wasted", "Files", "Removable"]);
    for c in a
        .categories
        .iter()
        .filter(|c| c.final_bytes > 0 || c.wasted_bytes > 0)
    {
        ct.add_row(vec![
            c.id.clone(),
            c.group.clone(),
            human(c.final_bytes),
            human(c.wasted_bytes),
            c.files.to_string(),
            if c.removable { "yes" } else { "" }.to_string(),
        ]);
    }
    right_align(&mut ct, &[2, 3, 4]);
    writeln!(w, "\nCategories")?;
    writeln!(w, "{ct}")?;

    if !a.packages.is_empty() {
        let mut pt = table(&[
            "Package", "Manager", "Version", "Size", "Files", "Layer", "Category",
        ]);
        for p in a.packages.iter().take(a.largest_files.len().max(10)) {
            pt.add_row(vec![
                p.name.clone(),
                serde_json::to_value(p.manager)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                shorten(&p.version, 24),
                human(p.bytes),
                p.files.to_string(),
                p.layer.to_string(),
                p.category.clone(),
            ]);
        }
        right_align(&mut pt, &[3, 4, 5]);
        writeln!(w, "\nLargest packages ({} in all)", a.packages.len())?;
        writeln!(w, "{pt}")?;
    }

    writeln!(w, "\nSavings breakdown (measured)")?;
    writeln!(w, "Removable")?;
    for g in &s.removable {
        let note = if g.in_final {
            ""
        } else {
            " (shipped, not in the final filesystem)"
        };
        writeln!(w, "  {}{note}", g.group)?;
        let several = g.fixes.len() > 1;
        for it in &g.items {
            let layers: Vec<String> = it.layers.iter().map(|l| l.to_string()).collect();
            let tag = match (&it.category, several) {
                (Some(c), true) => format!(" [{c}]"),
                _ => String::new(),
            };
            writeln!(
                w,
                "  ├── {} (layer {}): {}{tag}",
                shorten(&it.label, 70),
                layers.join(","),
                human(it.bytes)
            )?;
        }
        for f in &g.fixes {
            if several {
                writeln!(w, "  ├── Fix ({}): {}", f.category, f.fix)?;
            } else {
                writeln!(w, "  ├── Fix: {}", f.fix)?;
            }
        }
        writeln!(w, "  └── Subtotal: {}", human(g.subtotal))?;
    }
    writeln!(
        w,
        "  Total removable from the final filesystem: {}",
        human(s.removable_bytes)
    )?;
    writeln!(w, "Required")?;
    for (i, g) in s.required.iter().enumerate() {
        let branch = if i + 1 == s.required.len() {
            "└──"
        } else {
            "├──"
        };
        writeln!(w, "  {branch} {}: {}", g.group, human(g.bytes))?;
    }
    writeln!(
        w,
        "Minimum: {} (final {} − removable {}){}",
        human(s.minimum_bytes),
        human(a.totals.final_bytes),
        human(s.removable_bytes),
        s.minimum_compressed_bytes
            .map(|c| format!(
                "; compressed ≈ {} (estimated at the image's compression ratio)",
                human(c)
            ))
            .unwrap_or_default()
    )?;
    if !s.findings.is_empty() {
        writeln!(w, "\nFindings")?;
        for f in &s.findings {
            writeln!(w, "  {} {}", f.code, f.message)?;
        }
    }
    Ok(())
}

/// Signed human size: `+1.2 MB`, `−333 MB`, `0 B`.
pub fn signed(delta: i64) -> String {
    match delta.signum() {
        1 => format!("+{}", human(delta as u64)),
        -1 => format!("−{}", human(delta.unsigned_abs())),
        _ => "0 B".into(),
    }
}

/// Signed count: `+3`, `−2`, `0`.
pub fn signed_count(delta: i64) -> String {
    match delta.signum() {
        1 => format!("+{delta}"),
        -1 => format!("−{}", delta.unsigned_abs()),
        _ => "0".into(),
    }
}

/// Signed percent, or `new` when there was nothing before.
pub fn signed_pct(c: &Change) -> String {
    match c.percent {
        Some(p) if c.delta == 0 => format!("{:.1}%", p.abs()),
        Some(p) => format!("{}{:.1}%", if p > 0.0 { "+" } else { "−" }, p.abs()),
        None if c.after > 0 => "new".into(),
        None => "".into(),
    }
}

/// "after is 60.5% smaller" / "after is 3.2% larger" / "no change".
pub fn headline_words(c: &Change) -> String {
    match (c.delta.signum(), c.percent) {
        (0, _) => "no change".into(),
        (-1, Some(p)) => format!("after is {:.1}% smaller", p.abs()),
        (1, Some(p)) => format!("after is {p:.1}% larger"),
        _ => "after is larger (before was empty)".into(),
    }
}

fn change_row(name: &str, c: &Change, human_units: bool) -> Vec<String> {
    if human_units {
        vec![
            name.to_string(),
            human(c.before),
            human(c.after),
            signed(c.delta),
            signed_pct(c),
        ]
    } else {
        vec![
            name.to_string(),
            c.before.to_string(),
            c.after.to_string(),
            signed_count(c.delta),
            signed_pct(c),
        ]
    }
}

pub fn render_diff(d: &Diff, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "Before     {} ({})",
        d.before.reference, d.before.platform
    )?;
    writeln!(w, "After      {} ({})", d.after.reference, d.after.platform)?;
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
    writeln!(w)?;
    let mut tt = table(&["Figure", "Before", "After", "Change", "%"]);
    tt.add_row(change_row("final", &d.totals.final_bytes, true));
    if let Some(c) = &d.totals.compressed_bytes {
        tt.add_row(change_row("compressed", c, true));
    }
    tt.add_row(change_row("layer bytes", &d.totals.layer_bytes, true));
    tt.add_row(change_row("wasted", &d.totals.wasted_bytes, true));
    if let Some(c) = &d.totals.removable_bytes {
        tt.add_row(change_row("removable", c, true));
    }
    tt.add_row(change_row("files", &d.totals.files, false));
    tt.add_row(change_row("layers", &d.totals.layers, false));
    tt.add_row(vec![
        "efficiency".to_string(),
        format!("{:.1}%", d.totals.efficiency_before * 100.0),
        format!("{:.1}%", d.totals.efficiency_after * 100.0),
        format!(
            "{:+.1} pts",
            (d.totals.efficiency_after - d.totals.efficiency_before) * 100.0
        ),
        String::new(),
    ]);
    right_align(&mut tt, &[1, 2, 3, 4]);
    writeln!(w, "{tt}")?;

    if !d.groups.is_empty() {
        let mut gt = table(&["Group", "Before", "After", "Change", "%"]);
        for g in &d.groups {
            gt.add_row(change_row(&g.group, &g.final_bytes, true));
        }
        right_align(&mut gt, &[1, 2, 3, 4]);
        writeln!(w, "\nGroups (final bytes)")?;
        writeln!(w, "{gt}")?;
        let mut ct = table(&["Category", "Group", "Before", "After", "Change", "%"]);
        for c in &d.categories {
            let mut r = change_row(&c.id, &c.final_bytes, true);
            r.insert(1, c.group.clone());
            ct.add_row(r);
        }
        right_align(&mut ct, &[2, 3, 4, 5]);
        writeln!(w, "\nCategories (final bytes)")?;
        writeln!(w, "{ct}")?;
    } else {
        writeln!(
            w,
            "\nCategories: not computed on one side or both (--sizes-only)"
        )?;
    }

    let p = &d.packages;
    let kinds: [(&str, &Vec<crate::diff::PackageDiff>); 4] = [
        ("added", &p.added),
        ("removed", &p.removed),
        ("grown", &p.grown),
        ("shrunk", &p.shrunk),
    ];
    if kinds.iter().any(|(_, v)| !v.is_empty()) {
        let mut pt = table(&["Package", "Change", "Version", "Before", "After", "Δ"]);
        for (kind, v) in kinds {
            for x in v {
                let version = match (&x.version_before, &x.version_after) {
                    (Some(b), Some(a)) if b != a => {
                        format!("{} → {}", shorten(b, 20), shorten(a, 20))
                    }
                    (Some(v), _) | (None, Some(v)) => shorten(v, 24),
                    (None, None) => String::new(),
                };
                pt.add_row(vec![
                    x.name.clone(),
                    kind.to_string(),
                    version,
                    human(x.bytes.before),
                    human(x.bytes.after),
                    signed(x.bytes.delta),
                ]);
            }
        }
        right_align(&mut pt, &[3, 4, 5]);
        writeln!(
            w,
            "\nPackages ({} added, {} removed, {} grown, {} shrunk, {} unchanged; largest shown)",
            p.added.len(),
            p.removed.len(),
            p.grown.len(),
            p.shrunk.len(),
            p.unchanged
        )?;
        writeln!(w, "{pt}")?;
    }

    let l = &d.layers;
    let mut lt = table(&["Layer", "Before #", "After #", "Files size", "Created by"]);
    for (kind, v) in [
        ("shared", &l.shared),
        ("only before", &l.only_before),
        ("only after", &l.only_after),
    ] {
        for x in v {
            lt.add_row(vec![
                format!(
                    "{} {}",
                    kind,
                    &x.diff_id[7.min(x.diff_id.len())..19.min(x.diff_id.len())]
                ),
                x.before_index.map(|i| i.to_string()).unwrap_or_default(),
                x.after_index.map(|i| i.to_string()).unwrap_or_default(),
                human(x.file_bytes),
                shorten(x.created_by.as_deref().unwrap_or(""), 50),
            ]);
        }
    }
    right_align(&mut lt, &[1, 2, 3]);
    writeln!(
        w,
        "\nLayers by diff_id ({} shared = {}, {} only before, {} only after)",
        l.shared.len(),
        human(l.shared_file_bytes),
        l.only_before.len(),
        l.only_after.len()
    )?;
    writeln!(w, "{lt}")?;

    let ps = &d.paths;
    if ps.available {
        writeln!(
            w,
            "\nPaths: {} added ({}), {} removed ({}), {} grown, {} shrunk",
            ps.added_count,
            human(ps.added_bytes),
            ps.removed_count,
            human(ps.removed_bytes),
            ps.grown_count,
            ps.shrunk_count
        )?;
        for (title, v) in [
            ("Largest added paths", &ps.added),
            ("Largest removed paths", &ps.removed),
            ("Largest grown paths", &ps.grown),
            ("Largest shrunk paths", &ps.shrunk),
        ] {
            if v.is_empty() {
                continue;
            }
            let mut t = table(&["Path", "Before", "After", "Change"]);
            for x in v {
                t.add_row(vec![
                    x.path.clone(),
                    human(x.bytes.before),
                    human(x.bytes.after),
                    signed(x.bytes.delta),
                ]);
            }
            right_align(&mut t, &[1, 2, 3]);
            writeln!(w, "\n{title}")?;
            writeln!(w, "{t}")?;
        }
    }

    if let Some(s) = &d.savings {
        let mut st = table(&["Removable", "Before", "After", "Change"]);
        for r in &s.removable {
            let name = if r.in_final {
                r.group.clone()
            } else {
                format!("{} (shipped, not in final)", r.group)
            };
            let c = change_row(&name, &r.subtotal, true);
            st.add_row(c[..4].to_vec());
        }
        st.add_row(change_row("total removable", &s.removable_bytes, true)[..4].to_vec());
        st.add_row(change_row("minimum", &s.minimum_bytes, true)[..4].to_vec());
        right_align(&mut st, &[1, 2, 3]);
        writeln!(w, "\nSavings breakdown, side by side")?;
        writeln!(w, "{st}")?;
    }
    Ok(())
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
    }
}

/// A finding's measured value or limit in its unit.
pub fn show_value(unit: Unit, v: impl Into<f64>) -> String {
    unit.show(v)
}

pub fn render_check(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "Image      {} ({})", r.image, r.platform)?;
    if let Some(b) = &r.baseline {
        writeln!(w, "Baseline   {b}")?;
    }
    writeln!(w, "Budget     {}", r.budget)?;
    for n in &r.notes {
        writeln!(w, "Note       {n}")?;
    }
    writeln!(
        w,
        "Result     {}: {} passed, {} warnings, {} failed",
        if r.passed { "PASSED" } else { "FAILED" },
        r.counts.pass,
        r.counts.warn,
        r.counts.fail
    )?;
    if r.excluded_paths > 0 {
        writeln!(
            w,
            "Excluded   {} paths ({}) by exclude_paths",
            r.excluded_paths,
            human(r.excluded_bytes)
        )?;
    }
    writeln!(w)?;
    let mut t = table(&["Status", "Code", "Rule", "Measured", "Limit", "Level"]);
    for f in &r.findings {
        t.add_row(vec![
            status_word(f.status).to_string(),
            f.code.to_string(),
            f.rule.clone(),
            show_value(f.unit, f.measured),
            show_value(f.unit, f.limit),
            match f.level {
                Level::Fail => "fail",
                Level::Warn => "warn",
            }
            .to_string(),
        ]);
    }
    right_align(&mut t, &[3, 4]);
    writeln!(w, "{t}")?;
    for f in r.findings.iter().filter(|f| f.status != Status::Pass) {
        writeln!(w, "\n{} {} {}", status_word(f.status), f.code, f.message)?;
        for c in &f.contributors {
            writeln!(
                w,
                "  {}{}{}",
                shorten(&c.name, 90),
                c.bytes
                    .map(|b| format!("  {}", human(b)))
                    .unwrap_or_default(),
                c.layer
                    .map(|l| format!("  (layer {l})"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

pub fn render_summary(s: &Summary, w: &mut dyn Write) -> io::Result<()> {
    let mut t = table(&[
        "Image",
        "Platform",
        "Final",
        "Compressed",
        "Wasted",
        "Removable",
        "Layers",
        "Files",
        "Efficiency",
    ]);
    for r in &s.rows {
        t.add_row(vec![
            r.reference.clone(),
            r.platform.clone(),
            human(r.final_bytes),
            opt_bytes(r.compressed_bytes),
            human(r.wasted_bytes),
            r.removable_bytes.map(human).unwrap_or_else(|| "n/a".into()),
            r.layers.to_string(),
            r.files.to_string(),
            format!("{:.1}%", r.efficiency * 100.0),
        ]);
    }
    right_align(&mut t, &[2, 3, 4, 5, 6, 7, 8]);
    writeln!(w, "{t}")
}
