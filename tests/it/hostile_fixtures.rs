//! Helpers shared by the `hostile_*` groups: tar members written header by
//! header (so names, sizes and type flags can be anything, including what
//! the `tar` crate refuses to write), docker-save archives assembled from
//! such members, and running the CLI under `/usr/bin/time` to measure its
//! peak memory.

use crate::common::have_tools;
use crate::layout::sha;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

/// One raw tar member: every field under the test's control.
pub struct Raw<'a> {
    pub name: &'a [u8],
    pub typeflag: u8,
    /// The size written in the header.
    pub size: u64,
    pub link: &'a [u8],
    /// The data written after the header (padded to 512).
    pub data: &'a [u8],
}

impl<'a> Raw<'a> {
    pub fn file(name: &'a [u8], data: &'a [u8]) -> Raw<'a> {
        Raw {
            name,
            typeflag: b'0',
            size: data.len() as u64,
            link: b"",
            data,
        }
    }
    pub fn link(name: &'a [u8], typeflag: u8, target: &'a [u8]) -> Raw<'a> {
        Raw {
            name,
            typeflag,
            size: 0,
            link: target,
            data: b"",
        }
    }
}

/// A ustar header block with the checksum filled in.
pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 8u64.pow(11) {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        // GNU base-256 for sizes over 8 GiB.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typeflag;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// A tar stream of raw members and the end-of-archive marker.
pub fn raw_tar(members: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        out.extend_from_slice(&header(m.name, m.typeflag, m.size, m.link));
        out.extend_from_slice(m.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A PAX extended header member carrying `records` (`key=value` pairs).
pub fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in records {
        let rest = k.len() + v.len() + 3; // ' ' '=' '\n'
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        body.extend_from_slice(format!("{len} {k}=").as_bytes());
        body.extend_from_slice(v);
        body.push(b'\n');
    }
    let mut out = header(b"PaxHeader", b'x', body.len() as u64, b"").to_vec();
    out.extend_from_slice(&body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// One member of an outer archive (docker-save or OCI archive).
pub enum M {
    File(Vec<u8>),
    Sym(&'static str),
    Dir,
}

/// Write an outer archive member by member (no directory entries unless asked).
pub fn write_archive(path: &Path, members: &[(&str, M)]) {
    let mut out = Vec::new();
    for (name, m) in members {
        match m {
            M::File(data) => {
                out.extend_from_slice(&header(name.as_bytes(), b'0', data.len() as u64, b""));
                out.extend_from_slice(data);
                out.resize(out.len().div_ceil(512) * 512, 0);
            }
            M::Sym(target) => {
                out.extend_from_slice(&header(name.as_bytes(), b'2', 0, target.as_bytes()))
            }
            M::Dir => out.extend_from_slice(&header(name.as_bytes(), b'5', 0, b"")),
        }
    }
    out.extend_from_slice(&[0u8; 1024]);
    std::fs::write(path, out).unwrap();
}

/// A legacy docker-save image: `manifest.json`, `config.json` and one
/// `<n>/layer.tar` per layer tar; `tweak` may edit both documents.
pub fn docker_save(
    layers: &[Vec<u8>],
    tweak: impl FnOnce(&mut Value, &mut Value),
) -> Vec<(String, M)> {
    let mut config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| sha(l)).collect::<Vec<_>>()},
    });
    let mut manifest = json!([{
        "Config": "config.json",
        "RepoTags": ["hostile:1"],
        "Layers": (0..layers.len()).map(|i| format!("{i}/layer.tar")).collect::<Vec<_>>(),
    }]);
    tweak(&mut manifest, &mut config);
    let mut out = vec![
        (
            "manifest.json".to_string(),
            M::File(serde_json::to_vec(&manifest).unwrap()),
        ),
        (
            "config.json".to_string(),
            M::File(serde_json::to_vec(&config).unwrap()),
        ),
    ];
    for (i, l) in layers.iter().enumerate() {
        out.push((format!("{i}/layer.tar"), M::File(l.clone())));
    }
    out
}

/// Write `members` (as from [`docker_save`]) to `path`.
pub fn write_owned(path: &Path, members: Vec<(String, M)>) {
    let refs: Vec<(&str, M)> = members
        .into_iter()
        .map(|(n, m)| (&*Box::leak(n.into_boxed_str()), m))
        .collect();
    write_archive(path, &refs);
}

/// Run `imgaudit analyze ARGS` under `/usr/bin/time` and return its output
/// and peak resident memory in KiB. `None` (test skipped) without `time`.
pub fn run_measured(test: &str, args: &[&str]) -> Option<(Output, u64)> {
    if !have_tools(test, &["/usr/bin/time"]) {
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let report = t.path().join("time.txt");
    let bin = assert_cmd::cargo::cargo_bin("imgaudit");
    // The same environment as `common::imgaudit`, under time(1).
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("imgaudit-test-cache"),
    );
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(v);
    }
    cmd.arg("-f").arg("%M").arg("-o").arg(&report).arg(bin);
    cmd.arg("analyze").args(args).arg("-q");
    let out = cmd.output().unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let kib = text
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no peak memory in time(1) report: {text:?}"));
    eprintln!("{test}: peak memory {kib} KiB");
    Some((out, kib))
}

/// Assert a measured run failed cleanly (exit 2, one line, no panic) and
/// return its stderr.
pub fn failed_cleanly(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "expected exit 2: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.lines().count(), 1, "one error line expected: {err}");
    err
}
