//! The layer cache's entry codec: one layer's [`LayerChanges`] and path
//! tags as bytes, and back.
//!
//! Format (integers little-endian, byte strings length-prefixed, framing
//! from [`crate::entryfile`]): the magic; the stored and tar byte counts and
//! the compression found in the bytes; the warnings (stored without their
//! `layer N:` prefix, since the same layer can sit at another index in
//! another image); each change (kind, path, size, ELF facts, captured
//! package database); the tags; the sha256 trailer.

use crate::entryfile::{In, Out};
use crate::layer::probe::{DbKind, FileFacts};
use crate::layer::PathTag;
use crate::layer::{elf::ElfFacts, Change, ChangeKind, ChangeList, Compression, LayerChanges};

const MAGIC: &[u8; 16] = b"imgaudit-layer\x00\x01";
/// Part of every key: a format change makes old entries unreachable.
pub(super) const FORMAT: u32 = 3;

/// Bytes at the start of an entry that [`stored_bytes`] needs.
pub(super) const HEAD: usize = MAGIC.len() + 8;

/// The stored size an entry records, from its first [`HEAD`] bytes alone
/// (unchecked: the sha256 trailer is checked when the entry is loaded).
pub(super) fn stored_bytes(head: &[u8]) -> Option<u64> {
    let rest = head.strip_prefix(&MAGIC[..])?;
    Some(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?))
}

/// Warnings from the layer stage start with `layer N:`; they are stored
/// without the index (the same layer can sit at another index elsewhere).
pub(super) fn encode(lc: &LayerChanges, tags: &[PathTag]) -> Vec<u8> {
    let mut o = Out::new(MAGIC, 64 * lc.changes.len() + 1024);
    o.u64(lc.stored_bytes);
    o.u64(lc.tar_bytes);
    o.u64(lc.unattributed);
    o.u8(match lc.compression {
        Compression::None => 0,
        Compression::Gzip => 1,
        Compression::Zstd => 2,
    });
    let prefix = format!("layer {}:", lc.index);
    o.u64(lc.warnings.len() as u64);
    for w in &lc.warnings {
        match w.strip_prefix(&prefix) {
            Some(rest) => {
                o.u8(1);
                o.bytes(rest.as_bytes());
            }
            None => {
                o.u8(0);
                o.bytes(w.as_bytes());
            }
        }
    }
    o.u64(lc.changes.len() as u64);
    for c in &lc.changes {
        match &c.kind {
            ChangeKind::File => o.u8(0),
            ChangeKind::Dir => o.u8(1),
            ChangeKind::Symlink(t) => {
                o.u8(2);
                o.bytes(t);
            }
            ChangeKind::Hardlink(t) => {
                o.u8(3);
                o.bytes(t);
            }
            ChangeKind::Other => o.u8(4),
            ChangeKind::Whiteout => o.u8(5),
            ChangeKind::Opaque => o.u8(6),
        }
        o.bytes(c.path);
        o.u64(c.size);
        o.u64(c.download);
        let facts = c.facts;
        match facts.and_then(|f| f.elf) {
            Some(e) => {
                o.u8(1);
                o.u64(e.strippable_bytes);
                o.u64(e.debug_bytes);
                o.u8(e.has_debuglink as u8);
            }
            None => o.u8(0),
        }
        match facts.and_then(|f| f.db.as_ref()) {
            Some((kind, data)) => {
                o.u8(match kind {
                    DbKind::DpkgStatus => 1,
                    DbKind::DpkgList => 2,
                    DbKind::PythonRecord => 3,
                    DbKind::ApkInstalled => 4,
                });
                o.bytes(data);
            }
            None => o.u8(0),
        }
    }
    o.u64(tags.len() as u64);
    for t in tags {
        o.0.extend_from_slice(&t.to_le_bytes());
    }
    o.seal()
}

pub(super) fn decode(all: &[u8], index: usize) -> Option<(LayerChanges, Vec<PathTag>)> {
    let mut r = In::open(all, MAGIC)?;
    let stored_bytes = r.u64()?;
    let tar_bytes = r.u64()?;
    let unattributed = r.u64()?;
    let compression = match r.u8()? {
        0 => Compression::None,
        1 => Compression::Gzip,
        2 => Compression::Zstd,
        _ => return None,
    };
    let nw = r.len()?;
    let mut warnings = Vec::with_capacity(nw);
    for _ in 0..nw {
        let prefixed = r.u8()? == 1;
        let text = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        warnings.push(if prefixed {
            format!("layer {index}:{text}")
        } else {
            text
        });
    }
    let n = r.len()?;
    let mut changes = ChangeList::new();
    for _ in 0..n {
        let kind = match r.u8()? {
            0 => ChangeKind::File,
            1 => ChangeKind::Dir,
            2 => ChangeKind::Symlink(r.bytes()?.into()),
            3 => ChangeKind::Hardlink(r.bytes()?.into()),
            4 => ChangeKind::Other,
            5 => ChangeKind::Whiteout,
            6 => ChangeKind::Opaque,
            _ => return None,
        };
        let path: Box<[u8]> = r.bytes()?.into();
        let size = r.u64()?;
        let download = r.u64()?;
        let elf = match r.u8()? {
            0 => None,
            1 => Some(ElfFacts {
                strippable_bytes: r.u64()?,
                debug_bytes: r.u64()?,
                has_debuglink: r.u8()? != 0,
            }),
            _ => return None,
        };
        let db = match r.u8()? {
            0 => None,
            k => {
                let kind = match k {
                    1 => DbKind::DpkgStatus,
                    2 => DbKind::DpkgList,
                    3 => DbKind::PythonRecord,
                    4 => DbKind::ApkInstalled,
                    _ => return None,
                };
                Some((kind, r.bytes()?.into()))
            }
        };
        let facts = (elf.is_some() || db.is_some()).then(|| Box::new(FileFacts { elf, db }));
        changes.push(Change {
            path,
            kind,
            size,
            download,
            facts,
        });
    }
    let nt = r.len()?;
    let raw = r.take(nt.checked_mul(2)?)?;
    let tags = raw
        .chunks_exact(2)
        .map(|c| PathTag::from_le_bytes([c[0], c[1]]))
        .collect();
    if !r.is_done() {
        return None;
    }
    Some((
        LayerChanges {
            index,
            changes,
            stored_bytes,
            tar_bytes,
            unattributed,
            compression,
            warnings,
        },
        tags,
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::cache) fn sample() -> (LayerChanges, Vec<PathTag>) {
        let changes = vec![
            Change {
                path: b"usr/bin/x"[..].into(),
                kind: ChangeKind::File,
                size: 1234,
                download: 40,
                facts: Some(Box::new(FileFacts {
                    elf: Some(ElfFacts {
                        strippable_bytes: 100,
                        debug_bytes: 60,
                        has_debuglink: true,
                    }),
                    db: None,
                })),
            },
            Change {
                path: b"var/lib/dpkg/status"[..].into(),
                kind: ChangeKind::File,
                size: 5,
                download: 10,
                facts: Some(Box::new(FileFacts {
                    elf: None,
                    db: Some((DbKind::DpkgStatus, b"Package: x"[..].into())),
                })),
            },
            Change {
                path: b"usr/bin/y"[..].into(),
                kind: ChangeKind::Hardlink(b"usr/bin/x"[..].into()),
                size: 0,
                download: 5,
                facts: None,
            },
            Change {
                path: b"opt/\xff\xfe"[..].into(),
                kind: ChangeKind::Whiteout,
                size: 0,
                download: 4,
                facts: None,
            },
        ];
        (
            LayerChanges {
                index: 3,
                changes: changes.into(),
                stored_bytes: 99,
                tar_bytes: 4096,
                unattributed: 40,
                compression: Compression::Zstd,
                warnings: vec!["layer 3: odd entry".into(), "something else".into()],
            },
            vec![7, crate::layer::NO_TAG, 2, crate::layer::NO_TAG],
        )
    }

    #[test]
    fn round_trip_renumbers_layer_warnings() {
        let (lc, tags) = sample();
        let bytes = encode(&lc, &tags);
        let (back, back_tags) = decode(&bytes, 5).unwrap();
        assert_eq!(back_tags, tags);
        assert_eq!(back.index, 5);
        assert_eq!(back.stored_bytes, 99);
        assert_eq!(back.tar_bytes, 4096);
        assert_eq!(back.unattributed, 40);
        assert_eq!(back.compression, Compression::Zstd);
        assert_eq!(back.warnings, vec!["layer 5: odd entry", "something else"]);
        assert_eq!(back.changes.len(), lc.changes.len());
        for (a, b) in back.changes.iter().zip(&lc.changes) {
            assert_eq!(a.path, b.path);
            assert_eq!(a.kind, b.kind);
            assert_eq!(a.size, b.size);
            assert_eq!(a.download, b.download);
            assert_eq!(format!("{:?}", a.facts), format!("{:?}", b.facts));
        }
    }

    #[test]
    fn stored_size_is_read_from_the_head() {
        let (lc, tags) = sample();
        let bytes = encode(&lc, &tags);
        assert_eq!(stored_bytes(&bytes[..HEAD]), Some(99));
        assert_eq!(stored_bytes(&bytes[..HEAD - 1]), None);
        let mut b = bytes.clone();
        b[0] ^= 1;
        assert_eq!(stored_bytes(&b[..HEAD]), None);
    }

    #[test]
    fn damaged_entries_are_refused() {
        let (lc, tags) = sample();
        let bytes = encode(&lc, &tags);
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], 0).is_none(), "cut at {cut}");
        }
        for i in [0, 20, bytes.len() / 2, bytes.len() - 40] {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(decode(&b, 0).is_none(), "flipped byte {i}");
        }
    }
}
