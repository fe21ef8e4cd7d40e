//! The layer cache: what the layer stage learnt from one layer (its changes,
//! the probe facts) plus the path-rule tags, stored on disk so an image that
//! shares layers with one analysed before decodes only its new layers — and a
//! registry source does not even download the cached ones.
//!
//! - Key: sha256 over the analyzer version, the cache format, the layer's
//!   stored digest (when the image names one) and diff_id, whether content
//!   probes ran, and the rules' hash. A layer is only stored after a read that
//!   verified its digest, so an entry stands for bytes that were checked.
//! - Location: `<cache dir>/layers/<2 hex>/<key>.layer` (the cache dir is
//!   `--cache-dir`, else `$XDG_CACHE_HOME/imgaudit`, else `~/.cache/imgaudit`).
//! - Writes are atomic (a temporary file in the same directory, then a
//!   rename), so a crash or a second imgaudit process never leaves a partial
//!   entry under a key. Every entry ends with the sha256 of everything before
//!   it; an entry that does not check out is ignored (deleted) and rebuilt.
//! - Format (all integers little-endian): magic, then the layer's counters,
//!   warnings, changes and tags, each length-prefixed; see `encode`.
//!
//! Beside the layers, `<key>.docs` entries hold the small documents of a
//! Docker daemon image's export (`manifest.json`, the config, OCI index and
//! manifests), keyed by the image ID (its config digest), so a daemon image
//! whose layers are all cached is analysed without exporting it at all. Same
//! atomic writes and checksum; see [`ExportDocs`].

use crate::classify::PathTag;
use crate::error::{Error, Result};
use crate::layer::probe::{DbKind, FileFacts};
use crate::layer::{elf::ElfFacts, Change, ChangeKind, LayerChanges};
use crate::source::docs::Compression;
use crate::source::LayerSpec;
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 16] = b"imgaudit-layer\x00\x01";
const DOCS_MAGIC: &[u8; 16] = b"imgaudit-docs\x00\x00\x01";
const FORMAT: u32 = 2;
/// Entries larger than this are not read (a corrupt or foreign file).
const MAX_ENTRY: u64 = 4 << 30;

/// One cache directory.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

/// The small documents of a daemon export, by their cleaned paths in the
/// export, its symlinks (path → target as written), and the paths of its
/// other files (layers, documents too big to keep), whose bytes are not here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportDocs {
    pub files: Vec<(String, Vec<u8>)>,
    pub links: Vec<(String, String)>,
    pub others: Vec<String>,
}

/// What `imgaudit cache info` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheInfo {
    pub dir: PathBuf,
    /// Layer entries.
    pub entries: u64,
    /// Daemon export-document entries.
    pub documents: u64,
    /// Bytes of both.
    pub bytes: u64,
}

impl LayerCache {
    /// The layer cache under `cache_dir` (created when first written).
    pub fn new(cache_dir: &Path) -> LayerCache {
        LayerCache {
            dir: cache_dir.join("layers"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a layer's analysis under these settings.
    pub fn key(spec: &LayerSpec, probes: bool, rules_hash: &str) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(FORMAT.to_le_bytes());
        h.update(spec.digest.as_ref().map_or("-", |d| d.as_str()).as_bytes());
        h.update(b"\n");
        h.update(spec.diff_id.as_str().as_bytes());
        h.update([probes as u8]);
        h.update(rules_hash.as_bytes());
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.layer"))
    }

    /// Whether an entry exists (cheap; `load` still checks it).
    pub fn contains(&self, key: &str) -> bool {
        self.path(key).is_file()
    }

    /// The cached analysis of layer `index`, or `None` when absent or
    /// unreadable (a damaged entry is deleted so the next run rebuilds it).
    pub fn load(&self, key: &str, index: usize) -> Option<(LayerChanges, Vec<PathTag>)> {
        read_entry(&self.path(key), |bytes| decode(bytes, index))
    }

    /// Store a layer's analysis atomically. Failures are returned for the
    /// caller to report as a warning; the analysis itself never depends on it.
    pub fn store(&self, key: &str, lc: &LayerChanges, tags: &[PathTag]) -> Result<()> {
        write_atomic(&self.path(key), &encode(lc, tags))
    }

    /// The key of a daemon image's export documents: its image ID.
    pub fn docs_key(image_id: &str) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(FORMAT.to_le_bytes());
        h.update(b"export-docs\n");
        h.update(image_id.as_bytes());
        hex::encode(h.finalize())
    }

    fn docs_path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.docs"))
    }

    /// The cached export documents under `key`, or `None` (a damaged entry
    /// is deleted).
    pub fn load_docs(&self, key: &str) -> Option<ExportDocs> {
        read_entry(&self.docs_path(key), decode_docs)
    }

    /// Store export documents atomically (failures are for a warning).
    pub fn store_docs(&self, key: &str, docs: &ExportDocs) -> Result<()> {
        write_atomic(&self.docs_path(key), &encode_docs(docs))
    }

    /// Entries and their total size.
    pub fn info(&self) -> Result<CacheInfo> {
        let mut info = CacheInfo {
            dir: self.dir.clone(),
            entries: 0,
            documents: 0,
            bytes: 0,
        };
        for (p, len) in self.entries()? {
            match p.extension().and_then(|e| e.to_str()) {
                Some("docs") => info.documents += 1,
                Some("layer") => info.entries += 1,
                _ => {} // a stale temporary file
            }
            info.bytes += len;
        }
        Ok(info)
    }

    /// Delete every entry (and stale temporary files); returns what was freed.
    pub fn prune(&self) -> Result<CacheInfo> {
        let mut freed = CacheInfo {
            dir: self.dir.clone(),
            entries: 0,
            documents: 0,
            bytes: 0,
        };
        for (p, len) in self.entries()? {
            std::fs::remove_file(&p).map_err(|e| Error::io(p.display().to_string(), e))?;
            match p.extension().and_then(|e| e.to_str()) {
                Some("docs") => freed.documents += 1,
                _ => freed.entries += 1,
            }
            freed.bytes += len;
        }
        Ok(freed)
    }

    /// Every file under the cache directory's two-hex subdirectories.
    fn entries(&self) -> Result<Vec<(PathBuf, u64)>> {
        let mut out = Vec::new();
        let read =
            |d: &Path| std::fs::read_dir(d).map_err(|e| Error::io(d.display().to_string(), e));
        if !self.dir.is_dir() {
            return Ok(out);
        }
        for sub in read(&self.dir)? {
            let sub = sub.map_err(|e| Error::io(self.dir.display().to_string(), e))?;
            let name = sub.file_name();
            let name = name.to_string_lossy();
            if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue; // not ours
            }
            for f in read(&sub.path())? {
                let f = f.map_err(|e| Error::io(sub.path().display().to_string(), e))?;
                let fname = f.file_name();
                let fname = fname.to_string_lossy();
                if fname.ends_with(".layer")
                    || fname.ends_with(".docs")
                    || fname.starts_with(".tmp-")
                {
                    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                    out.push((f.path(), len));
                }
            }
        }
        Ok(out)
    }
}

/// Read and decode the entry at `path`: `None` when absent, too large or
/// unreadable; an entry that does not decode is deleted so it is rebuilt.
fn read_entry<T>(path: &Path, decode: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
    if std::fs::metadata(path).ok()?.len() > MAX_ENTRY {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let value = decode(&bytes);
    if value.is_none() {
        let _ = std::fs::remove_file(path);
    }
    value
}

/// Write `bytes` to `path` through a temporary file in the same directory
/// and a rename: readers see the old entry, or none, or the whole new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("entries live in a subdirectory");
    let io = |e: std::io::Error| Error::io(dir.display().to_string(), e);
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

// ---------------------------------------------------------------- encoding

fn encode_docs(d: &ExportDocs) -> Vec<u8> {
    let mut o = Out(Vec::new());
    o.0.extend_from_slice(DOCS_MAGIC);
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
    for path in &d.others {
        o.bytes(path.as_bytes());
    }
    let sum = Sha256::digest(&o.0);
    o.0.extend_from_slice(&sum);
    o.0
}

fn decode_docs(all: &[u8]) -> Option<ExportDocs> {
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
        d.others.push(text(r.bytes()?)?);
    }
    r.0.is_empty().then_some(d)
}

struct Out(Vec<u8>);
impl Out {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
}

/// Warnings from the layer stage start with `layer N:`; they are stored
/// without the index (the same layer can sit at another index elsewhere).
fn encode(lc: &LayerChanges, tags: &[PathTag]) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(64 * lc.changes.len() + 1024));
    o.0.extend_from_slice(MAGIC);
    o.u64(lc.stored_bytes);
    o.u64(lc.tar_bytes);
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
        o.bytes(&c.path);
        o.u64(c.size);
        let facts = c.facts.as_deref();
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
    let sum = Sha256::digest(&o.0);
    o.0.extend_from_slice(&sum);
    o.0
}

struct In<'a>(&'a [u8]);
impl<'a> In<'a> {
    /// The body of an entry after `magic`, if the sha256 trailer checks out
    /// and the magic matches.
    fn open(all: &'a [u8], magic: &[u8; 16]) -> Option<In<'a>> {
        let body_len = all.len().checked_sub(32)?;
        let (body, sum) = all.split_at(body_len);
        if Sha256::digest(body).as_slice() != sum {
            return None;
        }
        let mut r = In(body);
        (r.take(magic.len())? == magic).then_some(r)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        // A length can never exceed what is left: no huge allocations.
        (n <= self.0.len()).then_some(n)
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }
}

fn decode(all: &[u8], index: usize) -> Option<(LayerChanges, Vec<PathTag>)> {
    let mut r = In::open(all, MAGIC)?;
    let stored_bytes = r.u64()?;
    let tar_bytes = r.u64()?;
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
    let mut changes = Vec::with_capacity(n);
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
            facts,
        });
    }
    let nt = r.len()?;
    let raw = r.take(nt.checked_mul(2)?)?;
    let tags = raw
        .chunks_exact(2)
        .map(|c| PathTag::from_le_bytes([c[0], c[1]]))
        .collect();
    if !r.0.is_empty() {
        return None;
    }
    Some((
        LayerChanges {
            index,
            changes,
            stored_bytes,
            tar_bytes,
            compression,
            warnings,
        },
        tags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (LayerChanges, Vec<PathTag>) {
        let changes = vec![
            Change {
                path: b"usr/bin/x"[..].into(),
                kind: ChangeKind::File,
                size: 1234,
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
                facts: Some(Box::new(FileFacts {
                    elf: None,
                    db: Some((DbKind::DpkgStatus, b"Package: x"[..].into())),
                })),
            },
            Change {
                path: b"usr/bin/y"[..].into(),
                kind: ChangeKind::Hardlink(b"usr/bin/x"[..].into()),
                size: 0,
                facts: None,
            },
            Change {
                path: b"opt/\xff\xfe"[..].into(),
                kind: ChangeKind::Whiteout,
                size: 0,
                facts: None,
            },
        ];
        (
            LayerChanges {
                index: 3,
                changes,
                stored_bytes: 99,
                tar_bytes: 4096,
                compression: Compression::Zstd,
                warnings: vec!["layer 3: odd entry".into(), "something else".into()],
            },
            vec![7, crate::classify::NO_TAG, 2, crate::classify::NO_TAG],
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
        assert_eq!(back.compression, Compression::Zstd);
        assert_eq!(back.warnings, vec!["layer 5: odd entry", "something else"]);
        assert_eq!(back.changes.len(), lc.changes.len());
        for (a, b) in back.changes.iter().zip(&lc.changes) {
            assert_eq!(a.path, b.path);
            assert_eq!(a.kind, b.kind);
            assert_eq!(a.size, b.size);
            assert_eq!(format!("{:?}", a.facts), format!("{:?}", b.facts));
        }
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

    #[test]
    fn export_docs_round_trip_and_damage() {
        let t = tempfile::tempdir().unwrap();
        let c = LayerCache::new(t.path());
        let docs = ExportDocs {
            files: vec![
                ("manifest.json".into(), b"[{}]".to_vec()),
                ("abc.json".into(), vec![0, 1, 2]),
            ],
            links: vec![("blobs/sha256/x".into(), "../../abc.json".into())],
            others: vec!["0123/layer.tar".into()],
        };
        let key = LayerCache::docs_key("sha256:00");
        assert_ne!(key, LayerCache::docs_key("sha256:01"));
        assert_eq!(c.load_docs(&key), None);
        c.store_docs(&key, &docs).unwrap();
        assert_eq!(c.load_docs(&key), Some(docs.clone()));
        let i = c.info().unwrap();
        assert_eq!((i.entries, i.documents), (0, 1));
        // A flipped byte: refused and deleted.
        let p = c.docs_path(&key);
        let mut b = std::fs::read(&p).unwrap();
        b[20] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert_eq!(c.load_docs(&key), None);
        assert!(!p.exists());
        // Trailing bytes inside a valid checksum are refused too.
        let mut enc = encode_docs(&docs);
        enc.truncate(enc.len() - 32);
        enc.push(0);
        let sum = Sha256::digest(&enc);
        enc.extend_from_slice(&sum);
        assert_eq!(decode_docs(&enc), None);
    }

    #[test]
    fn store_load_info_prune() {
        let t = tempfile::tempdir().unwrap();
        let c = LayerCache::new(t.path());
        assert_eq!(c.info().unwrap().entries, 0);
        let (lc, tags) = sample();
        let key = "ab".repeat(32);
        assert!(!c.contains(&key));
        c.store(&key, &lc, &tags).unwrap();
        assert!(c.contains(&key));
        let (back, _) = c.load(&key, 3).unwrap();
        assert_eq!(back.changes.len(), 4);
        let info = c.info().unwrap();
        assert_eq!(info.entries, 1);
        assert!(info.bytes > 0);
        // A damaged entry is ignored and removed.
        let p = c.path(&key);
        let mut b = std::fs::read(&p).unwrap();
        let last = b.len() - 1;
        b[last] ^= 1;
        std::fs::write(&p, b).unwrap();
        assert!(c.load(&key, 3).is_none());
        assert!(!c.contains(&key));
        c.store(&key, &lc, &tags).unwrap();
        let freed = c.prune().unwrap();
        assert_eq!(freed.entries, 1);
        assert_eq!(c.info().unwrap().entries, 0);
    }
}
