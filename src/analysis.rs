//! Stage 4: the serializable analysis model, built from the stacked tree.
//!
//! Every figure is defined in docs/ACCOUNTING.md; the invariants
//! `layer_bytes = final_bytes + wasted_bytes` and
//! `Σ layers[].wasted_bytes = wasted_bytes` hold by construction.
//! Renderers take this model and never compute.

use crate::breakdown::{self, CategoryInfo, PackageInfo, Savings};
use crate::classify::Rules;
use crate::digest::Digest;
use crate::layer::{display_path, LayerChanges};
use crate::source::docs::Compression;
use crate::source::{Image, SourceKind};
use crate::tree::Tree;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Version of the JSON schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub schema_version: u32,
    pub tool: Tool,
    pub image: ImageInfo,
    pub totals: Totals,
    pub layers: Vec<LayerInfo>,
    pub largest_files: Vec<FileInfo>,
    pub largest_dirs: Vec<DirInfo>,
    /// dive's list of wasted files ("inefficient files": every path that
    /// two or more layers name, with dive's figures), largest `dive_bytes`
    /// first, cut to [`Detail::top`]; beside each, our exact figure.
    pub dive_wasted_files: Vec<DiveWastedFile>,
    /// Every final byte in exactly one category (see docs/CATEGORIES.md).
    pub categories: Vec<CategoryInfo>,
    pub packages: Vec<PackageInfo>,
    /// `None` when classification was skipped (`--sizes-only`).
    pub savings: Option<Savings>,
    pub warnings: Vec<String>,
    /// Every visible final path (files, hardlinks, symlinks, …), kept only
    /// when [`Detail::paths`] asks for it (diff, check, HTML treemap); never
    /// in the default JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<PathList>,
    /// Per-layer added, modified, removed and hidden files and each final
    /// path's package, for the explorer; kept with [`Analysis::paths`].
    #[serde(skip)]
    pub changes: Option<crate::explore::changes::Changes>,
}

/// Every visible path of the final filesystem, for the library's own
/// consumers (path diff, forbidden-path budgets, directory tree).
#[derive(Debug, Clone, Serialize, Default)]
pub struct PathList {
    /// Category ids indexed by [`PathEntry::category`].
    pub categories: Vec<String>,
    pub entries: Vec<PathEntry>,
}

/// One visible final path.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PathEntry {
    pub path: String,
    /// Bytes charged to the path (0 for directories, symlinks and the
    /// second and later links to an inode).
    pub bytes: u64,
    /// Stored (download) bytes charged to the path, like `bytes`.
    pub download_bytes: u64,
    pub layer: u32,
    /// Index into [`PathList::categories`]: the file's category (path and
    /// package rules, as in `categories`; its strippable ELF bytes are
    /// counted under debug-symbols there, not here); `None` for symlinks and
    /// other non-files, and without classification.
    pub category: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    pub reference: String,
    pub source: SourceKind,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Digest,
    pub platform: String,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Σ stored layer sizes; `None` when a layer's compressed size is unknown
    /// (legacy docker-save archives store layers uncompressed).
    pub compressed_bytes: Option<u64>,
    /// Σ regular-file bytes over all layers.
    pub layer_bytes: u64,
    /// Regular-file bytes visible in the final filesystem (hardlinks once).
    pub final_bytes: u64,
    /// `layer_bytes - final_bytes`: written by some layer, not visible at the end.
    pub wasted_bytes: u64,
    /// Visible non-directory paths whose type is a regular file (each hardlink path counts).
    pub files: u64,
    /// dive's efficiency score (Σ min / Σ cumulative size per path).
    pub efficiency: f64,
    /// dive's "wasted" figure, for comparison (counts the copy that stays).
    pub dive_wasted_bytes: u64,
    /// Σ uncompressed tar stream sizes.
    pub tar_bytes: u64,
    /// Σ the layers' stored bytes: what a pull transfers (the compressed
    /// blobs; an uncompressed layer's tar).
    pub download_bytes: u64,
    /// Stored bytes attributed to the files visible at the end (hardlinks
    /// once); see docs/ACCOUNTING.md for how entries are attributed.
    pub final_download_bytes: u64,
    /// Stored bytes attributed to files hidden by later layers.
    pub wasted_download_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    pub index: usize,
    /// Digest of the stored bytes, when the image names it.
    pub digest: Option<Digest>,
    pub diff_id: Digest,
    pub media_type: Option<String>,
    /// Compression found in the bytes.
    pub compression: Compression,
    /// Stored size when the source knows a compressed form; `None` for legacy archives.
    pub compressed_bytes: Option<u64>,
    pub tar_bytes: u64,
    pub file_bytes: u64,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub wasted_bytes: u64,
    /// The layer's stored bytes (Σ its entries' download bytes plus the
    /// end-of-archive and trailer bytes no entry is charged).
    pub download_bytes: u64,
    /// Stored bytes of this layer's files hidden by later layers.
    pub wasted_download_bytes: u64,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileInfo {
    pub path: String,
    pub bytes: u64,
    /// Stored (compressed) bytes attributed to the file's tar entry.
    pub download_bytes: u64,
    pub layer: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirInfo {
    pub path: String,
    pub bytes: u64,
    pub download_bytes: u64,
}

/// One entry of dive's wasted-file list (dive's `fileReference`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DiveWastedFile {
    pub path: String,
    /// Layers that name the path (dive's `count`).
    pub count: u32,
    /// dive's `sizeBytes`: Σ over those layers of the entry's size (a
    /// whiteout of a directory: what dive finds below it), *including* the
    /// copy that stays visible.
    pub dive_bytes: u64,
    /// Ours: bytes of regular files written at this path (or below it) by
    /// any layer that are not reachable in the final filesystem.
    pub hidden_bytes: u64,
}

/// How much detail to keep.
#[derive(Debug, Clone, Copy)]
pub struct Detail {
    pub top: usize,
    pub depth: usize,
    /// Keep every visible final path in [`Analysis::paths`] (memory grows
    /// with the file count; nothing is added to the default JSON).
    pub paths: bool,
}

/// Build the model from a resolved image, its decoded layers and the tree.
pub fn build(
    image: &Image,
    layers: &[LayerChanges],
    mut tree: Tree,
    detail: Detail,
    rules: Option<&Rules>,
) -> Analysis {
    let mut files = 0u64;
    let mut final_bytes = 0u64;
    let mut final_download = 0u64;
    // (bytes, path, layer, download bytes), smallest bytes on top.
    type Largest = Reverse<(u64, Vec<u8>, u32, u64)>;
    let mut heap: BinaryHeap<Largest> = BinaryHeap::new();
    let mut dirs: rustc_hash::FxHashMap<Vec<u8>, (u64, u64)> = Default::default();
    let mut categories = rules.map(|r| breakdown::Accumulator::new(&tree, r));
    let mut paths: Option<Vec<PathEntry>> = detail.paths.then(Vec::new);
    let mut explore = detail
        .paths
        .then(crate::explore::changes::Collector::default);
    let reached = tree.walk_final(|f| {
        let category = categories.as_mut().and_then(|c| c.file(&tree, f));
        if let Some(p) = paths.as_mut() {
            p.push(PathEntry {
                path: display_path(f.path),
                bytes: f.bytes,
                download_bytes: f.download,
                layer: f.layer,
                category: category.map(|c| c as u16),
            });
        }
        if let Some(x) = explore.as_mut() {
            x.package(categories.as_ref().and_then(|c| c.package_of(f.path)));
            x.download(f.download);
        }
        if f.inode.is_none() {
            return;
        }
        files += 1;
        final_bytes += f.bytes;
        final_download += f.download;
        if detail.top > 0 && f.bytes > 0 {
            let smallest = heap.peek().map(|r| r.0 .0);
            if heap.len() < detail.top || smallest.is_some_and(|s| f.bytes > s) {
                heap.push(Reverse((f.bytes, f.path.to_vec(), f.layer, f.download)));
                if heap.len() > detail.top {
                    heap.pop();
                }
            }
        }
        for (i, &b) in f.path.iter().enumerate() {
            if b == b'/' {
                let depth = f.path[..i].iter().filter(|&&c| c == b'/').count() + 1;
                if depth > detail.depth {
                    break;
                }
                // Most files land in a directory seen before: look up by
                // slice and allocate the key only for a new directory.
                match dirs.get_mut(&f.path[..i]) {
                    Some(b) => {
                        b.0 += f.bytes;
                        b.1 += f.download;
                    }
                    None => {
                        dirs.insert(f.path[..i].to_vec(), (f.bytes, f.download));
                    }
                }
            }
        }
    });
    let changes = explore.map(|x| x.finish(&tree, &reached));
    tree.settle_waste(&reached);
    let (efficiency, dive_wasted) = tree.dive_figures();
    let dive_wasted_files = dive_wasted_files(&tree, &reached, detail.top);

    let mut largest_files: Vec<FileInfo> = heap
        .into_iter()
        .map(|Reverse((bytes, path, layer, download_bytes))| FileInfo {
            path: display_path(&path),
            bytes,
            download_bytes,
            layer,
        })
        .collect();
    largest_files.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    let mut largest_dirs: Vec<DirInfo> = dirs
        .into_iter()
        .map(|(p, (bytes, download_bytes))| DirInfo {
            path: display_path(&p),
            bytes,
            download_bytes,
        })
        .collect();
    largest_dirs.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    largest_dirs.truncate(detail.top);

    let layer_infos: Vec<LayerInfo> = image
        .layers
        .iter()
        .zip(layers)
        .zip(&tree.layers)
        .map(|((spec, lc), st)| LayerInfo {
            index: spec.index,
            digest: spec.digest.clone(),
            diff_id: spec.diff_id.clone(),
            media_type: spec.media_type.clone(),
            compression: lc.compression,
            compressed_bytes: spec
                .compressed_size
                .or((lc.compression != Compression::None).then_some(lc.stored_bytes)),
            tar_bytes: lc.tar_bytes,
            file_bytes: st.file_bytes,
            added: st.added,
            modified: st.modified,
            removed: st.removed,
            wasted_bytes: st.wasted_bytes,
            download_bytes: lc.stored_bytes,
            wasted_download_bytes: st.wasted_download,
            created_by: spec.created_by.clone(),
        })
        .collect();
    let layer_bytes: u64 = tree.layers.iter().map(|l| l.file_bytes).sum();
    let compressed_bytes = layer_infos
        .iter()
        .map(|l| l.compressed_bytes)
        .sum::<Option<u64>>();
    let download_bytes: u64 = layers.iter().map(|l| l.stored_bytes).sum();
    let bd = categories.map(|c| {
        c.finish(breakdown::Inputs {
            tree: &tree,
            reached: &reached,
            final_bytes,
            layer_bytes,
            compressed_bytes,
            download_bytes,
            created_by: image.layers.iter().map(|l| l.created_by.clone()).collect(),
        })
    });
    let (categories, packages, savings) = match bd {
        Some(b) => (b.categories, b.packages, Some(b.savings)),
        None => (Vec::new(), Vec::new(), None),
    };
    let mut warnings = image.warnings.clone();
    for lc in layers {
        warnings.extend(lc.warnings.iter().cloned());
    }
    warnings.extend(tree.warnings.iter().cloned());
    let wasted_download_bytes = tree.layers.iter().map(|l| l.wasted_download).sum();
    crate::drop_later(tree);

    Analysis {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "imgaudit",
            version: env!("CARGO_PKG_VERSION"),
        },
        image: ImageInfo {
            reference: image.reference.clone(),
            source: image.source,
            manifest_digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            platform: image.platform(),
            created: image.config.created.clone(),
        },
        totals: Totals {
            compressed_bytes,
            layer_bytes,
            final_bytes,
            wasted_bytes: layer_bytes - final_bytes,
            files,
            efficiency,
            dive_wasted_bytes: dive_wasted,
            tar_bytes: layers.iter().map(|l| l.tar_bytes).sum(),
            download_bytes,
            final_download_bytes: final_download,
            wasted_download_bytes,
        },
        layers: layer_infos,
        largest_files,
        largest_dirs,
        dive_wasted_files,
        categories,
        packages,
        savings,
        warnings,
        paths: paths.map(|entries| PathList {
            categories: rules
                .map(|r| r.categories.iter().map(|c| c.id.clone()).collect())
                .unwrap_or_default(),
            entries,
        }),
        changes,
    }
}

/// dive's wasted-file list (top `top`), each with the bytes of unreachable
/// inodes created at the path or below it.
fn dive_wasted_files(tree: &Tree, reached: &[bool], top: usize) -> Vec<DiveWastedFile> {
    let mut files = tree.dive_files();
    files.truncate(top);
    let index: rustc_hash::FxHashMap<&[u8], usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (&*f.path, i))
        .collect();
    let mut hidden = vec![0u64; files.len()];
    if !index.is_empty() {
        for (i, (ino, _)) in tree
            .inodes
            .iter()
            .zip(reached)
            .enumerate()
            .filter(|(_, (_, r))| !**r)
        {
            let p = &*tree.inode_path(i as u32);
            for (i, _) in p.iter().enumerate().filter(|(_, &b)| b == b'/') {
                if let Some(&k) = index.get(&p[..i]) {
                    hidden[k] += ino.size;
                }
            }
            if let Some(&k) = index.get(p) {
                hidden[k] += ino.size;
            }
        }
    }
    files
        .into_iter()
        .zip(hidden)
        .map(|(f, hidden_bytes)| DiveWastedFile {
            path: display_path(&f.path),
            count: f.count,
            dive_bytes: f.bytes,
            hidden_bytes,
        })
        .collect()
}
