//! Fuzz target: the two gzip decoders (`layer/inflate.rs`) side by side.
//! Every input is decoded by ISA-L's igzip and by zlib-rs, once as given
//! and once as raw deflate data behind a minimal gzip header; the decoders
//! must agree on whether the stream is valid and, when it is, on every
//! byte (up to 16 MiB of output; bombs are cut there). Small input buffers
//! make headers, blocks and trailers arrive split across reads.
#![no_main]

use imgaudit::layer::inflate::{GzDecoder, Inflater};
use libfuzzer_sys::fuzz_target;
use std::io::{BufReader, Read};

const CAP: usize = 16 << 20;

/// Hands out at most `.1` bytes per read.
struct Chunked<'a>(&'a [u8], usize);
impl Read for Chunked<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(out.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// Output (up to CAP) and whether the stream was accepted (`None` when cut
/// at CAP before the decoder said either).
fn decode(which: Inflater, data: &[u8], in_cap: usize) -> (Vec<u8>, Option<bool>) {
    let mut d = GzDecoder::new(BufReader::with_capacity(in_cap, Chunked(data, in_cap)), which);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4099];
    loop {
        match d.read(&mut buf) {
            Ok(0) => return (out, Some(true)),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() >= CAP {
                    out.truncate(CAP);
                    return (out, None);
                }
            }
            Err(_) => return (out, Some(false)),
        }
    }
}

fn compare(data: &[u8], in_cap: usize) {
    let (a, a_ok) = decode(Inflater::Isal, data, in_cap);
    let (b, b_ok) = decode(Inflater::ZlibRs, data, in_cap);
    if let (Some(x), Some(y)) = (a_ok, b_ok) {
        assert_eq!(x, y, "isal accepted={x}, zlib-rs accepted={y}");
        if x {
            assert!(a == b, "decoders disagree on the bytes");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let in_cap = 1 + data.first().copied().unwrap_or(0) as usize % 64;
    compare(data, in_cap);
    let mut wrapped = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    wrapped.extend_from_slice(data);
    compare(&wrapped, 4096);
});
