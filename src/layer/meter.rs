//! Download cost: the stored (compressed) bytes of a layer each tar entry
//! costs to pull (issue 17).
//!
//! Two small wrappers around the decoder measure it in the one pass over the
//! bytes. [`Counted`], on the compressed side, counts what the decompressor
//! has *consumed* (not what was read into its buffer). [`Metered`], on the
//! decoded side, caps every read at [`STEP`] bytes and records after each one
//! a checkpoint: (decoded bytes so far, compressed bytes consumed so far).
//! The tar walk tells the meter, as it parses each header, where the next
//! header starts ([`Meter::stop_at`]), and [`Metered`] never reads across such
//! a boundary, so a checkpoint falls exactly on every header. The tar walk
//! then asks [`Meter::at`] for the compressed offset of each entry's header
//! (exact at a checkpoint; linear between two where a decoder consumes input
//! ahead of its output, as zstd does a block at a time); an entry costs the
//! compressed bytes from its header to the next entry's header, so headers
//! and padding go with their entry, and a layer's entries plus the bytes
//! attributed to no entry (the end-of-archive blocks, the compressor's
//! trailer) sum to the blob's size exactly.
//!
//! Checkpoints behind the tar walk are dropped as it moves on: the walk is at
//! most one read buffer behind the decoder, so the list stays a few dozen
//! entries long whatever the layer's size.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most decoded bytes handed out per read: the checkpoint spacing.
pub const STEP: usize = 32 * 1024;

/// The compressed offset of every decoded offset the tar walk asks about.
#[derive(Debug, Default)]
struct State {
    /// (decoded, consumed) after each decoder read, both increasing.
    points: VecDeque<(u64, u64)>,
    /// Decoded offsets no read may cross (header starts and ends), increasing.
    stops: VecDeque<u64>,
}

#[derive(Debug)]
pub struct Meter {
    consumed: AtomicU64,
    state: Mutex<State>,
    /// How far the tar walk can lag behind the decoder (its read buffer).
    lag: u64,
}

impl Meter {
    /// A meter for a walk that reads through a buffer of `lag` bytes.
    pub fn new(lag: usize) -> Arc<Meter> {
        Arc::new(Meter {
            consumed: AtomicU64::new(0),
            state: Mutex::new(State {
                points: VecDeque::from([(0, 0)]),
                stops: VecDeque::from([512]),
            }),
            lag: (lag + STEP) as u64,
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

    fn record(&self, decoded: u64) {
        let consumed = self.consumed.load(Ordering::Relaxed);
        let mut st = self.state();
        let points = &mut st.points;
        points.push_back((decoded, consumed));
        // The walk cannot ask about anything older than `lag` behind; keep
        // the last point before that as the anchor.
        let oldest = decoded.saturating_sub(self.lag);
        while points.len() > 2 && points[1].0 <= oldest {
            points.pop_front();
        }
    }

    /// The compressed bytes consumed by the time the decoder produced the
    /// decoded offset `x`. Calls must come with non-decreasing `x`.
    pub fn at(&self, x: u64) -> u64 {
        let mut st = self.state();
        let points = &mut st.points;
        while points.len() >= 2 && points[1].0 <= x {
            points.pop_front();
        }
        let (d0, c0) = points.front().copied().unwrap_or((0, 0));
        match points.get(1) {
            Some(&(d1, c1)) if x > d0 && d1 > d0 => {
                c0 + ((c1 - c0) as u128 * (x - d0) as u128 / (d1 - d0) as u128) as u64
            }
            _ => c0,
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
        if let Some(m) = &self.meter {
            m.add_consumed(n);
        }
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Counted<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        if let Some(m) = &self.meter {
            m.add_consumed(n);
        }
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

/// The decoded side: reads of at most [`STEP`] bytes, a checkpoint after each.
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
        let n = self.inner.read(&mut buf[..cap])?;
        self.decoded += n as u64;
        self.meter.record(self.decoded);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_checkpoints_and_forgets_old_ones() {
        let m = Meter::new(0);
        m.add_consumed(10);
        m.record(100);
        m.add_consumed(10);
        m.record(200);
        assert_eq!(m.at(0), 0);
        assert_eq!(m.at(50), 5);
        assert_eq!(m.at(100), 10);
        assert_eq!(m.at(150), 15);
        assert_eq!(m.at(200), 20);
        // Bytes consumed with no output (a trailer) land on the last offset.
        m.add_consumed(8);
        m.record(200);
        assert_eq!(m.at(200), 28);
        // Far ahead: old points are dropped, the list stays short.
        for i in 3..10_000u64 {
            m.add_consumed(1);
            m.record(i * 100_000);
        }
        assert!(m.state().points.len() <= 4);
    }

    #[test]
    fn reads_stop_at_every_stop() {
        let data = vec![1u8; 4000];
        let meter = Meter::new(1 << 20);
        meter.stop_at(1000);
        meter.stop_at(1512);
        meter.stop_at(700); // behind the last stop: ignored
        let mut r = Metered::new(Counted::new(&data[..], Some(meter.clone())), meter.clone());
        let mut buf = vec![0u8; 4096];
        let sizes: Vec<usize> = std::iter::from_fn(|| Some(r.read(&mut buf).unwrap()))
            .take_while(|&n| n > 0)
            .collect();
        assert_eq!(sizes, vec![512, 488, 512, 2488]);
    }

    #[test]
    fn metered_reads_are_capped_and_counted() {
        let data = vec![7u8; 3 * STEP + 5];
        let meter = Meter::new(1 << 20);
        let mut r = Metered::new(Counted::new(&data[..], Some(meter.clone())), meter.clone());
        let mut buf = vec![0u8; 10 * STEP];
        let mut total = 0;
        loop {
            let n = r.read(&mut buf).unwrap();
            assert!(n <= STEP);
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, data.len());
        // Uncompressed: the compressed offset of every decoded offset is itself.
        assert_eq!(meter.at(STEP as u64 + 3), STEP as u64 + 3);
        assert_eq!(meter.at(data.len() as u64), data.len() as u64);
    }
}
