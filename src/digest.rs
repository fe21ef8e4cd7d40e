//! Content digests (`sha256:<64 hex>`), validated before they are ever used to
//! build a path, and a reader adapter that hashes bytes as they stream past.

use crate::error::{Error, Result};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read};

/// A validated `sha256:` digest. Anything else (uppercase hex, wrong length,
/// another algorithm, path tricks) is rejected at parse time.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// Parse and validate `s`; `what` names the document it came from.
    pub fn parse(s: &str, what: &str) -> Result<Digest> {
        let bad = |reason: &str| Error::BadDigest {
            what: what.to_string(),
            digest: s.chars().take(100).collect(),
            reason: reason.to_string(),
        };
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| bad("no algorithm prefix"))?;
        if alg != "sha256" {
            return Err(bad("unsupported algorithm (only sha256 is accepted)"));
        }
        if hex.len() != 64 {
            return Err(bad("sha256 hex must be 64 characters"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("hex must be lowercase [0-9a-f]"));
        }
        Ok(Digest(s.to_string()))
    }

    /// Digest of a finished hasher.
    pub fn from_hasher(h: Sha256) -> Digest {
        Digest(format!("sha256:{}", hex::encode(h.finalize())))
    }

    /// Digest of an in-memory byte slice.
    pub fn of_bytes(b: &[u8]) -> Digest {
        let mut h = Sha256::new();
        h.update(b);
        Digest::from_hasher(h)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The hex part, safe to use as a file name.
    pub fn hex(&self) -> &str {
        &self.0[7..]
    }
    /// First 12 hex characters, for tables.
    pub fn short(&self) -> &str {
        &self.0[7..19]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Passes bytes through while hashing them (when enabled) and counting them.
pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, hash: bool) -> Self {
        HashingReader {
            inner,
            hasher: hash.then(Sha256::new),
            count: 0,
        }
    }
    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Read the rest of the stream (so trailing bytes are hashed too) and
    /// return the digest, if hashing was on, and the total byte count.
    pub fn finish(mut self) -> io::Result<(Option<Digest>, u64, R)> {
        let mut buf = vec![0u8; 64 * 1024];
        while self.read(&mut buf)? != 0 {}
        Ok((self.hasher.map(Digest::from_hasher), self.count, self.inner))
    }
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_digests() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(Digest::parse(&good, "t").is_ok());
        for bad in [
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            "sha256:../x".to_string(),
            format!("sha512:{}", "a".repeat(128)),
            "a".repeat(64),
        ] {
            assert!(Digest::parse(&bad, "t").is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn hashing_reader_hashes_trailing_bytes() {
        let data = b"hello world, and some trailing garbage";
        let mut r = HashingReader::new(&data[..], true);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        let (d, n, _) = r.finish().unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(d.unwrap(), Digest::of_bytes(data));
    }
}
