//! A record's bytes per package, held compactly: the names concatenated in
//! one string, sorted by name, with one `(end, bytes)` pair per package.
//! Reading thousands of records with hundreds of packages each then costs
//! two allocations per record instead of one per package, consecutive
//! records compare with a sorted merge (no hashing, no copies), and JSON
//! output writes the figures straight from here, largest first.
//!
//! In a store the figures are one binary value (the `packages` column,
//! schema version 2; docs/HISTORY.md describes the encoding): a format byte,
//! the count, then per package, in name order, the length of the prefix it
//! shares with the previous name, the length of the rest and its bytes (all
//! LEB128), then the rests of the names, concatenated.

use super::model::Figure;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

/// The encoding's format byte.
const FORMAT: u8 = 1;

/// Bytes per package (`manager:name`), sorted by name, names unique.
/// Records read one after the other that have the same packages (the usual
/// case) share one copy of the names.
#[derive(Clone, Default)]
pub struct Packages {
    names: Arc<Names>,
    /// Per package, in name order.
    bytes: Vec<u64>,
}

/// Package names, concatenated in name order, and where each one ends.
#[derive(Default, PartialEq, Eq)]
struct Names {
    text: String,
    ends: Vec<u32>,
}

impl PartialEq for Packages {
    fn eq(&self, other: &Packages) -> bool {
        (Arc::ptr_eq(&self.names, &other.names) || self.names == other.names)
            && self.bytes == other.bytes
    }
}

impl Eq for Packages {}

impl std::fmt::Debug for Packages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Packages {
    /// From `(name, bytes)` pairs in any order; a name given twice adds up.
    pub fn new<S: AsRef<str>>(figures: impl IntoIterator<Item = (S, u64)>) -> Packages {
        let mut v: Vec<(S, u64)> = figures.into_iter().collect();
        v.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut names = Names {
            text: String::with_capacity(v.iter().map(|f| f.0.as_ref().len()).sum()),
            ends: Vec::with_capacity(v.len()),
        };
        let mut bytes: Vec<u64> = Vec::with_capacity(v.len());
        for (name, b) in v {
            let name = name.as_ref();
            if let Some(last) = names.ends.len().checked_sub(1) {
                if names.name(last) == name {
                    bytes[last] = bytes[last].saturating_add(b);
                    continue;
                }
            }
            names.text.push_str(name);
            names
                .ends
                .push(u32::try_from(names.text.len()).expect("package names under 4 GiB"));
            bytes.push(b);
        }
        Packages {
            names: Arc::new(names),
            bytes,
        }
    }

    /// The name of the `i`-th package (name order).
    fn name(&self, i: usize) -> &str {
        self.names.name(i)
    }

    /// Whether `self` and `other` share one copy of the same names.
    #[cfg(test)]
    pub(crate) fn shares_names(&self, other: &Packages) -> bool {
        Arc::ptr_eq(&self.names, &other.names)
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `(name, bytes)` in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, u64)> + '_ {
        (0..self.bytes.len()).map(|i| (self.name(i), self.bytes[i]))
    }

    /// `(name, bytes)`, largest first (then by name).
    pub fn largest_first(&self) -> Vec<(&str, u64)> {
        let mut order: Vec<u32> = (0..self.bytes.len() as u32).collect();
        // Stable: equal sizes keep name order.
        order.sort_by(|&a, &b| self.bytes[b as usize].cmp(&self.bytes[a as usize]));
        order
            .into_iter()
            .map(|i| (self.name(i as usize), self.bytes[i as usize]))
            .collect()
    }

    /// The bytes of package `name`, if the record has it.
    pub fn get(&self, name: &str) -> Option<u64> {
        let mut lo = 0;
        let mut hi = self.bytes.len();
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.bytes[mid]),
            }
        }
        None
    }

    /// As [`Figure`]s, largest first.
    pub fn to_figures(&self) -> Vec<Figure> {
        self.largest_first()
            .into_iter()
            .map(|(name, bytes)| Figure {
                name: name.to_string(),
                bytes,
            })
            .collect()
    }

    /// Calls `f(name, before, after)` for every package in `self` (before)
    /// or `after`, in name order; a package missing from one side is 0 there.
    pub fn merge<'a>(&'a self, after: &'a Packages, mut f: impl FnMut(&'a str, u64, u64)) {
        if Arc::ptr_eq(&self.names, &after.names) {
            // The same packages (names shared when read).
            for (i, (&x, &y)) in self.bytes.iter().zip(&after.bytes).enumerate() {
                f(self.name(i), x, y);
            }
            return;
        }
        let (mut i, mut j) = (0, 0);
        let (n, m) = (self.bytes.len(), after.bytes.len());
        while i < n || j < m {
            let ord = if i == n {
                std::cmp::Ordering::Greater
            } else if j == m {
                std::cmp::Ordering::Less
            } else {
                self.name(i).cmp(after.name(j))
            };
            match ord {
                std::cmp::Ordering::Less => {
                    f(self.name(i), self.bytes[i], 0);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    f(after.name(j), 0, after.bytes[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    f(self.name(i), self.bytes[i], after.bytes[j]);
                    i += 1;
                    j += 1;
                }
            }
        }
    }

    /// The stored form (the `packages` column).
    pub fn encode(&self) -> Vec<u8> {
        let mut head = Vec::with_capacity(8 + self.bytes.len() * 6);
        let mut rest = Vec::with_capacity(self.names.text.len() / 2);
        head.push(FORMAT);
        leb(&mut head, self.bytes.len() as u64);
        let mut prev = "";
        for (name, bytes) in self.iter() {
            let shared = prev
                .bytes()
                .zip(name.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            leb(&mut head, shared as u64);
            leb(&mut head, (name.len() - shared) as u64);
            leb(&mut head, bytes);
            rest.extend_from_slice(&name.as_bytes()[shared..]);
            prev = name;
        }
        head.extend_from_slice(&rest);
        head
    }

    /// Read the stored form back; an error says what is wrong with it.
    pub fn decode(data: &[u8]) -> Result<Packages, String> {
        Decoder::default().decode(data)
    }
}

impl Names {
    fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start as usize..self.ends[i] as usize]
    }
}

/// Reads stored packages one record after another, sharing the names of
/// records that have the same packages as one of the last few read. Names
/// are only rebuilt (and checked) when they are not one of those: the
/// stored lengths and name bytes are compared as they are.
#[derive(Default)]
pub(crate) struct Decoder {
    recent: Vec<Recent>,
    lens: Vec<(u32, u32)>,
}

/// Names read before, with the stored form they were read from.
struct Recent {
    lens: Vec<(u32, u32)>,
    rest: Vec<u8>,
    names: Arc<Names>,
}

/// Distinct name lists remembered (series read interleaved).
const RECENT: usize = 4;

impl Decoder {
    pub(crate) fn decode(&mut self, data: &[u8]) -> Result<Packages, String> {
        let mut at = 0usize;
        let format = *data.first().ok_or("packages: empty value")?;
        if format != FORMAT {
            return Err(format!("packages: unknown format {format}"));
        }
        at += 1;
        let count = unleb(data, &mut at)?;
        // Each package takes at least 3 bytes.
        if count > (data.len() as u64) / 3 {
            return Err(format!(
                "packages: {count} packages in {} bytes",
                data.len()
            ));
        }
        // Per package: shared and own lengths of its name, and its bytes;
        // then the names' own parts.
        let lens = &mut self.lens;
        lens.clear();
        let mut bytes = Vec::with_capacity(count as usize);
        let mut rest_len = 0u64;
        for _ in 0..count {
            let shared = unleb(data, &mut at)?;
            let own = unleb(data, &mut at)?;
            bytes.push(unleb(data, &mut at)?);
            rest_len = rest_len.saturating_add(own);
            let (Ok(shared), Ok(own)) = (u32::try_from(shared), u32::try_from(own)) else {
                return Err("packages: a name over 4 GiB".into());
            };
            lens.push((shared, own));
        }
        let rest = &data[at..];
        if rest_len != rest.len() as u64 {
            return Err("packages: the names do not fill the value".into());
        }
        if let Some(i) = self
            .recent
            .iter()
            .position(|r| r.rest == rest && r.lens == *lens)
        {
            let r = self.recent.remove(i);
            let names = r.names.clone();
            self.recent.push(r);
            return Ok(Packages { names, bytes });
        }
        let mut text: Vec<u8> = Vec::with_capacity(rest.len() * 2);
        let mut ends = Vec::with_capacity(lens.len());
        let (mut prev, mut own_at) = (0usize, 0usize);
        for &(shared, own) in lens.iter() {
            let (shared, own) = (shared as usize, own as usize);
            if shared > text.len() - prev {
                return Err("packages: a name shares more than the previous name has".into());
            }
            let start = text.len();
            text.extend_from_within(prev..prev + shared);
            text.extend_from_slice(&rest[own_at..own_at + own]);
            own_at += own;
            if start > 0 && text[prev..start] >= text[start..] {
                return Err("packages: names out of order".into());
            }
            prev = start;
            ends.push(u32::try_from(text.len()).map_err(|_| "packages: names over 4 GiB")?);
        }
        let text = String::from_utf8(text).map_err(|_| "packages: a name is not UTF-8")?;
        if ends.iter().any(|&end| !text.is_char_boundary(end as usize)) {
            return Err("packages: a name is not UTF-8".into());
        }
        let names = Arc::new(Names { text, ends });
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(Recent {
            lens: lens.clone(),
            rest: rest.to_vec(),
            names: names.clone(),
        });
        Ok(Packages { names, bytes })
    }
}

fn leb(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
fn unleb(data: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*at).ok_or("packages: value cut short")?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("packages: a number over 64 bits".into())
}

/// One figure of the JSON output, borrowed.
struct Borrowed<'a>(&'a str, u64);

impl Serialize for Borrowed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", self.0)?;
        m.serialize_entry("bytes", &self.1)?;
        m.end()
    }
}

/// As a list of `{"name", "bytes"}`, largest first, like the other figures.
impl Serialize for Packages {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for (name, bytes) in self.largest_first() {
            seq.serialize_element(&Borrowed(name, bytes))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Packages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Packages, D::Error> {
        let v: Vec<Figure> = Vec::deserialize(d)?;
        Ok(Packages::new(v.into_iter().map(|f| (f.name, f.bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Packages {
        Packages::new([
            ("dpkg:libc6", 12_000_000u64),
            ("dpkg:libc-bin", 900_000),
            ("pip:numpy", 40_000_000),
            ("dpkg:libc6", 1),
            ("dpkg:zlib1g", 0),
            ("pip:nümpy-ß", 7),
            ("dpkg:lib", 5),
        ])
    }

    #[test]
    fn sorted_unique_and_largest_first() {
        let p = sample();
        let names: Vec<&str> = p.iter().map(|x| x.0).collect();
        assert_eq!(
            names,
            [
                "dpkg:lib",
                "dpkg:libc-bin",
                "dpkg:libc6",
                "dpkg:zlib1g",
                "pip:numpy",
                "pip:nümpy-ß"
            ]
        );
        assert_eq!(p.get("dpkg:libc6"), Some(12_000_001));
        assert_eq!(p.get("dpkg:libc"), None);
        let big: Vec<(&str, u64)> = p.largest_first().into_iter().take(2).collect();
        assert_eq!(big, [("pip:numpy", 40_000_000), ("dpkg:libc6", 12_000_001)]);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json[0]["name"], "pip:numpy");
        assert_eq!(json[5]["bytes"], 0);
        let back: Packages = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn the_stored_form_reads_back_and_damage_is_an_error() {
        for p in [sample(), Packages::default()] {
            let data = p.encode();
            assert_eq!(Packages::decode(&data).unwrap(), p);
            // Every truncation and every single-byte change is either an
            // error or some other valid value, never a panic.
            for n in 0..data.len() {
                assert!(Packages::decode(&data[..n]).is_err(), "cut at {n}");
            }
            for i in 0..data.len() {
                for b in [0u8, 1, 0x7f, 0x80, 0xff] {
                    let mut d = data.clone();
                    d[i] = b;
                    let _ = Packages::decode(&d);
                }
            }
        }
        assert!(Packages::decode(&[2, 0]).unwrap_err().contains("format"));
        // Out of order.
        let mut d = vec![FORMAT, 2, 0, 1, 5, 0, 1, 6];
        d.extend_from_slice(b"ba");
        assert!(Packages::decode(&d).unwrap_err().contains("order"));
    }

    #[test]
    fn merge_visits_the_union_in_name_order() {
        let a = Packages::new([("a", 1u64), ("c", 3), ("d", 4)]);
        let b = Packages::new([("b", 2u64), ("c", 5), ("e", 0)]);
        let mut seen = Vec::new();
        a.merge(&b, |n, x, y| seen.push((n.to_string(), x, y)));
        let want = [
            ("a", 1, 0),
            ("b", 0, 2),
            ("c", 3, 5),
            ("d", 4, 0),
            ("e", 0, 0),
        ];
        let want: Vec<_> = want.iter().map(|w| (w.0.to_string(), w.1, w.2)).collect();
        assert_eq!(seen, want);
    }
}
