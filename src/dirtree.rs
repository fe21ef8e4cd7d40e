//! A bounded directory tree of the final filesystem with per-category
//! bytes, for the HTML treemap: computed here from the analysis' path list
//! so the renderer only draws. Directories and files smaller than a share of
//! the total, or deeper than a depth limit, are folded into their parent's
//! `rest` figure, so the tree stays small whatever the file count.

use crate::analysis::Analysis;
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
    let paths = a.paths.as_ref()?;
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
    Some(DirTree {
        categories: paths.categories.clone(),
        root: finish("/".into(), root, 0, max_depth, min.max(1)),
    })
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
