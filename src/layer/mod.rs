//! Stage 2: one layer's bytes → the layer's changes.
//!
//! Media type → decoder (sniffed: gzip, zstd or plain tar) → bounded tar walk
//! → a list of [`Change`]s with normalised paths. Digests are verified while
//! streaming: the stored bytes against the manifest digest (or the diff_id for
//! legacy uncompressed layers), and with [`Verify::Full`] the decoded tar
//! against the diff_id too. The stream is always drained to its end before
//! comparing, so bytes after the tar end marker cannot slip past.
//!
//! This is the only pass over a layer's bytes; nothing here depends on
//! classification.

pub mod changelist;
pub mod elf;
pub mod inflate;
pub mod meter;
pub mod probe;
mod spec;
pub mod tarstream;

use crate::digest::{Digest, HashingReader};
use crate::error::{Error, Result};
pub use changelist::{ChangeList, ChangeRef};
use inflate::GzDecoder;
pub use inflate::Inflater;
use meter::{Attribution, Counted, Meter, Metered};
pub use spec::{Compression, LayerSpec};

/// A path's category by path rules alone: an index the classify stage gives
/// each entry on the decode workers, carried opaquely by the size tree and
/// the layer cache ([`NO_TAG`]: no path rule matched). It lives here, with
/// the entries it travels with, so the tree never depends on classification.
pub type PathTag = u16;
pub const NO_TAG: PathTag = PathTag::MAX;
use std::io::{self, BufRead, BufReader, Read};
use tarstream::{Kind, ReadSkip, TarReader};

/// How much digest checking to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// No hashing at all (`--no-verify`).
    None,
    /// The stored bytes against the digest that names them (default).
    #[default]
    Stored,
    /// Also the decoded tar of compressed layers against the diff_id.
    Full,
}

/// Bounds applied while reading a layer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most decompressed bytes accepted from one layer.
    pub max_layer_bytes: u64,
    /// Most entries (tar members that change the filesystem) accepted from
    /// one image, all layers together (`--max-entries`): bounds the memory
    /// the size tree can take.
    pub max_entries: u64,
}

/// Default of [`Limits::max_entries`]: far above real images (the largest
/// seen hold a few hundred thousand paths), low enough to stop a hostile
/// image before it exhausts memory.
pub const DEFAULT_MAX_ENTRIES: u64 = 20_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 1 << 40,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

/// What one tar entry does to the filesystem (`L`: how a link target is
/// held; borrowed, `&[u8]`, in a stored [`ChangeRef`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind<L = Box<[u8]>> {
    File,
    Dir,
    /// Symlink with its target, as written in the tar (not normalised).
    Symlink(L),
    /// Hardlink to the (normalised) target path.
    Hardlink(L),
    /// Devices, fifos, unknown types.
    Other,
    /// `.wh.NAME`: deletes `path` from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides every lower child of directory `path`.
    Opaque,
}

/// One entry of a layer, path normalised (no leading `/` or `./`, no `.`
/// components, byte-exact otherwise).
#[derive(Debug, Clone)]
pub struct Change {
    pub path: Box<[u8]>,
    pub kind: ChangeKind,
    /// Regular-file size in bytes (0 for everything else).
    pub size: u64,
    /// Stored (compressed) bytes of the layer blob attributed to this entry:
    /// the compressed input consumed from its header to the next entry's
    /// header (see `meter.rs`); its tar bytes for an uncompressed layer.
    pub download: u64,
    /// What the probes learnt from the file's contents.
    pub facts: Option<Box<probe::FileFacts>>,
}

/// Everything learnt from one pass over a layer.
#[derive(Debug, Clone)]
pub struct LayerChanges {
    pub index: usize,
    /// The entries in tar order, stored compactly ([`ChangeList`]).
    pub changes: ChangeList,
    /// Bytes as stored (compressed).
    pub stored_bytes: u64,
    /// Bytes of the uncompressed tar stream.
    pub tar_bytes: u64,
    /// Stored bytes attributed to no entry: the end-of-archive blocks, the
    /// compressor's trailer, skipped members. Σ `download` of the changes
    /// plus this is `stored_bytes` exactly.
    pub unattributed: u64,
    /// Compression found in the bytes.
    pub compression: Compression,
    pub warnings: Vec<String>,
}

/// Normalise a tar path. `None` for empty names and names with `..`.
pub fn normalize(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    for seg in raw.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => return None,
            s => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(s);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Normalise an entry name as containerd does before applying it: `.` and
/// empty components dropped, `..` removes the previous component and never
/// climbs above the root (`../x` and `a/../../x` are `x`). `None` when
/// nothing is left (the root itself).
pub fn normalize_in_root(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    for seg in raw.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
            }
            s => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(s);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Printable form of a byte path (lossy, for messages and reports).
pub fn display_path(p: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(p))
}

/// The tar walk's read buffer over the decoded stream.
const TAR_BUFFER: usize = 256 * 1024;

/// Calls `f` with the number of bytes each read returns (progress bars).
struct ProgressReader<'a, R> {
    inner: R,
    f: &'a (dyn Fn(u64) + Sync),
}
impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.f)(n as u64);
        Ok(n)
    }
}

/// The error a [`BudgetReader`] fails with: the layer is larger than
/// `--max-layer-bytes` (told apart from a corrupt stream by its type).
#[derive(Debug)]
struct OverLimit(u64);
impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "layer decompresses to more than {} ({} bytes), the per-layer limit; raise it with --max-layer-bytes SIZE",
            crate::units::human(self.0),
            self.0
        )
    }
}
impl std::error::Error for OverLimit {}

/// Fails once more than `left` bytes have been read (decompression bombs).
struct BudgetReader<R> {
    inner: R,
    left: u64,
    limit: u64,
}
impl<R: Read> Read for BudgetReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(OverLimit(self.limit)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

enum Decoder<R: Read> {
    Plain(BufReader<R>),
    Gzip(GzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, Counted<BufReader<R>>>),
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

impl<R: Read> meter::Lookahead for Decoder<R> {
    fn complete_lookahead(&mut self) -> io::Result<()> {
        match self {
            Decoder::Gzip(r) => r.complete_lookahead(),
            Decoder::Plain(_) | Decoder::Zstd(_) => Ok(()),
        }
    }
}

impl<R: Read> Decoder<R> {
    /// The stored-bytes reader; anything buffered above it was already read
    /// through it (and hashed).
    fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r.into_inner(),
            Decoder::Gzip(r) => r.into_inner(),
            Decoder::Zstd(r) => r.finish().into_inner().into_inner(),
        }
    }
}

fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

fn name(c: Compression) -> &'static str {
    match c {
        Compression::None => "an uncompressed tar",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    }
}

/// Read one layer completely: decode, walk, verify.
pub fn read_layer(
    spec: &LayerSpec,
    reader: Box<dyn Read + Send>,
    verify: Verify,
    limits: Limits,
    inflater: Inflater,
    probes: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<LayerChanges> {
    let label = spec.digest.as_ref().unwrap_or(&spec.diff_id).to_string();
    let layer_err = |reason: String| Error::Layer {
        index: spec.index,
        digest: label.clone(),
        reason,
    };
    let stored = HashingReader::new(
        ProgressReader {
            inner: reader,
            f: progress,
        },
        verify != Verify::None,
    );
    let mut buffered = BufReader::with_capacity(256 * 1024, stored);
    let head = buffered
        .fill_buf()
        .map_err(|e| layer_err(format!("cannot read: {e}")))?;
    let compression = sniff(head);
    let empty = head.is_empty();
    let mut warnings = Vec::new();
    if let Some(declared) = spec.compression {
        if declared != compression && !empty {
            warnings.push(format!(
                "layer {}: media type {} declares {} but the bytes are {}; decoded as {}",
                spec.index,
                spec.media_type.as_deref().unwrap_or("?"),
                name(declared),
                name(compression),
                name(compression),
            ));
        }
    }
    if empty {
        warnings.push(format!(
            "layer {}: blob is empty (0 bytes); treated as an empty layer",
            spec.index
        ));
    }
    // What each entry costs to download: for a compressed layer, the
    // compressed bytes consumed between its header and the next (meter.rs);
    // for a plain tar, its tar bytes.
    let meter = Meter::new(compression == Compression::Zstd);
    let decoder = match compression {
        Compression::None => Decoder::Plain(buffered),
        Compression::Gzip => {
            // igzip decodes ahead into its own buffers, so what it reports
            // consumed depends on how the input arrives: the download
            // figures would differ between sources of the same blob. Until
            // its consumption is placed exactly, metered layers decode
            // with zlib-rs (`inflater` is kept for that day).
            let _ = inflater;
            Decoder::Gzip(GzDecoder::metered(
                buffered,
                Inflater::ZlibRs,
                Some(meter.clone()),
            ))
        }
        Compression::Zstd => Decoder::Zstd(
            zstd::stream::read::Decoder::with_buffer(Counted::new(buffered, Some(meter.clone())))
                .map_err(|e| layer_err(format!("bad zstd stream: {e}")))?,
        ),
    };
    // The stored digest names the blob; legacy uncompressed layers are named
    // by their diff_id only.
    let stored_expected = stored_digest(spec, compression);
    let check_diff = verify != Verify::None
        && compression != Compression::None
        && (verify == Verify::Full || spec.digest.is_none());
    let decoded = HashingReader::new(
        BudgetReader {
            inner: Metered::new(decoder, meter.clone()),
            left: limits.max_layer_bytes,
            limit: limits.max_layer_bytes,
        },
        check_diff,
    );
    let mut tar = TarReader::new(ReadSkip(BufReader::with_capacity(TAR_BUFFER, decoded)));
    if compression != Compression::None {
        tar = tar.with_meter(meter.clone());
    }
    let mut changes = ChangeList::new();
    // The change whose header began the current segment of the tar.
    let mut open: Option<usize> = None;
    let mut attribution = Attribution::default();
    let by_meter = (compression != Compression::None).then_some(&*meter);
    let ctx = |e: io::Error, tar: &TarReader<_>| {
        if let Some(over) = e.get_ref().and_then(|r| r.downcast_ref::<OverLimit>()) {
            return layer_err(over.to_string());
        }
        layer_err(format!(
            "{} at tar offset {}: {e}",
            match compression {
                Compression::None => "bad tar stream",
                Compression::Gzip => "bad gzip/tar stream",
                Compression::Zstd => "bad zstd/tar stream",
            },
            tar.position()
        ))
    };
    if !empty {
        loop {
            // The next header closes the open entry's segment.
            tar.skip_data().map_err(|e| ctx(e, &tar))?;
            attribution.close(tar.position(), open.take());
            attribution.settle(by_meter, |i, b| changes.set_download(i, b));
            let entry = match tar.next_entry() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => return Err(ctx(e, &tar)),
            };
            match to_change(&entry.path, &entry.link, entry.kind, entry.file_size) {
                Ok(Some(mut c)) => {
                    if changes.len() as u64 >= limits.max_entries {
                        return Err(Error::TooManyEntries {
                            what: format!("layer {} ({label})", spec.index),
                            limit: limits.max_entries,
                        });
                    }
                    if c.kind == ChangeKind::File && probes {
                        c.facts = probe::probe_file(&mut tar, &c.path, entry.size, &mut warnings)
                            .map_err(|e| ctx(e, &tar))?
                            .map(Box::new);
                    }
                    open = Some(changes.len());
                    changes.push(c)
                }
                Ok(None) => {}
                Err(msg) => {
                    if msg.starts_with("invalid whiteout") {
                        return Err(layer_err(msg));
                    }
                    warnings.push(format!("layer {}: {msg}", spec.index));
                }
            }
        }
    }
    // Drain both streams to their ends before comparing digests.
    let ReadSkip(buffered_tar) = tar.into_inner();
    // Bytes already pulled into the buffer were hashed; `finish` hashes the rest.
    let decoded = buffered_tar.into_inner();
    let (diff_actual, tar_bytes, budget) = decoded
        .finish()
        .map_err(|e| layer_err(format!("while draining: {e}")))?;
    meter.finish(tar_bytes);
    attribution.settle(by_meter, |i, b| changes.set_download(i, b));
    let stored = budget.inner.inner.into_inner();
    let (stored_actual, stored_bytes, _) = stored
        .finish()
        .map_err(|e| layer_err(format!("while draining: {e}")))?;
    if let (Some(expected), Some(actual)) = (&stored_expected, &stored_actual) {
        if expected != actual {
            return Err(Error::DigestMismatch {
                what: format!("layer {}", spec.index),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
    }
    // An uncompressed layer's stored bytes *are* its tar: with full
    // verification they must also match the diff_id (a descriptor digest
    // that names the bytes plus garbage after the end marker would
    // otherwise pass).
    let diff_actual = diff_actual.or_else(|| {
        (verify == Verify::Full && compression == Compression::None && spec.digest.is_some())
            .then(|| stored_actual.clone())
            .flatten()
    });
    if let Some(actual) = diff_actual {
        if actual != spec.diff_id {
            return Err(Error::DigestMismatch {
                what: format!("layer {} (uncompressed, diff_id)", spec.index),
                expected: spec.diff_id.to_string(),
                actual: actual.to_string(),
            });
        }
    }
    Ok(LayerChanges {
        index: spec.index,
        changes,
        stored_bytes,
        tar_bytes,
        unattributed: stored_bytes.saturating_sub(attribution.charged),
        compression,
        warnings,
    })
}

/// The digest a layer's stored bytes must have, given the compression
/// found in them: the stored digest, or for a legacy layer named by its
/// diff_id alone, the diff_id when the bytes are the tar itself. `None`:
/// nothing names the stored bytes (a compressed legacy layer, checked
/// against its diff_id after decoding).
pub fn stored_digest(spec: &LayerSpec, compression: Compression) -> Option<Digest> {
    spec.digest
        .clone()
        .or_else(|| (compression == Compression::None).then(|| spec.diff_id.clone()))
}

/// Hash a layer's stored bytes without decoding them: what `--verify full`
/// does for a layer whose analysis comes from the layer cache (issue 18).
/// The bytes are checked against [`stored_digest`] and, when `compression`
/// (what the cached read found in these bytes) is none, against the diff_id
/// too; the errors are the ones [`read_layer`] gives for the same digests.
/// A layer with no [`stored_digest`] cannot be checked this way (an error
/// here; the caller reads such a layer in full instead).
pub fn verify_stored(
    spec: &LayerSpec,
    reader: Box<dyn Read + Send>,
    compression: Compression,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    let label = spec.digest.as_ref().unwrap_or(&spec.diff_id).to_string();
    let layer_err = |reason: String| Error::Layer {
        index: spec.index,
        digest: label.clone(),
        reason,
    };
    let Some(expected) = stored_digest(spec, compression) else {
        return Err(layer_err(
            "nothing names its stored bytes: it can only be verified by decoding".into(),
        ));
    };
    let hashing = HashingReader::new(
        ProgressReader {
            inner: reader,
            f: progress,
        },
        true,
    );
    let (actual, _, _) = hashing
        .finish()
        .map_err(|e| layer_err(format!("cannot read: {e}")))?;
    let actual = actual.ok_or_else(|| layer_err("not hashed".into()))?;
    if actual != expected {
        return Err(Error::DigestMismatch {
            what: format!("layer {}", spec.index),
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }
    if compression == Compression::None && actual != spec.diff_id {
        return Err(Error::DigestMismatch {
            what: format!("layer {} (uncompressed, diff_id)", spec.index),
            expected: spec.diff_id.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(())
}

/// Turn a tar entry into a change; `Err` carries a warning (or, for an
/// invalid whiteout, an error) message.
fn to_change(raw: &[u8], link: &[u8], kind: Kind, size: u64) -> Result<Option<Change>, String> {
    let Some(path) = normalize_in_root(raw) else {
        if kind == Kind::Dir && !raw.is_empty() {
            // The root directory itself ("./", "/", "a/.."): nothing to record.
            return Ok(None);
        }
        return Err(format!(
            "skipped entry with an empty or '..' name {:?}",
            String::from_utf8_lossy(raw)
        ));
    };
    let (dir, base) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], &path[..]),
    };
    if let Some(rest) = base.strip_prefix(b".wh.") {
        if rest == b".wh..opq" {
            return Ok(Some(Change {
                path: dir.into(),
                kind: ChangeKind::Opaque,
                size: 0,
                download: 0,
                facts: None,
            }));
        }
        if rest.starts_with(b".wh.") {
            // Other AUFS metadata (.wh..wh.plnk, …): not part of the filesystem.
            return Ok(None);
        }
        if rest.is_empty() || rest == b"." || rest == b".." {
            return Err(format!("invalid whiteout {:?}", display_path(&path)));
        }
        let mut target = dir.to_vec();
        if !target.is_empty() {
            target.push(b'/');
        }
        target.extend_from_slice(rest);
        return Ok(Some(Change {
            path: target.into(),
            kind: ChangeKind::Whiteout,
            size: 0,
            download: 0,
            facts: None,
        }));
    }
    let (kind, size) = match kind {
        Kind::File => (ChangeKind::File, size),
        Kind::Dir => (ChangeKind::Dir, 0),
        Kind::Symlink => (ChangeKind::Symlink(link.into()), 0),
        Kind::Hardlink => match normalize(link) {
            Some(t) => (ChangeKind::Hardlink(t.into()), 0),
            None => {
                return Err(format!(
                    "hardlink {} has an invalid target",
                    display_path(&path)
                ))
            }
        },
        Kind::Other => (ChangeKind::Other, 0),
    };
    Ok(Some(Change {
        path: path.into(),
        kind,
        size,
        download: 0,
        facts: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize(b"./usr//bin/./x/").unwrap(), b"usr/bin/x");
        assert_eq!(normalize(b"/etc/passwd").unwrap(), b"etc/passwd");
        assert!(normalize(b"a/../b").is_none());
        assert!(normalize(b"./").is_none());
        assert_eq!(normalize(b"caf\xe9").unwrap(), b"caf\xe9");
    }

    #[test]
    fn whiteouts_and_opaques() {
        let c = to_change(b"./a/b/.wh.c", b"", Kind::File, 0)
            .unwrap()
            .unwrap();
        assert_eq!((&*c.path, c.kind), (&b"a/b/c"[..], ChangeKind::Whiteout));
        let c = to_change(b"a/.wh..wh..opq", b"", Kind::File, 0)
            .unwrap()
            .unwrap();
        assert_eq!((&*c.path, c.kind), (&b"a"[..], ChangeKind::Opaque));
        assert!(to_change(b"a/.wh.", b"", Kind::File, 0)
            .unwrap_err()
            .starts_with("invalid whiteout"));
        assert!(to_change(b".wh..wh.plnk", b"", Kind::File, 0)
            .unwrap()
            .is_none());
    }

    /// A tar of (path, contents) regular files, plus a `./` root entry.
    fn tar_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_cksum();
        b.append_data(&mut h, "./", &[][..]).unwrap();
        for (p, data) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// Incompressible bytes (an LCG).
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (s >> 56) as u8
            })
            .collect()
    }

    fn read(blob: Vec<u8>, tar: &[u8], inflater: Inflater) -> LayerChanges {
        let spec = LayerSpec {
            index: 0,
            path: "blob".into(),
            digest: Some(Digest::of_bytes(&blob)),
            diff_id: Digest::of_bytes(tar),
            media_type: None,
            compression: None,
            compressed_size: None,
            created_by: None,
        };
        read_layer(
            &spec,
            Box::new(std::io::Cursor::new(blob)),
            Verify::Full,
            Limits::default(),
            inflater,
            true,
            &|_| {},
        )
        .unwrap()
    }

    #[test]
    fn download_bytes_sum_to_the_blob_and_follow_the_compressibility() {
        use std::io::Write;
        let files = vec![
            ("a/zeros", vec![0u8; 3_000_000]),
            ("a/noise", noise(1_000_000, 7)),
            ("b/small", b"hello".to_vec()),
            ("b/text", b"lib/usr/share/doc ".repeat(50_000)),
            ("c/noise2", noise(200_000, 9)),
        ];
        let tar = tar_of(&files);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&tar[..], 3).unwrap();
        let cases = [
            (gz.clone(), Inflater::ZlibRs),
            (gz, Inflater::Auto),
            (zst, Inflater::Auto),
            (tar.clone(), Inflater::Auto),
        ];
        for (blob, inflater) in cases {
            let n = blob.len() as u64;
            let lc = read(blob, &tar, inflater);
            let what = format!("{:?} via {inflater:?}", lc.compression);
            let sum: u64 = lc.changes.iter().map(|c| c.download).sum();
            assert_eq!(sum + lc.unattributed, n, "{what}");
            assert_eq!(lc.stored_bytes, n, "{what}");
            let by = |p: &str| {
                lc.changes
                    .iter()
                    .find(|c| c.path == p.as_bytes())
                    .unwrap()
                    .download
            };
            if lc.compression == Compression::None {
                // A plain tar: header (512) + data padded to 512.
                assert_eq!(by("b/small"), 1024, "{what}");
                assert_eq!(by("a/zeros"), 512 + 3_000_000u64.div_ceil(512) * 512);
                // The skipped root entry and the end-of-archive blocks.
                assert_eq!(lc.unattributed, 512 + 1024, "{what}");
                continue;
            }
            // Noise costs about its size, zeros and text almost nothing
            // (zstd: only to within its blocks, interpolated inside one).
            let tol = if lc.compression == Compression::Zstd {
                0.05
            } else {
                0.02
            };
            let noise = by("a/noise") as f64;
            assert!((noise - 1e6).abs() < tol * 1e6, "{what}: noise {noise}");
            let noise2 = by("c/noise2") as f64;
            assert!(
                (noise2 - 2e5).abs() < 2.0 * tol * 2e5,
                "{what}: noise2 {noise2}"
            );
            assert!(by("a/zeros") < 60_000, "{what}: zeros {}", by("a/zeros"));
            assert!(by("b/text") < 60_000, "{what}: text {}", by("b/text"));
        }
    }
}
