//! Package databases → which package owns which path.
//!
//! Parsers for dpkg (`/var/lib/dpkg/status` + `info/*.list`), Python
//! distributions (`*.dist-info/RECORD`, any site-packages) and Alpine apk
//! (`/lib/apk/db/installed`). They work on the bytes the layer stage captured
//! (bounded there) and never fail: malformed lines are skipped.

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

/// A package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Dpkg,
    Pip,
    Apk,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub manager: Manager,
    pub name: String,
    pub version: String,
    /// Layer that wrote the database entry that lists the package's files.
    pub layer: u32,
}

/// `name → version` for installed packages in a dpkg status file.
pub fn parse_dpkg_status(data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stanza in split_stanzas(data) {
        let (mut name, mut version, mut installed) = (None, String::new(), true);
        for line in stanza.split(|&b| b == b'\n') {
            if let Some(v) = line.strip_prefix(b"Package:") {
                name = Some(String::from_utf8_lossy(v).trim().to_string());
            } else if let Some(v) = line.strip_prefix(b"Version:") {
                version = String::from_utf8_lossy(v).trim().to_string();
            } else if let Some(v) = line.strip_prefix(b"Status:") {
                installed =
                    String::from_utf8_lossy(v).split_whitespace().last() == Some("installed");
            }
        }
        if let Some(n) = name.filter(|n| !n.is_empty() && installed) {
            out.push((n, version));
        }
    }
    out
}

fn split_stanzas(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        while rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .windows(2)
            .position(|w| w == b"\n\n")
            .map_or(rest.len(), |i| i + 1);
        let (s, r) = rest.split_at(end);
        rest = r;
        Some(s)
    })
}

/// Paths listed in a dpkg `.list` file (absolute, one per line), normalised.
pub fn parse_dpkg_list(data: &[u8]) -> Vec<Vec<u8>> {
    data.split(|&b| b == b'\n')
        .filter_map(crate::layer::normalize)
        .collect()
}

/// Package name from a `.list` file name (`libc6:amd64.list` → `libc6`).
pub fn dpkg_list_package(path: &[u8]) -> Option<String> {
    let file = path.rsplit(|&b| b == b'/').next()?;
    let stem = file.strip_suffix(b".list")?;
    let name = stem.split(|&b| b == b':').next()?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// Name and version from a `NAME-VERSION.dist-info/RECORD` path, plus the
/// directory the RECORD's relative paths start from (site-packages).
pub fn record_meta(path: &[u8]) -> Option<(String, String, Vec<u8>)> {
    let dist_info_end = path.len().checked_sub(b"/RECORD".len())?;
    let dist_info = &path[..dist_info_end];
    let base_start = dist_info
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    let dir = &dist_info[base_start..];
    let stem = dir.strip_suffix(b".dist-info")?;
    let s = String::from_utf8_lossy(stem);
    let (name, version) = s.split_once('-').unwrap_or((&s, ""));
    let root = if base_start == 0 {
        Vec::new()
    } else {
        dist_info[..base_start - 1].to_vec()
    };
    Some((normalize_pkg_name(name), version.to_string(), root))
}

/// PEP 503-ish normalisation: lowercase, `_`/`.` → `-`.
pub fn normalize_pkg_name(n: &str) -> String {
    n.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Paths in a RECORD file (CSV: path,hash,size), resolved against `root`.
pub fn parse_record(data: &[u8], root: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.len() > 64 * 1024 {
            continue;
        }
        let field = if line.first() == Some(&b'"') {
            // Quoted path: up to the closing quote ("" is an escaped quote).
            let mut p = Vec::new();
            let mut i = 1;
            while i < line.len() {
                if line[i] == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        p.push(b'"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                p.push(line[i]);
                i += 1;
            }
            p
        } else {
            line.split(|&b| b == b',')
                .next()
                .unwrap_or_default()
                .to_vec()
        };
        if field.is_empty() {
            continue;
        }
        let joined = if field.first() == Some(&b'/') {
            field
        } else {
            let mut j = root.to_vec();
            j.push(b'/');
            j.extend_from_slice(&field);
            j
        };
        if let Some(p) = resolve_dots(&joined) {
            out.push(p);
        }
    }
    out
}

/// Normalise a path that may contain `..` (RECORD entries like `../../../bin/x`).
fn resolve_dots(p: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for seg in p.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join(&b'/'))
}

/// Packages in an apk `installed` database with their files.
pub fn parse_apk(data: &[u8]) -> Vec<(String, String, Vec<Vec<u8>>)> {
    let mut out = Vec::new();
    for stanza in split_stanzas(data) {
        let (mut name, mut version, mut dir, mut files) =
            (String::new(), String::new(), Vec::new(), Vec::new());
        for line in stanza.split(|&b| b == b'\n') {
            match line {
                [b'P', b':', v @ ..] => name = String::from_utf8_lossy(v).into_owned(),
                [b'V', b':', v @ ..] => version = String::from_utf8_lossy(v).into_owned(),
                [b'F', b':', v @ ..] => dir = v.to_vec(),
                [b'R', b':', v @ ..] => {
                    let mut p = dir.clone();
                    if !p.is_empty() {
                        p.push(b'/');
                    }
                    p.extend_from_slice(v);
                    if let Some(n) = crate::layer::normalize(&p) {
                        files.push(n);
                    }
                }
                _ => {}
            }
        }
        if !name.is_empty() {
            out.push((name, version, files));
        }
    }
    out
}

/// Which package owns each path.
#[derive(Default)]
pub struct PackageIndex {
    pub packages: Vec<Package>,
    pub owner: HashMap<Vec<u8>, usize>,
}

impl PackageIndex {
    pub fn add(&mut self, pkg: Package, paths: impl IntoIterator<Item = Vec<u8>>) {
        let idx = self.packages.len();
        self.packages.push(pkg);
        for p in paths {
            // First owner wins (dpkg diversions and shared dirs are rare).
            self.owner.entry(p).or_insert(idx);
        }
    }
    pub fn owner_of(&self, path: &[u8]) -> Option<usize> {
        self.owner.get(path).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_status_and_lists() {
        let status = b"Package: gcc-12\nStatus: install ok installed\nVersion: 12.2.0-14\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36\n";
        let p = parse_dpkg_status(status);
        assert_eq!(
            p,
            vec![
                ("gcc-12".into(), "12.2.0-14".into()),
                ("libc6".into(), "2.36".into())
            ]
        );
        assert_eq!(
            parse_dpkg_list(b"/.\n/usr\n/usr/bin/gcc-12\n"),
            vec![b"usr".to_vec(), b"usr/bin/gcc-12".to_vec()]
        );
        assert_eq!(
            dpkg_list_package(b"var/lib/dpkg/info/libc6:amd64.list").unwrap(),
            "libc6"
        );
    }

    #[test]
    fn python_records() {
        let (name, version, root) = record_meta(
            b"usr/local/lib/python3.12/site-packages/Typing_Extensions-4.12.2.dist-info/RECORD",
        )
        .unwrap();
        assert_eq!(
            (name.as_str(), version.as_str()),
            ("typing-extensions", "4.12.2")
        );
        assert_eq!(root, b"usr/local/lib/python3.12/site-packages");
        let rec = b"typing_extensions.py,sha256=abc,1234\n\"we,ird.py\",,\n../../../bin/tool,sha256=x,10\nTyping_Extensions-4.12.2.dist-info/RECORD,,\n";
        let paths = parse_record(rec, &root);
        assert_eq!(
            paths[0],
            b"usr/local/lib/python3.12/site-packages/typing_extensions.py"
        );
        assert_eq!(
            paths[1],
            b"usr/local/lib/python3.12/site-packages/we,ird.py"
        );
        assert_eq!(paths[2], b"usr/local/bin/tool");
        // Absurd input never panics.
        let junk = b"..\n../../../../../../../../x\n\"unterminated\n,,,\n";
        let _ = parse_record(junk, b"a");
    }

    #[test]
    fn apk_database() {
        let db = b"P:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36\nF:bin\nR:busybox\n";
        let p = parse_apk(db);
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].2,
            vec![
                b"lib/ld-musl-x86_64.so.1".to_vec(),
                b"lib/libc.musl-x86_64.so.1".to_vec()
            ]
        );
        assert_eq!(p[1].0, "busybox");
    }
}
