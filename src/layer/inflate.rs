//! Streaming gzip decoding for layer blobs.
//!
//! Two decoders sit behind one [`GzDecoder`]: zlib-rs (pure Rust, always
//! built), called through flate2's raw-deflate `Decompress`, and, with the
//! opt-in `isal` Cargo feature, Intel ISA-L's igzip inflate (C and assembly,
//! built from the source that the `isal-sys` crate vendors). On the bench
//! image's 726 MB of gzip, igzip needs ~16% less CPU than zlib-rs on this
//! machine's AVX-512 cores (figures in docs/PERFORMANCE.md), and decoding is
//! ~75% of a cold analysis. `--inflate zlib-rs` picks the pure-Rust path at
//! run time.
//!
//! Both read each member's gzip header themselves (`read_header`; igzip's
//! own header reader loses the flags when a header with optional fields
//! arrives split over two reads) from one input buffer of ours (`Input`),
//! which counts on the meter every byte the decoder consumes (the download
//! cost of each tar entry, `meter.rs`). Both decode multi-member streams
//! (members back to back, as `cat a.gz b.gz` makes), verify every member's
//! CRC-32 and length trailer (zlib-rs: here; igzip: `ISAL_GZIP_NO_HDR_VER`),
//! and treat bytes after a member that are not another gzip member as an
//! error, so they accept and refuse the same streams. The zlib-rs decoder can
//! also be asked, at a stop of the meter, to take the input it would take
//! before writing its next byte ([`GzDecoder::complete_lookahead`]), so what
//! it has consumed there does not depend on how the input arrived. The
//! igzip wrapper never trusts the C side with a pointer beyond one call:
//! input and output slices are handed over for one `isal_inflate` call and
//! the pointers cleared after.

use super::meter::{count, Meter};
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

/// Which gzip decoder a layer read uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Inflater {
    /// ISA-L's igzip when built in (the default build), else zlib-rs.
    #[default]
    Auto,
    /// ISA-L's igzip; refused at settings time when not built in.
    Isal,
    /// flate2's zlib-rs backend.
    ZlibRs,
}

impl Inflater {
    /// Whether this build carries the ISA-L decoder.
    pub const ISAL_BUILT: bool = cfg!(feature = "isal");

    /// The decoder `Auto` resolves to in this build.
    pub fn resolved(self) -> Inflater {
        match self {
            Inflater::Auto if Self::ISAL_BUILT => Inflater::Isal,
            Inflater::Auto => Inflater::ZlibRs,
            other => other,
        }
    }
}

/// A gzip decoder over a reader, started from a `BufReader` that may
/// already hold the stream's first bytes (the sniffed head). `into_inner`
/// returns the reader; bytes it buffered past the stream's end are dropped
/// (they were read, so a hashing reader underneath has seen them).
pub enum GzDecoder<R: Read> {
    /// zlib-rs (through flate2's raw inflate), with our gzip framing.
    ZlibRs(Box<ZlibGzDecoder<R>>),
    /// ISA-L igzip.
    #[cfg(feature = "isal")]
    Isal(Box<isal::IsalGzDecoder<R>>),
}

impl<R: Read> GzDecoder<R> {
    /// A decoder of the given kind (`Auto` and an unbuilt `Isal` fall back
    /// to what this build has).
    pub fn new(inner: BufReader<R>, which: Inflater) -> Self {
        Self::metered(inner, which, None)
    }

    /// [`GzDecoder::new`], counting the compressed bytes it consumes on
    /// `meter` (the download cost of each tar entry, `meter.rs`).
    pub fn metered(inner: BufReader<R>, which: Inflater, meter: Option<Arc<Meter>>) -> Self {
        match which.resolved() {
            #[cfg(feature = "isal")]
            Inflater::Isal => GzDecoder::Isal(Box::new(isal::IsalGzDecoder::new(inner, meter))),
            _ => GzDecoder::ZlibRs(Box::new(ZlibGzDecoder::new(inner, meter))),
        }
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        match self {
            GzDecoder::ZlibRs(d) => d.input.inner,
            #[cfg(feature = "isal")]
            GzDecoder::Isal(d) => d.into_inner(),
        }
    }

    /// A read has just ended on a stop of the meter: let the decoder take
    /// the input it would take before writing its next byte, so that what
    /// it has consumed there does not depend on how the input arrived
    /// (meter.rs). zlib-rs decodes the next code before it finds the output
    /// full, and takes that code's bytes only if they are at hand; when the
    /// read used up the buffered input, this offers it the next bytes with
    /// no room for output. igzip is not metered exactly and needs nothing.
    pub fn complete_lookahead(&mut self) -> io::Result<()> {
        match self {
            GzDecoder::ZlibRs(d) => d.complete_lookahead(),
            #[cfg(feature = "isal")]
            GzDecoder::Isal(_) => Ok(()),
        }
    }
}

impl<R: Read> Read for GzDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            GzDecoder::ZlibRs(d) => d.read(buf),
            #[cfg(feature = "isal")]
            GzDecoder::Isal(d) => d.read(buf),
        }
    }
}

/// Compressed bytes read from the source at a time.
const IN_CAP: usize = 256 * 1024;
/// Spare bytes after the input buffer that igzip is never given as
/// input: its word-at-a-time bit reader, and its bookkeeping on a
/// corrupt stream, can reach a few bytes past `avail_in` (the fuzz
/// target found a stream where it counted one byte more than it was
/// given); with the pad such a read stays inside this allocation.
const PAD: usize = 64;

/// The compressed side: our own buffer (with a pad igzip needs, so that
/// what it is pointed at is always followed by memory we own), counting what
/// the decoder consumes on the meter.
pub(super) struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Counts what the decoder consumes (download cost per tar entry).
    meter: Option<Arc<Meter>>,
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            self.end = loop {
                match self.inner.read(&mut self.buf[..IN_CAP]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        let to = (self.pos + n).min(self.end);
        count(&self.meter, to - self.pos);
        self.pos = to;
    }
}

const FTEXT_RESERVED: u8 = 0xe0;
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "gzip header is cut short")
}

/// Read exactly `out.len()` header bytes, adding them to the header CRC.
fn header_bytes<R: BufRead>(r: &mut R, out: &mut [u8], crc: &mut flate2::Crc) -> io::Result<()> {
    r.read_exact(out).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => cut_short(),
        _ => e,
    })?;
    crc.update(out);
    Ok(())
}

/// Skip `n` header bytes (FEXTRA) or, with `n == None`, a zero-terminated
/// field (FNAME, FCOMMENT), without holding them: a hostile name of
/// any length costs no memory.
fn skip_field<R: BufRead>(r: &mut R, mut n: Option<u64>, crc: &mut flate2::Crc) -> io::Result<()> {
    loop {
        if n == Some(0) {
            return Ok(());
        }
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(cut_short());
        }
        let (take, end) = match n {
            Some(left) => {
                let take = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                n = Some(left - take as u64);
                (take, false)
            }
            None => match buf.iter().position(|&b| b == 0) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            },
        };
        crc.update(&buf[..take]);
        r.consume(take);
        if end {
            return Ok(());
        }
    }
}

/// Read and check one member's header (RFC 1952 §2.3), leaving the
/// reader at its deflate data.
pub(super) fn read_header<R: BufRead>(r: &mut R) -> io::Result<()> {
    let mut crc = flate2::Crc::new();
    let mut base = [0u8; 10];
    header_bytes(r, &mut base, &mut crc)?;
    if base[0] != 0x1f || base[1] != 0x8b {
        return Err(bad("not a gzip member (bad gzip header)"));
    }
    if base[2] != 8 {
        return Err(bad("gzip compression method is not deflate"));
    }
    let flags = base[3];
    if flags & FTEXT_RESERVED != 0 {
        return Err(bad("gzip header sets reserved flags"));
    }
    if flags & FEXTRA != 0 {
        let mut len = [0u8; 2];
        header_bytes(r, &mut len, &mut crc)?;
        skip_field(r, Some(u16::from_le_bytes(len) as u64), &mut crc)?;
    }
    if flags & FNAME != 0 {
        skip_field(r, None, &mut crc)?;
    }
    if flags & FCOMMENT != 0 {
        skip_field(r, None, &mut crc)?;
    }
    if flags & FHCRC != 0 {
        let want = (crc.sum() & 0xffff) as u16;
        let mut got = [0u8; 2];
        header_bytes(r, &mut got, &mut crc)?;
        if u16::from_le_bytes(got) != want {
            return Err(bad("gzip header CRC does not match"));
        }
    }
    Ok(())
}

impl<R: Read> Input<R> {
    /// Takes over what `buffered` holds, then reads its inner reader.
    fn new(buffered: BufReader<R>, meter: Option<Arc<Meter>>) -> Self {
        let mut buf = vec![0u8; IN_CAP.max(buffered.buffer().len()) + PAD].into_boxed_slice();
        let end = buffered.buffer().len();
        buf[..end].copy_from_slice(buffered.buffer());
        Input {
            inner: buffered.into_inner(),
            buf,
            pos: 0,
            end,
            meter,
        }
    }

    /// Everything read from the source has been consumed.
    fn drained(&self) -> bool {
        self.pos == self.end
    }
}

/// zlib-rs's raw inflate (flate2's `Decompress`) member after member, with
/// the gzip header and trailer read here, as for igzip, so that every byte
/// the decoder takes passes through [`Input`] and is counted.
pub struct ZlibGzDecoder<R> {
    input: Input<R>,
    z: flate2::Decompress,
    crc: flate2::Crc,
    members: Members,
}

fn corrupt_deflate() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "corrupt deflate stream")
}

fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "gzip stream ends before its last member is complete (truncated blob?)",
    )
}

/// Where a decoder stands between gzip members (both decoders).
struct Members {
    /// The next bytes are a member's header (or the end of the stream).
    at_start: bool,
    /// At least one member has been read (so the end of input may follow).
    after_one: bool,
    /// The stream ended cleanly after a member.
    done: bool,
}

impl Members {
    fn new() -> Self {
        Members {
            at_start: true,
            after_one: false,
            done: false,
        }
    }

    /// At a member's start: read its header (`true`: the caller resets its
    /// decoder and decodes the member), or find the stream's clean end
    /// (`false`).
    fn start<R: Read>(&mut self, input: &mut Input<R>) -> io::Result<bool> {
        if self.after_one && input.fill_buf()?.is_empty() {
            self.done = true;
            return Ok(false);
        }
        read_header(input)?;
        self.after_one = true;
        self.at_start = false;
        Ok(true)
    }
}

/// What a decoder's read does after one inflate call that `consumed` and
/// `produced` bytes (`ended`: a member's end; `eof`: no input was left):
/// `Some` to return, `None` to call again.
fn after_call(
    consumed: usize,
    produced: usize,
    ended: bool,
    eof: bool,
) -> Option<io::Result<usize>> {
    if produced > 0 {
        return Some(Ok(produced));
    }
    if ended {
        return None;
    }
    if eof {
        return Some(Err(truncated()));
    }
    if consumed == 0 {
        // Input offered, output room given, nothing moved: a state the
        // decoders should never reach; refuse rather than spin.
        return Some(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "gzip decoder made no progress",
        )));
    }
    None
}

impl<R: Read> ZlibGzDecoder<R> {
    fn new(buffered: BufReader<R>, meter: Option<Arc<Meter>>) -> Self {
        ZlibGzDecoder {
            input: Input::new(buffered, meter),
            z: flate2::Decompress::new(false),
            crc: flate2::Crc::new(),
            members: Members::new(),
        }
    }

    /// One inflate call on what is buffered; (consumed, produced, ended).
    fn step(&mut self, out: &mut [u8]) -> io::Result<(usize, usize, bool)> {
        let input = self.input.fill_buf()?;
        let (i0, o0) = (self.z.total_in(), self.z.total_out());
        let status = self
            .z
            .decompress(input, out, flate2::FlushDecompress::None)
            .map_err(|e| match e.needs_dictionary() {
                Some(_) => io::Error::new(
                    io::ErrorKind::InvalidData,
                    "gzip stream asks for a preset dictionary",
                ),
                None => corrupt_deflate(),
            })?;
        let consumed = (self.z.total_in() - i0) as usize;
        let produced = (self.z.total_out() - o0) as usize;
        self.input.consume(consumed);
        self.crc.update(&out[..produced]);
        let ended = status == flate2::Status::StreamEnd;
        if ended {
            self.trailer()?;
        }
        Ok((consumed, produced, ended))
    }

    /// Check the member's CRC-32 and length trailer (RFC 1952 §2.3.1).
    fn trailer(&mut self) -> io::Result<()> {
        let mut t = [0u8; 8];
        self.input.read_exact(&mut t).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => truncated(),
            _ => e,
        })?;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let len = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.crc.sum() || len != self.z.total_out() as u32 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "gzip CRC-32 or length trailer does not match the data",
            ));
        }
        self.members.at_start = true;
        Ok(())
    }

    fn complete_lookahead(&mut self) -> io::Result<()> {
        // Input left over: the decoder had all it wanted.
        while !self.members.at_start && self.input.drained() {
            if self.input.fill_buf()?.is_empty() {
                break;
            }
            let (consumed, _, _) = self.step(&mut [])?;
            if consumed == 0 {
                break;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for ZlibGzDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.members.done {
            return Ok(0);
        }
        loop {
            if self.members.at_start {
                if !self.members.start(&mut self.input)? {
                    return Ok(0);
                }
                self.z.reset(false);
                self.crc.reset();
            }
            let eof = self.input.fill_buf()?.is_empty();
            let (consumed, produced, ended) = self.step(out)?;
            if let Some(done) = after_call(consumed, produced, ended, eof) {
                return done;
            }
        }
    }
}

#[cfg(feature = "isal")]
mod isal {
    use super::super::meter::Meter;
    use super::{after_call, corrupt_deflate, Input, Members};
    use isal_sys::igzip_lib as ffi;
    use std::io::{self, BufRead, BufReader, Read};
    use std::sync::Arc;

    /// The inflate state lives on the heap (it holds a 64 KiB output window)
    /// and is freed with the decoder.
    struct State(Box<ffi::inflate_state>);

    impl State {
        fn new() -> Self {
            let layout = std::alloc::Layout::new::<ffi::inflate_state>();
            // SAFETY: inflate_state is plain C data (integers, byte arrays
            // and raw pointers), for which all-zero bytes is a valid value;
            // the allocation has the type's layout, and a failed allocation
            // is reported before it is used.
            let mut state = unsafe {
                let ptr = std::alloc::alloc_zeroed(layout) as *mut ffi::inflate_state;
                if ptr.is_null() {
                    std::alloc::handle_alloc_error(layout);
                }
                Box::from_raw(ptr)
            };
            // SAFETY: a valid, exclusively borrowed state.
            unsafe { ffi::isal_inflate_init(&mut *state) };
            // Raw deflate after a header we have read; CRC-32 and length
            // trailer verified by igzip.
            state.crc_flag = ffi::ISAL_GZIP_NO_HDR_VER;
            State(state)
        }
    }

    // SAFETY: the state's raw pointers are only set for the duration of one
    // `isal_inflate` call made through `&mut self` and cleared afterwards, so
    // nothing in it refers to memory owned by another thread.
    unsafe impl Send for State {}

    /// igzip over a buffered reader, member after member.
    pub struct IsalGzDecoder<R> {
        inner: Input<R>,
        state: State,
        members: Members,
    }

    fn describe(code: i32) -> &'static str {
        match code {
            ffi::ISAL_INVALID_BLOCK => "invalid deflate block",
            ffi::ISAL_INVALID_SYMBOL => "invalid deflate symbol",
            ffi::ISAL_INVALID_LOOKBACK => "deflate distance reaches before the start of the stream",
            ffi::ISAL_INCORRECT_CHECKSUM => "gzip CRC-32 or length trailer does not match the data",
            _ => "corrupt deflate stream",
        }
    }

    impl<R: Read> IsalGzDecoder<R> {
        /// Takes over what `buffered` holds, then reads its inner reader.
        pub fn new(buffered: BufReader<R>, meter: Option<Arc<Meter>>) -> Self {
            IsalGzDecoder {
                inner: Input::new(buffered, meter),
                state: State::new(),
                members: Members::new(),
            }
        }

        pub fn into_inner(self) -> R {
            self.inner.inner
        }
    }

    impl<R: Read> Read for IsalGzDecoder<R> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if out.is_empty() || self.members.done {
                return Ok(0);
            }
            let out_len = out.len().min(u32::MAX as usize);
            loop {
                if self.members.at_start {
                    if !self.members.start(&mut self.inner)? {
                        return Ok(0);
                    }
                    // SAFETY: a valid, exclusively borrowed state. Reset
                    // keeps `crc_flag`.
                    unsafe { ffi::isal_inflate_reset(&mut *self.state.0) };
                }
                let input = self.inner.fill_buf()?;
                let eof = input.is_empty();
                let in_len = input.len().min(u32::MAX as usize);
                let st = &mut *self.state.0;
                st.next_in = input.as_ptr() as *mut u8;
                st.avail_in = in_len as u32;
                st.next_out = out.as_mut_ptr();
                st.avail_out = out_len as u32;
                // SAFETY: next_in/avail_in describe a live, readable slice
                // (igzip never writes through next_in) and next_out/avail_out
                // a live, writable one; both outlive the call, and the
                // pointers are cleared before either slice can go away.
                let ret = unsafe { ffi::isal_inflate(st) };
                // On a corrupt stream igzip's counts can go past what it was
                // given; never trust them then.
                let (Some(consumed), Some(produced)) = (
                    in_len.checked_sub(st.avail_in as usize),
                    out_len.checked_sub(st.avail_out as usize),
                ) else {
                    return Err(corrupt_deflate());
                };
                st.next_in = std::ptr::null_mut();
                st.avail_in = 0;
                st.next_out = std::ptr::null_mut();
                st.avail_out = 0;
                let finished = st.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH;
                self.inner.consume(consumed);
                if ret < 0 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, describe(ret)));
                }
                if ret as u32 == ffi::ISAL_NEED_DICT {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "gzip stream asks for a preset dictionary",
                    ));
                }
                if finished {
                    self.members.at_start = true;
                }
                if let Some(done) = after_call(consumed, produced, finished, eof) {
                    return done;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::{Compression, GzBuilder};
    use std::io::{BufReader, Write};

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Pseudo-random but compressible bytes (a small LCG over a word list).
    fn sample(n: usize) -> Vec<u8> {
        let words: [&[u8]; 6] = [
            b"lib",
            b"usr/",
            b"site-packages ",
            b"\0\0\0\0",
            b"x86_64",
            b"\n",
        ];
        let mut out = Vec::with_capacity(n);
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        while out.len() < n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if s >> 60 < 3 {
                out.push((s >> 32) as u8);
            } else {
                out.extend_from_slice(words[(s >> 40) as usize % words.len()]);
            }
        }
        out.truncate(n);
        out
    }

    /// A reader that hands out at most `step` bytes per read, so headers,
    /// blocks and trailers arrive split.
    struct Chunked<'a>(&'a [u8], usize);
    impl Read for Chunked<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Decode with a given input chunk size and output chunk size.
    fn decode(
        which: Inflater,
        data: &[u8],
        in_cap: usize,
        out_chunk: usize,
    ) -> io::Result<Vec<u8>> {
        let mut d = GzDecoder::new(
            BufReader::with_capacity(in_cap, Chunked(data, in_cap)),
            which,
        );
        let mut out = Vec::new();
        let mut buf = vec![0u8; out_chunk];
        loop {
            let n = d.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    fn both() -> Vec<Inflater> {
        vec![Inflater::ZlibRs, Inflater::Auto]
    }

    /// Found by the `inflate` fuzz target: in 32-byte reads, igzip reports
    /// having consumed more input than it was given. It must be an error,
    /// from both decoders, and no panic.
    #[test]
    fn corrupt_stream_where_igzip_overcounts_its_input() {
        let data: &[u8] = include_bytes!("../../fuzz/seeds/inflate/regression-overcount.gz");
        for which in both() {
            for in_cap in [32, 4096] {
                assert!(
                    decode(which, data, in_cap, 4099).is_err(),
                    "{which:?} {in_cap}"
                );
            }
        }
    }

    #[test]
    fn auto_is_isal_when_built() {
        assert_eq!(
            Inflater::Auto.resolved(),
            if Inflater::ISAL_BUILT {
                Inflater::Isal
            } else {
                Inflater::ZlibRs
            }
        );
    }

    #[test]
    fn decodes_the_same_bytes_at_every_level_and_buffer_size() {
        let data = sample(700_000);
        for level in [0, 1, 6, 9] {
            let z = gz(&data, level);
            for which in both() {
                for (in_cap, out_chunk) in
                    [(1, 7), (13, 1), (4096, 65536), (256 * 1024, 256 * 1024)]
                {
                    let got = decode(which, &z, in_cap, out_chunk).unwrap();
                    assert!(
                        got == data,
                        "{which:?} level {level} in {in_cap} out {out_chunk}"
                    );
                }
            }
        }
    }

    #[test]
    fn empty_members_and_multi_member_streams() {
        let a = sample(100_000);
        let b = sample(3);
        let mut z = gz(&a, 6);
        z.extend(gz(b"", 6));
        z.extend(gz(&b, 1));
        let mut want = a.clone();
        want.extend_from_slice(&b);
        for which in both() {
            assert_eq!(decode(which, &z, 1000, 4096).unwrap(), want, "{which:?}");
            assert_eq!(
                decode(which, &gz(b"", 9), 10, 10).unwrap(),
                b"",
                "{which:?}"
            );
        }
    }

    #[test]
    fn header_with_name_comment_and_extra() {
        let data = sample(5000);
        let mut e = GzBuilder::new()
            .filename("layer.tar")
            .comment("made by a test")
            .extra(vec![1, 2, 3, 4])
            .write(Vec::new(), Compression::default());
        e.write_all(&data).unwrap();
        let z = e.finish().unwrap();
        for which in both() {
            assert_eq!(decode(which, &z, 3, 100).unwrap(), data, "{which:?}");
        }
    }

    /// A member whose header carries FHCRC (no encoder we use writes one).
    fn with_header_crc(member: &[u8], good: bool) -> Vec<u8> {
        let mut head = member[..10].to_vec();
        head[3] |= 0x02;
        let mut crc = flate2::Crc::new();
        crc.update(&head);
        let mut sum = (crc.sum() & 0xffff) as u16;
        if !good {
            sum ^= 1;
        }
        let mut out = head;
        out.extend_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(&member[10..]);
        out
    }

    #[test]
    fn header_crc_is_checked() {
        let data = sample(50_000);
        let z = gz(&data, 6);
        for which in both() {
            for in_cap in [1, 11, 4096] {
                let ok = decode(which, &with_header_crc(&z, true), in_cap, 999);
                assert_eq!(ok.unwrap(), data, "{which:?} {in_cap}");
                let bad = decode(which, &with_header_crc(&z, false), in_cap, 999);
                assert!(bad.is_err(), "{which:?} {in_cap}: bad header CRC accepted");
            }
        }
    }

    #[test]
    fn refuses_what_flate2_refuses() {
        let data = sample(200_000);
        let z = gz(&data, 6);
        let mut bad_crc = z.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0x55;
        let mut bad_len = z.clone();
        bad_len[n - 2] ^= 0x01;
        let mut garbage_after = z.clone();
        garbage_after.extend_from_slice(b"not gzip at all");
        let mut bad_magic = z.clone();
        bad_magic[1] = 0x00;
        let mut bad_method = z.clone();
        bad_method[2] = 7;
        let mut reserved = z.clone();
        reserved[3] |= 0x80;
        let mut bad_body = z.clone();
        for b in &mut bad_body[20..60] {
            *b = 0xff;
        }
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("crc", bad_crc),
            ("length", bad_len),
            ("garbage after", garbage_after),
            ("magic", bad_magic),
            ("method", bad_method),
            ("reserved flag", reserved),
            ("body", bad_body),
            ("truncated body", z[..z.len() / 2].to_vec()),
            ("truncated trailer", z[..z.len() - 3].to_vec()),
            ("truncated header", z[..5].to_vec()),
        ];
        for (what, bytes) in &cases {
            for which in both() {
                let got = decode(which, bytes, 4096, 4096);
                assert!(
                    got.is_err(),
                    "{which:?} accepted a stream with a bad {what}"
                );
            }
        }
    }

    #[test]
    fn into_inner_leaves_the_reader_after_the_stream() {
        let z = gz(&sample(10_000), 6);
        for which in both() {
            let mut d = GzDecoder::new(BufReader::with_capacity(64, Chunked(&z, 64)), which);
            io::copy(&mut d, &mut io::sink()).unwrap();
            let mut rest = Vec::new();
            d.into_inner().read_to_end(&mut rest).unwrap();
            assert!(rest.is_empty(), "{which:?}");
        }
    }
}
