//! Terminal renderer: comfy-table tables with human units.

use crate::analysis::Analysis;
use crate::units::{human, shorten};
use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};
use std::io::{self, Write};

fn opt_bytes(b: Option<u64>) -> String {
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
