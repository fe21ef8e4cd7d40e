//! A bounded directory tree of the final filesystem with per-category
//! bytes, for the HTML treemap: computed here from the analysis' path list
//! so the renderer only draws. Directories and files smaller than a share of
//! the total, or deeper than a depth limit, are folded into their parent's
//! `rest` figure, so the tree stays small whatever the file count.

use crate::analysis::{Analysis, PathList};
use serde::Serialize;
use std::collections::BTreeMap;

/// A directory (or, without children, a file) of the final filesystem.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DirNode {
    pub name: String,
    pub bytes: u64,
    pub dir: bool,
    /// Bytes per category index (into [`DirTree::categories`]), largest first.
    pub categories: Vec<(u16, u64)>,
    pub children: Vec<DirNode>,
    /// Bytes of entries too small or too deep to list.
    pub rest: u64,
}

/// The tree and the category ids its indices refer to.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DirTree {
    pub categories: Vec<String>,
    pub root: DirNode,
}

#[derive(Default)]
struct Build {
    bytes: u64,
    dir: bool,
    cats: BTreeMap<u16, u64>,
    children: BTreeMap<String, Build>,
}

/// Build the tree from `a.paths` (`None` without a path list). Entries
/// under `min_share` of the final bytes or deeper than `max_depth` are
/// folded into their parent.
pub fn build(a: &Analysis, max_depth: usize, min_share: f64) -> Option<DirTree> {
    a.paths
        .as_ref()
        .map(|p| from_paths(p, max_depth, min_share))
}

/// [`build`] from a path list.
pub fn from_paths(paths: &PathList, max_depth: usize, min_share: f64) -> DirTree {
    let other = paths
        .categories
        .iter()
        .position(|c| c == "other")
        .unwrap_or(0) as u16;
    let mut root = Build {
        dir: true,
        ..Build::default()
    };
    for e in &paths.entries {
        if e.bytes == 0 {
            continue;
        }
        let cat = e.category.unwrap_or(other);
        let mut node = &mut root;
        node.bytes += e.bytes;
        *node.cats.entry(cat).or_default() += e.bytes;
        let parts: Vec<&str> = e.path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            node = node.children.entry(part.to_string()).or_default();
            node.dir |= i + 1 < parts.len();
            node.bytes += e.bytes;
            *node.cats.entry(cat).or_default() += e.bytes;
        }
    }
    let min = ((root.bytes as f64) * min_share).ceil() as u64;
    DirTree {
        categories: paths.categories.clone(),
        root: finish("/".into(), root, 0, max_depth, min.max(1)),
    }
}

fn finish(name: String, b: Build, depth: usize, max_depth: usize, min: u64) -> DirNode {
    let mut categories: Vec<(u16, u64)> = b.cats.into_iter().collect();
    categories.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut children = Vec::new();
    let mut rest = 0;
    for (n, c) in b.children {
        if depth < max_depth && c.bytes >= min {
            children.push(finish(n, c, depth + 1, max_depth, min));
        } else {
            rest += c.bytes;
        }
    }
    children.sort_by(|x, y| y.bytes.cmp(&x.bytes).then(x.name.cmp(&y.name)));
    DirNode {
        name,
        bytes: b.bytes,
        dir: b.dir,
        categories,
        children,
        rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::PathEntry;

    fn entry(path: &str, bytes: u64, category: u16) -> PathEntry {
        PathEntry {
            path: path.into(),
            bytes,
            layer: 0,
            category: Some(category),
        }
    }

    #[test]
    fn folds_small_and_deep_entries() {
        let list = PathList {
            categories: vec!["other".into(), "docs".into()],
            entries: vec![
                entry("/a/b/c/big", 900, 0),
                entry("/a/doc", 95, 1),
                entry("/z", 5, 0),
            ],
        };
        // 1% of 1000 bytes: /z (5) is folded; depth 2 stops under /a/b.
        let root = from_paths(&list, 2, 0.01).root;
        assert_eq!(root.bytes, 1000);
        assert_eq!(root.rest, 5);
        assert_eq!(root.children.len(), 1);
        let a = &root.children[0];
        assert_eq!((a.name.as_str(), a.bytes), ("a", 995));
        assert_eq!(a.categories, vec![(0, 900), (1, 95)]);
        let names: Vec<&str> = a.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "doc"]);
        assert!(!a.children[1].dir);
        let b = &a.children[0];
        assert!(b.children.is_empty(), "depth limit");
        assert_eq!(b.rest, 900);
    }
}
