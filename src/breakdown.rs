//! Stage 4b: categories, packages and the savings breakdown, computed from the
//! stacked tree, the probe facts and the rules. The result is part of the
//! serializable model in `analysis`.
//!
//! Partition: every final byte lands in exactly one category. A file's
//! strippable ELF bytes go to `debug-symbols`, the rest to the file's own
//! category; wasted (hidden) bytes are attributed the same way, separately.

use crate::classify::packages::{self, Manager, Package, PackageIndex};
use crate::classify::PathTag;
use crate::classify::Rules;
use crate::finding::{Amount, Code, Contributor, ContributorKind, Level, Status, Unit};
use crate::layer::display_path;
use crate::layer::probe::DbKind;
use crate::tree::FinalFile;
use crate::tree::Tree;
use crate::units::shorten;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize)]
pub struct CategoryInfo {
    pub id: String,
    pub name: String,
    pub group: String,
    pub removable: bool,
    pub fix: String,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    /// Stored (compressed) bytes of the final files, as attributed while
    /// decoding (docs/ACCOUNTING.md); a file's strippable share goes to
    /// `debug-symbols` in proportion to its bytes.
    pub final_download_bytes: u64,
    /// Stored bytes of this category's files hidden by later layers.
    pub wasted_download_bytes: u64,
    pub files: u64,
    /// Layers that contribute final bytes.
    pub layers: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageInfo {
    pub manager: Manager,
    pub name: String,
    pub version: String,
    /// Final bytes of the package's files (strippable debug bytes included).
    pub bytes: u64,
    /// Stored (compressed) bytes of those files.
    pub download_bytes: u64,
    pub files: u64,
    pub layer: u32,
    /// The category most of its bytes fall in.
    pub category: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SavingsItem {
    /// Package name, or the directory the files are in (at most three
    /// levels, folded into an ancestor listed for the same category).
    pub label: String,
    /// The item's category (`None` for bytes hidden by later layers).
    pub category: Option<String>,
    pub bytes: u64,
    /// What removing the item saves on every pull (stored bytes).
    pub download_bytes: u64,
    pub files: u64,
    pub layers: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SavingsGroup {
    pub group: String,
    /// `false` for bytes hidden by later layers: shipped, but not in the final filesystem.
    pub in_final: bool,
    pub categories: Vec<String>,
    /// The fix of the group's first category (see `fixes` for all of them).
    pub fix: String,
    /// One fix per category in the group.
    pub fixes: Vec<CategoryFix>,
    pub items: Vec<SavingsItem>,
    pub subtotal: u64,
    /// Σ the items' `download_bytes`.
    pub download_subtotal: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryFix {
    pub category: String,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequiredGroup {
    pub group: String,
    pub bytes: u64,
    pub download_bytes: u64,
}

/// A history anti-pattern linked to waste: the crate's shared finding type,
/// with an `IA…` code, a warn level, and `layer` and `bytes` set.
pub use crate::finding::Finding;

#[derive(Debug, Clone, Serialize)]
pub struct Savings {
    pub removable: Vec<SavingsGroup>,
    pub required: Vec<RequiredGroup>,
    /// Σ removable groups (final bytes only).
    pub removable_bytes: u64,
    /// Bytes shipped in layers but hidden by later ones (removable by squashing).
    pub hidden_bytes: u64,
    /// `final_bytes - removable_bytes`.
    pub minimum_bytes: u64,
    /// Measured: `minimum_download_bytes` when the layers are stored
    /// compressed; `None` when a layer's compressed size is unknown.
    pub minimum_compressed_bytes: Option<u64>,
    /// Σ removable groups' stored (download) bytes.
    pub removable_download_bytes: u64,
    /// Stored bytes of the files hidden by later layers.
    pub hidden_download_bytes: u64,
    /// What the image would cost to pull without the removable and hidden
    /// files: the stored bytes minus what those files were attributed.
    pub minimum_download_bytes: u64,
    pub findings: Vec<Finding>,
}

const HIDDEN_FIX: &str = "Delete files in the same RUN that creates them (or squash those layers / use a multi-stage build), so deleted bytes are never shipped";

/// Items listed per removable group before the rest are folded.
const MAX_ITEMS: usize = 12;

/// Build the package index from the database files visible in the final
/// tree (at their own paths), in path order.
pub(crate) fn package_index(tree: &Tree) -> PackageIndex {
    let mut status: Option<HashMap<String, String>> = None;
    let mut lists = Vec::new();
    let mut records = Vec::new();
    let mut apk = None;
    for ino in tree.inodes_with_facts() {
        let Some((kind, data)) = tree.inode_facts(ino).and_then(|x| x.db.as_ref()) else {
            continue;
        };
        let path = tree.inode_path(ino);
        if tree.file_at(&path) != Some(ino) {
            continue; // deleted or replaced later
        }
        match kind {
            DbKind::DpkgStatus => {
                status = Some(packages::parse_dpkg_status(data).into_iter().collect())
            }
            DbKind::DpkgList => lists.push((path, ino)),
            DbKind::PythonRecord => records.push((path, ino)),
            DbKind::ApkInstalled => apk = Some(ino),
        }
    }
    lists.sort_unstable();
    records.sort_unstable();
    let db = |ino: u32| {
        tree.inode_facts(ino)
            .and_then(|x| x.db.as_ref())
            .map(|d| &d.1[..])
            .unwrap_or(&[])
    };
    // Parsing the lists and RECORDs is most of the work and runs in the
    // single-threaded tail after decoding, so it is spread over the pool;
    // packages are added in path order afterwards, so the index (first
    // owner wins) does not depend on the schedule.
    let dpkg = lists.par_iter().filter_map(|(path, ino)| {
        let ino = *ino;
        let name = packages::dpkg_list_package(path)?;
        let version = match &status {
            Some(s) => s.get(&name)?.clone(), // None: not installed any more
            None => String::new(),
        };
        let pkg = Package {
            manager: Manager::Dpkg,
            name,
            version,
            layer: tree.inodes[ino as usize].layer,
        };
        Some((pkg, packages::parse_dpkg_list(db(ino))))
    });
    let pip = records.par_iter().filter_map(|(path, ino)| {
        let ino = *ino;
        let (name, version, root) = packages::record_meta(path)?;
        let pkg = Package {
            manager: Manager::Pip,
            name,
            version,
            layer: tree.inodes[ino as usize].layer,
        };
        Some((pkg, packages::parse_record(db(ino), &root)))
    });
    let parsed: Vec<(Package, Vec<Vec<u8>>)> = dpkg.chain(pip).collect();
    let mut index = PackageIndex::default();
    index
        .owner
        .reserve(parsed.iter().map(|(_, paths)| paths.len()).sum());
    for (pkg, paths) in parsed {
        index.add(pkg, paths);
    }
    if let Some(ino) = apk {
        for (name, version, files) in packages::parse_apk(db(ino)) {
            let pkg = Package {
                manager: Manager::Apk,
                name,
                version,
                layer: tree.inodes[ino as usize].layer,
            };
            index.add(pkg, files);
        }
    }
    index
}

/// The part of a path that labels a file not owned by a package: its first
/// directories (at most three, at least one).
fn prefix_of(path: &[u8]) -> &[u8] {
    let dirs = path.iter().filter(|&&b| b == b'/').count();
    let keep = dirs.clamp(1, 3);
    let mut seen = 0;
    for (i, &b) in path.iter().enumerate() {
        if b == b'/' {
            seen += 1;
            if seen == keep {
                return &path[..i];
            }
        }
    }
    path
}

/// `dir/NAME.py` for `dir/__pycache__/NAME.<tag>.pyc`.
fn pycache_source(path: &[u8]) -> Option<Vec<u8>> {
    let slash = path.iter().rposition(|&b| b == b'/')?;
    let (dir, file) = (&path[..slash], &path[slash + 1..]);
    let parent = dir.strip_suffix(b"__pycache__")?;
    if !file.ends_with(b".pyc") {
        return None;
    }
    let stem = &file[..file.iter().position(|&b| b == b'.')?];
    let mut src = parent.to_vec();
    src.extend_from_slice(stem);
    src.extend_from_slice(b".py");
    Some(src)
}

#[derive(Default)]
struct Acc {
    bytes: u64,
    download: u64,
    files: u64,
    layers: BTreeSet<u32>,
}

impl Acc {
    fn add(&mut self, bytes: u64, download: u64, layer: u32) {
        self.bytes += bytes;
        self.download += download;
        self.files += 1;
        self.layers.insert(layer);
    }
    fn merge(&mut self, o: Acc) {
        self.bytes += o.bytes;
        self.download += o.download;
        self.files += o.files;
        self.layers.extend(o.layers);
    }
}

/// A package's final bytes, stored bytes, files and bytes per category.
#[derive(Clone, Default)]
struct PkgAcc {
    bytes: u64,
    download: u64,
    files: u64,
    cats: HashMap<usize, u64>,
}

/// The part of a file's stored bytes that goes with `part` of its `bytes`
/// (the strippable share of an ELF file).
fn share(download: u64, part: u64, bytes: u64) -> u64 {
    if bytes == 0 {
        0
    } else {
        (download as u128 * part.min(bytes) as u128 / bytes as u128) as u64
    }
}

/// Per-category savings items: files owned by a package are grouped by the
/// package, the rest by path prefix (keys borrowed until a new one is seen).
#[derive(Default)]
struct Items {
    by_package: HashMap<usize, Acc>,
    by_prefix: HashMap<Box<[u8]>, Acc>,
}

impl Items {
    fn entry(&mut self, owner: Option<usize>, path: &[u8]) -> &mut Acc {
        match owner {
            Some(o) => self.by_package.entry(o).or_default(),
            None => {
                let prefix = prefix_of(path);
                if !self.by_prefix.contains_key(prefix) {
                    self.by_prefix.insert(prefix.into(), Acc::default());
                }
                self.by_prefix.get_mut(prefix).expect("just inserted")
            }
        }
    }

    /// Items by label (a package name or `/prefix`), merged where labels
    /// meet; a prefix under another prefix of the same category folds into
    /// it (`/app/.git/hooks` into `/app/.git`).
    fn into_labelled(self, index: &PackageIndex) -> BTreeMap<String, Acc> {
        let mut out: BTreeMap<String, Acc> = BTreeMap::new();
        for (o, a) in self.by_package {
            out.entry(index.packages[o].name.clone())
                .or_default()
                .merge(a);
        }
        let mut prefixes: Vec<(Box<[u8]>, Acc)> = self.by_prefix.into_iter().collect();
        prefixes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(Box<[u8]>, Acc)> = Vec::new();
        for (p, a) in prefixes {
            // Sorted, so an ancestor comes before its descendants.
            let ancestor = kept
                .iter_mut()
                .rev()
                .find(|(k, _)| p.len() > k.len() && p.starts_with(k) && p[k.len()] == b'/');
            match ancestor {
                Some((_, acc)) => acc.merge(a),
                None => kept.push((p, a)),
            }
        }
        for (p, a) in kept {
            out.entry(display_path(&p)).or_default().merge(a);
        }
        out
    }
}

/// Everything stage 4b produces.
pub struct Breakdown {
    pub categories: Vec<CategoryInfo>,
    pub packages: Vec<PackageInfo>,
    pub savings: Savings,
}

pub struct Inputs<'a> {
    pub tree: &'a Tree,
    pub reached: &'a [bool],
    pub final_bytes: u64,
    pub layer_bytes: u64,
    pub compressed_bytes: Option<u64>,
    /// Σ the layers' stored bytes (what a pull transfers).
    pub download_bytes: u64,
    pub created_by: Vec<Option<String>>,
}

/// Categories, packages and savings, accumulated one final file at a time
/// (fed by the analysis stage's single walk of the final tree).
pub struct Accumulator<'r> {
    rules: &'r Rules,
    index: PackageIndex,
    /// Best package-rule category of each package, computed once.
    package_class: Vec<Option<usize>>,
    cat_final: Vec<Acc>,
    items: Vec<Items>,
    pkg_acc: Vec<PkgAcc>,
}

impl<'r> Accumulator<'r> {
    /// Index the packages of the final filesystem; call before the walk.
    pub fn new(tree: &Tree, rules: &'r Rules) -> Accumulator<'r> {
        let index = package_index(tree);
        let ncat = rules.categories.len();
        Accumulator {
            package_class: index
                .packages
                .iter()
                .map(|p| rules.classify_package(&p.name))
                .collect(),
            pkg_acc: vec![PkgAcc::default(); index.packages.len()],
            index,
            rules,
            cat_final: (0..ncat).map(|_| Acc::default()).collect(),
            items: (0..ncat).map(|_| Items::default()).collect(),
        }
    }

    /// The name of the package that owns `path`, if any.
    pub fn package_of(&self, path: &[u8]) -> Option<&str> {
        self.index
            .owner_of(path)
            .map(|o| self.index.packages[o].name.as_str())
    }

    /// Category (path rules via the tag, package rules via the owner) and
    /// strippable ELF bytes of a file.
    fn classify(
        &self,
        tree: &Tree,
        path: &[u8],
        tag: PathTag,
        size: u64,
        ino: u32,
    ) -> (usize, u64, Option<usize>) {
        let owner = self.index.owner_of(path);
        let cat = self
            .rules
            .pick(
                self.rules.tag_category(tag),
                owner.and_then(|o| self.package_class[o]),
            )
            .unwrap_or(self.rules.other());
        let strip = tree
            .inode_facts(ino)
            .and_then(|f| f.elf)
            .map_or(0, |e| e.strippable_bytes.min(size));
        (cat, strip, owner)
    }

    /// Account one visible path of the final filesystem; returns the file's
    /// category (`None` for symlinks and other non-files).
    pub fn file(&mut self, tree: &Tree, f: &FinalFile) -> Option<usize> {
        let ino = f.inode?;
        let (cat, strip, owner) = self.classify(tree, f.path, f.tag, f.bytes, ino);
        let debug = self.rules.debug();
        // Bytecode is not in the package lists (pip records it only when it
        // compiles at install time), but its source file is: label by that.
        let label_owner =
            owner.or_else(|| pycache_source(f.path).and_then(|s| self.index.owner_of(&s)));
        let rest = f.bytes - strip;
        let dstrip = share(f.download, strip, f.bytes);
        for (c, b, d) in [(cat, rest, f.download - dstrip), (debug, strip, dstrip)] {
            // The file's own category always gets the file; debug-symbols
            // only when there are strippable bytes.
            if b == 0 && !(c == cat && strip == 0) {
                continue;
            }
            let a = &mut self.cat_final[c];
            a.bytes += b;
            a.download += d;
            a.layers.insert(f.layer);
            self.items[c].entry(label_owner, f.path).add(b, d, f.layer);
        }
        self.cat_final[cat].files += 1;
        if let Some(o) = owner {
            let p = &mut self.pkg_acc[o];
            p.bytes += f.bytes;
            p.download += f.download;
            p.files += 1;
            *p.cats.entry(cat).or_default() += rest;
            *p.cats.entry(debug).or_default() += strip;
        }
        Some(cat)
    }

    /// Wasted bytes per category, the package table and the savings breakdown.
    pub fn finish(self, inp: Inputs) -> Breakdown {
        let (tree, reached) = (inp.tree, inp.reached);
        let ncat = self.rules.categories.len();
        let debug = self.rules.debug();
        let mut cat_wasted = vec![0u64; ncat];
        let mut cat_wasted_download = vec![0u64; ncat];
        let mut wasted_by_layer_cat: BTreeMap<(u32, Option<u32>), u64> = BTreeMap::new();
        for (i, inode) in tree.inodes.iter().enumerate() {
            if reached[i] || inode.size == 0 {
                continue;
            }
            let path = tree.inode_path(i as u32);
            let (cat, strip, _) =
                self.classify(tree, &path, tree.inode_tag(i as u32), inode.size, i as u32);
            cat_wasted[cat] += inode.size - strip;
            cat_wasted[debug] += strip;
            let dstrip = share(inode.download, strip, inode.size);
            cat_wasted_download[cat] += inode.download - dstrip;
            cat_wasted_download[debug] += dstrip;
            *wasted_by_layer_cat
                .entry((inode.layer, inode.hidden_by))
                .or_default() += inode.size;
        }
        let Accumulator {
            rules,
            index,
            cat_final,
            items,
            pkg_acc,
            ..
        } = self;
        let items: Vec<BTreeMap<String, Acc>> = items
            .into_iter()
            .map(|it| it.into_labelled(&index))
            .collect();
        let out = finish(
            inp,
            rules,
            &index,
            cat_final,
            [cat_wasted, cat_wasted_download],
            items,
            &pkg_acc,
            wasted_by_layer_cat,
        );
        crate::drop_later(index);
        out
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    inp: Inputs,
    rules: &Rules,
    index: &PackageIndex,
    cat_final: Vec<Acc>,
    [cat_wasted, cat_wasted_download]: [Vec<u64>; 2],
    mut items: Vec<BTreeMap<String, Acc>>,
    pkg_acc: &[PkgAcc],
    wasted_by_layer_cat: BTreeMap<(u32, Option<u32>), u64>,
) -> Breakdown {
    let categories: Vec<CategoryInfo> = rules
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| CategoryInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            group: c.group.clone(),
            removable: c.removable,
            fix: c.fix.clone(),
            final_bytes: cat_final[i].bytes,
            wasted_bytes: cat_wasted[i],
            final_download_bytes: cat_final[i].download,
            wasted_download_bytes: cat_wasted_download[i],
            files: cat_final[i].files,
            layers: cat_final[i].layers.iter().copied().collect(),
        })
        .collect();

    let mut pkgs: Vec<PackageInfo> = index
        .packages
        .iter()
        .zip(pkg_acc)
        .map(|(p, acc)| PackageInfo {
            manager: p.manager,
            name: p.name.clone(),
            version: p.version.clone(),
            bytes: acc.bytes,
            download_bytes: acc.download,
            files: acc.files,
            layer: p.layer,
            category: acc
                .cats
                .iter()
                .max_by_key(|(c, b)| (**b, std::cmp::Reverse(**c)))
                .map(|(c, _)| rules.categories[*c].id.clone())
                .unwrap_or_else(|| rules.categories[rules.other()].id.clone()),
        })
        .collect();
    pkgs.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));

    // Removable groups, in the order their first category is defined.
    let mut removable: Vec<SavingsGroup> = Vec::new();
    for (i, c) in rules.categories.iter().enumerate() {
        if !c.removable || cat_final[i].bytes == 0 {
            continue;
        }
        let g = match removable.iter_mut().position(|g| g.group == c.group) {
            Some(p) => &mut removable[p],
            None => {
                removable.push(SavingsGroup {
                    group: c.group.clone(),
                    in_final: true,
                    categories: Vec::new(),
                    fix: c.fix.clone(),
                    fixes: Vec::new(),
                    items: Vec::new(),
                    subtotal: 0,
                    download_subtotal: 0,
                });
                removable.last_mut().expect("just pushed")
            }
        };
        g.categories.push(c.id.clone());
        g.fixes.push(CategoryFix {
            category: c.id.clone(),
            fix: c.fix.clone(),
        });
        g.subtotal += cat_final[i].bytes;
        g.download_subtotal += cat_final[i].download;
        for (label, a) in std::mem::take(&mut items[i]) {
            if a.bytes > 0 {
                g.items.push(SavingsItem {
                    label,
                    category: Some(c.id.clone()),
                    bytes: a.bytes,
                    download_bytes: a.download,
                    files: a.files,
                    layers: a.layers.into_iter().collect(),
                });
            }
        }
    }
    for g in &mut removable {
        g.items
            .sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.label.cmp(&b.label)));
        if g.items.len() > MAX_ITEMS {
            let rest = g.items.split_off(MAX_ITEMS - 1);
            let cats: BTreeSet<&Option<String>> = rest.iter().map(|i| &i.category).collect();
            let category = match cats.into_iter().collect::<Vec<_>>()[..] {
                [one] => one.clone(),
                _ => None,
            };
            g.items.push(SavingsItem {
                label: format!("{} more", rest.len()),
                category,
                bytes: rest.iter().map(|i| i.bytes).sum(),
                download_bytes: rest.iter().map(|i| i.download_bytes).sum(),
                files: rest.iter().map(|i| i.files).sum(),
                layers: rest
                    .iter()
                    .flat_map(|i| i.layers.iter().copied())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            });
        }
    }
    let removable_bytes: u64 = removable.iter().map(|g| g.subtotal).sum();
    let removable_download_bytes: u64 = removable.iter().map(|g| g.download_subtotal).sum();
    let hidden_bytes = inp.layer_bytes - inp.final_bytes;
    let mut hidden_download_bytes = 0;
    if hidden_bytes > 0 {
        let mut per_layer: BTreeMap<u32, (u64, u64, u64)> = BTreeMap::new();
        for (i, inode) in inp.tree.inodes.iter().enumerate() {
            if !inp.reached[i] && inode.size > 0 {
                let e = per_layer.entry(inode.layer).or_default();
                e.0 += inode.size;
                e.1 += 1;
                e.2 += inode.download;
            }
        }
        hidden_download_bytes = per_layer.values().map(|e| e.2).sum();
        let mut items: Vec<SavingsItem> = per_layer
            .into_iter()
            .map(|(l, (bytes, files, download_bytes))| SavingsItem {
                label: inp
                    .created_by
                    .get(l as usize)
                    .cloned()
                    .flatten()
                    .map(|c| short(&c))
                    .unwrap_or_else(|| "(no history)".into()),
                category: None,
                bytes,
                download_bytes,
                files,
                layers: vec![l],
            })
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.bytes));
        removable.push(SavingsGroup {
            group: "Hidden by later layers".into(),
            in_final: false,
            categories: Vec::new(),
            fix: HIDDEN_FIX.into(),
            fixes: vec![CategoryFix {
                category: String::new(),
                fix: HIDDEN_FIX.into(),
            }],
            items,
            subtotal: hidden_bytes,
            download_subtotal: hidden_download_bytes,
        });
    }

    let mut required: Vec<RequiredGroup> = Vec::new();
    for (i, c) in rules.categories.iter().enumerate() {
        if c.removable || cat_final[i].bytes == 0 {
            continue;
        }
        match required.iter_mut().find(|g| g.group == c.group) {
            Some(g) => {
                g.bytes += cat_final[i].bytes;
                g.download_bytes += cat_final[i].download;
            }
            None => required.push(RequiredGroup {
                group: c.group.clone(),
                bytes: cat_final[i].bytes,
                download_bytes: cat_final[i].download,
            }),
        }
    }
    required.sort_by_key(|g| std::cmp::Reverse(g.bytes));

    let findings = findings(&wasted_by_layer_cat, &inp.created_by, &categories);
    let minimum_bytes = inp.final_bytes - removable_bytes;
    let minimum_download_bytes = inp
        .download_bytes
        .saturating_sub(removable_download_bytes + hidden_download_bytes);
    let minimum_compressed_bytes = inp.compressed_bytes.map(|_| minimum_download_bytes);
    Breakdown {
        categories,
        packages: pkgs,
        savings: Savings {
            removable,
            required,
            removable_bytes,
            hidden_bytes,
            minimum_bytes,
            minimum_compressed_bytes,
            removable_download_bytes,
            hidden_download_bytes,
            minimum_download_bytes,
            findings,
        },
    }
}

/// Link waste to the `created_by` lines that show the anti-pattern.
fn findings(
    wasted: &BTreeMap<(u32, Option<u32>), u64>,
    created_by: &[Option<String>],
    categories: &[CategoryInfo],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let cmd = |l: u32| {
        created_by
            .get(l as usize)
            .cloned()
            .flatten()
            .unwrap_or_default()
    };
    for (&(layer, hidden_by), &bytes) in wasted {
        if let Some(h) = hidden_by.filter(|&h| h != layer) {
            let message = format!(
                "{} written by layer {layer} are deleted or replaced by layer {h} ({}); \
                 delete them in the same RUN that creates them (or squash), so they are never shipped",
                crate::units::human(bytes),
                short(&cmd(h))
            );
            out.push(history(Code::IA001, layer, bytes, &cmd(layer), message));
        }
    }
    for (l, c) in created_by.iter().enumerate() {
        let Some(c) = c else { continue };
        let l = l as u32;
        let in_layer = |id: &str| {
            categories
                .iter()
                .any(|k| k.id == id && k.layers.contains(&l))
        };
        if c.contains("apt-get install")
            && !c.contains("/var/lib/apt/lists")
            && in_layer("package-indexes")
        {
            let message = format!(
                "layer {l} runs apt-get install without `rm -rf /var/lib/apt/lists/*` in the same RUN ({})",
                short(c)
            );
            out.push(history(Code::IA002, l, 0, c, message));
        }
        if c.contains("pip install") && !c.contains("--no-cache-dir") && in_layer("package-caches")
        {
            let message = format!(
                "layer {l} runs pip install without --no-cache-dir ({})",
                short(c)
            );
            out.push(history(Code::IA003, l, 0, c, message));
        }
    }
    out
}

/// A history finding, warn level, the layer as its contributor: IA001
/// measures the bytes hidden (none allowed), IA002/IA003 count the one
/// `RUN` line that shows the pattern.
fn history(code: Code, layer: u32, bytes: u64, created_by: &str, message: String) -> Finding {
    let (rule, unit, measured) = match code {
        Code::IA001 => ("history.hidden_by_later_layer", Unit::Bytes, bytes),
        Code::IA002 => ("history.apt_lists_kept", Unit::Count, 1),
        _ => ("history.pip_cache_kept", Unit::Count, 1),
    };
    Finding {
        code,
        rule: rule.into(),
        level: Level::Warn,
        status: Status::Warn,
        unit,
        measured: Amount::Int(measured),
        limit: Amount::Int(0),
        message,
        contributors: vec![Contributor {
            name: format!("layer {layer}: {}", short(created_by)),
            bytes: Some(bytes),
            layer: Some(layer),
            kind: ContributorKind::Layer,
        }],
        layer: Some(layer),
        bytes: Some(bytes),
    }
}

/// History lines quoted in labels and findings are cut to this width.
fn short(s: &str) -> String {
    shorten(s, 80)
}
