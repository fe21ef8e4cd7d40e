//! Download cost: the stored (compressed) bytes of a layer each tar entry
//! costs to pull (issue 17).
//!
//! Two small wrappers around the decoder measure it in the one pass over the
//! bytes. On the compressed side the decoder's input counts what the
//! decompressor has *consumed* (not what was read into its buffer):
//! [`Counted`] for zstd, the gzip decoder's own input buffer for gzip
//! (`inflate.rs`). [`Metered`], on the decoded side, caps every read at the
//! next *stop*, the end of the next tar header: the tar walk says where each
//! next header starts ([`Meter::header_at`]) as soon as it parses the
//! current one. So a gzip layer takes one decoder call per entry (the
//! entry's data and padding, then the next header), and the compressed
//! offset is known exactly at the end of every header.
//!
//! gzip: where a read ends on a stop, the meter keeps an *anchor* (decoded
//! offset, bytes consumed). Only those: where any other read ends depends on
//! how the compressed bytes arrived (a decoder returns early when its input
//! runs dry), and the figures must not. For the same reason the decoder is
//! asked at each stop to take the bytes it would take before writing its
//! next byte ([`Lookahead`]): zlib-rs decodes the next code before it finds
//! the output full, and takes its bytes only if they are at hand. A header's
//! *start* lies inside the read that ends at its end; it is placed that
//! header's estimated cost before the anchor: the running average of the
//! headers read alone in this layer (a header right after a header, as after
//! every directory, link and empty file, is measured exactly), capped at the
//! read's bytes. A misestimate moves a few bytes between an entry and the one
//! before it, so over any run of consecutive entries the errors cancel but
//! for the run's two ends (docs/ACCOUNTING.md measures it). Stopping at both
//! ends of every header would place starts exactly too, at the cost of a
//! second decoder call per entry, more than the issue allows
//! (docs/PERFORMANCE.md).
//!
//! zstd takes input ahead (a whole block, up to 128 KiB of output, at a
//! time): after every read that consumed input the meter keeps a *jump*, at
//! the decoded offset where that read's output began, and the compressed
//! bytes of a jump produced the decoded bytes up to the next jump. Inside a
//! jump's range, which spans many small entries, compressed offsets are
//! shared in proportion to each piece's order-0 entropy (what its bytes
//! would cost at best without matches; pieces split at header starts), so
//! that a text file next to a compressed archive in one block is not charged
//! the archive's rate.
//!
//! The walk hands each entry's start to an [`Attribution`], which charges
//! every entry the compressed bytes from its header to the next one as soon
//! as the anchors or jumps around both are known: headers and padding go
//! with their entry, and a layer's entries plus the bytes charged to no
//! entry (end-of-archive blocks, the compressor's trailer, skipped members)
//! sum to the blob's size exactly.
//!
//! Anchors and jumps behind the walk are dropped as it moves on, and the
//! entries waiting for one are at most one zstd block's worth, so the lists
//! stay short whatever the layer's size.
//!
//! What the stops cost: a decoder call per entry makes zlib-rs take its
//! slower window path for every match that reaches back past the call's
//! start, and copy every call's output into its window; about 5% of the
//! decode against 256 KiB calls, 10–18% on layers of many small files, none
//! of it in this file (`benches/meter.rs` measures it per layer;
//! docs/PERFORMANCE.md, session 9).

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most decoded bytes handed out per read.
pub const STEP: usize = 256 * 1024;

/// gzip: a decoded offset where a read ended on a stop (a header's end),
/// with the compressed bytes consumed by then.
#[derive(Debug, Default, Clone, Copy)]
struct Anchor {
    at: u64,
    consumed: u64,
    /// What a header costs here, 16ths of a byte: the running average of
    /// the headers measured exactly before this anchor.
    header16: u64,
}

/// A header's cost, 16ths of a byte, until one is measured (the median on
/// real layers is 20 to 28 bytes; docs/ACCOUNTING.md).
const HEADER16_PRIOR: u64 = 24 * 16;

#[derive(Debug, Default)]
struct State {
    /// gzip: the anchors ahead of `base`, increasing.
    anchors: VecDeque<Anchor>,
    /// gzip: the anchor at or before the offsets asked about.
    base: Anchor,
    /// gzip: the last anchor recorded, and the running header cost.
    last: Anchor,
    /// zstd: *jumps*, (decoded offset where a read began, compressed bytes
    /// consumed by the end of that read), for reads that consumed input;
    /// both increasing.
    jumps: VecDeque<(u64, u64)>,
    /// zstd: compressed bytes consumed before the first jump.
    before: u64,
    /// Decoded offsets no read may cross (header ends), increasing.
    stops: VecDeque<u64>,
    /// Header starts not yet passed by a read, increasing (weighted meters
    /// split a read's entropy weight there).
    marks: VecDeque<u64>,
    /// Consumed bytes at the last read (to tell whether a read consumed).
    last_consumed: u64,
    /// Total decoded bytes, once the stream is drained.
    end: Option<u64>,
    /// Weighted interpolation: (decoded offset where a piece of a read
    /// began, its entropy weight), for the reads of the jumps in `jumps`.
    pieces: VecDeque<(u64, u64)>,
}

impl State {
    fn stop_at(&mut self, x: u64) {
        if self.stops.back().map_or(true, |&b| b < x) {
            self.stops.push_back(x);
        }
    }

    /// gzip: a read ended on a stop at `at`, `consumed` bytes in.
    fn anchor(&mut self, at: u64, consumed: u64) {
        let last = self.last;
        let mut header16 = last.header16;
        if at == last.at + 512 && last.at > 0 {
            // A header right after a header (a directory's, a link's, an
            // empty file's): its cost is known exactly; fold it into the
            // average (weight 1/8) that later estimates use.
            let cost16 = (consumed - last.consumed) * 16;
            header16 = (header16 * 7 + cost16) / 8;
        }
        let a = Anchor {
            at,
            consumed,
            header16,
        };
        self.anchors.push_back(a);
        // The estimate a range uses is the one from before its own header.
        self.last = Anchor { header16, ..a };
    }
}

/// The compressed offset of the decoded offsets the tar walk asks about.
#[derive(Debug)]
pub struct Meter {
    consumed: AtomicU64,
    state: Mutex<State>,
    /// Interpolate inside a range by entropy, not length (zstd).
    weighted: bool,
}

/// What `b` would cost at its order-0 entropy, in bytes (at least 1).
fn entropy_weight(b: &[u8]) -> u64 {
    let mut hist = [0u32; 256];
    for &x in b {
        hist[x as usize] += 1;
    }
    let n = b.len() as f64;
    let bits: f64 = hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let c = c as f64;
            c * (n / c).log2()
        })
        .sum();
    (bits / 8.0).ceil() as u64 + 1
}

impl Meter {
    /// A meter; `weighted` for decoders whose input comes a block at a
    /// time (zstd).
    pub fn new(weighted: bool) -> Arc<Meter> {
        Arc::new(Meter {
            weighted,
            consumed: AtomicU64::new(0),
            state: Mutex::new(State {
                stops: VecDeque::from([512]),
                last: Anchor {
                    header16: HEADER16_PRIOR,
                    ..Anchor::default()
                },
                ..State::default()
            }),
        })
    }

    fn add_consumed(&self, n: usize) {
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A header starts at decoded offset `x` (called by the tar walk as soon
    /// as it knows): reads stop at its end, and a weighted meter weighs the
    /// bytes before and after `x` apart.
    pub fn header_at(&self, x: u64) {
        let mut st = self.state();
        st.stop_at(x.saturating_add(512));
        if self.weighted && st.marks.back().map_or(true, |&b| b < x) {
            st.marks.push_back(x);
        }
    }

    /// How many bytes a read at decoded offset `decoded` may return, at most
    /// `want`: up to the next stop, which it names when it is the limit.
    fn cap(&self, decoded: u64, want: usize) -> (usize, Option<u64>) {
        let mut st = self.state();
        while st.stops.front().is_some_and(|&s| s <= decoded) {
            st.stops.pop_front();
        }
        match st.stops.front() {
            Some(&s) if s - decoded <= want as u64 => ((s - decoded) as usize, Some(s)),
            _ => (want, None),
        }
    }

    /// A read that began at decoded offset `start` has returned `data`;
    /// `on_stop`: it ended on a stop.
    fn record(&self, start: u64, data: &[u8], on_stop: bool) {
        let consumed = self.consumed.load(Ordering::Relaxed);
        let mut st = self.state();
        if !self.weighted {
            // Only reads that end on a stop place their end: where any other
            // read ends depends on how the compressed bytes arrived (flate2
            // returns early when its input runs dry), and the figures must
            // not.
            if on_stop {
                st.anchor(start + data.len() as u64, consumed);
            }
            return;
        }
        if !data.is_empty() {
            // One piece per part of the read between header starts.
            let end = start + data.len() as u64;
            let mut at = start;
            while let Some(&m) = st.marks.front() {
                if m >= end {
                    break;
                }
                st.marks.pop_front();
                if m > at {
                    let part = &data[(at - start) as usize..(m - start) as usize];
                    st.pieces.push_back((at, entropy_weight(part)));
                    at = m;
                }
            }
            let rest = &data[(at - start) as usize..];
            st.pieces.push_back((at, entropy_weight(rest)));
        }
        if consumed > st.last_consumed {
            st.last_consumed = consumed;
            match st.jumps.back_mut() {
                // Several reads from one offset (a read that returned 0).
                Some(last) if last.0 == start => last.1 = consumed,
                _ => st.jumps.push_back((start, consumed)),
            }
        }
    }

    /// The stream is drained: `end` decoded bytes in all.
    pub fn finish(&self, end: u64) {
        let consumed = self.consumed.load(Ordering::Relaxed);
        let mut st = self.state();
        if !self.weighted {
            if end > st.last.at {
                st.anchor(end, consumed);
            }
        } else if consumed > st.last_consumed {
            st.last_consumed = consumed;
            st.jumps.push_back((end, consumed));
        }
        st.end = Some(end);
    }

    /// The compressed offset of decoded offset `x`, once the jumps around it
    /// are known (`None`: not yet). Calls come with non-decreasing `x`.
    pub fn try_at(&self, x: u64) -> Option<u64> {
        if self.weighted {
            self.try_at_weighted(x)
        } else {
            self.try_at_gzip(x)
        }
    }

    /// gzip: between the anchors around `x`, the bytes after `x` (a
    /// header, up to the anchor at its end) cost what a header costs here.
    fn try_at_gzip(&self, x: u64) -> Option<u64> {
        let mut st = self.state();
        loop {
            let a = st.base;
            if x <= a.at {
                return Some(a.consumed);
            }
            let b = *st.anchors.front()?;
            if x >= b.at {
                st.base = b;
                st.anchors.pop_front();
                continue;
            }
            let estimate = (b.header16 as u128 * (b.at - x) as u128 / (16 * 512)) as u64;
            return Some(b.consumed - estimate.min(b.consumed - a.consumed));
        }
    }

    /// zstd: by entropy between the jumps around `x`.
    fn try_at_weighted(&self, x: u64) -> Option<u64> {
        let mut st = self.state();
        loop {
            let before = st.before;
            let Some(&(d0, c0)) = st.jumps.front() else {
                // Nothing consumed since: `x` is in the range before.
                return st.end.map(|_| before);
            };
            if x < d0 {
                return Some(before);
            }
            let next = match st.jumps.get(1) {
                Some(&(d1, _)) => d1,
                None => st.end?,
            };
            if x >= next && st.jumps.len() > 1 {
                st.before = c0;
                st.jumps.pop_front();
                while st.pieces.front().is_some_and(|p| p.0 < next) {
                    st.pieces.pop_front();
                }
                continue;
            }
            if next <= d0 {
                return Some(c0);
            }
            let x = x.min(next);
            let (mut part, mut whole) = (0u64, 0u64);
            for &(at, w) in st.pieces.iter().take_while(|p| p.0 < next) {
                if at >= d0 {
                    whole += w;
                    if at < x {
                        part += w;
                    }
                }
            }
            let (part, whole) = if whole > 0 {
                (part, whole)
            } else {
                (x - d0, next - d0)
            };
            let bytes = c0 - before;
            return Some(before + (bytes as u128 * part as u128 / whole as u128) as u64);
        }
    }
}

/// The compressed side: counts the bytes the decompressor consumes.
pub struct Counted<B> {
    inner: B,
    meter: Option<Arc<Meter>>,
}

impl<B> Counted<B> {
    /// `meter: None` counts nothing (decoders used outside a layer read).
    pub fn new(inner: B, meter: Option<Arc<Meter>>) -> Self {
        Counted { inner, meter }
    }
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: Read> Read for Counted<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        count(&self.meter, n);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Counted<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        count(&self.meter, n);
        self.inner.consume(n)
    }
}

/// Count `n` consumed bytes on `meter` (for decoders with their own input
/// buffer).
pub fn count(meter: &Option<Arc<Meter>>, n: usize) {
    if let Some(m) = meter {
        m.add_consumed(n);
    }
}

/// The decoded side: reads that stop at every stop, noted on the meter.
pub struct Metered<D> {
    pub inner: D,
    meter: Arc<Meter>,
    decoded: u64,
}

impl<D> Metered<D> {
    pub fn new(inner: D, meter: Arc<Meter>) -> Self {
        Metered {
            inner,
            meter,
            decoded: 0,
        }
    }
}

/// A decoder that can be asked, when a read has ended on a stop, to take
/// the input it would take before writing its next byte, so that what it has
/// consumed at a stop does not depend on how the input arrived
/// ([`GzDecoder::complete_lookahead`](super::inflate::GzDecoder::complete_lookahead)).
pub trait Lookahead {
    fn complete_lookahead(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<B> Lookahead for Counted<B> {}

impl<R: Read> Lookahead for super::inflate::GzDecoder<R> {
    fn complete_lookahead(&mut self) -> io::Result<()> {
        super::inflate::GzDecoder::complete_lookahead(self)
    }
}

impl<D: Read + Lookahead> Read for Metered<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (cap, stop) = self.meter.cap(self.decoded, buf.len().min(STEP));
        let start = self.decoded;
        let n = self.inner.read(&mut buf[..cap])?;
        self.decoded += n as u64;
        let on_stop = stop == Some(self.decoded);
        if on_stop {
            self.inner.complete_lookahead()?;
        }
        self.meter.record(start, &buf[..n], on_stop);
        Ok(n)
    }
}

/// Charges each entry the compressed bytes from its header to the next
/// entry's header, as the meter learns them.
#[derive(Debug, Default)]
pub struct Attribution {
    /// Segment ends not resolved yet: (decoded offset, the segment's owner).
    waiting: VecDeque<(u64, Option<usize>)>,
    /// Compressed offset where the next waiting segment begins.
    start: u64,
    /// Σ bytes charged to entries.
    pub charged: u64,
}

impl Attribution {
    /// The segment that ends at decoded offset `end` belongs to `owner` (an
    /// entry's index, or `None`: no entry).
    pub fn close(&mut self, end: u64, owner: Option<usize>) {
        self.waiting.push_back((end, owner));
    }

    /// Charge every segment whose end the meter (`None`: an uncompressed
    /// layer, where offsets are stored offsets) can place now.
    pub fn settle(&mut self, meter: Option<&Meter>, mut charge: impl FnMut(usize, u64)) {
        while let Some(&(end, owner)) = self.waiting.front() {
            let at = match meter {
                None => end,
                Some(m) => match m.try_at(end) {
                    Some(at) => at,
                    None => return,
                },
            };
            let bytes = at.saturating_sub(self.start);
            self.start = self.start.max(at);
            if let Some(i) = owner {
                charge(i, bytes);
                self.charged += bytes;
            }
            self.waiting.pop_front();
        }
    }

    /// Segments still waiting (bounded by one decoder block of entries).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_covers_the_output_up_to_the_next_jump() {
        // Reads without output weigh nothing: ranges are split by length.
        let m = Meter::new(true);
        // A block of 12 compressed bytes output over three reads, then a
        // block of 4 over one read.
        m.add_consumed(12);
        m.record(0, &[], false);
        m.record(100, &[], false);
        m.record(200, &[], false);
        assert_eq!(m.try_at(50), None, "the block's end is not known yet");
        m.add_consumed(4);
        m.record(300, &[], false);
        assert_eq!(m.try_at(0), Some(0));
        assert_eq!(m.try_at(150), Some(6));
        assert_eq!(m.try_at(300), None);
        m.add_consumed(2); // a trailer, no output
        m.finish(400);
        assert_eq!(m.try_at(350), Some(14));
        assert_eq!(m.try_at(400), Some(18));
        assert!(m.state().jumps.len() <= 2);
    }

    #[test]
    fn weighted_ranges_charge_by_entropy() {
        let m = Meter::new(true);
        let noise: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let zeros = vec![0u8; 1000];
        // One block: noise then zeros, 900 compressed bytes.
        m.add_consumed(900);
        m.record(0, &noise, false);
        m.record(1000, &zeros, false);
        m.finish(2000);
        let mid = m.try_at(1000).unwrap();
        assert!(mid > 850, "the noise takes nearly all the block: {mid}");
        assert_eq!(m.try_at(2000), Some(900));
        assert!(entropy_weight(&zeros) <= 2);
        assert!(entropy_weight(&noise) > 900);
    }

    #[test]
    fn a_header_start_splits_a_weighted_read() {
        let m = Meter::new(true);
        m.header_at(1000);
        let mut data = vec![0u8; 1000];
        data.extend((0..512u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
        m.add_consumed(900);
        m.record(0, &data, true);
        m.finish(1512);
        // The zeros before the header cost almost nothing; the noise after
        // it takes nearly all 900 bytes.
        let at = m.try_at(1000).unwrap();
        assert!(at < 10, "{at}");
        assert_eq!(m.try_at(1512), Some(900));
    }

    /// Input that arrives `chunk` bytes at a time, as from a network.
    struct Chunky<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Chunky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// A tar-like stream (512-byte headers, then 0 to 9,000 bytes of text,
    /// noise or zeros) and where its headers start.
    fn tar_like() -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut headers) = (Vec::new(), Vec::new());
        let mut seed = 7u32;
        for i in 0..300u32 {
            headers.push(out.len() as u64);
            let mut h = format!("usr/lib/python3/dist-packages/m{i}.py").into_bytes();
            h.resize(512, 0);
            out.extend(h);
            let len = (i * 7919 % 9000) as usize;
            for j in 0..len {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                out.push(match i % 3 {
                    0 => b"def f(x):\n    return x\n"[j % 23],
                    1 => (seed >> 16) as u8,
                    _ => 0,
                });
            }
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.resize(out.len() + 1024, 0);
        (out, headers)
    }

    /// Where a gzip stream's meter places each header, its input arriving
    /// `chunk` bytes at a time.
    fn placed(gz: &[u8], headers: &[u64], chunk: usize) -> Vec<u64> {
        let meter = Meter::new(false);
        for &h in &headers[1..] {
            meter.header_at(h);
        }
        let input = io::BufReader::new(Chunky { data: gz, chunk });
        let decoder = super::super::inflate::GzDecoder::metered(
            input,
            super::super::inflate::Inflater::ZlibRs,
            Some(meter.clone()),
        );
        let mut r = Metered::new(decoder, meter.clone());
        let mut buf = vec![0u8; 65536];
        let mut total = 0u64;
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        meter.finish(total);
        headers.iter().map(|&h| meter.try_at(h).unwrap()).collect()
    }

    #[test]
    fn gzip_figures_do_not_depend_on_how_the_input_arrives() {
        let (tar, headers) = tar_like();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        io::Write::write_all(&mut enc, &tar).unwrap();
        let gz = enc.finish().unwrap();
        let whole = placed(&gz, &headers, usize::MAX);
        assert!(whole.windows(2).all(|w| w[0] <= w[1]));
        assert!(*whole.last().unwrap() < gz.len() as u64);
        // Noise entries cost about their length; zero entries nearly nothing.
        let cost = |i: usize| whole[i + 1] - whole[i];
        assert!(cost(1) > 7919 * 9 / 10, "{}", cost(1));
        assert!(cost(2) < 200, "{}", cost(2));
        for chunk in [1, 3, 100, 4096] {
            assert_eq!(placed(&gz, &headers, chunk), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn reads_stop_at_every_stop() {
        let data = vec![1u8; 4000];
        let meter = Meter::new(false);
        meter.header_at(488); // stops at 1000
        meter.header_at(1000); // stops at 1512
        meter.header_at(188); // stops at 700, behind the last stop: ignored
        let mut r = Metered::new(Counted::new(&data[..], Some(meter.clone())), meter.clone());
        let mut buf = vec![0u8; 4096];
        let sizes: Vec<usize> = std::iter::from_fn(|| Some(r.read(&mut buf).unwrap()))
            .take_while(|&n| n > 0)
            .collect();
        assert_eq!(sizes, vec![512, 488, 512, 2488]);
        meter.finish(4000);
        // Read straight through: where a read ended on a stop (and at the
        // end), the decoded offset is its stored offset.
        for x in [0, 512, 1000, 1512, 4000] {
            assert_eq!(meter.try_at(x), Some(x));
        }
    }

    #[test]
    fn header_costs_are_learnt_from_headers_read_alone() {
        let m = Meter::new(false);
        let prior = HEADER16_PRIOR / 16;
        {
            let mut st = m.state();
            st.anchor(512, 60); // the first header, with the gzip header
            st.anchor(1024, 100); // a header right after it: 40 bytes
            st.anchor(9216, 4100); // 7,680 bytes of data, then a header
        }
        m.finish(9216);
        assert_eq!(m.try_at(512), Some(60));
        // The header that ends at 9216 costs the running average: 7/8 of
        // the prior and 1/8 of the 40 bytes measured.
        let learnt = (prior * 16 * 7 + 40 * 16) / 8 / 16;
        assert!(learnt > prior);
        assert_eq!(m.try_at(9216 - 512), Some(4100 - learnt));
        assert_eq!(m.try_at(9216), Some(4100));
    }

    #[test]
    fn attribution_charges_segments_in_order() {
        let meter = Meter::new(false);
        let data = vec![0u8; 3000];
        let mut r = Metered::new(Counted::new(&data[..], Some(meter.clone())), meter.clone());
        let mut a = Attribution::default();
        let mut got = vec![0u64; 2];
        meter.header_at(1024);
        meter.header_at(2048);
        a.close(0, None);
        a.close(1024, Some(0));
        a.close(2048, Some(1));
        let mut buf = vec![0u8; 4096];
        while r.read(&mut buf).unwrap() > 0 {}
        meter.finish(3000);
        a.settle(Some(&meter), |i, b| got[i] += b);
        // Reads end on 512, 1536 and 2560; the header starts at 1024 and
        // 2048 are placed a header's estimated cost before those ends.
        let h = HEADER16_PRIOR / 16;
        assert_eq!(got, vec![1536 - h, 1024]);
        assert_eq!(a.charged, 2560 - h);
        assert_eq!(a.waiting(), 0);
    }
}
