//! The previous implementation of dive's model (one arena per tree), kept
//! for tests only: the compact model must give the same figures and files
//! on every layer sequence ([`super::tests`]).

use std::borrow::Cow;

use crate::layer::{ChangeKind, ChangeList};
use crate::tree::arena::Names;

/// A node's payload in a dive file tree (one layer's, or the stacked one).
#[derive(Clone, Copy, Default)]
struct Node {
    /// Tar size of the entry that last set the payload (0 for an implied parent).
    size: i64,
    is_dir: bool,
}

/// An arena tree; node 0 is the root. Removed subtrees stay in the arena
/// (detached). Names and links in `names`, payloads in `nodes` (same ids).
#[derive(Clone)]
struct DTree {
    names: Names,
    nodes: Vec<Node>,
}

const ROOT: u32 = 0;
const WH: &[u8] = b".wh.";
const DOUBLE_WH: &[u8] = b".wh..wh..";

impl DTree {
    fn new() -> DTree {
        DTree {
            names: Names::new(),
            nodes: vec![Node::default()],
        }
    }

    fn get(&self, path: &[u8]) -> Option<u32> {
        let mut cur = ROOT;
        for seg in path.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
            cur = self.names.get(cur, seg)?;
        }
        Some(cur)
    }

    /// dive's `AddPath`: walk, creating parents with an empty payload; the
    /// last node takes `payload` (children kept). A new `.wh..wh..` name is
    /// never added (the walk stops there). Returns the last node.
    fn add(&mut self, path: &[u8], payload: Option<(i64, bool)>) -> Option<u32> {
        let mut cur = ROOT;
        for seg in path.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
            cur = match self.names.get(cur, seg) {
                Some(n) => n,
                None => {
                    if seg.starts_with(DOUBLE_WH) {
                        return None;
                    }
                    self.child(cur, seg)
                }
            };
        }
        if cur == ROOT {
            return None;
        }
        if let Some((size, is_dir)) = payload {
            let n = &mut self.nodes[cur as usize];
            n.size = size;
            n.is_dir = is_dir;
        }
        Some(cur)
    }

    /// Child `name` of `id`, created with an empty payload when missing.
    fn child(&mut self, id: u32, name: &[u8]) -> u32 {
        if let Some(n) = self.names.get(id, name) {
            return n;
        }
        let n = self.names.insert(id, name);
        self.nodes.push(Node::default());
        n
    }

    /// dive's `Stack` of `layer` onto this tree: children first, a whiteout
    /// removes its target, anything else is added with its payload. Only
    /// the order of a whiteout and its target's name matters, so a
    /// directory's children are sorted (as dive visits them) only when one
    /// of them is a whiteout.
    fn graft(&mut self, sid: u32, layer: &DTree, lid: u32) {
        let mut kids: Vec<(&[u8], u32)> = layer
            .names
            .children(lid)
            .map(|c| (layer.names.name(c), c))
            .collect();
        if kids.iter().any(|(k, _)| k.starts_with(WH)) {
            kids.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        for (name, child) in kids {
            let c = &layer.nodes[child as usize];
            if let Some(target) = name.strip_prefix(WH) {
                if layer.names.has_children(child) {
                    // Entries below a whiteout's name: added under that name.
                    let s = self.child(sid, name);
                    self.graft(s, layer, child);
                }
                if let Some(t) = self.names.get(sid, target) {
                    self.names.detach(t);
                }
            } else {
                let s = self.child(sid, name);
                self.graft(s, layer, child);
                let n = &mut self.nodes[s as usize];
                n.size = c.size;
                n.is_dir = c.is_dir;
            }
        }
    }

    /// Σ sizes of `id` and everything below it.
    fn subtree_size(&self, id: u32) -> i64 {
        let mut total = 0;
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            total += self.nodes[n as usize].size;
            stack.extend(self.names.children(n));
        }
        total
    }

    /// Depth-first, children first, names in byte order, root excluded:
    /// `f(path as dive prints it without the leading '/', node, name)`;
    /// stops at the first `false`.
    /// Unsorted when `sorted` is false (when the visit cannot stop early,
    /// the order changes nothing).
    fn visit_child_first(&self, sorted: bool, mut f: impl FnMut(&[u8], u32, &[u8]) -> bool) {
        fn go(
            t: &DTree,
            id: u32,
            sorted: bool,
            path: &mut Vec<u8>,
            f: &mut impl FnMut(&[u8], u32, &[u8]) -> bool,
        ) -> bool {
            let kids: Vec<u32> = if sorted {
                t.names.sorted_children(id)
            } else {
                t.names.children(id).collect()
            };
            for child in kids {
                let name = t.names.name(child);
                let len = path.len();
                if len > 0 {
                    path.push(b'/');
                }
                path.extend_from_slice(name);
                let ok = go(t, child, sorted, path, f) && f(path, child, name);
                path.truncate(len);
                if !ok {
                    return false;
                }
            }
            true
        }
        go(self, ROOT, sorted, &mut Vec::new(), &mut f);
    }
}

/// Per-path counters, as dive keeps them.
#[derive(Clone, Copy)]
pub struct RefStat {
    pub cumulative: i64,
    /// -1 until a size is recorded (dive leaves -1 behind when a whiteout's
    /// lookup fails and stops the layer's visit).
    pub min: i64,
    /// Layers whose leaves named the path.
    pub count: u32,
}

/// dive's view of the image so far.
pub struct RefModel {
    /// dive's stacking of the layers applied so far.
    stacked: DTree,
    layers: u32,
    /// Every path dive has counted, interned as parent + name; `stats` is
    /// indexed by its ids (`None`: an interned parent never counted itself).
    keys: Names,
    stats: Vec<Option<RefStat>>,
}

impl Default for RefModel {
    fn default() -> Self {
        RefModel {
            stacked: DTree::new(),
            layers: 0,
            keys: Names::new(),
            stats: vec![None],
        }
    }
}

/// One of dive's "inefficient files": a path seen in two or more layers.
pub struct RefFile {
    /// Path without the leading '/'.
    pub path: Box<[u8]>,
    pub count: u32,
    pub bytes: u64,
}

impl RefModel {
    /// Add one layer's entries (in tar order).
    pub fn apply(&mut self, changes: &ChangeList) {
        let mut layer = DTree::new();
        // Whiteout nodes and the paths they delete.
        let mut whiteouts: Vec<(u32, &[u8])> = Vec::new();
        let mut name = Vec::new();
        for c in changes {
            match &c.kind {
                // `dir/.wh..wh..opq`: the parent is created, the marker never.
                ChangeKind::Opaque => {
                    layer.add(c.path, None);
                }
                ChangeKind::Whiteout => {
                    let base = c.path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
                    name.clear();
                    name.extend_from_slice(&c.path[..base]);
                    name.extend_from_slice(WH);
                    name.extend_from_slice(&c.path[base..]);
                    if let Some(id) = layer.add(&name, Some((c.size as i64, false))) {
                        whiteouts.push((id, c.path));
                    }
                }
                kind => {
                    layer.add(c.path, Some((c.size as i64, *kind == ChangeKind::Dir)));
                }
            }
        }
        // dive stacks from a copy of the first layer's tree, then stacks the
        // first layer (again) and every later one onto it; for the first
        // layer, the copy alone is what its whiteouts are looked up in.
        let first = self.layers == 0;
        let lower = if first { &layer } else { &self.stacked };
        // A whiteout of a missing path stops dive's visit of the layer, in
        // name order; without one the order changes nothing.
        let stops = whiteouts
            .iter()
            .any(|&(id, target)| !layer.names.has_children(id) && lower.get(target).is_none());
        let (keys, stats) = (&mut self.keys, &mut self.stats);
        layer.visit_child_first(stops, |path, id, name| {
            let node = &layer.nodes[id as usize];
            if layer.names.has_children(id) {
                return true;
            }
            let whiteout = name.starts_with(WH);
            let key: Cow<[u8]> = if whiteout {
                Cow::Owned(strip_whiteout(path, path.len() - name.len()).into_vec())
            } else {
                Cow::Borrowed(path)
            };
            let mut k = Names::ROOT;
            for seg in key.split(|&b| b == b'/') {
                k = keys.get_or_insert(k, seg);
            }
            if stats.len() < keys.len() {
                stats.resize(keys.len(), None);
            }
            let e = stats[k as usize].get_or_insert(RefStat {
                cumulative: 0,
                min: -1,
                count: 0,
            });
            let size = if whiteout {
                match lower.get(&key) {
                    None => return false,
                    Some(n) if lower.nodes[n as usize].is_dir => lower.subtree_size(n),
                    Some(_) => 0,
                }
            } else {
                node.size
            };
            e.cumulative += size;
            if e.min < 0 || size < e.min {
                e.min = size;
            }
            e.count += 1;
            true
        });
        // Stack this layer onto dive's stacked tree. Stacking the first
        // layer onto its own copy changes nothing unless it has whiteouts.
        if first && whiteouts.is_empty() {
            self.stacked = layer;
        } else {
            if first {
                self.stacked = layer.clone();
            }
            self.stacked.graft(ROOT, &layer, ROOT);
        }
        self.layers += 1;
    }

    /// (score, wasted bytes) as dive computes them.
    pub fn figures(&self) -> (f64, u64) {
        let (mut min, mut cum, mut wasted) = (0i64, 0i64, 0i64);
        for s in self.stats.iter().flatten() {
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
    pub fn files(&self) -> Vec<RefFile> {
        let mut v: Vec<RefFile> = self
            .stats
            .iter()
            .enumerate()
            .filter_map(|(k, s)| Some((k, s.as_ref()?)))
            .filter(|(_, s)| s.count > 1)
            .map(|(k, s)| RefFile {
                path: self.keys.path(k as u32).into(),
                count: s.count,
                bytes: s.cumulative.max(0) as u64,
            })
            .collect();
        v.sort_unstable_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        v
    }
}

/// `dir/.wh.NAME` (the leaf's name starting at `cut`) → `dir/NAME`.
fn strip_whiteout(path: &[u8], cut: usize) -> Box<[u8]> {
    let mut k = path[..cut].to_vec();
    k.extend_from_slice(&path[cut + WH.len()..]);
    k.into()
}
