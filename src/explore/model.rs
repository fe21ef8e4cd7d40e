//! The explorer model: the final filesystem as a tree down to files, each
//! file with its bytes, the layer that wrote it, its package and category,
//! and whether it replaced a lower layer's file; plus each layer's added,
//! modified, removed and hidden (wasted) files from [`super::changes`].
//!
//! The tree is bounded whatever the file count: in every directory, files
//! and subdirectories under a share of the image's final bytes (and
//! everything past the largest [`Limits::max_children`]) are folded into one
//! "N small files" node, so 130,000 paths stay a few tens of thousands of
//! nodes.

use super::changes::{Changes, LayerPaths};
use crate::analysis::{Analysis, PathList};
use serde::Serialize;
use std::collections::BTreeMap;

/// How far to unfold the tree.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries under this share of the final bytes are folded.
    pub min_share: f64,
    /// At most this many listed children per directory (largest first).
    pub max_children: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_share: 1e-5,
            max_children: 500,
        }
    }
}

/// What a node is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Kind {
    Dir {
        /// Non-directory paths under the directory (folded ones included).
        files: u64,
    },
    File {
        /// Layer that last wrote the path.
        layer: u32,
        /// Index into [`Explorer::categories`]; `None` for symlinks and
        /// other non-files, and without classification.
        category: Option<u16>,
        /// Index into [`Explorer::packages`].
        package: Option<u32>,
        /// A lower layer had written this path too.
        modified: bool,
    },
    /// `files` entries folded together (small files and small directories).
    Small { files: u64 },
}

/// A node of the final tree.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub bytes: u64,
    /// Stored (download) bytes attributed to the files under the node
    /// (docs/ACCOUNTING.md); 0 without the analysis' per-path changes.
    pub download: u64,
    #[serde(flatten)]
    pub kind: Kind,
    /// Largest first; a `Small` node, if any, last.
    pub children: Vec<Node>,
}

impl Node {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir { .. })
    }

    /// Number of nodes in this subtree (itself included).
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Node::count).sum::<usize>()
    }

    /// The node at `path` (`/a/b`), if listed.
    pub fn find(&self, path: &str) -> Option<&Node> {
        let mut n = self;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            n = n
                .children
                .iter()
                .find(|c| c.name == part && !matches!(c.kind, Kind::Small { .. }))?;
        }
        Some(n)
    }
}

/// One layer, with what it did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Layer {
    pub index: usize,
    pub created_by: Option<String>,
    /// Regular-file bytes the layer wrote.
    pub file_bytes: u64,
    pub wasted_bytes: u64,
    /// The layer's stored bytes (what a pull transfers).
    pub download_bytes: u64,
    /// Stored bytes of its files hidden by later layers.
    pub wasted_download_bytes: u64,
    /// `None` when the analysis kept no per-layer paths.
    pub paths: Option<LayerPaths>,
}

/// The model both explorers render.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explorer {
    pub image: String,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    /// Stored bytes of the final files (`totals.final_download_bytes`).
    pub final_download_bytes: u64,
    pub categories: Vec<String>,
    pub packages: Vec<String>,
    pub root: Node,
    pub layers: Vec<Layer>,
}

/// Build the explorer from an analysis made with `Detail { paths: true }`
/// (`None` without a path list).
pub fn build(a: &Analysis, limits: Limits) -> Option<Explorer> {
    let paths = a.paths.as_ref()?;
    let changes = a.changes.as_ref();
    let layers = a
        .layers
        .iter()
        .map(|l| Layer {
            index: l.index,
            created_by: l.created_by.clone(),
            file_bytes: l.file_bytes,
            wasted_bytes: l.wasted_bytes,
            download_bytes: l.download_bytes,
            wasted_download_bytes: l.wasted_download_bytes,
            paths: changes.and_then(|c| c.layers.get(l.index).cloned()),
        })
        .collect();
    Some(Explorer {
        image: a.image.reference.clone(),
        final_bytes: a.totals.final_bytes,
        wasted_bytes: a.totals.wasted_bytes,
        final_download_bytes: a.totals.final_download_bytes,
        categories: paths.categories.clone(),
        packages: changes.map(|c| c.packages.clone()).unwrap_or_default(),
        root: tree(paths, changes, limits),
        layers,
    })
}

#[derive(Default)]
struct Build {
    bytes: u64,
    download: u64,
    files: u64,
    file: Option<Kind>,
    children: BTreeMap<String, Build>,
}

/// The bounded final tree of a path list.
pub fn tree(paths: &PathList, changes: Option<&Changes>, limits: Limits) -> Node {
    let mut root = Build::default();
    for (i, e) in paths.entries.iter().enumerate() {
        let download = changes
            .and_then(|c| c.file_downloads.get(i).copied())
            .unwrap_or(0);
        let mut node = &mut root;
        node.bytes += e.bytes;
        node.download += download;
        node.files += 1;
        let parts: Vec<&str> = e.path.split('/').filter(|p| !p.is_empty()).collect();
        for part in &parts {
            node = node.children.entry(part.to_string()).or_default();
            node.bytes += e.bytes;
            node.download += download;
            node.files += 1;
        }
        node.file = Some(Kind::File {
            layer: e.layer,
            category: e.category,
            package: changes.and_then(|c| c.file_packages.get(i).copied().flatten()),
            modified: changes.is_some_and(|c| c.rewritten.contains(&e.path)),
        });
    }
    let min = ((root.bytes as f64) * limits.min_share).ceil().max(1.0) as u64;
    finish("/".into(), root, min, limits.max_children)
}

fn finish(name: String, b: Build, min: u64, max_children: usize) -> Node {
    if let (Some(kind), true) = (&b.file, b.children.is_empty()) {
        return Node {
            name,
            bytes: b.bytes,
            download: b.download,
            kind: kind.clone(),
            children: Vec::new(),
        };
    }
    let mut kids: Vec<(String, Build)> = b.children.into_iter().collect();
    kids.sort_by(|x, y| y.1.bytes.cmp(&x.1.bytes).then(x.0.cmp(&y.0)));
    let (mut small_bytes, mut small_download, mut small_files) = (0u64, 0u64, 0u64);
    let mut children = Vec::new();
    for (n, c) in kids {
        if c.bytes >= min && children.len() < max_children {
            children.push(finish(n, c, min, max_children));
        } else {
            small_bytes += c.bytes;
            small_download += c.download;
            small_files += c.files;
        }
    }
    if small_files > 0 {
        children.push(Node {
            name: format!(
                "{small_files} small file{}",
                if small_files == 1 { "" } else { "s" }
            ),
            bytes: small_bytes,
            download: small_download,
            kind: Kind::Small { files: small_files },
            children: Vec::new(),
        });
    }
    Node {
        name,
        bytes: b.bytes,
        download: b.download,
        kind: Kind::Dir { files: b.files },
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::PathEntry;

    fn list(entries: &[(&str, u64, u32, u16)]) -> PathList {
        PathList {
            categories: vec!["other".into(), "docs".into()],
            entries: entries
                .iter()
                .map(|&(p, b, l, c)| PathEntry {
                    path: p.into(),
                    bytes: b,
                    download_bytes: b / 2,
                    layer: l,
                    category: Some(c),
                })
                .collect(),
        }
    }

    #[test]
    fn files_are_listed_and_small_ones_folded_per_directory() {
        let l = list(&[
            ("/a/b/big", 900_000, 1, 0),
            ("/a/doc", 99_000, 2, 1),
            ("/a/tiny1", 5, 0, 0),
            ("/a/tiny2", 3, 0, 0),
            ("/z/c/d", 7, 0, 0),
        ]);
        let limits = Limits {
            min_share: 1e-4,
            max_children: 10,
        };
        let root = tree(&l, None, limits);
        assert_eq!(root.bytes, 999_015);
        assert_eq!(root.kind, Kind::Dir { files: 5 });
        let big = root.find("/a/b/big").unwrap();
        assert_eq!(
            (big.bytes, &big.kind),
            (
                900_000,
                &Kind::File {
                    layer: 1,
                    category: Some(0),
                    package: None,
                    modified: false
                }
            )
        );
        let a = root.find("/a").unwrap();
        let names: Vec<&str> = a.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "doc", "2 small files"]);
        assert_eq!(a.children[2].bytes, 8);
        // The whole of /z is under 100 bytes: one folded node at the root.
        let last = root.children.last().unwrap();
        assert_eq!((last.bytes, &last.kind), (7, &Kind::Small { files: 1 }));
        assert!(root.find("/z").is_none());
    }

    #[test]
    fn download_bytes_add_up_through_folded_and_listed_nodes() {
        let l = list(&[
            ("/a/big", 900_000, 0, 0),
            ("/a/tiny", 5, 0, 0),
            ("/b/c", 95_000, 1, 1),
        ]);
        let changes = Changes {
            file_downloads: vec![400_000, 512, 30_000],
            ..Changes::default()
        };
        let limits = Limits {
            min_share: 1e-4,
            max_children: 10,
        };
        let root = tree(&l, Some(&changes), limits);
        assert_eq!(root.download, 430_512);
        assert_eq!(root.find("/a/big").unwrap().download, 400_000);
        assert_eq!(root.find("/b").unwrap().download, 30_000);
        let a = root.find("/a").unwrap();
        assert_eq!(a.download, 400_512);
        let folded = a.children.last().unwrap();
        assert_eq!(
            (&folded.kind, folded.download),
            (&Kind::Small { files: 1 }, 512)
        );
        // Without the per-path changes, no download figure.
        assert_eq!(tree(&l, None, limits).download, 0);
    }

    #[test]
    fn children_are_capped_per_directory() {
        let entries: Vec<(String, u64)> =
            (0..20).map(|i| (format!("/d/f{i:02}"), 100 + i)).collect();
        let refs: Vec<(&str, u64, u32, u16)> = entries
            .iter()
            .map(|(p, b)| (p.as_str(), *b, 0, 0))
            .collect();
        let root = tree(
            &list(&refs),
            None,
            Limits {
                min_share: 0.0,
                max_children: 5,
            },
        );
        let d = root.find("/d").unwrap();
        assert_eq!(d.children.len(), 6);
        assert_eq!(d.children[0].name, "f19");
        assert_eq!(d.children[5].kind, Kind::Small { files: 15 });
        let sum: u64 = d.children.iter().map(|c| c.bytes).sum();
        assert_eq!(sum, d.bytes);
    }
}
