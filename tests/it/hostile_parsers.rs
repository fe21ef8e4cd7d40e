//! Hostile inputs to the file-content parsers (issue 7, "file-content
//! parsers" group): a 2 GiB dpkg status file (not captured, peak memory
//! measured), a RECORD file with absurd lines, an apk database with path
//! tricks, and ELF files whose header and section offsets point past the
//! end of the file.

use crate::common::analyze_json;
use crate::common::gzip_layout as layout;
use crate::hostile_fixtures::{header, raw_tar, run_measured, Raw};
use crate::layout::{gzip, oci, Img, GZ};
use serde_json::Value;

fn category<'a>(a: &'a Value, id: &str) -> &'a Value {
    a["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no category {id}"))
}

fn packages(a: &Value) -> Vec<String> {
    a["packages"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| p["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_gib_dpkg_status_is_skipped_with_bounded_memory() {
    // var/lib/dpkg/status of 2 GiB: 2048 gzip members of 1 MiB of stanzas.
    let stanza = b"Package: p\nStatus: install ok installed\nVersion: 1\n\n";
    let mut mib: Vec<u8> = stanza.iter().copied().cycle().take(1 << 20).collect();
    mib.truncate(1 << 20);
    let member = gzip(&mib);
    let total = 2048u64 << 20;
    let mut stored = gzip(&header(b"var/lib/dpkg/status", b'0', total, b""));
    for _ in 0..2048 {
        stored.extend_from_slice(&member);
    }
    stored.extend_from_slice(&gzip(&raw_tar(&[Raw::file(b"etc/ok", b"fine")])));
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((stored, GZ.into(), Vec::new()));
    img.write(t.path(), |_, _| {});
    let r = oci(t.path());
    let Some((out, kib)) = run_measured(
        "two_gib_dpkg_status_is_skipped_with_bounded_memory",
        &[&r, "--format", "json"],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["totals"]["final_bytes"], total + 4);
    let w = a["warnings"].to_string();
    assert!(
        w.contains("/var/lib/dpkg/status") && w.contains("over the") && w.contains("limit"),
        "{w}"
    );
    assert!(packages(&a).is_empty(), "{:?}", packages(&a));
    assert!(kib < 200 * 1024, "peak {kib} KiB");
}

#[test]
fn dpkg_status_and_lists_with_garbage_still_attribute_what_is_valid() {
    let mut status = Vec::new();
    status.extend_from_slice(b"Package: good\nStatus: install ok installed\nVersion: 1.0\n\n");
    status.extend_from_slice(b"Package:\nStatus: install ok installed\n\n"); // empty name
    status.extend_from_slice(b"Package: \xff\xfe\nVersion: \0\0\n\n"); // binary junk
    status.extend(std::iter::repeat_n(b'\n', 10_000));
    status.extend(std::iter::repeat_n(b'x', 1 << 20)); // one 1 MiB line
    let list = b"/.\n/usr/bin/good\n/../../etc/passwd\n\n\0\0\0\n";
    let l = raw_tar(&[
        Raw::file(b"var/lib/dpkg/status", &status),
        Raw::file(b"var/lib/dpkg/info/good.list", list),
        Raw::file(b"usr/bin/good", &[0u8; 700]),
    ]);
    let t = layout(&[l]);
    let a = analyze_json(&oci(t.path()), &[]);
    let p = a["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "good")
        .unwrap_or_else(|| panic!("good not attributed: {}", a["packages"]))
        .clone();
    assert_eq!(p["bytes"], 700);
}

#[test]
fn record_file_with_absurd_lines() {
    let mut rec = Vec::new();
    rec.extend_from_slice(b"demo/__init__.py,sha256=abc,9\n");
    rec.extend(std::iter::repeat_n(b'a', 10 << 20)); // 10 MiB, no comma, no newline yet
    rec.push(b'\n');
    rec.extend(std::iter::repeat_n(b',', 100_000));
    rec.push(b'\n');
    rec.extend_from_slice(b"\"unterminated quote,sha256=x,1\n");
    rec.extend_from_slice(b"\"\"\"\"\"\"\n");
    rec.extend_from_slice(b"../../../../../../../../../../../../etc/shadow,,\n");
    rec.extend_from_slice(b"/abs/path,,\n\r\n\0\0\0,\n");
    let l = raw_tar(&[
        Raw::file(
            b"usr/lib/python3/site-packages/demo/__init__.py",
            b"123456789",
        ),
        Raw::file(
            b"usr/lib/python3/site-packages/demo-1.0.dist-info/RECORD",
            &rec,
        ),
    ]);
    let t = layout(&[l]);
    let a = analyze_json(&oci(t.path()), &[]);
    let demo = a["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "demo")
        .unwrap_or_else(|| panic!("demo not attributed: {}", a["packages"]))
        .clone();
    // The one valid line (the RECORD does not list itself here); none of the
    // absurd lines owns anything.
    assert_eq!(demo["bytes"], 9);
    assert_eq!(demo["files"], 1);
}

#[test]
fn apk_database_with_path_tricks() {
    let db = b"P:musl\nV:1.2\nF:lib\nR:ld-musl.so\nR:../../../etc/shadow\nF:\nR:\n\nP:\nV:x\n\n\0\0\nP:evil\nF:../..\nR:x\n";
    let l = raw_tar(&[
        Raw::file(b"lib/apk/db/installed", db),
        Raw::file(b"lib/ld-musl.so", &[0u8; 555]),
    ]);
    let t = layout(&[l]);
    let a = analyze_json(&oci(t.path()), &[]);
    let musl = a["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "musl")
        .unwrap_or_else(|| panic!("musl not attributed: {}", a["packages"]))
        .clone();
    assert_eq!(musl["bytes"], 555);
}

/// An ELF64 little-endian header with the given section-table fields.
fn elf_header(shoff: u64, shnum: u16, shstrndx: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1;
    h[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[40..48].copy_from_slice(&shoff.to_le_bytes());
    h[52..54].copy_from_slice(&64u16.to_le_bytes());
    h[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    h[60..62].copy_from_slice(&shnum.to_le_bytes());
    h[62..64].copy_from_slice(&shstrndx.to_le_bytes());
    h
}

fn section(name: u32, kind: u32, offset: u64, size: u64) -> Vec<u8> {
    let mut s = vec![0u8; 64];
    s[..4].copy_from_slice(&name.to_le_bytes());
    s[4..8].copy_from_slice(&kind.to_le_bytes());
    s[24..32].copy_from_slice(&offset.to_le_bytes());
    s[32..40].copy_from_slice(&size.to_le_bytes());
    s
}

#[test]
fn elf_with_offsets_past_the_end_of_the_file() {
    // 1: the section table itself lies beyond the end of the file.
    let mut far = elf_header(1 << 40, 60_000, 1);
    far.resize(8192, 0x90);
    // 2: a table inside the file whose sections point past its end, with a
    // string table that names them .debug_*.
    let strtab = b"\0.shstrtab\0.debug_info\0.text\0";
    let mut near = elf_header(4096, 4, 1);
    near.resize(1024, 0);
    near.extend_from_slice(strtab);
    near.resize(4096, 0);
    near.extend_from_slice(&section(0, 0, 0, 0));
    near.extend_from_slice(&section(1, 3, 1024, strtab.len() as u64)); // .shstrtab
    near.extend_from_slice(&section(11, 1, u64::MAX - 10, u64::MAX)); // .debug_info
    near.extend_from_slice(&section(23, 1, 1 << 62, 1 << 62)); // .text
                                                               // 3: a string table pointing past the end, names out of range.
    let mut names = elf_header(4096, 3, 2);
    names.resize(4096, 0);
    names.extend_from_slice(&section(0, 0, 0, 0));
    names.extend_from_slice(&section(u32::MAX, 1, 100, 100));
    names.extend_from_slice(&section(7, 3, 1 << 50, 1 << 20));
    let sizes = [far.len(), near.len(), names.len()];
    let l = raw_tar(&[
        Raw::file(b"usr/lib/far.so", &far),
        Raw::file(b"usr/lib/near.so", &near),
        Raw::file(b"usr/lib/names.so", &names),
    ]);
    let t = layout(&[l]);
    let a = analyze_json(&oci(t.path()), &[]);
    let total: usize = sizes.iter().sum();
    assert_eq!(a["totals"]["final_bytes"], total);
    // Whatever the probe concluded, it never claims more than the files hold.
    let dbg = category(&a, "debug-symbols")["final_bytes"]
        .as_u64()
        .unwrap();
    assert!(dbg <= total as u64, "{dbg}");
}
