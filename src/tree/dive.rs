//! dive's efficiency model, reproduced on imgaudit's changes so that
//! `totals.efficiency`, `totals.dive_wasted_bytes` and the list of
//! "inefficient files" equal what dive reports on the same image, on every
//! layer shape (docs/ACCOUNTING.md, "dive's figures").
//!
//! dive does not apply the OCI layer rules. It builds one tree per layer from
//! the tar entries (a later entry for the same path replaces the node's
//! payload and keeps its children; parents a layer does not list get an
//! empty payload: size 0, not a directory; `.wh..wh.*` names are never
//! added, but their parent is), then, layer by layer, visits the *leaves* of
//! that layer's tree in name order and adds, per path:
//!
//! - a non-whiteout leaf: its tar size (0 for symlinks, hardlinks,
//!   directories, devices);
//! - a whiteout leaf `.wh.NAME`: looked up in dive's own stacking of the
//!   lower layers (which never applies opaque markers and keeps the children
//!   of a directory a file replaces); a directory counts the sizes of its
//!   whole subtree, anything else 0. When the path is missing there, dive
//!   stops visiting the rest of that layer, and leaves behind an entry whose
//!   minimum is -1.
//!
//! The score is Σ min / Σ cumulative over all paths; the wasted figure and
//! the file list take every path seen in two or more layers.

//! Storage (issue 19): every path dive ever sees — the per-layer trees' nodes,
//! the stacked tree's, the counters' keys — is interned once, as parent +
//! name, in one [`Names`] arena that never detaches anything. The stacked
//! tree is a pair of flags and a size per path id (a path is in it when its
//! flag is set; removing a path clears the flag of everything below it, so a
//! path's flag implies its parent's); a layer's tree is a short-lived list of
//! the ids it names with their payloads; the counters are arrays indexed by
//! id. That is about 70 bytes per distinct path instead of three arenas.

use super::arena::Names;
use crate::layer::{ChangeKind, ChangeList};
use rustc_hash::FxHashMap;

const ROOT: u32 = 0;
const WH: &[u8] = b".wh.";
const DOUBLE_WH: &[u8] = b".wh..wh..";
/// No layer node.
const NONE: u32 = u32::MAX;

/// Per-path flags.
const STACKED: u8 = 1;
/// The stacked payload is a directory.
const STACKED_DIR: u8 = 2;
/// The path has counters (it was a leaf of some layer, or a whiteout's target).
const COUNTED: u8 = 4;

/// A node of the layer being applied: a path id and its payload in this
/// layer (tar size of the entry that last set it; 0 for an implied parent).
struct LNode {
    id: u32,
    size: i64,
    is_dir: bool,
    /// Some node of this layer is below it (it is not a leaf).
    has_kids: bool,
}

/// Per-path counters, as dive keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiveStat {
    pub cumulative: i64,
    /// -1 until a size is recorded (dive leaves -1 behind when a whiteout's
    /// lookup fails and stops the layer's visit).
    pub min: i64,
    /// Layers whose leaves named the path.
    pub count: u32,
}

/// dive's view of the image so far.
pub struct DiveModel {
    /// Every path seen, as parent + name (nothing is ever detached).
    paths: Names,
    /// Per path id: [`STACKED`], [`STACKED_DIR`], [`COUNTED`].
    flags: Vec<u8>,
    /// Per path id: the payload size in dive's stacked tree.
    stacked_size: Vec<i64>,
    /// Per path id: the counters' cumulative size and count; the minimum is
    /// -1 at count 0, the cumulative size at count 1 (one size seen), and
    /// kept in `min_many` from count 2 on.
    cumulative: Vec<i64>,
    count: Vec<u32>,
    min_many: FxHashMap<u32, i64>,
    /// Per path id, while a layer is applied: its index in that layer's
    /// nodes, when it has one (empty between layers).
    in_layer: Vec<u32>,
    layers: u32,
    /// How many layers the image has, when known: after the last one,
    /// only the figures and the file list are kept (`done`).
    total: Option<u32>,
    done: Option<((f64, u64), Vec<DiveFile>)>,
}

impl Default for DiveModel {
    fn default() -> Self {
        DiveModel {
            paths: Names::new(),
            flags: vec![STACKED],
            stacked_size: vec![0],
            cumulative: vec![0],
            count: vec![0],
            min_many: FxHashMap::default(),
            in_layer: Vec::new(),
            layers: 0,
            total: None,
            done: None,
        }
    }
}

/// One of dive's "inefficient files": a path seen in two or more layers.
#[derive(Clone)]
pub struct DiveFile {
    /// Path without the leading '/'.
    pub path: Box<[u8]>,
    pub count: u32,
    pub bytes: u64,
}

impl DiveModel {
    /// The id of `name` under `parent`, interned when new.
    fn intern(&mut self, parent: u32, name: &[u8]) -> u32 {
        if let Some(id) = self.paths.get(parent, name) {
            return id;
        }
        let id = self.paths.insert(parent, name);
        self.flags.push(0);
        self.stacked_size.push(0);
        self.cumulative.push(0);
        self.count.push(0);
        if !self.in_layer.is_empty() {
            self.in_layer.push(NONE);
        }
        id
    }

    fn layer_node(&self, layer: &[LNode], id: u32) -> Option<usize> {
        let i = self.in_layer[id as usize] as usize;
        (i < layer.len() && layer[i].id == id).then_some(i)
    }

    fn stacked(&self, id: u32) -> bool {
        self.flags[id as usize] & STACKED != 0
    }

    /// dive's `AddPath` on the layer's tree: walk, creating parents with an
    /// empty payload; the last node takes `payload` (children kept). A new
    /// `.wh..wh..` name is never added (the walk stops there). Returns the
    /// last node's path id.
    fn add(
        &mut self,
        layer: &mut Vec<LNode>,
        path: &[u8],
        payload: Option<(i64, bool)>,
    ) -> Option<u32> {
        let mut cur = ROOT;
        let mut cur_node: Option<usize> = None;
        for seg in path.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
            let found = self
                .paths
                .get(cur, seg)
                .and_then(|id| Some((id, self.layer_node(layer, id)?)));
            let (id, i) = match found {
                Some(f) => f,
                None => {
                    if seg.starts_with(DOUBLE_WH) {
                        return None;
                    }
                    let id = self.intern(cur, seg);
                    self.in_layer[id as usize] = layer.len() as u32;
                    layer.push(LNode {
                        id,
                        size: 0,
                        is_dir: false,
                        has_kids: false,
                    });
                    if let Some(p) = cur_node {
                        layer[p].has_kids = true;
                    }
                    (id, layer.len() - 1)
                }
            };
            cur = id;
            cur_node = Some(i);
        }
        let i = cur_node?;
        if let Some((size, is_dir)) = payload {
            layer[i].size = size;
            layer[i].is_dir = is_dir;
        }
        Some(cur)
    }

    /// Put `id` in the stacked tree (its parent is there) with an empty
    /// payload, unless it is there already.
    fn stack(&mut self, id: u32) {
        let f = &mut self.flags[id as usize];
        if *f & STACKED == 0 {
            *f = (*f & !STACKED_DIR) | STACKED;
            self.stacked_size[id as usize] = 0;
        }
    }

    fn set_payload(&mut self, id: u32, size: i64, is_dir: bool) {
        let f = &mut self.flags[id as usize];
        *f = if is_dir {
            *f | STACKED_DIR
        } else {
            *f & !STACKED_DIR
        };
        self.stacked_size[id as usize] = size;
    }

    /// Remove `id` and everything below it from the stacked tree.
    fn unstack(&mut self, id: u32) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            self.flags[n as usize] &= !(STACKED | STACKED_DIR);
            stack.extend(self.paths.children(n).filter(|&c| self.stacked(c)));
        }
    }

    /// Σ stacked sizes of `id` and everything below it.
    fn subtree_size(&self, id: u32) -> i64 {
        let mut total = 0;
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            total += self.stacked_size[n as usize];
            stack.extend(self.paths.children(n).filter(|&c| self.stacked(c)));
        }
        total
    }

    /// The path a whiteout node `.wh.NAME` deletes (`NAME` under the same
    /// parent), interned.
    fn whiteout_target(&mut self, wh: u32) -> u32 {
        let parent = self.paths.parent(wh);
        let name = self.paths.name(wh)[WH.len()..].to_vec();
        self.intern(parent, &name)
    }

    /// Count one leaf of the layer, as dive's visit does; `false` stops the
    /// layer's visit (a whiteout whose target the lower layers lack).
    fn count_leaf(&mut self, node: &LNode) -> bool {
        let whiteout = self.paths.name(node.id).starts_with(WH);
        let key = if whiteout {
            self.whiteout_target(node.id)
        } else {
            node.id
        };
        let k = key as usize;
        self.flags[k] |= COUNTED;
        let size = if whiteout {
            if !self.stacked(key) {
                return false;
            }
            if self.flags[k] & STACKED_DIR != 0 {
                self.subtree_size(key)
            } else {
                0
            }
        } else {
            node.size
        };
        let (count, cum) = (self.count[k], self.cumulative[k]);
        match count {
            0 => {}
            1 => {
                self.min_many.insert(key, cum.min(size));
            }
            _ => {
                let m = self.min_many.get_mut(&key).expect("kept from count 2");
                *m = (*m).min(size);
            }
        }
        self.cumulative[k] = cum + size;
        self.count[k] = count + 1;
        true
    }

    /// The image has `n` layers: the `n`-th applied is the last.
    pub fn expect_layers(&mut self, n: usize) {
        self.total = u32::try_from(n).ok();
    }

    /// Add one layer's entries (in tar order).
    pub fn apply(&mut self, changes: &ChangeList) {
        let mut layer: Vec<LNode> = Vec::new();
        self.in_layer = vec![NONE; self.paths.len()];
        // Whiteout nodes (path ids of `.wh.NAME`).
        let mut whiteouts: Vec<u32> = Vec::new();
        let mut name = Vec::new();
        for c in changes {
            match &c.kind {
                // `dir/.wh..wh..opq`: the parent is created, the marker never.
                ChangeKind::Opaque => {
                    self.add(&mut layer, c.path, None);
                }
                ChangeKind::Whiteout => {
                    let base = c.path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
                    name.clear();
                    name.extend_from_slice(&c.path[..base]);
                    name.extend_from_slice(WH);
                    name.extend_from_slice(&c.path[base..]);
                    if let Some(id) = self.add(&mut layer, &name, Some((c.size as i64, false))) {
                        whiteouts.push(id);
                    }
                }
                kind => {
                    self.add(
                        &mut layer,
                        c.path,
                        Some((c.size as i64, *kind == ChangeKind::Dir)),
                    );
                }
            }
        }
        // dive stacks from a copy of the first layer's tree, then stacks the
        // first layer (again) and every later one onto it; for the first
        // layer, the copy alone is what its whiteouts are looked up in.
        let first = self.layers == 0;
        if first {
            for n in &layer {
                self.stack(n.id);
                self.set_payload(n.id, n.size, n.is_dir);
            }
        }
        // A whiteout of a missing path stops dive's visit of the layer, in
        // name order; without one the order changes nothing.
        let stops = whiteouts.iter().any(|&w| {
            let leaf = self
                .layer_node(&layer, w)
                .is_some_and(|i| !layer[i].has_kids);
            let parent = self.paths.parent(w);
            let target = self.paths.get(parent, &self.paths.name(w)[WH.len()..]);
            leaf && !target.is_some_and(|t| self.stacked(t))
        });
        // A name `.wh.X` with entries below it (not a whiteout entry) also
        // removes `X` when stacked: only such layers need the recursive graft.
        let wh_names =
            !whiteouts.is_empty() || layer.iter().any(|n| self.paths.name(n.id).starts_with(WH));
        let graft = if first {
            !whiteouts.is_empty()
        } else {
            wh_names
        };
        let kids = if stops || graft {
            self.layer_children(&layer)
        } else {
            FxHashMap::default()
        };
        if stops {
            self.visit_sorted(&layer, &kids, ROOT);
        } else {
            for n in layer.iter().filter(|n| !n.has_kids) {
                if !self.count_leaf(n) {
                    break;
                }
            }
        }
        if self.total == Some(self.layers + 1) {
            // The last layer: nothing is stacked on it, so the figures and
            // the file list are final; keep them, free everything else
            // before the size tree stacks the layer.
            let done = (self.figures(), self.files());
            *self = DiveModel {
                layers: self.layers + 1,
                total: self.total,
                done: Some(done),
                ..DiveModel::default()
            };
            return;
        }
        // Stack this layer onto dive's stacked tree. Stacking the first
        // layer onto its own copy changes nothing unless it has whiteouts;
        // without whiteouts, only each node's payload changes (parents
        // come before their children in the layer's list).
        if graft {
            self.graft(&layer, &kids, ROOT);
        } else if !first {
            for n in &layer {
                self.stack(n.id);
                self.set_payload(n.id, n.size, n.is_dir);
            }
        }
        self.layers += 1;
        self.in_layer = Vec::new();
    }

    /// The layer's children of each of its nodes (and of the root), as
    /// indexes into `layer`, in the order they were added.
    fn layer_children(&self, layer: &[LNode]) -> FxHashMap<u32, Vec<u32>> {
        let mut kids: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (i, n) in layer.iter().enumerate() {
            kids.entry(self.paths.parent(n.id))
                .or_default()
                .push(i as u32);
        }
        kids
    }

    fn sorted_kids(&self, layer: &[LNode], kids: &FxHashMap<u32, Vec<u32>>, id: u32) -> Vec<u32> {
        let mut v = kids.get(&id).cloned().unwrap_or_default();
        v.sort_unstable_by(|&a, &b| {
            self.paths
                .name(layer[a as usize].id)
                .cmp(self.paths.name(layer[b as usize].id))
        });
        v
    }

    /// dive's visit of the layer's leaves: depth first, children first,
    /// names in byte order; stops at the first `false`.
    fn visit_sorted(&mut self, layer: &[LNode], kids: &FxHashMap<u32, Vec<u32>>, id: u32) -> bool {
        for i in self.sorted_kids(layer, kids, id) {
            let n = &layer[i as usize];
            if n.has_kids {
                if !self.visit_sorted(layer, kids, n.id) {
                    return false;
                }
            } else if !self.count_leaf(n) {
                return false;
            }
        }
        true
    }

    /// dive's `Stack` of the layer below `id` onto the stacked tree:
    /// children first, a whiteout removes its target, anything else is
    /// added with its payload. Only the order of a whiteout and its
    /// target's name matters, so a directory's children are sorted (as dive
    /// visits them) only when one of them is a whiteout.
    fn graft(&mut self, layer: &[LNode], kids: &FxHashMap<u32, Vec<u32>>, id: u32) {
        let Some(mine) = kids.get(&id) else {
            return;
        };
        let any_wh = mine
            .iter()
            .any(|&i| self.paths.name(layer[i as usize].id).starts_with(WH));
        let order = if any_wh {
            self.sorted_kids(layer, kids, id)
        } else {
            mine.clone()
        };
        for i in order {
            let n = &layer[i as usize];
            let whiteout = self.paths.name(n.id).starts_with(WH);
            if whiteout {
                if n.has_kids {
                    // Entries below a whiteout's name: added under that name.
                    self.stack(n.id);
                    self.graft(layer, kids, n.id);
                }
                let target = self.paths.get(id, &self.paths.name(n.id)[WH.len()..]);
                if let Some(t) = target.filter(|&t| self.stacked(t)) {
                    self.unstack(t);
                }
            } else {
                self.stack(n.id);
                self.graft(layer, kids, n.id);
                self.set_payload(n.id, n.size, n.is_dir);
            }
        }
    }

    /// The counters of path id `k`, when it has any.
    fn stat(&self, k: usize) -> Option<DiveStat> {
        if self.flags[k] & COUNTED == 0 {
            return None;
        }
        let (cumulative, count) = (self.cumulative[k], self.count[k]);
        let min = match count {
            0 => -1,
            1 => cumulative,
            _ => self.min_many[&(k as u32)],
        };
        Some(DiveStat {
            cumulative,
            min,
            count,
        })
    }

    /// (score, wasted bytes) as dive computes them.
    pub fn figures(&self) -> (f64, u64) {
        if let Some((f, _)) = &self.done {
            return *f;
        }
        let (mut min, mut cum, mut wasted) = (0i64, 0i64, 0i64);
        for s in (0..self.flags.len()).filter_map(|k| self.stat(k)) {
            min += s.min;
            cum += s.cumulative;
            if s.count > 1 {
                wasted += s.cumulative;
            }
        }
        let score = if cum == 0 {
            1.0
        } else {
            min as f64 / cum as f64
        };
        (score, wasted.max(0) as u64)
    }

    /// Every path seen in two or more layers, largest cumulative size first
    /// (ties by path).
    pub fn files(&self) -> Vec<DiveFile> {
        if let Some((_, files)) = &self.done {
            return files.clone();
        }
        let mut v: Vec<DiveFile> = self
            .min_many
            .keys()
            .map(|&k| DiveFile {
                path: self.paths.path(k).into(),
                count: self.count[k as usize],
                bytes: self.cumulative[k as usize].max(0) as u64,
            })
            .collect();
        v.sort_unstable_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        v
    }
}

#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Change;

    /// A deterministic pseudo-random layer sequence over a few names, with
    /// every kind of entry (whiteouts of present and missing paths, opaque
    /// markers, `.wh.` directories, names sorting before `.wh.`).
    fn layers(seed: u64) -> Vec<Vec<Change>> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let names: [&[u8]; 5] = [b"a", b"b", b"-c", b".wh.a", b"d"];
        let mut out = Vec::new();
        for _ in 0..1 + next(4) {
            let mut l = Vec::new();
            for _ in 0..next(9) {
                let depth = 1 + next(3);
                let mut path = Vec::new();
                for d in 0..depth {
                    if d > 0 {
                        path.push(b'/');
                    }
                    path.extend_from_slice(names[next(5) as usize]);
                }
                // A last name `.wh.X` is a whiteout of X, as the layer
                // stage reads it (a directory may still be named so).
                if let Some(p) = path.strip_suffix(b".wh.a") {
                    let mut p = p.to_vec();
                    p.push(b'a');
                    l.push(Change {
                        path: p.into(),
                        kind: ChangeKind::Whiteout,
                        size: 0,
                        download: 0,
                        facts: None,
                    });
                    continue;
                }
                let (kind, size) = match next(7) {
                    0 | 1 => (ChangeKind::File, next(100)),
                    2 => (ChangeKind::Dir, 0),
                    3 => (ChangeKind::Symlink(b"x".to_vec().into()), 0),
                    4 => (ChangeKind::Whiteout, 0),
                    5 => (ChangeKind::Opaque, 0),
                    _ => (ChangeKind::Hardlink(b"a".to_vec().into()), 0),
                };
                l.push(Change {
                    path: path.into(),
                    kind,
                    size,
                    download: 0,
                    facts: None,
                });
            }
            out.push(l);
        }
        out
    }

    #[test]
    fn same_figures_and_files_as_one_arena_per_tree() {
        let mut stopped = 0;
        for seed in 0..20_000 {
            let ls = layers(seed);
            let mut new = DiveModel::default();
            if seed % 2 == 0 {
                new.expect_layers(ls.len());
            }
            let mut old = reference::RefModel::default();
            for l in ls {
                let l: ChangeList = l.into();
                new.apply(&l);
                old.apply(&l);
            }
            let (a, b) = (new.figures(), old.figures());
            assert_eq!(a.1, b.1, "seed {seed}");
            assert!(
                a.0 == b.0 || (a.0.is_nan() && b.0.is_nan()),
                "seed {seed}: {a:?} {b:?}"
            );
            let fa: Vec<_> = new
                .files()
                .into_iter()
                .map(|f| (f.path, f.count, f.bytes))
                .collect();
            let fb: Vec<_> = old
                .files()
                .into_iter()
                .map(|f| (f.path, f.count, f.bytes))
                .collect();
            assert_eq!(fa, fb, "seed {seed}");
            stopped += usize::from(a.0 < 0.0 || fa.iter().any(|f| f.1 > 1));
        }
        // The sequences reach the interesting cases, not only trivial ones.
        assert!(stopped > 1000, "{stopped}");
    }
}
