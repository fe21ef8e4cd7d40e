//! A layer's changes, stored compactly (issue 19): every path and link
//! target back to back in one byte buffer, one fixed-size record per entry
//! (size, download, offset, kind and link length packed: 24 bytes), and the
//! probes' facts in a side list of the few entries that have any. A
//! [`Change`] (one boxed path, a 24-byte kind, a boxed link target) is only
//! the form an entry is built in and handed over with; a layer holds 24
//! bytes plus its path per entry instead of about 96.

use super::probe::FileFacts;
use super::{Change, ChangeKind};

/// One entry as stored: 24 bytes. Its path and link target are
/// `bytes[start(i)..start(i + 1)]`, the link target last.
#[derive(Clone)]
struct Rec {
    size: u64,
    download: u64,
    /// The low 32 bits of the path's offset in `bytes` (the high bits
    /// count the entries in `wraps` at or before this one).
    off: u32,
    /// `link_len << KIND_BITS | kind`.
    meta: u32,
}

const KIND_BITS: u32 = 3;

fn kind_code(k: &ChangeKind) -> u32 {
    match k {
        ChangeKind::File => 0,
        ChangeKind::Dir => 1,
        ChangeKind::Symlink(_) => 2,
        ChangeKind::Hardlink(_) => 3,
        ChangeKind::Other => 4,
        ChangeKind::Whiteout => 5,
        ChangeKind::Opaque => 6,
    }
}

/// One stored entry, borrowed (the fields a [`Change`] has).
#[derive(Debug, Clone, Copy)]
pub struct ChangeRef<'a> {
    pub path: &'a [u8],
    pub kind: ChangeKind<&'a [u8]>,
    pub size: u64,
    pub download: u64,
    pub facts: Option<&'a FileFacts>,
}

impl ChangeRef<'_> {
    /// The owned form.
    pub fn to_change(&self) -> Change {
        Change {
            path: self.path.into(),
            kind: match self.kind {
                ChangeKind::File => ChangeKind::File,
                ChangeKind::Dir => ChangeKind::Dir,
                ChangeKind::Symlink(t) => ChangeKind::Symlink(t.into()),
                ChangeKind::Hardlink(t) => ChangeKind::Hardlink(t.into()),
                ChangeKind::Other => ChangeKind::Other,
                ChangeKind::Whiteout => ChangeKind::Whiteout,
                ChangeKind::Opaque => ChangeKind::Opaque,
            },
            size: self.size,
            download: self.download,
            facts: self.facts.map(|f| Box::new(f.clone())),
        }
    }
}

/// Entries per chunk: the tree frees a layer's entries chunk by chunk as
/// it stacks them ([`ChangeList::release_before`]), so a layer's list and
/// the tree it builds do not both peak at once.
const CHUNK_BITS: u32 = 15;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Up to [`CHUNK`] consecutive entries.
#[derive(Clone, Default)]
struct Chunk {
    recs: Vec<Rec>,
    bytes: Vec<u8>,
    /// Entries whose offset passed another multiple of 4 GiB.
    wraps: Vec<u32>,
}

impl Chunk {
    /// Where entry `j`'s bytes start (`bytes.len()` for `j == recs.len()`).
    fn start(&self, j: usize) -> usize {
        if j == self.recs.len() {
            return self.bytes.len();
        }
        let high = self.wraps.partition_point(|&w| w as usize <= j);
        high << 32 | self.recs[j].off as usize
    }
}

/// A layer's entries in tar order.
#[derive(Clone, Default)]
pub struct ChangeList {
    chunks: Vec<Chunk>,
    len: usize,
    /// Chunks already freed (all before the others).
    released: usize,
    /// (entry index, facts), in index order.
    facts: Vec<(u32, Box<FileFacts>)>,
}

impl ChangeList {
    pub fn new() -> ChangeList {
        ChangeList::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append an entry (its facts move in).
    pub fn push(&mut self, c: Change) {
        let link: &[u8] = match &c.kind {
            ChangeKind::Symlink(t) | ChangeKind::Hardlink(t) => t,
            _ => &[],
        };
        assert!(
            c.path.len() < 1 << 31 && link.len() < 1 << (32 - KIND_BITS),
            "change list bounds"
        );
        let i = self.len;
        if i % CHUNK == 0 {
            self.chunks.push(Chunk {
                recs: Vec::with_capacity(CHUNK),
                ..Chunk::default()
            });
        }
        let k = self.chunks.last_mut().expect("pushed above");
        let off = k.bytes.len();
        if off >> 32 > k.wraps.len() {
            k.wraps.push(k.recs.len() as u32);
        }
        k.recs.push(Rec {
            size: c.size,
            download: c.download,
            off: off as u32,
            meta: (link.len() as u32) << KIND_BITS | kind_code(&c.kind),
        });
        k.bytes.extend_from_slice(&c.path);
        k.bytes.extend_from_slice(link);
        if let Some(f) = c.facts {
            self.facts.push((i as u32, f));
        }
        self.len += 1;
    }

    /// Entry `i` (panics when out of range or released, as indexing does).
    pub fn get(&self, i: usize) -> ChangeRef<'_> {
        assert!(i < self.len, "change {i} of {}", self.len);
        assert!(i >> CHUNK_BITS >= self.released, "change {i} was released");
        let k = &self.chunks[i >> CHUNK_BITS];
        let j = i & (CHUNK - 1);
        let r = &k.recs[j];
        let (off, end) = (k.start(j), k.start(j + 1));
        let path_end = end - (r.meta >> KIND_BITS) as usize;
        let link = &k.bytes[path_end..end];
        let kind = match r.meta & ((1 << KIND_BITS) - 1) {
            0 => ChangeKind::File,
            1 => ChangeKind::Dir,
            2 => ChangeKind::Symlink(link),
            3 => ChangeKind::Hardlink(link),
            5 => ChangeKind::Whiteout,
            6 => ChangeKind::Opaque,
            _ => ChangeKind::Other,
        };
        let facts = self
            .facts
            .binary_search_by_key(&(i as u32), |(j, _)| *j)
            .ok()
            .map(|k| &*self.facts[k].1);
        ChangeRef {
            path: &k.bytes[off..path_end],
            kind,
            size: r.size,
            download: r.download,
            facts,
        }
    }

    /// The last entry, if any.
    pub fn last(&self) -> Option<ChangeRef<'_>> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// Set entry `i`'s download bytes (known once the next header is read).
    pub fn set_download(&mut self, i: usize, download: u64) {
        self.chunks[i >> CHUNK_BITS].recs[i & (CHUNK - 1)].download = download;
    }

    /// Move every entry's facts out, as (entry index, facts) in index order.
    pub fn take_facts(&mut self) -> Vec<(u32, Box<FileFacts>)> {
        std::mem::take(&mut self.facts)
    }

    /// Free the storage of entries before `i` (whole chunks only; entries
    /// before `i` may no longer be read, [`ChangeList::len`] is unchanged).
    pub fn release_before(&mut self, i: usize) {
        let upto = (i >> CHUNK_BITS).min(self.chunks.len());
        for k in &mut self.chunks[self.released.min(upto)..upto] {
            *k = Chunk::default();
        }
        self.released = self.released.max(upto);
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ChangeRef<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<'a> IntoIterator for &'a ChangeList {
    type Item = ChangeRef<'a>;
    type IntoIter =
        std::iter::Map<std::ops::Range<usize>, Box<dyn Fn(usize) -> ChangeRef<'a> + 'a>>;
    fn into_iter(self) -> Self::IntoIter {
        (0..self.len()).map(Box::new(move |i| self.get(i)))
    }
}

impl std::fmt::Debug for ChangeList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<Change> for ChangeList {
    fn from_iter<I: IntoIterator<Item = Change>>(iter: I) -> Self {
        let mut l = ChangeList::new();
        for c in iter {
            l.push(c);
        }
        l
    }
}

impl From<Vec<Change>> for ChangeList {
    fn from(v: Vec<Change>) -> Self {
        v.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_links_facts_and_downloads() {
        assert_eq!(std::mem::size_of::<Rec>(), 24);
        let facts = FileFacts::default();
        let kinds: Vec<ChangeKind> = vec![
            ChangeKind::File,
            ChangeKind::Dir,
            ChangeKind::Symlink(b"../x/y"[..].into()),
            ChangeKind::Hardlink(b"usr/bin/a"[..].into()),
            ChangeKind::Other,
            ChangeKind::Whiteout,
            ChangeKind::Opaque,
            ChangeKind::Symlink(b""[..].into()),
        ];
        let changes: Vec<Change> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Change {
                path: format!("d{i}/\u{e9}\n{i}").into_bytes().into(),
                kind,
                size: i as u64 * 1000,
                download: 7 + i as u64,
                facts: (i % 3 == 0).then(|| Box::new(facts.clone())),
            })
            .collect();
        let mut l: ChangeList = changes.clone().into();
        assert_eq!(l.len(), changes.len());
        for (a, b) in l.iter().zip(&changes) {
            assert_eq!(format!("{:?}", a.to_change()), format!("{b:?}"));
        }
        l.set_download(2, 99);
        assert_eq!(l.get(2).download, 99);
        assert_eq!(l.get(3).download, 10);
        assert_eq!(l.last().unwrap().path, b"d7/\xc3\xa9\n7");
        let taken = l.take_facts();
        assert_eq!(taken.iter().map(|t| t.0).collect::<Vec<_>>(), vec![0, 3, 6]);
        assert!(l.iter().all(|c| c.facts.is_none()));
        assert!(ChangeList::new().last().is_none());
    }

    #[test]
    fn chunks_hold_their_entries_and_free_them_in_order() {
        let n = 3 * CHUNK + 17;
        let mut l: ChangeList = (0..n)
            .map(|i| Change {
                path: format!("d/{i}").into_bytes().into(),
                kind: if i % 5 == 0 {
                    ChangeKind::Symlink(format!("t{i}").into_bytes().into())
                } else {
                    ChangeKind::File
                },
                size: i as u64,
                download: 0,
                facts: None,
            })
            .collect();
        l.set_download(CHUNK + 3, 5);
        assert_eq!(l.len(), n);
        for i in [0, CHUNK - 1, CHUNK, CHUNK + 3, 2 * CHUNK, n - 1] {
            let c = l.get(i);
            assert_eq!(c.path, format!("d/{i}").as_bytes());
            assert_eq!(c.size, i as u64);
            assert_eq!(c.download, if i == CHUNK + 3 { 5 } else { 0 });
            let want = format!("t{i}");
            match c.kind {
                ChangeKind::Symlink(t) => assert_eq!(t, want.as_bytes()),
                k => assert!(i % 5 != 0 && k == ChangeKind::File),
            }
        }
        l.release_before(CHUNK + 5);
        assert_eq!(l.len(), n);
        assert_eq!(l.get(CHUNK).path, format!("d/{CHUNK}").as_bytes());
        assert!(std::panic::catch_unwind(|| l.get(CHUNK - 1).size).is_err());
        l.release_before(n);
        assert_eq!(l.get(n - 1).size, (n - 1) as u64);
        assert_eq!(
            l.chunks[..3]
                .iter()
                .map(|k| k.recs.capacity())
                .sum::<usize>(),
            0
        );
    }
}
