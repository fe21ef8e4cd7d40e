//! Compact storage for a tree of names: every node is its parent's id plus
//! its own name, the names live back to back in one byte arena, and one hash
//! table over (parent, name) finds a child. This replaces a hash map and a
//! boxed name per node (about 80 bytes and two allocations per path) with
//! about 24 bytes and none (issue 19, docs/PERFORMANCE.md "Memory per entry").
//!
//! Nodes are never freed: a removed node is only *detached* (no longer found
//! by name nor listed among its parent's children) and keeps its parent and
//! name, so [`Names::path`] still rebuilds the path it had. Children are a
//! singly linked list in insertion order; detached ones are skipped lazily.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash, Hasher};

/// "No node" in the links.
const NONE: u32 = u32::MAX;

/// 24 bytes: the name's offset, length and the detached bit share one word.
#[derive(Clone)]
struct Entry {
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    /// Children attached now (detached ones are still in the list).
    live_children: u32,
    /// `offset << NAME_BITS | len << 1 | detached`.
    name: u64,
}

/// Bits for a name's length (a tar name is capped at 1 MiB, so a
/// component is shorter than 2^21 bytes).
const LEN_BITS: u32 = 21;
/// The low bit: the node is detached.
const DETACHED: u64 = 1;
/// Offset shift: 42 bits of offset (4 TiB of names) remain.
const NAME_BITS: u32 = LEN_BITS + 1;

impl Entry {
    fn off(&self) -> usize {
        (self.name >> NAME_BITS) as usize
    }
    fn len(&self) -> usize {
        ((self.name >> 1) & ((1 << LEN_BITS) - 1)) as usize
    }
    fn range(&self) -> std::ops::Range<usize> {
        self.off()..self.off() + self.len()
    }
}

/// A name's packed word (see [`Entry::name`]); panics past the format's
/// bounds (a name of 2 MiB, 4 TiB of names), which the layer stage's caps
/// keep out of reach.
fn pack(off: usize, len: usize) -> u64 {
    assert!(
        len < 1 << LEN_BITS && (off as u64) < 1 << (64 - NAME_BITS),
        "name arena bounds"
    );
    (off as u64) << NAME_BITS | (len as u64) << 1
}

/// A tree of byte names; node 0 is the root (empty name, its own parent).
#[derive(Clone)]
pub struct Names {
    entries: Vec<Entry>,
    bytes: Vec<u8>,
    table: HashTable<u32>,
}

impl Default for Names {
    fn default() -> Self {
        Self::new()
    }
}

fn hash(parent: u32, name: &[u8]) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    parent.hash(&mut h);
    h.write(name);
    h.finish()
}

impl Names {
    pub const ROOT: u32 = 0;

    pub fn new() -> Names {
        Names {
            entries: vec![Entry {
                parent: 0,
                first_child: NONE,
                next_sibling: NONE,
                live_children: 0,
                name: 0,
            }],
            bytes: Vec::new(),
            table: HashTable::new(),
        }
    }

    /// Nodes ever created (detached ones included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn name(&self, id: u32) -> &[u8] {
        &self.bytes[self.entries[id as usize].range()]
    }

    pub fn parent(&self, id: u32) -> u32 {
        self.entries[id as usize].parent
    }

    /// The attached child `name` of `parent`.
    pub fn get(&self, parent: u32, name: &[u8]) -> Option<u32> {
        self.table
            .find(hash(parent, name), |&c| {
                self.entries[c as usize].parent == parent && self.name(c) == name
            })
            .copied()
    }

    /// A new node `name` under `parent` (the caller has detached any
    /// attached child of that name first).
    pub fn insert(&mut self, parent: u32, name: &[u8]) -> u32 {
        debug_assert!(self.get(parent, name).is_none());
        let id = self.entries.len() as u32;
        let packed = pack(self.bytes.len(), name.len());
        self.bytes.extend_from_slice(name);
        let p = &mut self.entries[parent as usize];
        let next_sibling = p.first_child;
        p.first_child = id;
        p.live_children += 1;
        self.entries.push(Entry {
            parent,
            first_child: NONE,
            next_sibling,
            live_children: 0,
            name: packed,
        });
        let (entries, bytes) = (&self.entries, &self.bytes);
        let name_of = |c: u32| {
            let e = &entries[c as usize];
            (e.parent, &bytes[e.range()])
        };
        self.table.insert_unique(hash(parent, name), id, |&c| {
            let (p, n) = name_of(c);
            hash(p, n)
        });
        id
    }

    /// The attached child `name` of `parent`, created when missing.
    pub fn get_or_insert(&mut self, parent: u32, name: &[u8]) -> u32 {
        match self.get(parent, name) {
            Some(id) => id,
            None => self.insert(parent, name),
        }
    }

    /// Detach `id` from its parent (its own children stay under it).
    pub fn detach(&mut self, id: u32) {
        if self.is_detached(id) || id == Self::ROOT {
            return;
        }
        let parent = self.entries[id as usize].parent;
        let h = hash(parent, self.name(id));
        if let Ok(slot) = self.table.find_entry(h, |&c| c == id) {
            slot.remove();
        }
        self.entries[id as usize].name |= DETACHED;
        self.entries[parent as usize].live_children -= 1;
    }

    pub fn is_detached(&self, id: u32) -> bool {
        self.entries[id as usize].name & DETACHED != 0
    }

    pub fn has_children(&self, id: u32) -> bool {
        self.entries[id as usize].live_children > 0
    }

    /// The attached children of `id` (newest first).
    pub fn children(&self, id: u32) -> Children<'_> {
        Children {
            names: self,
            next: self.entries[id as usize].first_child,
            left: self.entries[id as usize].live_children,
        }
    }

    /// The attached children of `id` sorted by name (bytes).
    pub fn sorted_children(&self, id: u32) -> Vec<u32> {
        let mut v: Vec<u32> = self.children(id).collect();
        v.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        v
    }

    /// `id`'s path from the root, components joined with `/` (the path it
    /// had when it was created, even once detached).
    pub fn path(&self, id: u32) -> Vec<u8> {
        let mut ids = Vec::new();
        let mut cur = id;
        while cur != Self::ROOT {
            ids.push(cur);
            cur = self.entries[cur as usize].parent;
        }
        let mut out = Vec::new();
        for &c in ids.iter().rev() {
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(self.name(c));
        }
        out
    }
}

/// Iterator over a node's attached children.
pub struct Children<'a> {
    names: &'a Names,
    next: u32,
    left: u32,
}

impl Iterator for Children<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        while self.left > 0 && self.next != NONE {
            let id = self.next;
            self.next = self.names.entries[id as usize].next_sibling;
            if !self.names.is_detached(id) {
                self.left -= 1;
                return Some(id);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_detach_and_rebuild_paths() {
        let mut n = Names::new();
        let usr = n.insert(Names::ROOT, b"usr");
        let bin = n.insert(usr, b"bin");
        let ls = n.insert(bin, b"ls");
        let cat = n.insert(bin, b"cat");
        assert_eq!(n.get(Names::ROOT, b"usr"), Some(usr));
        assert_eq!(n.get(usr, b"bin"), Some(bin));
        assert_eq!(n.get(Names::ROOT, b"bin"), None);
        assert_eq!(n.get(bin, b"ls"), Some(ls));
        assert_eq!(n.path(ls), b"usr/bin/ls");
        assert_eq!(n.sorted_children(bin), vec![cat, ls]);
        assert!(n.has_children(bin));
        n.detach(ls);
        assert_eq!(n.get(bin, b"ls"), None);
        assert_eq!(n.children(bin).collect::<Vec<_>>(), vec![cat]);
        // A detached node keeps its path; a new one takes the name.
        assert_eq!(n.path(ls), b"usr/bin/ls");
        let ls2 = n.insert(bin, b"ls");
        assert_ne!(ls, ls2);
        assert_eq!(n.get(bin, b"ls"), Some(ls2));
        n.detach(cat);
        n.detach(ls2);
        n.detach(ls2);
        assert!(!n.has_children(bin));
        assert_eq!(n.children(bin).count(), 0);
        // Empty and arbitrary byte names.
        let odd = n.insert(Names::ROOT, b"\xff\n|");
        assert_eq!(n.get(Names::ROOT, b"\xff\n|"), Some(odd));
        assert_eq!(n.path(odd), b"\xff\n|");
    }

    #[test]
    fn entries_are_24_bytes_and_keep_long_names() {
        assert_eq!(std::mem::size_of::<Entry>(), 24);
        let mut n = Names::new();
        let long = vec![b'x'; (1 << 20) + 7];
        let a = n.insert(Names::ROOT, b"a");
        let l = n.insert(a, &long);
        let b = n.insert(l, b"b");
        assert_eq!(n.name(l), &long[..]);
        assert_eq!(n.get(a, &long), Some(l));
        assert_eq!(n.name(b), b"b");
        n.detach(l);
        assert!(n.is_detached(l));
        assert_eq!(n.name(l), &long[..]);
        assert_eq!(n.path(b).len(), 2 + long.len() + 2);
    }

    #[test]
    fn many_children_stay_findable_through_table_growth() {
        let mut n = Names::new();
        let d = n.insert(Names::ROOT, b"d");
        let ids: Vec<u32> = (0..50_000)
            .map(|i| n.insert(d, format!("f{i}").as_bytes()))
            .collect();
        for (i, &id) in ids.iter().enumerate().step_by(997) {
            assert_eq!(n.get(d, format!("f{i}").as_bytes()), Some(id));
            assert_eq!(n.path(id), format!("d/f{i}").as_bytes());
        }
        for &id in ids.iter().step_by(2) {
            n.detach(id);
        }
        assert_eq!(n.children(d).count(), 25_000);
        assert_eq!(n.get(d, b"f0"), None);
        assert_eq!(n.get(d, b"f1"), Some(ids[1]));
    }
}
