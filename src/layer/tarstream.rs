//! A small streaming tar reader with hard bounds.
//!
//! The `tar` crate reads GNU long-name and PAX records whole with no cap, so
//! this module walks the 512-byte blocks itself (using `tar::Header` only to
//! decode header fields) and enforces: extension records at most
//! [`MAX_EXTENSION`] bytes, PAX `size` overriding the ustar size, checksum
//! validation, and byte-exact names (`path_bytes`). Entry data is left in the
//! stream; callers read a bounded prefix ([`TarReader::read_data`]) and skip
//! the rest ([`TarReader::skip_data`]).

use super::meter::Meter;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

/// Largest GNU long-name/long-link or PAX record accepted (Go's cap after
/// CVE-2022-2879).
pub const MAX_EXTENSION: u64 = 1 << 20;

/// A stream that can skip forward; plain readers read into a scratch buffer,
/// seekable files seek.
pub trait Skip: BufRead {
    fn skip(&mut self, n: u64) -> io::Result<()>;
}

/// Skips by reading (needed when the bytes must be hashed).
pub struct ReadSkip<R>(pub R);
impl<R: Read> Read for ReadSkip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
impl<R: BufRead> BufRead for ReadSkip<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.0.consume(amt)
    }
}
impl<R: BufRead> Skip for ReadSkip<R> {
    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        // Consume straight out of the reader's buffer: no scratch copy, no
        // per-call zeroing of a stack array.
        while n > 0 {
            let avail = self.0.fill_buf()?.len();
            if avail == 0 {
                return Err(unexpected_eof());
            }
            let take = (avail as u64).min(n) as usize;
            self.0.consume(take);
            n -= take as u64;
        }
        Ok(())
    }
}

fn unexpected_eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "truncated tar stream")
}
fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// What kind of entry a header describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    /// Devices, fifos and unknown types: no bytes counted.
    Other,
}

/// One tar member, data not yet consumed.
#[derive(Debug)]
pub struct TarEntry {
    /// Raw name bytes as stored (PAX/GNU long names applied).
    pub path: Vec<u8>,
    /// Link target for symlinks and hardlinks.
    pub link: Vec<u8>,
    pub kind: Kind,
    /// Bytes of data that follow in the archive (PAX size wins).
    pub size: u64,
    /// Apparent file size (differs from `size` only for GNU sparse files).
    pub file_size: u64,
    /// Offset of the data from the start of the tar stream.
    pub data_offset: u64,
}

/// Streaming reader over tar headers.
pub struct TarReader<R> {
    inner: R,
    pos: u64,
    /// Unread data bytes (incl. padding) of the current entry.
    pending: u64,
    pending_data: u64,
    /// Data bytes of the current entry already consumed.
    data_offset: u64,
    done: bool,
    /// Told where each next header starts (download cost).
    meter: Option<Arc<Meter>>,
}

impl<R: Skip> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            pos: 0,
            pending: 0,
            pending_data: 0,
            data_offset: 0,
            done: false,
            meter: None,
        }
    }

    /// Tell `meter` where every next header starts as soon as a header says
    /// where it is, so that the decoder never reads across its end (see
    /// `meter.rs`).
    pub fn with_meter(mut self, meter: Arc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Offset in the tar stream of the next unread byte.
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn read_block(&mut self, block: &mut [u8; 512]) -> io::Result<bool> {
        let mut got = 0;
        while got < 512 {
            let n = self.inner.read(&mut block[got..])?;
            if n == 0 {
                if got == 0 {
                    return Ok(false);
                }
                return Err(unexpected_eof());
            }
            got += n;
        }
        self.pos += 512;
        Ok(true)
    }

    /// Read up to `buf.len()` bytes of the current entry's data.
    pub fn read_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.pending_data) as usize;
        let mut got = 0;
        while got < want {
            let n = self.inner.read(&mut buf[got..want])?;
            if n == 0 {
                return Err(unexpected_eof());
            }
            got += n;
        }
        self.pending_data -= got as u64;
        self.pending -= got as u64;
        self.pos += got as u64;
        self.data_offset += got as u64;
        Ok(got)
    }

    /// Hand the rest of the current entry's data to `f` as `(offset within
    /// the entry, chunk)`, straight out of the reader's buffer (no copy).
    pub fn visit_data(&mut self, mut f: impl FnMut(u64, &[u8])) -> io::Result<()> {
        while self.pending_data > 0 {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(unexpected_eof());
            }
            let take = (buf.len() as u64).min(self.pending_data) as usize;
            f(self.data_offset, &buf[..take]);
            self.inner.consume(take);
            self.pending_data -= take as u64;
            self.pending -= take as u64;
            self.pos += take as u64;
            self.data_offset += take as u64;
        }
        Ok(())
    }

    /// Skip whatever remains of the current entry (data and padding).
    pub fn skip_data(&mut self) -> io::Result<()> {
        if self.pending > 0 {
            self.inner.skip(self.pending)?;
            self.pos += self.pending;
            self.pending = 0;
            self.pending_data = 0;
        }
        Ok(())
    }

    fn read_extension(&mut self, size: u64, what: &str) -> io::Result<Vec<u8>> {
        if size > MAX_EXTENSION {
            return Err(invalid(format!(
                "{what} record of {size} bytes exceeds the {MAX_EXTENSION}-byte limit"
            )));
        }
        let mut v = vec![0u8; size as usize];
        self.read_data(&mut v)?;
        self.skip_data()?;
        Ok(v)
    }

    /// The next entry, or `None` at the end-of-archive marker / end of stream.
    pub fn next_entry(&mut self) -> io::Result<Option<TarEntry>> {
        self.skip_data()?;
        if self.done {
            return Ok(None);
        }
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_link: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        let mut block = [0u8; 512];
        loop {
            if !self.read_block(&mut block)? {
                if long_name.is_some() || pax_path.is_some() || pax_size.is_some() {
                    return Err(invalid("extension header with no entry after it"));
                }
                self.done = true;
                return Ok(None);
            }
            if block.iter().all(|&b| b == 0) {
                // End-of-archive marker. The stream's remaining bytes are the
                // caller's to drain (for digest verification).
                self.done = true;
                return Ok(None);
            }
            let header = tar::Header::from_byte_slice(&block);
            let stored = header.cksum().map_err(|_| {
                invalid(format!(
                    "bad header checksum field at offset {}",
                    self.pos - 512
                ))
            })?;
            let sum: u32 = block[..148]
                .iter()
                .chain(&block[156..])
                .map(|&b| b as u32)
                .sum::<u32>()
                + 8 * 32;
            if sum != stored {
                return Err(invalid(format!(
                    "header checksum mismatch at offset {} (not a tar stream, or corrupt)",
                    self.pos - 512
                )));
            }
            let ustar_size = header
                .entry_size()
                .map_err(|_| invalid(format!("bad size field at offset {}", self.pos - 512)))?;
            let typeflag = block[156];
            let is_ext = matches!(typeflag, b'L' | b'K' | b'x' | b'g' | b'X');
            let size = if is_ext {
                ustar_size
            } else {
                pax_size.unwrap_or(ustar_size)
            };
            self.pending_data = size;
            self.data_offset = 0;
            self.pending = size
                .checked_add(511)
                .ok_or_else(|| invalid("entry size overflows"))?
                & !511;
            if let Some(m) = &self.meter {
                let next = self.pos.saturating_add(self.pending);
                m.header_at(next);
            }
            match typeflag {
                b'L' => {
                    let mut v = self.read_extension(size, "GNU long-name")?;
                    trim_nul(&mut v);
                    long_name = Some(v);
                    continue;
                }
                b'K' => {
                    let mut v = self.read_extension(size, "GNU long-link")?;
                    trim_nul(&mut v);
                    long_link = Some(v);
                    continue;
                }
                b'x' | b'X' => {
                    let v = self.read_extension(size, "PAX header")?;
                    parse_pax(&v, &mut pax_path, &mut pax_link, &mut pax_size)?;
                    continue;
                }
                b'g' => {
                    // Global PAX headers: bounded and ignored.
                    self.read_extension(size, "PAX global header")?;
                    continue;
                }
                _ => {}
            }
            let kind = match typeflag {
                b'0' | 0 | b'7' | b'S' => Kind::File,
                b'1' => Kind::Hardlink,
                b'2' => Kind::Symlink,
                b'5' => Kind::Dir,
                _ => Kind::Other,
            };
            let path = pax_path
                .or(long_name)
                .unwrap_or_else(|| header.path_bytes().into_owned());
            let link = pax_link
                .or(long_link)
                .or_else(|| header.link_name_bytes().map(|c| c.into_owned()))
                .unwrap_or_default();
            let mut file_size = size;
            if typeflag == b'S' {
                if let Some(gnu) = header.as_gnu() {
                    if let Ok(real) = gnu.real_size() {
                        file_size = real;
                    }
                    // Extended sparse maps follow in extra 512-byte blocks
                    // that are not counted in the entry's data size.
                    let mut extended = gnu.is_extended();
                    while extended {
                        let mut ext = [0u8; 512];
                        if !self.read_block(&mut ext)? {
                            return Err(unexpected_eof());
                        }
                        extended = ext[504] != 0;
                    }
                }
            }
            let (kind, size_for_kind) = match kind {
                Kind::File => (Kind::File, file_size),
                k => (k, 0),
            };
            return Ok(Some(TarEntry {
                path,
                link,
                kind,
                size,
                file_size: size_for_kind,
                data_offset: self.pos,
            }));
        }
    }
}

fn trim_nul(v: &mut Vec<u8>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

/// Parse PAX records (`"<len> <key>=<value>\n"`), keeping path, linkpath, size.
fn parse_pax(
    data: &[u8],
    path: &mut Option<Vec<u8>>,
    link: &mut Option<Vec<u8>>,
    size: &mut Option<u64>,
) -> io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| invalid("malformed PAX record (no length)"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("malformed PAX record length"))?;
        if len <= sp + 1 || len > rest.len() {
            return Err(invalid("PAX record length out of range"));
        }
        let rec = &rest[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&b| b == b'=') {
            let (k, v) = (&rec[..eq], &rec[eq + 1..]);
            match k {
                b"path" => *path = Some(v.to_vec()).filter(|v| !v.is_empty()),
                b"linkpath" => *link = Some(v.to_vec()).filter(|v| !v.is_empty()),
                b"size" if !v.is_empty() => {
                    let s = std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                        .ok_or_else(|| invalid("malformed PAX size"))?;
                    *size = Some(s);
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn reads_names_sizes_and_long_names() {
        let long = "d/".repeat(80) + "file.txt";
        let data = build(&[("a.txt", b"hello"), (&long, b"0123456789")]);
        let mut r = TarReader::new(ReadSkip(&data[..]));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.path, b"a.txt");
        assert_eq!(e.file_size, 5);
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.path, long.as_bytes());
        let mut buf = [0u8; 4];
        assert_eq!(r.read_data(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"0123");
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn oversized_long_name_is_a_bounded_error() {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(10 << 30);
        h.set_path("././@LongLink").unwrap();
        h.set_cksum();
        let data = h.as_bytes().to_vec();
        let mut r = TarReader::new(ReadSkip(&data[..]));
        let err = r.next_entry().unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[test]
    fn pax_size_wins_over_ustar_size() {
        let mut out = Vec::new();
        let pax = b"11 size=10\n";
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_size(pax.len() as u64);
        h.set_path("PaxHeader").unwrap();
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(pax);
        out.resize(1024, 0);
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(3);
        h.set_path("f").unwrap();
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"0123456789");
        out.resize(1536 + 512, 0);
        out.extend_from_slice(&[0u8; 1024]);
        let mut r = TarReader::new(ReadSkip(&out[..]));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.file_size, 10);
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn garbage_is_rejected() {
        let data = vec![7u8; 2048];
        let mut r = TarReader::new(ReadSkip(&data[..]));
        assert!(r.next_entry().is_err());
    }
}
