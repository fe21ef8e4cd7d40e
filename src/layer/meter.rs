//! Download cost: the stored (compressed) bytes of a layer each tar entry
//! costs to pull (issue 17).
//!
//! Two small wrappers around the decoder measure it in the one pass over the
//! bytes. [`Counted`], on the compressed side, counts what the decompressor
//! has *consumed* (not what was read into its buffer). [`Metered`], on the
//! decoded side, notes after every read whether the decoder consumed input
//! during it: a *jump*, at the decoded offset where that read's output
//! began. The compressed bytes of a jump produced the decoded bytes from its
//! offset to the next jump's: for zlib-rs that is exactly the read's own
//! output; igzip and zstd take input ahead (zstd a whole block, up to
//! 128 KiB of output, at a time), and the mapping stays right because the
//! range only closes at the next jump. Inside a range, compressed offsets
//! are interpolated: linearly for gzip (a range is one read), and for zstd,
//! whose ranges span a block of many small entries, in proportion to each
//! read's order-0 entropy (what its bytes would cost at best without
//! matches), so that a text file next to a compressed archive in one block
//! is not charged the archive's rate.
//!
//! The tar walk tells the meter, as it parses each header, where the next
//! header starts and ends ([`Meter::stop_at`]), and [`Metered`] never reads
//! across such a boundary, so a read (and a jump) begins exactly on every
//! header. The walk hands each entry's start to an [`Attribution`], which
//! charges every entry the compressed bytes from its header to the next one
//! as soon as the jumps around both are known: headers and padding go with
//! their entry, and a layer's entries plus the bytes charged to no entry
//! (end-of-archive blocks, the compressor's trailer, skipped members) sum to
//! the blob's size exactly.
//!
//! Jumps behind the walk are dropped as it moves on, and the entries waiting
//! for a jump are at most one zstd block's worth, so both lists stay short
//! whatever the layer's size.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most decoded bytes handed out per read.
pub const STEP: usize = 256 * 1024;

#[derive(Debug, Default)]
struct State {
    /// (decoded offset where a read began, compressed bytes consumed by the
    /// end of that read), for reads that consumed input; both increasing.
    jumps: VecDeque<(u64, u64)>,
    /// Compressed bytes consumed before the first jump in `jumps`.
    before: u64,
    /// Decoded offsets no read may cross (header starts and ends), increasing.
    stops: VecDeque<u64>,
    /// Consumed bytes at the last read (to tell whether a read consumed).
    last_consumed: u64,
    /// Total decoded bytes, once the stream is drained.
    end: Option<u64>,
    /// Weighted interpolation: (decoded offset where a read began, its
    /// entropy weight), for the reads of the jumps still in `jumps`.
    pieces: VecDeque<(u64, u64)>,
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

    /// No read may cross the decoded offset `x` (called by the tar walk with
    /// the start and the end of the next header as soon as it knows them).
    pub fn stop_at(&self, x: u64) {
        let mut st = self.state();
        if st.stops.back().map_or(true, |&b| b < x) {
            st.stops.push_back(x);
        }
    }

    /// How many bytes a read at decoded offset `decoded` may return, at most
    /// `want`: up to the next stop.
    fn cap(&self, decoded: u64, want: usize) -> usize {
        let mut st = self.state();
        while st.stops.front().is_some_and(|&s| s <= decoded) {
            st.stops.pop_front();
        }
        match st.stops.front() {
            Some(&s) => want.min((s - decoded).min(usize::MAX as u64) as usize),
            None => want,
        }
    }

    /// A read that began at decoded offset `start` has returned `data`.
    fn record(&self, start: u64, data: &[u8]) {
        let consumed = self.consumed.load(Ordering::Relaxed);
        let weight = (self.weighted && !data.is_empty()).then(|| entropy_weight(data));
        let mut st = self.state();
        if let Some(w) = weight {
            st.pieces.push_back((start, w));
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
        if consumed > st.last_consumed {
            st.last_consumed = consumed;
            st.jumps.push_back((end, consumed));
        }
        st.end = Some(end);
    }

    /// The compressed offset of decoded offset `x`, once the jumps around it
    /// are known (`None`: not yet). Calls come with non-decreasing `x`.
    pub fn try_at(&self, x: u64) -> Option<u64> {
        let mut st = self.state();
        loop {
            let Some(&(d0, c0)) = st.jumps.front() else {
                // Nothing consumed since: `x` is in the range before.
                return st.end.map(|_| st.before);
            };
            if x < d0 {
                return Some(st.before);
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
            let (part, whole) = if whole > 0 && self.weighted {
                (part, whole)
            } else {
                (x - d0, next - d0)
            };
            let bytes = c0 - st.before;
            return Some(st.before + (bytes as u128 * part as u128 / whole as u128) as u64);
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

impl<D: Read> Read for Metered<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cap = self.meter.cap(self.decoded, buf.len().min(STEP));
        let start = self.decoded;
        let n = self.inner.read(&mut buf[..cap])?;
        self.decoded += n as u64;
        self.meter.record(start, &buf[..n]);
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
        let m = Meter::new(false);
        // A block of 12 compressed bytes output over three reads, then a
        // block of 4 over one read.
        m.add_consumed(12);
        m.record(0, &[]);
        m.record(100, &[]);
        m.record(200, &[]);
        assert_eq!(m.try_at(50), None, "the block's end is not known yet");
        m.add_consumed(4);
        m.record(300, &[]);
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
        m.record(0, &noise);
        m.record(1000, &zeros);
        m.finish(2000);
        let mid = m.try_at(1000).unwrap();
        assert!(mid > 850, "the noise takes nearly all the block: {mid}");
        assert_eq!(m.try_at(2000), Some(900));
        assert!(entropy_weight(&zeros) <= 2);
        assert!(entropy_weight(&noise) > 900);
    }

    #[test]
    fn reads_stop_at_every_stop() {
        let data = vec![1u8; 4000];
        let meter = Meter::new(false);
        meter.stop_at(1000);
        meter.stop_at(1512);
        meter.stop_at(700); // behind the last stop: ignored
        let mut r = Metered::new(Counted::new(&data[..], Some(meter.clone())), meter.clone());
        let mut buf = vec![0u8; 4096];
        let sizes: Vec<usize> = std::iter::from_fn(|| Some(r.read(&mut buf).unwrap()))
            .take_while(|&n| n > 0)
            .collect();
        assert_eq!(sizes, vec![512, 488, 512, 2488]);
        meter.finish(4000);
        // Read straight through: every decoded offset is its stored offset.
        for x in [0, 512, 700, 1512, 4000] {
            assert_eq!(meter.try_at(x), Some(x));
        }
    }

    #[test]
    fn attribution_charges_segments_in_order() {
        let meter = Meter::new(false);
        let data = vec![0u8; 3000];
        let mut r = Metered::new(Counted::new(&data[..], Some(meter.clone())), meter.clone());
        let mut a = Attribution::default();
        let mut got = vec![0u64; 2];
        a.close(0, None);
        a.close(1024, Some(0));
        a.close(2048, Some(1));
        let mut buf = vec![0u8; 4096];
        while r.read(&mut buf).unwrap() > 0 {}
        meter.finish(3000);
        a.settle(Some(&meter), |i, b| got[i] += b);
        assert_eq!(got, vec![1024, 1024]);
        assert_eq!(a.charged, 2048);
        assert_eq!(a.waiting(), 0);
    }
}
