//! Cache entry files: the on-disk form shared by the layer cache
//! ([`crate::cache`]) and the daemon source's export-document cache.
//!
//! - Layout: `<cache dir>/layers/<2 hex>/<key>.<kind>`; the directories
//!   imgaudit creates are `0700` (the digests in the names say which images
//!   a user analysed; the files themselves are `0600`).
//! - Writes are atomic (a temporary `.tmp-*` file in the same directory,
//!   then a rename), so a crash or a second imgaudit process never leaves a
//!   partial entry under a key.
//! - Every entry starts with a 16-byte magic and ends with the sha256 of
//!   everything before it; [`In::open`] refuses an entry that does not check
//!   out, and [`read_entry`] deletes it so it is rebuilt. Integers are
//!   little-endian; byte strings are length-prefixed.

use crate::error::{Error, Result};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory under the cache directory that holds the entries.
pub(crate) const ENTRIES_DIR: &str = "layers";
/// Entries larger than this are not read (a corrupt or foreign file).
const MAX_ENTRY: u64 = 4 << 30;

/// Where the entry `key` of kind `ext` lives under `cache_dir`.
pub(crate) fn entry_path(cache_dir: &Path, key: &str, ext: &str) -> PathBuf {
    cache_dir
        .join(ENTRIES_DIR)
        .join(&key[..2])
        .join(format!("{key}.{ext}"))
}

/// Create `dir` and its missing parents with mode `0700` (an existing
/// directory is left as it is).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Read and decode the entry at `path`: `None` when absent, too large or
/// unreadable; an entry that does not decode is deleted so it is rebuilt.
pub(crate) fn read_entry<T>(path: &Path, decode: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
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
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("entries live in a subdirectory");
    let io = |e: std::io::Error| Error::io(dir.display().to_string(), e);
    create_private_dir(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// An entry being encoded.
pub(crate) struct Out(pub(crate) Vec<u8>);

impl Out {
    /// A new entry starting with `magic`.
    pub(crate) fn new(magic: &[u8; 16], capacity: usize) -> Out {
        let mut v = Vec::with_capacity(capacity + 48);
        v.extend_from_slice(magic);
        Out(v)
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    /// The finished entry: everything so far, then its sha256.
    pub(crate) fn seal(mut self) -> Vec<u8> {
        let sum = Sha256::digest(&self.0);
        self.0.extend_from_slice(&sum);
        self.0
    }
}

/// An entry being decoded.
pub(crate) struct In<'a>(pub(crate) &'a [u8]);

impl<'a> In<'a> {
    /// The body of an entry after `magic`, if the sha256 trailer checks out
    /// and the magic matches.
    pub(crate) fn open(all: &'a [u8], magic: &[u8; 16]) -> Option<In<'a>> {
        let body_len = all.len().checked_sub(32)?;
        let (body, sum) = all.split_at(body_len);
        if Sha256::digest(body).as_slice() != sum {
            return None;
        }
        let mut r = In(body);
        (r.take(magic.len())? == magic).then_some(r)
    }
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// A length, which can never exceed what is left: no huge allocations.
    pub(crate) fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.0.len()).then_some(n)
    }
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }
    /// Whether every byte of the body was consumed.
    pub(crate) fn is_done(&self) -> bool {
        self.0.is_empty()
    }
}
