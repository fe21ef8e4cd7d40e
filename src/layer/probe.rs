//! Small bounded probes run on file contents while a layer streams past, so
//! later stages never need to read the image again.
//!
//! Two kinds of facts are collected:
//! - the bytes of package databases (dpkg `status` and `info/*.list`, Python
//!   `*.dist-info/RECORD`, Alpine `installed`), each capped in size;
//! - for ELF executables and shared objects, how many bytes `strip
//!   --strip-unneeded` would remove ([`super::elf`]).
//!
//! Which files are captured is a fixed property of package managers, not a
//! classification rule: this stage does not depend on `classify`.

use super::elf::{ElfFacts, ElfProbe};
use super::tarstream::{Skip, TarReader};
use std::io;

/// Kinds of package database captured whole (bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    DpkgStatus,
    DpkgList,
    PythonRecord,
    ApkInstalled,
}

/// Largest dpkg status / apk database captured.
pub const MAX_STATUS: u64 = 64 << 20;
/// Largest `.list` or `RECORD` file captured.
pub const MAX_LIST: u64 = 16 << 20;

/// Facts carried from the layer stage to later stages, per regular file.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    pub elf: Option<ElfFacts>,
    pub db: Option<(DbKind, Box<[u8]>)>,
}

/// Which database (if any) a normalised path is.
pub fn db_kind(path: &[u8]) -> Option<DbKind> {
    if path == b"var/lib/dpkg/status" {
        return Some(DbKind::DpkgStatus);
    }
    if path == b"lib/apk/db/installed" {
        return Some(DbKind::ApkInstalled);
    }
    if path.starts_with(b"var/lib/dpkg/info/")
        && path.ends_with(b".list")
        && !path[18..].contains(&b'/')
    {
        return Some(DbKind::DpkgList);
    }
    if path.ends_with(b".dist-info/RECORD") {
        return Some(DbKind::PythonRecord);
    }
    None
}

/// Read the current entry's data once, running the probes; the rest of the
/// entry is skipped by the caller. Returns `Ok(None)` when nothing was learnt.
pub fn probe_file<R: Skip>(
    tar: &mut TarReader<R>,
    path: &[u8],
    size: u64,
    warnings: &mut Vec<String>,
) -> io::Result<Option<FileFacts>> {
    if size == 0 {
        return Ok(None);
    }
    if let Some(kind) = db_kind(path) {
        let cap = match kind {
            DbKind::DpkgStatus | DbKind::ApkInstalled => MAX_STATUS,
            _ => MAX_LIST,
        };
        if size > cap {
            warnings.push(format!(
                "/{}: {} is over the {} limit for package databases; its packages are not attributed",
                String::from_utf8_lossy(path),
                crate::units::human(size),
                crate::units::human(cap)
            ));
            return Ok(None);
        }
        let mut buf = vec![0u8; size as usize];
        let n = tar.read_data(&mut buf)?;
        buf.truncate(n);
        return Ok(Some(FileFacts {
            elf: None,
            db: Some((kind, buf.into_boxed_slice())),
        }));
    }
    // ELF probe: look at the head, then visit the rest straight out of the
    // decoder's buffer (no scratch buffer, no copy).
    if size < 64 {
        return Ok(None);
    }
    let mut head = [0u8; 64];
    let first = tar.read_data(&mut head)?;
    let Some(mut probe) = ElfProbe::start(&head[..first], size) else {
        return Ok(None);
    };
    probe.feed(0, &head[..first]);
    tar.visit_data(|offset, chunk| probe.feed(offset, chunk))?;
    Ok(probe.finish().map(|elf| FileFacts {
        elf: Some(elf),
        db: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths() {
        assert_eq!(db_kind(b"var/lib/dpkg/status"), Some(DbKind::DpkgStatus));
        assert_eq!(
            db_kind(b"var/lib/dpkg/info/gcc-12.list"),
            Some(DbKind::DpkgList)
        );
        assert_eq!(
            db_kind(b"var/lib/dpkg/info/libc6:amd64.list"),
            Some(DbKind::DpkgList)
        );
        assert_eq!(
            db_kind(b"usr/local/lib/python3.12/site-packages/torch-2.3.0.dist-info/RECORD"),
            Some(DbKind::PythonRecord)
        );
        assert_eq!(db_kind(b"lib/apk/db/installed"), Some(DbKind::ApkInstalled));
        assert_eq!(db_kind(b"var/lib/dpkg/status-old"), None);
    }
}
