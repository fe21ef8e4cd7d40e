//! The daemon source's export-document cache: the small documents of a
//! Docker daemon image's export (`manifest.json`, the config, OCI index and
//! manifests), its symlinks and the names of its other members, keyed by the
//! image ID (its config digest), so a daemon image whose layers are all in
//! the layer cache is analysed without exporting it at all.
//!
//! Entries sit beside the layer cache's, as `<cache dir>/layers/<2 hex>/<key>.docs`,
//! in the same framing ([`crate::entryfile`]: atomic writes, sha256 trailer;
//! a damaged entry is ignored and deleted). `imgaudit cache info|prune`
//! count and delete them with the layer entries.

use crate::entryfile::{entry_path, read_entry, write_atomic, In, Out};
use crate::error::Result;
use sha2::{Digest as _, Sha256};
use std::path::Path;

/// Version 2: the other members carry their sizes (issue 18).
const DOCS_MAGIC: &[u8; 16] = b"imgaudit-docs\x00\x00\x02";
/// Part of the key: a format change makes old entries unreachable.
const FORMAT: u32 = 1;

/// The small documents of a daemon export, by their cleaned paths in the
/// export, its symlinks (path → target as written), and the paths and sizes
/// of its other files (layers, documents too big to keep), whose bytes are
/// not here; the sizes are the layer cache's cheap check on a hit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportDocs {
    pub files: Vec<(String, Vec<u8>)>,
    pub links: Vec<(String, String)>,
    pub others: Vec<(String, u64)>,
}

/// The key of a daemon image's export documents: its image ID.
pub(super) fn key(image_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(FORMAT.to_le_bytes());
    h.update(b"export-docs\n");
    h.update(image_id.as_bytes());
    hex::encode(h.finalize())
}

/// The cached export documents under `key` in `cache_dir`, or `None` (a
/// damaged entry is deleted).
pub(super) fn load(cache_dir: &Path, key: &str) -> Option<ExportDocs> {
    read_entry(&entry_path(cache_dir, key, "docs"), decode)
}

/// Store export documents atomically (failures are for a warning).
pub(super) fn store(cache_dir: &Path, key: &str, docs: &ExportDocs) -> Result<()> {
    write_atomic(&entry_path(cache_dir, key, "docs"), &encode(docs))
}

fn encode(d: &ExportDocs) -> Vec<u8> {
    let mut o = Out::new(DOCS_MAGIC, 0);
    o.u64(d.files.len() as u64);
    for (path, bytes) in &d.files {
        o.bytes(path.as_bytes());
        o.bytes(bytes);
    }
    o.u64(d.links.len() as u64);
    for (path, target) in &d.links {
        o.bytes(path.as_bytes());
        o.bytes(target.as_bytes());
    }
    o.u64(d.others.len() as u64);
    for (path, size) in &d.others {
        o.bytes(path.as_bytes());
        o.u64(*size);
    }
    o.seal()
}

fn decode(all: &[u8]) -> Option<ExportDocs> {
    let mut r = In::open(all, DOCS_MAGIC)?;
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    let mut d = ExportDocs::default();
    for _ in 0..r.u64()? {
        let path = text(r.bytes()?)?;
        d.files.push((path, r.bytes()?.to_vec()));
    }
    for _ in 0..r.u64()? {
        let path = text(r.bytes()?)?;
        d.links.push((path, text(r.bytes()?)?));
    }
    for _ in 0..r.u64()? {
        let path = text(r.bytes()?)?;
        d.others.push((path, r.u64()?));
    }
    r.is_done().then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_docs_round_trip_and_damage() {
        let t = tempfile::tempdir().unwrap();
        let docs = ExportDocs {
            files: vec![
                ("manifest.json".into(), b"[{}]".to_vec()),
                ("abc.json".into(), vec![0, 1, 2]),
            ],
            links: vec![("blobs/sha256/x".into(), "../../abc.json".into())],
            others: vec![("0123/layer.tar".into(), 10240)],
        };
        let k = key("sha256:00");
        assert_ne!(k, key("sha256:01"));
        assert_eq!(load(t.path(), &k), None);
        store(t.path(), &k, &docs).unwrap();
        assert_eq!(load(t.path(), &k), Some(docs.clone()));
        let p = entry_path(t.path(), &k, "docs");
        assert!(p.is_file());
        // A flipped byte: refused and deleted.
        let mut b = std::fs::read(&p).unwrap();
        b[20] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert_eq!(load(t.path(), &k), None);
        assert!(!p.exists());
        // Trailing bytes inside a valid checksum are refused too.
        let mut enc = encode(&docs);
        enc.truncate(enc.len() - 32);
        enc.push(0);
        let sum = Sha256::digest(&enc);
        enc.extend_from_slice(&sum);
        assert_eq!(decode(&enc), None);
    }
}
