//! Byte stores an image can live in: a directory (OCI layout) or a tar file
//! (docker-archive, oci-archive). Both answer "open this relative path" with
//! a streaming reader; paths are validated so nothing outside the store is
//! ever read.

use crate::error::{Error, Result};
use crate::layer::tarstream::{Kind, TarReader};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A place holding an image's files, addressed by relative paths.
pub trait Store: Send + Sync {
    /// Human name (the archive or directory path) used in messages.
    fn name(&self) -> &str;
    /// Open `path`; `Ok(None)` when it does not exist.
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>>;
    /// Where `path` sits in a store that can only be read forward (an export
    /// stream, where going back costs a new export); `None` for stores that
    /// read any member at any time. Layers are then read in this order.
    fn stream_position(&self, _path: &str) -> Option<u64> {
        None
    }
    /// The size of the regular file at `path`, found without reading it
    /// (links followed within the store's limit); `Ok(None)` when there is
    /// no such regular file, or the store cannot tell without a request (a
    /// registry). The layer cache's cheap check before a hit (issue 18).
    fn stat(&self, _path: &str) -> Result<Option<u64>> {
        Ok(None)
    }
}

/// Normalise a relative path inside a store: strips `./`, rejects absolute
/// paths and `..` so a manifest can never point outside the image.
pub fn clean_rel_path(p: &str, what: &str) -> Result<String> {
    let mut parts = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().unwrap_or_default()),
            Component::CurDir => {}
            _ => {
                return Err(Error::malformed(
                    what,
                    format!("path {p:?} leaves the image (absolute or '..')"),
                ))
            }
        }
    }
    if parts.is_empty() {
        return Err(Error::malformed(what, format!("empty path {p:?}")));
    }
    Ok(parts.join("/"))
}

/// Resolve `.` and `..` in a relative path lexically; `None` when the path is
/// absolute or a `..` climbs above the root.
fn resolve_dots(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Read a whole small document, refusing anything over `cap` bytes.
pub fn read_capped(store: &dyn Store, path: &str, cap: u64, what: &str) -> Result<Option<Vec<u8>>> {
    let Some((r, size)) = store.open(path)? else {
        return Ok(None);
    };
    if size > cap {
        return Err(Error::TooLarge {
            what: format!("{} in {}", what, store.name()),
            limit: cap,
        });
    }
    let mut buf = Vec::with_capacity(size as usize);
    r.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(format!("{} in {}", what, store.name()), e))?;
    if buf.len() as u64 > cap {
        return Err(Error::TooLarge {
            what: format!("{} in {}", what, store.name()),
            limit: cap,
        });
    }
    Ok(Some(buf))
}

/// An OCI image layout (or any image laid out as files) in a directory.
pub struct DirStore {
    root: PathBuf,
    canon: PathBuf,
    name: String,
}

impl DirStore {
    pub fn new(root: &Path) -> Result<Self> {
        let canon = root
            .canonicalize()
            .map_err(|e| Error::io(root.display().to_string(), e))?;
        Ok(DirStore {
            root: root.to_path_buf(),
            canon,
            name: root.display().to_string(),
        })
    }
}

impl DirStore {
    /// `path` inside the directory with every symlink resolved (the
    /// system's limit on hops applies), or `None` when nothing is there;
    /// with the path as named, for messages.
    fn real_path(&self, path: &str) -> Result<Option<(PathBuf, PathBuf)>> {
        let rel = clean_rel_path(path, &self.name)?;
        let full = self.root.join(&rel);
        let real = match full.canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(full.display().to_string(), e)),
        };
        if !real.starts_with(&self.canon) {
            return Err(Error::malformed(
                full.display().to_string(),
                "symlink points outside the image directory",
            ));
        }
        Ok(Some((full, real)))
    }
}

impl Store for DirStore {
    fn name(&self) -> &str {
        &self.name
    }
    fn stat(&self, path: &str) -> Result<Option<u64>> {
        let Some((full, real)) = self.real_path(path)? else {
            return Ok(None);
        };
        let m = std::fs::metadata(&real).map_err(|e| Error::io(full.display().to_string(), e))?;
        Ok(m.is_file().then_some(m.len()))
    }
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let Some((full, real)) = self.real_path(path)? else {
            return Ok(None);
        };
        let f = File::open(&real).map_err(|e| Error::io(full.display().to_string(), e))?;
        let size = f
            .metadata()
            .map_err(|e| Error::io(full.display().to_string(), e))?
            .len();
        Ok(Some((Box::new(f), size)))
    }
}

#[derive(Clone)]
enum Member {
    File { offset: u64, size: u64 },
    Link(String),
}

/// A tar archive on disk (docker-archive, oci-archive), indexed once; each
/// open is a positional reader over the shared file, so layers can be read in
/// parallel without extracting anything.
pub struct TarStore {
    file: Arc<File>,
    members: HashMap<String, Member>,
    name: String,
}

/// Hops allowed when a member is a symlink or hardlink to another member.
const MAX_LINK_HOPS: usize = 8;

impl TarStore {
    /// Index the archive at `path`; `file` is the (uncompressed) tar bytes,
    /// which may be a temporary file when the archive was gzip-compressed.
    pub fn index(file: File, name: String) -> Result<Self> {
        let mut members = HashMap::new();
        let reader = io::BufReader::with_capacity(
            64 * 1024,
            file.try_clone().map_err(|e| Error::io(&name, e))?,
        );
        let mut tr = TarReader::new(SeekSkipBuf(reader));
        let file_len = file.metadata().map_err(|e| Error::io(&name, e))?.len();
        let bad = |e: io::Error| match e.kind() {
            // A header cut short at the end of the file.
            io::ErrorKind::UnexpectedEof => Error::Truncated {
                path: name.clone(),
                missing: format!("the file ends ({file_len} bytes) inside a tar header"),
            },
            _ => Error::NotAnImage {
                path: name.clone(),
                reason: format!("unreadable tar archive: {e}"),
            },
        };
        let mut count = 0usize;
        while let Some(e) = tr.next_entry().map_err(bad)? {
            count += 1;
            let end = e.data_offset.saturating_add(e.size);
            if end > file_len {
                return Err(Error::Truncated {
                    path: name.clone(),
                    missing: format!(
                        "member {:?} ends at byte {end} but the file ends at {file_len}: the archive is {} ({} bytes) short",
                        String::from_utf8_lossy(&e.path),
                        crate::units::human(end - file_len),
                        end - file_len
                    ),
                });
            }
            let Some(path) = std::str::from_utf8(&e.path)
                .ok()
                .and_then(|p| clean_rel_path(p, &name).ok())
            else {
                continue;
            };
            let member = match e.kind {
                Kind::File => Member::File {
                    offset: e.data_offset,
                    size: e.size,
                },
                Kind::Symlink => {
                    let target = String::from_utf8_lossy(&e.link).into_owned();
                    let base = Path::new(&path).parent().unwrap_or(Path::new(""));
                    let joined = base.join(&target).to_string_lossy().into_owned();
                    // `..` that stays inside the archive (legacy docker save
                    // links `<id>/layer.tar` to `../<other>/layer.tar`) is
                    // resolved here; one that leaves it is kept as written so
                    // the lookup refuses it.
                    Member::Link(resolve_dots(&joined).unwrap_or(joined))
                }
                Kind::Hardlink => Member::Link(String::from_utf8_lossy(&e.link).into_owned()),
                _ => continue,
            };
            members.insert(path, member);
        }
        if count == 0 {
            return Err(Error::NotAnImage {
                path: name,
                reason: "empty tar archive".into(),
            });
        }
        Ok(TarStore {
            file: Arc::new(file),
            members,
            name,
        })
    }

    fn lookup(&self, path: &str) -> Result<Option<(u64, u64)>> {
        let mut p = clean_rel_path(path, &self.name)?;
        for _ in 0..=MAX_LINK_HOPS {
            match self.members.get(&p) {
                None => return Ok(None),
                Some(Member::File { offset, size }) => return Ok(Some((*offset, *size))),
                Some(Member::Link(t)) => {
                    p = clean_rel_path(t, &format!("{}: link {p}", self.name))?;
                }
            }
        }
        Err(Error::malformed(
            format!("{}: {path}", self.name),
            format!("symlink chain longer than {MAX_LINK_HOPS} hops (cycle?)"),
        ))
    }
}

/// Adapter so the buffered seeking reader can be used by the tar walker.
struct SeekSkipBuf(io::BufReader<File>);
impl Read for SeekSkipBuf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
impl io::BufRead for SeekSkipBuf {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.0.consume(amt)
    }
}
impl crate::layer::tarstream::Skip for SeekSkipBuf {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| io::Error::other("entry size overflows"))?;
        self.0.seek_relative(n)
    }
}

impl Store for TarStore {
    fn name(&self) -> &str {
        &self.name
    }
    fn stat(&self, path: &str) -> Result<Option<u64>> {
        Ok(self.lookup(path)?.map(|(_, size)| size))
    }
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        Ok(self.lookup(path)?.map(|(offset, size)| {
            let r: Box<dyn Read + Send> = Box::new(PositionalReader {
                file: self.file.clone(),
                pos: offset,
                end: offset + size,
            });
            (r, size)
        }))
    }
}

/// Reads `[pos, end)` of a shared file with `pread`, so many readers can share
/// one file descriptor across threads.
struct PositionalReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for PositionalReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(left) as usize;
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive truncated inside a member",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Open an archive file, decompressing a gzip-compressed one into an
/// anonymous temporary file in `temp_dir` (the cache directory; else the
/// system's temporary directory).
pub fn open_archive(path: &Path, temp_dir: Option<&Path>) -> Result<TarStore> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path.to_path_buf())
        } else {
            Error::io(&name, e)
        }
    })?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::NotAnImage {
            path: name,
            reason: "is a directory; use oci:DIR for an OCI layout".into(),
        });
    }
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut f, &mut magic).map_err(|e| Error::io(&name, e))?;
    f.rewind().map_err(|e| Error::io(&name, e))?;
    if n >= 2 && magic[..2] == [0x1f, 0x8b] {
        let dir = temp_dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
        crate::entryfile::create_private_dir(&dir)
            .map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut tmp =
            tempfile::tempfile_in(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        std::io::copy(&mut dec, &mut tmp).map_err(|e| Error::NotAnImage {
            path: name.clone(),
            reason: format!("corrupt gzip-compressed archive: {e}"),
        })?;
        tmp.rewind()
            .map_err(|e| Error::io(dir.display().to_string(), e))?;
        return TarStore::index(tmp, name);
    }
    if n >= 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        return Err(Error::NotAnImage {
            path: name,
            reason: "zstd-compressed archive; decompress it first (zstd -d)".into(),
        });
    }
    TarStore::index(f, name)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(&mut buf[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_paths_cannot_escape() {
        assert_eq!(
            clean_rel_path("./blobs/sha256/ab", "t").unwrap(),
            "blobs/sha256/ab"
        );
        assert!(clean_rel_path("../etc/passwd", "t").is_err());
        assert!(clean_rel_path("/etc/passwd", "t").is_err());
        assert!(clean_rel_path("a/../../b", "t").is_err());
    }

    #[test]
    fn link_targets_resolve_inside_the_archive_only() {
        assert_eq!(resolve_dots("0/../blobs/x").as_deref(), Some("blobs/x"));
        assert_eq!(resolve_dots("a/./b").as_deref(), Some("a/b"));
        assert_eq!(resolve_dots("0/../../etc/passwd"), None);
        assert_eq!(resolve_dots("/etc/passwd"), None);
    }
}
