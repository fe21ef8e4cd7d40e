//! What each layer did to the filesystem, path by path, for the explorer:
//! the regular files it added and modified, the lower-layer files it
//! removed, and the files it wrote that later layers hid (its waste).
//! Collected from the stacked [`Tree`] while the analysis still holds it
//! (every inode keeps the path that created it, its layer and the layer that
//! hid it), so nothing is decoded twice. Lists are capped per layer (largest
//! first); their counts and bytes are always exact.

use crate::layer::display_path;
use crate::tree::Tree;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// Paths kept per layer and per kind; the rest is only counted.
pub const PATHS_PER_KIND: usize = 400;

/// One listed path.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChangedPath {
    pub path: String,
    pub bytes: u64,
    /// The other layer involved: for a modified file the lower layer it
    /// replaced, for a removed file the layer that wrote it, for a hidden
    /// file the layer that hid it (`None` when only unreachable).
    pub other: Option<u32>,
}

/// A set of paths: exact count and bytes, the largest paths listed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct PathSet {
    pub count: u64,
    pub bytes: u64,
    pub paths: Vec<ChangedPath>,
}

impl PathSet {
    fn add(&mut self, p: ChangedPath) {
        self.count += 1;
        self.bytes += p.bytes;
        self.paths.push(p);
    }

    fn finish(&mut self) {
        self.paths
            .sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        self.paths.truncate(PATHS_PER_KIND);
    }
}

/// What one layer did (regular files; hardlink entries, symlinks and
/// directories are not listed).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct LayerPaths {
    /// Files at paths no lower layer wrote.
    pub added: PathSet,
    /// Files that replaced a lower layer's file at the same path.
    pub modified: PathSet,
    /// Lower-layer files this layer's whiteouts, opaque markers or
    /// replacements by a non-file hid (not rewritten by this layer).
    pub removed: PathSet,
    /// Files this layer wrote that are not in the final filesystem: its
    /// wasted bytes (`hidden.bytes` = the layer's `wasted_bytes`).
    pub hidden: PathSet,
}

/// Per-layer paths plus what the final tree needs to mark files.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub layers: Vec<LayerPaths>,
    /// Final paths (display form) that some lower layer had written too.
    pub rewritten: FxHashSet<String>,
    /// Package names, indexed by [`Changes::file_packages`].
    pub packages: Vec<String>,
    /// Owner package of each entry of [`crate::analysis::PathList`], in order.
    pub file_packages: Vec<Option<u32>>,
    /// Stored (download) bytes of each entry of
    /// [`crate::analysis::PathList`], in order (issue 17).
    pub file_downloads: Vec<u64>,
}

/// Collects per-file packages during the analysis' walk of the final tree,
/// then the per-layer lists from the tree.
#[derive(Default)]
pub struct Collector {
    packages: Vec<String>,
    index: FxHashMap<String, u32>,
    file_packages: Vec<Option<u32>>,
    file_downloads: Vec<u64>,
}

impl Collector {
    /// The stored (download) bytes charged to the next final path (walk
    /// order; 0 for a directory, a symlink and a second link to an inode).
    pub fn download(&mut self, bytes: u64) {
        self.file_downloads.push(bytes);
    }

    /// The owner package of the next final path (walk order).
    pub fn package(&mut self, name: Option<&str>) {
        let id = name.map(|n| match self.index.get(n) {
            Some(&i) => i,
            None => {
                let i = self.packages.len() as u32;
                self.packages.push(n.to_string());
                self.index.insert(n.to_string(), i);
                i
            }
        });
        self.file_packages.push(id);
    }

    /// The per-layer lists; `reached[i]`: inode `i` is in the final tree.
    pub fn finish(self, tree: &Tree, reached: &[bool]) -> Changes {
        let mut c = collect(tree, reached);
        c.packages = self.packages;
        c.file_packages = self.file_packages;
        c.file_downloads = self.file_downloads;
        c
    }
}

/// Per-layer lists from the stacked tree.
pub fn collect(tree: &Tree, reached: &[bool]) -> Changes {
    let n = tree.layers.len();
    let mut layers: Vec<LayerPaths> = vec![LayerPaths::default(); n];
    // Layers that wrote a regular file at each path, in layer order.
    let paths: Vec<Vec<u8>> = (0..tree.inodes.len() as u32)
        .map(|i| tree.inode_path(i))
        .collect();
    let mut writers: FxHashMap<&[u8], Vec<u32>> = FxHashMap::default();
    for (ino, p) in tree.inodes.iter().zip(&paths) {
        let w = writers.entry(p).or_default();
        if w.last() != Some(&ino.layer) {
            w.push(ino.layer);
        }
    }
    let mut rewritten = FxHashSet::default();
    for (i, ino) in tree.inodes.iter().enumerate() {
        let l = ino.layer as usize;
        if l >= n {
            continue;
        }
        let w = &writers[&*paths[i]];
        let path = display_path(&paths[i]);
        let lower = w.iter().rev().find(|&&x| x < ino.layer).copied();
        let entry = |other| ChangedPath {
            path: path.clone(),
            bytes: ino.size,
            other,
        };
        match lower {
            Some(x) => {
                layers[l].modified.add(entry(Some(x)));
                if reached.get(i).copied().unwrap_or(false) {
                    rewritten.insert(path.clone());
                }
            }
            None => layers[l].added.add(entry(None)),
        }
        if let Some(h) = ino.hidden_by {
            if (h as usize) < n && !w.contains(&h) {
                layers[h as usize].removed.add(entry(Some(ino.layer)));
            }
        }
        if !reached.get(i).copied().unwrap_or(true) {
            layers[l].hidden.add(entry(ino.hidden_by));
        }
    }
    for l in &mut layers {
        for s in [&mut l.added, &mut l.modified, &mut l.removed, &mut l.hidden] {
            s.finish();
        }
    }
    Changes {
        layers,
        rewritten,
        ..Changes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::ChangeKind;

    use crate::tree::tests::layer;

    fn names(s: &PathSet) -> Vec<(&str, u64, Option<u32>)> {
        s.paths
            .iter()
            .map(|p| (p.path.as_str(), p.bytes, p.other))
            .collect()
    }

    #[test]
    fn added_modified_removed_and_hidden_per_layer() {
        use ChangeKind::*;
        let mut t = Tree::new();
        for mut l in [
            layer(vec![
                ("etc", Dir, 0),
                ("etc/conf", File, 10),
                ("cache", Dir, 0),
                ("cache/a", File, 100),
                ("cache/b", File, 200),
            ]),
            layer(vec![
                ("etc/conf", File, 12),
                ("bin", Dir, 0),
                ("bin/x", File, 50),
            ]),
            layer(vec![("cache", Whiteout, 0)]),
        ] {
            t.apply(&mut l);
        }
        let reached = t.walk_final(|_| {});
        let c = collect(&t, &reached);
        assert_eq!(c.layers.len(), 3);
        let l0 = &c.layers[0];
        assert_eq!((l0.added.count, l0.added.bytes), (3, 310));
        assert_eq!(
            names(&l0.hidden),
            [
                ("/cache/b", 200, Some(2)),
                ("/cache/a", 100, Some(2)),
                ("/etc/conf", 10, Some(1))
            ]
        );
        let l1 = &c.layers[1];
        assert_eq!(names(&l1.modified), [("/etc/conf", 12, Some(0))]);
        assert_eq!(names(&l1.added), [("/bin/x", 50, None)]);
        assert!(
            l1.removed.paths.is_empty(),
            "a replacement is not a removal"
        );
        let l2 = &c.layers[2];
        assert_eq!(
            names(&l2.removed),
            [("/cache/b", 200, Some(0)), ("/cache/a", 100, Some(0))]
        );
        assert_eq!(l2.removed.bytes, 300);
        assert!(c.rewritten.contains("/etc/conf"));
        assert!(!c.rewritten.contains("/bin/x"));
        // The hidden bytes of a layer are its wasted bytes.
        t.settle_waste(&reached);
        for (l, p) in t.layers.iter().zip(&c.layers) {
            assert_eq!(l.wasted_bytes, p.hidden.bytes);
        }
    }
}
