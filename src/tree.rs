//! Stage 3: stack the layers into one size tree, following the OCI layer
//! rules exactly.
//!
//! Per layer, in this order: opaque markers (hide every lower child of their
//! directory), whiteouts (delete a lower path), then the layer's other entries
//! in tar order. Regular files are *inodes*: a hardlink shares its target's
//! inode, so its bytes count once and stay alive while any link is visible.
//! At the end every inode is either reachable from the final tree (final
//! bytes) or not (wasted bytes, charged to the layer that wrote it), which is
//! why `Σ layer file bytes = final bytes + wasted bytes` holds exactly.

use crate::layer::probe::FileFacts;
use crate::layer::{display_path, ChangeKind, LayerChanges};
use crate::layer::{PathTag, NO_TAG};
use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;

pub mod arena;
pub mod dive;
pub mod query;

use arena::Names;

type NodeId = u32;
type InodeId = u32;

/// What a node is; its name and parent are in [`Tree::names`] (same id).
#[derive(Clone, Copy)]
enum NodeKind {
    Dir,
    File(InodeId),
    /// A symbolic link; its target as written is `Tree::links[i]`.
    Symlink(u32),
    Other,
}

struct Node {
    kind: NodeKind,
    /// Layer that last wrote this path.
    layer: u32,
    /// Opaque per-entry tag handed in with the layer (path classification).
    tag: PathTag,
}

/// A regular file's content: the unit bytes are counted in.
pub struct Inode {
    pub size: u64,
    /// Stored (compressed) bytes attributed to the entry that wrote it.
    pub download: u64,
    pub layer: u32,
    /// Node of the path that first created the inode ([`Tree::inode_path`]).
    node: NodeId,
    /// The layer whose whiteout, opaque marker or replacement last hid a path to it.
    pub hidden_by: Option<u32>,
    // The tag of the entry that created the inode is its node's
    // ([`Tree::inode_tag`]), the probes' facts are in a side list
    // ([`Tree::inode_facts`]): 32 bytes per inode instead of 48.
}

/// Per-layer counters filled while stacking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Σ regular-file sizes in the layer (hardlink entries add nothing).
    pub file_bytes: u64,
    /// Non-directory paths new in this layer.
    pub added: u64,
    /// Non-directory paths that replaced a lower-layer path.
    pub modified: u64,
    /// Non-directory lower-layer paths deleted by this layer's whiteouts and
    /// opaque markers.
    pub removed: u64,
    /// Bytes written by this layer not visible in the final filesystem.
    pub wasted_bytes: u64,
    /// Stored (download) bytes of those hidden files (issue 17).
    pub wasted_download: u64,
    /// Entries seen twice in this layer (the last one wins).
    pub duplicates: u64,
}

/// The merged filesystem plus everything needed to account for every byte.
pub struct Tree {
    /// Every path ever created, as parent + name (node ids index `nodes`).
    names: Names,
    nodes: Vec<Node>,
    /// Symlink targets as written.
    links: Vec<Box<[u8]>>,
    pub inodes: Vec<Inode>,
    /// What the layer stage's probes learnt about inodes' contents, for the
    /// few that have facts: (inode, facts) in inode order.
    facts: Vec<(InodeId, Box<FileFacts>)>,
    pub layers: Vec<LayerStats>,
    pub warnings: Vec<String>,
    /// dive's own model of the layers, for its figures (see `dive.rs`).
    dive: dive::DiveModel,
}

/// One visible file in the final filesystem, as handed to visitors.
pub struct FinalFile<'a> {
    pub path: &'a [u8],
    /// Bytes charged to this path (0 for the second and later links to an inode).
    pub bytes: u64,
    /// Stored (download) bytes charged to this path, like `bytes`.
    pub download: u64,
    pub inode: Option<InodeId>,
    pub layer: u32,
    /// Tag of the entry that last wrote this path.
    pub tag: PathTag,
}

const ROOT: NodeId = 0;

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            names: Names::new(),
            nodes: vec![Node {
                kind: NodeKind::Dir,
                layer: 0,
                tag: NO_TAG,
            }],
            links: Vec::new(),
            inodes: Vec::new(),
            facts: Vec::new(),
            layers: Vec::new(),
            warnings: Vec::new(),
            dive: dive::DiveModel::default(),
        }
    }

    /// The child `name` of directory `id`.
    fn child(&self, id: NodeId, name: &[u8]) -> Option<NodeId> {
        match self.nodes[id as usize].kind {
            NodeKind::Dir => self.names.get(id, name),
            _ => None,
        }
    }

    /// The path that first created inode `ino` (`/`-joined, no leading `/`).
    pub fn inode_path(&self, ino: InodeId) -> Vec<u8> {
        self.names.path(self.inodes[ino as usize].node)
    }

    /// The image has `n` layers: once the `n`-th is applied, dive's model
    /// keeps only its figures and file list (freed before the size tree
    /// stacks that layer).
    pub fn expect_layers(&mut self, n: usize) {
        self.dive.expect_layers(n);
    }

    /// Tag of the entry that created inode `ino` (a file node's tag never
    /// changes after it is created).
    pub fn inode_tag(&self, ino: InodeId) -> PathTag {
        self.nodes[self.inodes[ino as usize].node as usize].tag
    }

    /// What the probes learnt about inode `ino`'s content, if anything.
    pub fn inode_facts(&self, ino: InodeId) -> Option<&FileFacts> {
        let i = self.facts.binary_search_by_key(&ino, |f| f.0).ok()?;
        Some(&self.facts[i].1)
    }

    /// The inodes that have facts ([`Tree::inode_facts`]), in order.
    pub fn inodes_with_facts(&self) -> impl Iterator<Item = InodeId> + '_ {
        self.facts.iter().map(|f| f.0)
    }

    /// The node visible at `path` (normalised, not resolved), if any.
    pub fn lookup(&self, path: &[u8]) -> Option<NodeId> {
        let mut cur = ROOT;
        for seg in path.split(|&b| b == b'/') {
            cur = self.child(cur, seg)?;
        }
        Some(cur)
    }

    fn link_target(&self, id: NodeId) -> Option<&[u8]> {
        match self.nodes[id as usize].kind {
            NodeKind::Symlink(i) => Some(&self.links[i as usize]),
            _ => None,
        }
    }

    /// `path` with its parent directories resolved through symlinks the way
    /// containerd resolves them (`fs.RootPath`): a link's target is followed
    /// (absolute targets from the root, relative ones from the link's
    /// directory), `..` never climbs above the root, a missing component
    /// ends resolution (the rest is taken literally), and the last
    /// component itself is never followed. Borrowed when nothing changes.
    pub fn resolve<'p>(&self, path: &'p [u8]) -> Cow<'p, [u8]> {
        let Some(cut) = path.iter().rposition(|&b| b == b'/') else {
            return Cow::Borrowed(path);
        };
        // Fast path: no symlink among the existing parents.
        let mut cur = ROOT;
        let mut through_link = false;
        for seg in path[..cut].split(|&b| b == b'/') {
            match self.child(cur, seg) {
                Some(n) => match self.nodes[n as usize].kind {
                    NodeKind::Symlink(_) => {
                        through_link = true;
                        break;
                    }
                    _ => cur = n,
                },
                None => break,
            }
        }
        if !through_link {
            return Cow::Borrowed(path);
        }
        let mut out = self.resolve_all(&path[..cut]);
        if !out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(&path[cut + 1..]);
        Cow::Owned(out)
    }

    /// Every component of `path` resolved (see [`Tree::resolve`]); the
    /// result is normalised, `""` for the root.
    pub fn resolve_all(&self, path: &[u8]) -> Vec<u8> {
        /// Links followed before giving up (the rest is then literal).
        const MAX_LINKS: u32 = 255;
        /// Components looked at before giving up on a hostile chain of long
        /// link targets (the name is then taken literally).
        const MAX_STEPS: u32 = 1 << 16;
        let mut out: Vec<&[u8]> = Vec::new();
        let mut cur = Some(ROOT);
        let mut pending: Vec<&[u8]> = path.split(|&b| b == b'/').rev().collect();
        let (mut links, mut steps) = (0, 0);
        while let Some(seg) = pending.pop() {
            steps += 1;
            if steps > MAX_STEPS {
                return crate::layer::normalize_in_root(path).unwrap_or_default();
            }
            match seg {
                b"" | b"." => continue,
                b".." => {
                    out.pop();
                    cur = self.lookup_segs(&out);
                    continue;
                }
                _ => {}
            }
            let next = cur.and_then(|c| self.child(c, seg));
            if let Some(n) = next {
                if let Some(target) = self.link_target(n) {
                    if links < MAX_LINKS {
                        links += 1;
                        if target.first() == Some(&b'/') {
                            out.clear();
                            cur = Some(ROOT);
                        }
                        pending.extend(target.split(|&b| b == b'/').rev());
                        continue;
                    }
                }
            }
            out.push(seg);
            cur = next;
        }
        out.join(&b'/')
    }

    fn lookup_segs(&self, segs: &[&[u8]]) -> Option<NodeId> {
        let mut cur = ROOT;
        for seg in segs {
            cur = self.child(cur, seg)?;
        }
        Some(cur)
    }

    /// The inode of the regular file (or hardlink) visible at `path`.
    pub fn file_at(&self, path: &[u8]) -> Option<InodeId> {
        match self.nodes[self.lookup(path)? as usize].kind {
            NodeKind::File(ino) => Some(ino),
            _ => None,
        }
    }

    /// A new node `name` under directory `parent` (replacing any child of
    /// that name, already accounted for by the caller).
    fn new_node(&mut self, parent: NodeId, name: &[u8], kind: NodeKind, layer: u32) -> NodeId {
        if let Some(old) = self.names.get(parent, name) {
            self.names.detach(old);
        }
        let id = self.names.insert(parent, name);
        debug_assert_eq!(id as usize, self.nodes.len());
        self.nodes.push(Node {
            kind,
            layer,
            tag: NO_TAG,
        });
        id
    }

    /// Walk to `path`'s parent, creating directories (and replacing
    /// non-directories) as extraction would.
    fn parent_dir(&mut self, path: &[u8], layer: u32) -> (NodeId, usize) {
        self.parent_dir_or_link(path, layer, false)
            .expect("links are not looked for")
    }

    /// [`Tree::parent_dir`]; with `stop_at_link`, `None` (before changing
    /// anything) when an existing parent is a symlink, so that the caller
    /// resolves the name first. (Only existing directories precede a link:
    /// once a parent is created or replaced, the rest of the path is new.)
    fn parent_dir_or_link(
        &mut self,
        path: &[u8],
        layer: u32,
        stop_at_link: bool,
    ) -> Option<(NodeId, usize)> {
        let name_start = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let mut cur = ROOT;
        if name_start == 0 {
            return Some((cur, 0));
        }
        for seg in path[..name_start - 1].split(|&b| b == b'/') {
            let existing = self.child(cur, seg);
            cur = match existing {
                Some(id) if matches!(self.nodes[id as usize].kind, NodeKind::Dir) => id,
                Some(id)
                    if stop_at_link
                        && matches!(self.nodes[id as usize].kind, NodeKind::Symlink(_)) =>
                {
                    return None
                }
                other => {
                    if let Some(old) = other {
                        self.count_removed(old, layer, false);
                    }
                    self.new_node(cur, seg, NodeKind::Dir, layer)
                }
            };
        }
        Some((cur, name_start))
    }

    /// Count the non-directory paths under `id` (for the removed column).
    fn count_files(&self, id: NodeId) -> u64 {
        match self.nodes[id as usize].kind {
            NodeKind::Dir => self.names.children(id).map(|k| self.count_files(k)).sum(),
            _ => 1,
        }
    }

    /// Record that `id` (and everything under it) is hidden by `layer`.
    fn count_removed(&mut self, id: NodeId, layer: u32, by_whiteout: bool) {
        if by_whiteout {
            let n = self.count_files(id);
            self.layers[layer as usize].removed += n;
        }
        self.mark_hidden(id, layer);
    }

    fn mark_hidden(&mut self, id: NodeId, layer: u32) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            match self.nodes[n as usize].kind {
                NodeKind::Dir => stack.extend(self.names.children(n)),
                NodeKind::File(ino) => self.inodes[ino as usize].hidden_by = Some(layer),
                _ => {}
            }
        }
    }

    /// Apply one layer on top of the tree (its probe facts move into the
    /// inodes; its entries are spent: freed as they are stacked, chunk by chunk).
    pub fn apply(&mut self, lc: &mut LayerChanges) {
        self.apply_tagged(lc, &[]);
    }

    /// [`Tree::apply`], carrying `tags[i]` (one per change; missing = [`NO_TAG`])
    /// on the path and inode change `i` creates.
    pub fn apply_tagged(&mut self, lc: &mut LayerChanges, tags: &[PathTag]) {
        let layer = self.layers.len() as u32;
        self.layers.push(LayerStats::default());
        self.dive.apply(&lc.changes);
        // Hardlinks may name a lower-layer file that this layer also deletes;
        // in tar order the link comes first and keeps the bytes, so resolve
        // link targets in the lower layers before the whiteouts apply.
        let lower_targets: HashMap<usize, InodeId> = lc
            .changes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match &c.kind {
                ChangeKind::Hardlink(t) => {
                    let t = self.resolve(t);
                    match self.lookup(&t).map(|n| &self.nodes[n as usize].kind) {
                        Some(NodeKind::File(ino)) => Some((i, *ino)),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        // 1. opaque markers, 2. whiteouts: both act on lower layers only.
        for c in &lc.changes {
            if c.kind == ChangeKind::Opaque {
                let path = self.resolve_all(c.path);
                let dir = if path.is_empty() {
                    ROOT
                } else {
                    match self.lookup(&path) {
                        Some(id) if matches!(self.nodes[id as usize].kind, NodeKind::Dir) => id,
                        _ => continue,
                    }
                };
                let kids: Vec<NodeId> = self.names.children(dir).collect();
                for k in kids {
                    self.count_removed(k, layer, true);
                    self.names.detach(k);
                }
            }
        }
        for c in &lc.changes {
            if c.kind == ChangeKind::Whiteout {
                // Through a symlinked parent, the whiteout removes the target.
                let path = self.resolve(c.path);
                let Some(id) = self.lookup(&path) else {
                    continue;
                };
                self.count_removed(id, layer, true);
                self.names.detach(id);
            }
        }
        // 3. additions in tar order (the probes' facts move into the inodes).
        // Each chunk of entries is freed once stacked (the last use of the
        // list), so the list shrinks while the tree grows.
        let mut facts = lc.changes.take_facts().into_iter().peekable();
        for i in 0..lc.changes.len() {
            lc.changes.release_before(i);
            let c = lc.changes.get(i);
            let tag = tags.get(i).copied().unwrap_or(NO_TAG);
            if matches!(c.kind, ChangeKind::Opaque | ChangeKind::Whiteout) {
                continue;
            }
            let mut c_facts = None;
            while let Some((j, _)) = facts.peek() {
                if *j as usize > i {
                    break;
                }
                let (j, f) = facts.next().expect("peeked");
                if j as usize == i {
                    c_facts = Some(f);
                }
            }
            // An entry under a symlinked directory lands where the link
            // points (inside the root), as containerd and umoci apply it.
            let mut path = Cow::Borrowed(c.path);
            let (parent, name_start) = match self.parent_dir_or_link(&path, layer, true) {
                Some(found) => found,
                None => {
                    if let Cow::Owned(p) = self.resolve(c.path) {
                        path = Cow::Owned(p);
                    }
                    self.parent_dir(&path, layer)
                }
            };
            let existing = self.child(parent, &path[name_start..]);
            let is_dir = c.kind == ChangeKind::Dir;
            if let Some(old) = existing {
                let old_node = &self.nodes[old as usize];
                let old_is_dir = matches!(old_node.kind, NodeKind::Dir);
                if old_node.layer == layer && !old_is_dir && !is_dir {
                    self.layers[layer as usize].duplicates += 1;
                    if self.layers[layer as usize].duplicates == 1 {
                        self.warnings.push(format!(
                            "layer {layer}: {} appears more than once; the last entry wins",
                            display_path(&path)
                        ));
                    }
                }
                if is_dir && old_is_dir {
                    // Directory over directory: attributes replaced, children kept.
                    self.nodes[old as usize].layer = layer;
                    self.nodes[old as usize].tag = tag;
                    continue;
                }
                if !is_dir && old_node.layer != layer {
                    self.layers[layer as usize].modified += 1;
                }
                self.mark_hidden(old, layer);
            } else if !is_dir {
                self.layers[layer as usize].added += 1;
            }
            // The node this change creates (ids are handed out in order).
            let node = self.nodes.len() as NodeId;
            let kind = match c.kind {
                ChangeKind::Dir => NodeKind::Dir,
                ChangeKind::File => {
                    self.layers[layer as usize].file_bytes += c.size;
                    if let Some(f) = c_facts.take() {
                        self.facts.push((self.inodes.len() as InodeId, f));
                    }
                    self.inodes.push(Inode {
                        size: c.size,
                        download: c.download,
                        layer,
                        node,
                        hidden_by: None,
                    });
                    NodeKind::File((self.inodes.len() - 1) as InodeId)
                }
                ChangeKind::Hardlink(target) => {
                    let now = match self
                        .lookup(&self.resolve(target))
                        .map(|t| &self.nodes[t as usize].kind)
                    {
                        Some(NodeKind::File(ino)) => Some(*ino),
                        _ => None,
                    };
                    match now.or_else(|| lower_targets.get(&i).copied()) {
                        Some(ino) => NodeKind::File(ino),
                        None => {
                            self.warnings.push(format!(
                            "layer {layer}: hardlink {} points to {}, which does not exist (yet); counted as an empty file",
                            display_path(&path),
                            display_path(target)
                        ));
                            self.inodes.push(Inode {
                                size: 0,
                                download: 0,
                                layer,
                                node,
                                hidden_by: None,
                            });
                            NodeKind::File((self.inodes.len() - 1) as InodeId)
                        }
                    }
                }
                ChangeKind::Symlink(target) => {
                    self.links.push(target.into());
                    NodeKind::Symlink((self.links.len() - 1) as u32)
                }
                _ => NodeKind::Other,
            };
            let id = self.new_node(parent, &path[name_start..], kind, layer);
            debug_assert_eq!(id, node);
            self.nodes[id as usize].tag = tag;
        }
    }

    /// Visit every visible non-directory path in sorted (byte) order, with
    /// each inode's bytes charged to the first path that reaches it. Returns
    /// which inodes are reachable.
    pub fn walk_final(&self, mut f: impl FnMut(&FinalFile)) -> Vec<bool> {
        let mut reached = vec![false; self.inodes.len()];
        let mut path = Vec::new();
        self.walk(ROOT, &mut path, &mut reached, &mut f);
        reached
    }

    fn walk(
        &self,
        id: NodeId,
        path: &mut Vec<u8>,
        reached: &mut [bool],
        f: &mut impl FnMut(&FinalFile),
    ) {
        if !matches!(self.nodes[id as usize].kind, NodeKind::Dir) {
            return;
        }
        for child in self.names.sorted_children(id) {
            let len = path.len();
            if len > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(self.names.name(child));
            let node = &self.nodes[child as usize];
            match node.kind {
                NodeKind::Dir => self.walk(child, path, reached, f),
                NodeKind::File(ino) => {
                    let first = !reached[ino as usize];
                    reached[ino as usize] = true;
                    let inode = &self.inodes[ino as usize];
                    f(&FinalFile {
                        path,
                        bytes: if first { inode.size } else { 0 },
                        download: if first { inode.download } else { 0 },
                        inode: Some(ino),
                        layer: node.layer,
                        tag: node.tag,
                    });
                }
                _ => f(&FinalFile {
                    path,
                    bytes: 0,
                    download: 0,
                    inode: None,
                    layer: node.layer,
                    tag: node.tag,
                }),
            }
            path.truncate(len);
        }
    }

    /// Charge unreachable inodes to the layers that wrote them.
    pub fn settle_waste(&mut self, reached: &[bool]) {
        for l in &mut self.layers {
            l.wasted_bytes = 0;
            l.wasted_download = 0;
        }
        for (ino, r) in self.inodes.iter().zip(reached) {
            if !r {
                let l = &mut self.layers[ino.layer as usize];
                l.wasted_bytes += ino.size;
                l.wasted_download += ino.download;
            }
        }
    }

    /// dive's figures: (efficiency score, wasted bytes), computed as dive
    /// computes them (see `dive.rs`).
    pub fn dive_figures(&self) -> (f64, u64) {
        self.dive.figures()
    }

    /// dive's inefficient files (paths seen in two or more layers), largest
    /// cumulative size first.
    pub fn dive_files(&self) -> Vec<dive::DiveFile> {
        self.dive.files()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layer::Change;
    use crate::layer::Compression;

    /// A layer of these entries (path, kind, size), for stacking tests.
    pub(crate) fn layer(changes: Vec<(&str, ChangeKind, u64)>) -> LayerChanges {
        LayerChanges {
            index: 0,
            changes: changes
                .into_iter()
                .map(|(p, kind, size)| Change {
                    path: p.as_bytes().into(),
                    kind,
                    size,
                    download: 0,
                    facts: None,
                })
                .collect(),
            stored_bytes: 0,
            tar_bytes: 0,
            unattributed: 0,
            compression: Compression::None,
            warnings: vec![],
        }
    }

    fn final_bytes(t: &mut Tree) -> (u64, u64) {
        let mut total = 0;
        let mut files = 0;
        let reached = t.walk_final(|f| {
            total += f.bytes;
            files += 1;
        });
        t.settle_waste(&reached);
        (total, files)
    }

    #[test]
    fn inodes_and_nodes_stay_small() {
        assert_eq!(std::mem::size_of::<Inode>(), 32);
        assert_eq!(std::mem::size_of::<Node>(), 16);
    }

    #[test]
    fn whiteouts_opaques_and_hardlinks_add_up() {
        use ChangeKind::*;
        let mut t = Tree::new();
        t.apply(&mut layer(vec![
            ("a/big", File, 100),
            ("a/keep", File, 10),
            ("d/sub/x", File, 7),
            ("h/orig", File, 40),
            ("h/link", Hardlink(b"h/orig"[..].into()), 0),
            ("c/old", File, 5),
        ]));
        t.apply(&mut layer(vec![
            ("a/big", Whiteout, 0),
            ("d", Whiteout, 0),
            ("h/orig", Whiteout, 0),
            ("c/new", File, 3),
            ("c", Opaque, 0),
        ]));
        let (fin, files) = final_bytes(&mut t);
        // keep 10 + orig via link 40 + c/new 3
        assert_eq!(fin, 53);
        assert_eq!(files, 3);
        assert_eq!(t.layers[0].wasted_bytes, 100 + 7 + 5);
        assert_eq!(t.layers[1].removed, 4); // a/big, d/sub/x, h/orig, c/old
        let sum: u64 = t.layers.iter().map(|l| l.file_bytes).sum();
        assert_eq!(
            sum,
            fin + t.layers.iter().map(|l| l.wasted_bytes).sum::<u64>()
        );
    }

    #[test]
    fn hardlink_keeps_a_lower_file_its_layer_deletes() {
        use ChangeKind::*;
        let mut t = Tree::new();
        t.apply(&mut layer(vec![("orig", File, 40)]));
        // The whiteout acts first on the lower layer, but the link (first in
        // tar order) already holds the bytes.
        t.apply(&mut layer(vec![
            ("keep", Hardlink(b"orig"[..].into()), 0),
            ("orig", Whiteout, 0),
        ]));
        let (fin, files) = final_bytes(&mut t);
        assert_eq!((fin, files), (40, 1));
        assert_eq!(t.layers[0].wasted_bytes, 0);
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn dir_replaced_by_file_and_duplicates() {
        use ChangeKind::*;
        let mut t = Tree::new();
        t.apply(&mut layer(vec![
            ("x/y", File, 8),
            ("f", File, 1),
            ("f", File, 2),
        ]));
        assert_eq!(t.layers[0].duplicates, 1);
        t.apply(&mut layer(vec![("x", File, 4)]));
        let (fin, _) = final_bytes(&mut t);
        assert_eq!(fin, 4 + 2);
        assert_eq!(t.layers[0].wasted_bytes, 8 + 1);
        assert_eq!(t.layers[1].modified, 1);
    }

    #[test]
    fn names_resolve_through_symlinked_parents_inside_the_root() {
        use ChangeKind::*;
        let sym = |t: &str| Symlink(t.as_bytes().into());
        let mut t = Tree::new();
        t.apply(&mut layer(vec![
            ("d", Dir, 0),
            ("s", sym("d"), 0),
            ("abs", sym("/d"), 0),
            ("up", sym("../../../d"), 0),
            ("loop", sym("loop"), 0),
            ("chain", sym("s"), 0),
        ]));
        assert_eq!(&*t.resolve(b"s/f"), b"d/f");
        assert_eq!(&*t.resolve(b"abs/f"), b"d/f");
        assert_eq!(&*t.resolve(b"up/f"), b"d/f");
        assert_eq!(&*t.resolve(b"chain/f"), b"d/f");
        // The last component is never followed; a loop gives up, literally.
        assert_eq!(&*t.resolve(b"s"), b"s");
        assert_eq!(&*t.resolve(b"loop/f"), b"loop/f");
        assert!(matches!(t.resolve(b"d/f"), Cow::Borrowed(_)));
        // A hostile chain of long targets is cut short, not followed for ever.
        let long = "x/".repeat(5000) + "..";
        let mut l = vec![("h0", sym(&long), 0)];
        let names: Vec<String> = (1..300).map(|i| format!("h{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            l.push((n.as_str(), sym(&format!("h{i}/{long}")), 0));
        }
        t.apply(&mut layer(l));
        let start = std::time::Instant::now();
        let _ = t.resolve(b"h299/f");
        assert!(start.elapsed().as_secs() < 2);
    }
}
