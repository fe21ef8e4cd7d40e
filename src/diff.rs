//! Compare two analyses: the headline figures, categories and groups,
//! packages, layers (matched by diff_id), the largest path changes and the
//! savings breakdown of each side. The result is a serializable [`Diff`];
//! renderers format it and never compute.
//!
//! Path changes need every final path of both images: callers analyse with
//! `Detail { paths: true, .. }` so each [`Analysis`] carries its
//! [`crate::analysis::PathList`]; the diff keeps only the `top` largest
//! added, removed, grown and shrunk paths (see docs/REPORTS.md).

use crate::analysis::{Analysis, SCHEMA_VERSION};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// A figure on both sides.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Change {
    pub before: u64,
    pub after: u64,
    /// `after - before`.
    pub delta: i64,
    /// `delta / before × 100`; `None` when `before` is 0.
    pub percent: Option<f64>,
}

impl Change {
    pub fn new(before: u64, after: u64) -> Change {
        Change {
            before,
            after,
            delta: after as i64 - before as i64,
            percent: (before > 0).then(|| (after as f64 - before as f64) * 100.0 / before as f64),
        }
    }
}

/// One image of the pair.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub reference: String,
    /// Where the image came from (titles show an archive by its file name).
    #[serde(skip)]
    pub source: Option<crate::source::SourceKind>,
    pub platform: String,
    pub config_digest: String,
    pub manifest_digest: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TotalsDiff {
    pub final_bytes: Change,
    /// `None` when either side's compressed size is unknown.
    pub compressed_bytes: Option<Change>,
    pub layer_bytes: Change,
    pub wasted_bytes: Change,
    pub files: Change,
    pub layers: Change,
    /// `None` when either side was analysed with `--sizes-only`.
    pub removable_bytes: Option<Change>,
    pub efficiency_before: f64,
    pub efficiency_after: f64,
    /// Σ the layers' stored bytes: what a pull transfers (issue 17).
    pub download_bytes: Change,
    /// Stored bytes attributed to the final files.
    pub final_download_bytes: Change,
    /// Stored bytes attributed to files hidden by later layers.
    pub wasted_download_bytes: Change,
}

/// A category's final bytes on both sides.
impl TotalsDiff {
    /// The byte totals every report lists, labelled, in order (compressed
    /// and removable only when both sides know them).
    pub fn byte_rows(&self) -> Vec<(&'static str, &Change)> {
        let mut rows = vec![("final", &self.final_bytes)];
        if let Some(c) = &self.compressed_bytes {
            rows.push(("compressed", c));
        }
        rows.push(("wasted", &self.wasted_bytes));
        if let Some(c) = &self.removable_bytes {
            rows.push(("removable", c));
        }
        rows.push(("download", &self.download_bytes));
        rows
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryDiff {
    pub id: String,
    pub name: String,
    pub group: String,
    pub removable: bool,
    pub final_bytes: Change,
    pub wasted_bytes: Change,
    /// Stored bytes of the category's final files.
    pub final_download_bytes: Change,
}

/// A group (build tools, caches, …): the sum of its categories.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDiff {
    pub group: String,
    pub removable: bool,
    pub final_bytes: Change,
    /// Stored bytes of the group's final files.
    pub final_download_bytes: Change,
}

/// A package present on one side or both.
#[derive(Debug, Clone, Serialize)]
pub struct PackageDiff {
    pub manager: String,
    pub name: String,
    pub version_before: Option<String>,
    pub version_after: Option<String>,
    pub bytes: Change,
    /// Stored bytes of the package's files.
    pub download_bytes: Change,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PackagesDiff {
    pub added: Vec<PackageDiff>,
    pub removed: Vec<PackageDiff>,
    /// Present on both sides and larger after.
    pub grown: Vec<PackageDiff>,
    /// Present on both sides and smaller after.
    pub shrunk: Vec<PackageDiff>,
    /// Present on both sides with the same size.
    pub unchanged: usize,
}

/// A layer, by its diff_id.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRef {
    pub diff_id: String,
    /// Index in the before image, when there.
    pub before_index: Option<usize>,
    /// Index in the after image, when there.
    pub after_index: Option<usize>,
    pub file_bytes: u64,
    pub compressed_bytes: Option<u64>,
    /// The layer's stored bytes (what a pull transfers), on the side it is
    /// listed from (the before side for a shared layer).
    pub download_bytes: u64,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct LayersDiff {
    pub shared: Vec<LayerRef>,
    pub only_before: Vec<LayerRef>,
    pub only_after: Vec<LayerRef>,
    pub shared_file_bytes: u64,
    /// Σ stored bytes of the shared layers, as the before image stores them.
    pub shared_download_bytes: u64,
}

impl LayersDiff {
    /// The layers on one side only, labelled `before` / `after`, before first.
    pub fn one_sided(&self) -> impl Iterator<Item = (&'static str, &LayerRef)> {
        let before = self.only_before.iter().map(|r| ("before", r));
        before.chain(self.only_after.iter().map(|r| ("after", r)))
    }
}

/// A path whose final bytes differ.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathDiff {
    pub path: String,
    pub bytes: Change,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PathsDiff {
    /// `false` when an analysis carried no path list (then the lists are empty).
    pub available: bool,
    pub added_count: u64,
    pub removed_count: u64,
    pub grown_count: u64,
    pub shrunk_count: u64,
    pub added_bytes: u64,
    pub removed_bytes: u64,
    /// The largest of each kind, at most `top` each.
    pub added: Vec<PathDiff>,
    pub removed: Vec<PathDiff>,
    pub grown: Vec<PathDiff>,
    pub shrunk: Vec<PathDiff>,
}

/// A savings group's subtotal on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct SavingsRow {
    pub group: String,
    pub in_final: bool,
    pub subtotal: Change,
    /// The group's stored (download) bytes on both sides.
    pub download_subtotal: Change,
}

#[derive(Debug, Clone, Serialize)]
pub struct SavingsDiff {
    pub removable: Vec<SavingsRow>,
    pub removable_bytes: Change,
    pub minimum_bytes: Change,
    pub hidden_bytes: Change,
    pub removable_download_bytes: Change,
    /// The measured minimum download (`minimum_download_bytes`).
    pub minimum_download_bytes: Change,
    pub hidden_download_bytes: Change,
}

/// Everything `imgaudit diff` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema_version: u32,
    pub before: Side,
    pub after: Side,
    pub totals: TotalsDiff,
    /// Every category with bytes on either side, largest change first.
    pub categories: Vec<CategoryDiff>,
    pub groups: Vec<GroupDiff>,
    pub packages: PackagesDiff,
    pub layers: LayersDiff,
    pub paths: PathsDiff,
    /// `None` when either side has no savings breakdown (`--sizes-only`).
    pub savings: Option<SavingsDiff>,
}

impl Diff {
    /// `true` when nothing differs in the final filesystem or layers.
    pub fn is_empty(&self) -> bool {
        self.totals.final_bytes.delta == 0
            && self.totals.layer_bytes.delta == 0
            && self.layers.only_before.is_empty()
            && self.layers.only_after.is_empty()
            && self.paths.added_count
                + self.paths.removed_count
                + self.paths.grown_count
                + self.paths.shrunk_count
                == 0
    }
}

fn side(a: &Analysis) -> Side {
    Side {
        reference: a.image.reference.clone(),
        source: Some(a.image.source),
        platform: a.image.platform.clone(),
        config_digest: a.image.config_digest.to_string(),
        manifest_digest: a.image.manifest_digest.as_ref().map(|d| d.to_string()),
    }
}

fn by_abs_delta<T>(v: &mut [T], key: impl Fn(&T) -> (i64, &str)) {
    v.sort_by(|x, y| {
        let (dx, nx) = key(x);
        let (dy, ny) = key(y);
        dy.unsigned_abs().cmp(&dx.unsigned_abs()).then(nx.cmp(ny))
    });
}

/// Compare `before` with `after`, keeping at most `top` entries per
/// package and path list.
pub fn diff(before: &Analysis, after: &Analysis, top: usize) -> Diff {
    let (b, a) = (&before.totals, &after.totals);
    let totals = TotalsDiff {
        final_bytes: Change::new(b.final_bytes, a.final_bytes),
        compressed_bytes: b
            .compressed_bytes
            .zip(a.compressed_bytes)
            .map(|(x, y)| Change::new(x, y)),
        layer_bytes: Change::new(b.layer_bytes, a.layer_bytes),
        wasted_bytes: Change::new(b.wasted_bytes, a.wasted_bytes),
        files: Change::new(b.files, a.files),
        layers: Change::new(before.layers.len() as u64, after.layers.len() as u64),
        removable_bytes: before
            .savings
            .as_ref()
            .zip(after.savings.as_ref())
            .map(|(x, y)| Change::new(x.removable_bytes, y.removable_bytes)),
        efficiency_before: b.efficiency,
        efficiency_after: a.efficiency,
        download_bytes: Change::new(b.download_bytes, a.download_bytes),
        final_download_bytes: Change::new(b.final_download_bytes, a.final_download_bytes),
        wasted_download_bytes: Change::new(b.wasted_download_bytes, a.wasted_download_bytes),
    };

    // Categories, in the order of the after side's rules then the before's.
    let mut categories: Vec<CategoryDiff> = Vec::new();
    for c in after.categories.iter().chain(&before.categories) {
        if categories.iter().any(|d| d.id == c.id) {
            continue;
        }
        let find = |x: &Analysis| x.categories.iter().find(|k| k.id == c.id).cloned();
        let (cb, ca) = (find(before), find(after));
        let fb = cb
            .as_ref()
            .map_or((0, 0), |k| (k.final_bytes, k.wasted_bytes));
        let fa = ca
            .as_ref()
            .map_or((0, 0), |k| (k.final_bytes, k.wasted_bytes));
        if fb == (0, 0) && fa == (0, 0) {
            continue;
        }
        let download = |k: &Option<crate::breakdown::CategoryInfo>| {
            k.as_ref().map_or(0, |k| k.final_download_bytes)
        };
        categories.push(CategoryDiff {
            id: c.id.clone(),
            name: c.name.clone(),
            group: c.group.clone(),
            removable: c.removable,
            final_bytes: Change::new(fb.0, fa.0),
            wasted_bytes: Change::new(fb.1, fa.1),
            final_download_bytes: Change::new(download(&cb), download(&ca)),
        });
    }
    let mut groups: Vec<GroupDiff> = Vec::new();
    for c in &categories {
        match groups.iter_mut().find(|g| g.group == c.group) {
            Some(g) => {
                g.final_bytes = Change::new(
                    g.final_bytes.before + c.final_bytes.before,
                    g.final_bytes.after + c.final_bytes.after,
                );
                g.final_download_bytes = Change::new(
                    g.final_download_bytes.before + c.final_download_bytes.before,
                    g.final_download_bytes.after + c.final_download_bytes.after,
                );
                g.removable &= c.removable;
            }
            None => groups.push(GroupDiff {
                group: c.group.clone(),
                removable: c.removable,
                final_bytes: c.final_bytes,
                final_download_bytes: c.final_download_bytes,
            }),
        }
    }
    by_abs_delta(&mut categories, |c| (c.final_bytes.delta, &c.id));
    by_abs_delta(&mut groups, |g| (g.final_bytes.delta, &g.group));

    Diff {
        schema_version: SCHEMA_VERSION,
        before: side(before),
        after: side(after),
        totals,
        categories,
        groups,
        packages: packages(before, after, top),
        layers: layers(before, after),
        paths: paths(before, after, top),
        savings: savings(before, after),
    }
}

fn manager(p: &crate::breakdown::PackageInfo) -> String {
    serde_json::to_value(p.manager)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn packages(before: &Analysis, after: &Analysis, top: usize) -> PackagesDiff {
    let key = |p: &crate::breakdown::PackageInfo| (manager(p), p.name.clone());
    let bmap: FxHashMap<(String, String), &crate::breakdown::PackageInfo> =
        before.packages.iter().map(|p| (key(p), p)).collect();
    let amap: FxHashMap<(String, String), &crate::breakdown::PackageInfo> =
        after.packages.iter().map(|p| (key(p), p)).collect();
    let mut out = PackagesDiff::default();
    for (k, p) in &amap {
        let d = |b: Option<&&crate::breakdown::PackageInfo>| PackageDiff {
            manager: k.0.clone(),
            name: k.1.clone(),
            version_before: b.map(|b| b.version.clone()),
            version_after: Some(p.version.clone()),
            bytes: Change::new(b.map_or(0, |b| b.bytes), p.bytes),
            download_bytes: Change::new(b.map_or(0, |b| b.download_bytes), p.download_bytes),
        };
        match bmap.get(k) {
            None => out.added.push(d(None)),
            Some(b) if p.bytes > b.bytes => out.grown.push(d(Some(b))),
            Some(b) if p.bytes < b.bytes => out.shrunk.push(d(Some(b))),
            Some(_) => out.unchanged += 1,
        }
    }
    for (k, p) in &bmap {
        if !amap.contains_key(k) {
            out.removed.push(PackageDiff {
                manager: k.0.clone(),
                name: k.1.clone(),
                version_before: Some(p.version.clone()),
                version_after: None,
                bytes: Change::new(p.bytes, 0),
                download_bytes: Change::new(p.download_bytes, 0),
            });
        }
    }
    for v in [
        &mut out.added,
        &mut out.removed,
        &mut out.grown,
        &mut out.shrunk,
    ] {
        by_abs_delta(v, |p| (p.bytes.delta, &p.name));
        v.truncate(top);
    }
    out
}

fn layers(before: &Analysis, after: &Analysis) -> LayersDiff {
    let mut out = LayersDiff::default();
    let in_after: FxHashMap<String, usize> = after
        .layers
        .iter()
        .map(|l| (l.diff_id.to_string(), l.index))
        .collect();
    let in_before: FxHashMap<String, usize> = before
        .layers
        .iter()
        .map(|l| (l.diff_id.to_string(), l.index))
        .collect();
    for l in &before.layers {
        let id = l.diff_id.to_string();
        let r = LayerRef {
            after_index: in_after.get(&id).copied(),
            diff_id: id,
            before_index: Some(l.index),
            file_bytes: l.file_bytes,
            compressed_bytes: l.compressed_bytes,
            download_bytes: l.download_bytes,
            created_by: l.created_by.clone(),
        };
        if r.after_index.is_some() {
            out.shared_file_bytes += l.file_bytes;
            out.shared_download_bytes += l.download_bytes;
            out.shared.push(r);
        } else {
            out.only_before.push(r);
        }
    }
    for l in &after.layers {
        let id = l.diff_id.to_string();
        if !in_before.contains_key(&id) {
            out.only_after.push(LayerRef {
                diff_id: id,
                before_index: None,
                after_index: Some(l.index),
                file_bytes: l.file_bytes,
                compressed_bytes: l.compressed_bytes,
                download_bytes: l.download_bytes,
                created_by: l.created_by.clone(),
            });
        }
    }
    out
}

fn paths(before: &Analysis, after: &Analysis, top: usize) -> PathsDiff {
    let (Some(pb), Some(pa)) = (&before.paths, &after.paths) else {
        return PathsDiff::default();
    };
    let mut out = PathsDiff {
        available: true,
        ..PathsDiff::default()
    };
    // Both lists come from sorted walks, but merge through a map to be safe.
    let bmap: FxHashMap<&str, u64> = pb
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.bytes))
        .collect();
    let mut seen: FxHashMap<&str, ()> = FxHashMap::default();
    for e in &pa.entries {
        seen.insert(&e.path, ());
        let d = |before: u64| PathDiff {
            path: e.path.clone(),
            bytes: Change::new(before, e.bytes),
        };
        match bmap.get(e.path.as_str()) {
            None => {
                out.added_count += 1;
                out.added_bytes += e.bytes;
                out.added.push(d(0));
            }
            Some(&b) if e.bytes > b => {
                out.grown_count += 1;
                out.grown.push(d(b));
            }
            Some(&b) if e.bytes < b => {
                out.shrunk_count += 1;
                out.shrunk.push(d(b));
            }
            Some(_) => {}
        }
    }
    for e in &pb.entries {
        if !seen.contains_key(e.path.as_str()) {
            out.removed_count += 1;
            out.removed_bytes += e.bytes;
            out.removed.push(PathDiff {
                path: e.path.clone(),
                bytes: Change::new(e.bytes, 0),
            });
        }
    }
    for v in [
        &mut out.added,
        &mut out.removed,
        &mut out.grown,
        &mut out.shrunk,
    ] {
        by_abs_delta(v, |p| (p.bytes.delta, &p.path));
        v.truncate(top);
    }
    out
}

fn savings(before: &Analysis, after: &Analysis) -> Option<SavingsDiff> {
    let (sb, sa) = (before.savings.as_ref()?, after.savings.as_ref()?);
    let mut rows: Vec<SavingsRow> = Vec::new();
    for g in sb.removable.iter().chain(&sa.removable) {
        if rows
            .iter()
            .any(|r| r.group == g.group && r.in_final == g.in_final)
        {
            continue;
        }
        let sub = |s: &crate::breakdown::Savings| {
            s.removable
                .iter()
                .find(|x| x.group == g.group && x.in_final == g.in_final)
                .map_or((0, 0), |x| (x.subtotal, x.download_subtotal))
        };
        let (b, a) = (sub(sb), sub(sa));
        rows.push(SavingsRow {
            group: g.group.clone(),
            in_final: g.in_final,
            subtotal: Change::new(b.0, a.0),
            download_subtotal: Change::new(b.1, a.1),
        });
    }
    Some(SavingsDiff {
        removable: rows,
        removable_bytes: Change::new(sb.removable_bytes, sa.removable_bytes),
        minimum_bytes: Change::new(sb.minimum_bytes, sa.minimum_bytes),
        hidden_bytes: Change::new(sb.hidden_bytes, sa.hidden_bytes),
        removable_download_bytes: Change::new(
            sb.removable_download_bytes,
            sa.removable_download_bytes,
        ),
        minimum_download_bytes: Change::new(sb.minimum_download_bytes, sa.minimum_download_bytes),
        hidden_download_bytes: Change::new(sb.hidden_download_bytes, sa.hidden_download_bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn change_percent() {
        let c = Change::new(550, 217);
        assert_eq!(c.delta, -333);
        assert!((c.percent.unwrap() + 60.545).abs() < 0.01);
        assert_eq!(Change::new(0, 5).percent, None);
    }
}
