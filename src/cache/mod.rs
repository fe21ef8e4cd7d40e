//! The layer cache: what the layer stage learnt from one layer (its changes,
//! the probe facts) plus the path-rule tags, stored on disk so an image that
//! shares layers with one analysed before decodes only its new layers — and a
//! registry source does not even download the cached ones. It serves the
//! pipeline driver ([`crate::run`]).
//!
//! - Key: sha256 over the analyzer version, the cache format, the layer's
//!   stored digest (when the image names one) and diff_id, whether content
//!   probes ran, and the rules' hash. A layer is only stored after a read that
//!   verified its digest, so an entry stands for bytes that were checked.
//! - Location: `<cache dir>/layers/<2 hex>/<key>.layer` (the cache dir is
//!   `--cache-dir`, else `$XDG_CACHE_HOME/imgaudit`, else `~/.cache/imgaudit`);
//!   atomic writes, a sha256 trailer and `0700` directories come from
//!   [`crate::entryfile`]. An entry that does not check out is ignored
//!   (deleted) and rebuilt.
//! - Format: see [`codec`].
//!
//! The same directory holds the daemon source's `<key>.docs` entries (its
//! export documents, see `source/daemon/`): `cache info` counts them and
//! `cache prune` deletes them, by name only.

mod codec;

use crate::entryfile::{self, entry_path, read_entry, write_atomic};
use crate::error::{Error, Result};
use crate::layer::PathTag;
use crate::layer::{LayerChanges, LayerSpec};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};

/// One cache directory.
#[derive(Debug, Clone)]
pub struct LayerCache {
    /// The cache directory (`--cache-dir`); entries live under `layers/`.
    root: PathBuf,
    dir: PathBuf,
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
            root: cache_dir.to_path_buf(),
            dir: cache_dir.join(entryfile::ENTRIES_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a layer's analysis under these settings.
    pub fn key(spec: &LayerSpec, probes: bool, rules_hash: &str) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(codec::FORMAT.to_le_bytes());
        h.update(spec.digest.as_ref().map_or("-", |d| d.as_str()).as_bytes());
        h.update(b"\n");
        h.update(spec.diff_id.as_str().as_bytes());
        h.update([probes as u8]);
        h.update(rules_hash.as_bytes());
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        entry_path(&self.root, key, "layer")
    }

    /// Whether an entry exists (cheap; `load` still checks it).
    pub fn contains(&self, key: &str) -> bool {
        self.path(key).is_file()
    }

    /// The stored size the entry under `key` records (its first bytes only;
    /// `load` checks the whole entry), or `None` when there is no entry.
    /// With `source::Image::cached_blob_holds`, the cheap check a
    /// cache hit on a local source is taken on.
    pub fn recorded_size(&self, key: &str) -> Option<u64> {
        use std::io::Read;
        let mut head = [0u8; codec::HEAD];
        std::fs::File::open(self.path(key))
            .ok()?
            .read_exact(&mut head)
            .ok()?;
        codec::stored_bytes(&head)
    }

    /// The cached analysis of layer `index`, or `None` when absent or
    /// unreadable (a damaged entry is deleted so the next run rebuilds it).
    pub fn load(&self, key: &str, index: usize) -> Option<(LayerChanges, Vec<PathTag>)> {
        read_entry(&self.path(key), |bytes| codec::decode(bytes, index))
    }

    /// Store a layer's analysis atomically. Failures are returned for the
    /// caller to report as a warning; the analysis itself never depends on it.
    pub fn store(&self, key: &str, lc: &LayerChanges, tags: &[PathTag]) -> Result<()> {
        write_atomic(&self.path(key), &codec::encode(lc, tags))
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

    /// Every file under the cache directory's two-hex subdirectories. A
    /// `layers` directory or subdirectory that is a symlink is not followed:
    /// `prune` must never delete files outside the cache directory.
    fn entries(&self) -> Result<Vec<(PathBuf, u64)>> {
        let mut out = Vec::new();
        let read =
            |d: &Path| std::fs::read_dir(d).map_err(|e| Error::io(d.display().to_string(), e));
        let real_dir = std::fs::symlink_metadata(&self.dir).is_ok_and(|m| m.is_dir());
        if !real_dir {
            return Ok(out);
        }
        for sub in read(&self.dir)? {
            let sub = sub.map_err(|e| Error::io(self.dir.display().to_string(), e))?;
            let name = sub.file_name();
            let name = name.to_string_lossy();
            if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue; // not ours
            }
            // `file_type` does not follow symlinks.
            if !sub.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_load_info_prune() {
        let t = tempfile::tempdir().unwrap();
        let c = LayerCache::new(t.path());
        assert_eq!(c.info().unwrap().entries, 0);
        let (lc, tags) = codec::tests::sample();
        let key = "ab".repeat(32);
        assert!(!c.contains(&key));
        c.store(&key, &lc, &tags).unwrap();
        assert!(c.contains(&key));
        assert_eq!(c.recorded_size(&key), Some(lc.stored_bytes));
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
