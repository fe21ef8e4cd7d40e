//! Hostile and broken tar streams inside layers (issue 7, "tar" group): a
//! 10 GiB PAX record (bounded error, peak memory measured), PAX size against
//! ustar size, non-UTF-8 and empty names, empty PAX values, hardlinks that
//! dangle, point forward or cross layers, and symlinks that point out of
//! the image. Every member is written header by header.

use crate::common::analyze_json;
use crate::common::gzip_layout as layout;
use crate::hostile_fixtures::{failed_cleanly, header, pax, raw_tar, run_measured, Raw};
use crate::layout::oci;

#[test]
fn ten_gib_pax_record_is_a_bounded_error() {
    // A PAX header claiming 10 GiB, followed by 4 MiB of record bytes.
    let mut l = header(b"PaxHeader/x", b'x', 10 << 30, b"").to_vec();
    l.extend(std::iter::repeat_n(b'9', 4 << 20));
    let t = layout(&[l]);
    let r = oci(t.path());
    let Some((out, kib)) = run_measured("ten_gib_pax_record_is_a_bounded_error", &[&r]) else {
        return;
    };
    let err = failed_cleanly(&out);
    assert!(
        err.contains("layer 0")
            && err
                .contains("PAX header record of 10737418240 bytes exceeds the 1048576-byte limit"),
        "{err}"
    );
    assert!(kib < 100 * 1024, "peak {kib} KiB");
}

#[test]
fn pax_size_wins_over_the_ustar_size() {
    let mut l = pax(&[("size", b"10000")]);
    l.extend_from_slice(&header(b"big", b'0', 3, b""));
    l.extend(std::iter::repeat_n(7u8, 10_000));
    l.resize(l.len().div_ceil(512) * 512, 0);
    l.extend_from_slice(&raw_tar(&[Raw::file(b"after", b"12345")]));
    let t = layout(&[l]);
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 10_005);
    assert_eq!(a["largest_files"][0]["path"], "/big");
    assert_eq!(a["largest_files"][0]["bytes"], 10_000);
}

#[test]
fn odd_names_non_utf8_empty_and_empty_pax_values() {
    let mut l = raw_tar(&[
        Raw::file(b"caf\xe9", b"0123456789"),
        Raw::file(b"", b"nameless"),
        Raw::file(b"./", b"dot"),
    ]);
    l.truncate(l.len() - 1024);
    // Empty PAX path/linkpath/size values: ignored, the ustar fields apply.
    l.extend_from_slice(&pax(&[("path", b""), ("size", b""), ("linkpath", b"")]));
    l.extend_from_slice(&raw_tar(&[Raw::file(b"ustar-name", b"abc")]));
    let t = layout(&[l]);
    let a = analyze_json(&oci(t.path()), &[]);
    let files: Vec<String> = a["largest_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert!(files.contains(&"/caf\u{fffd}".to_string()), "{files:?}");
    assert!(files.contains(&"/ustar-name".to_string()), "{files:?}");
    assert_eq!(a["totals"]["final_bytes"], 10 + 3);
    let w = a["warnings"].to_string();
    assert!(w.contains("empty or '..' name"), "{w}");
}

#[test]
fn hardlinks_missing_forward_and_across_layers() {
    let l0 = raw_tar(&[
        Raw::file(b"orig", &[1u8; 4000]),
        // Points at nothing at all.
        Raw::link(b"dangling", b'1', b"no/such/file"),
        // Points at an entry that only comes later in the layer.
        Raw::link(b"early", b'1', b"late"),
        Raw::file(b"late", &[2u8; 300]),
        // Points out of the image.
        Raw::link(b"escape", b'1', b"../../etc/shadow"),
    ]);
    // Layer 1 links to layer 0's file: one inode, its bytes counted once.
    let l1 = raw_tar(&[Raw::link(b"keep", b'1', b"orig")]);
    let t = layout(&[l0, l1]);
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 4000 + 300);
    assert_eq!(a["totals"]["wasted_bytes"], 0);
    let w = a["warnings"].to_string();
    assert!(
        w.contains("hardlink /dangling points to /no/such/file, which does not exist"),
        "{w}"
    );
    assert!(w.contains("hardlink /early points to /late"), "{w}");
    assert!(w.contains("hardlink /escape has an invalid target"), "{w}");
    assert_eq!(
        a["totals"]["files"], 5,
        "orig, keep, late, dangling, early (empty)"
    );
}

#[test]
fn symlinks_out_of_the_root_are_never_followed_or_double_counted() {
    let l0 = raw_tar(&[
        Raw::file(b"data/blob", &[3u8; 5000]),
        Raw::link(b"up", b'2', b"../../../../etc/passwd"),
        Raw::link(b"abs", b'2', b"/etc/shadow"),
        Raw::link(b"root", b'2', b"/"),
        Raw::link(b"self", b'2', b"self"),
        Raw::link(b"data/again", b'2', b"../data"),
    ]);
    // A later layer writes *through* a name that is a symlink to `/` in
    // layer 0: like containerd, the entry lands inside the root (etc/x).
    let l1 = raw_tar(&[Raw::file(b"root/etc/x", b"12")]);
    let t = layout(&[l0, l1]);
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 5000 + 2);
    assert_eq!(a["totals"]["files"], 2);
    // Nothing outside the image was read into the report.
    let s = a.to_string();
    assert!(!s.contains("root:x:0:0"), "read /etc/passwd");
}

#[test]
fn truncated_member_data_names_the_layer() {
    // Header says 100,000 bytes, stream ends after 600.
    let mut l = header(b"cut", b'0', 100_000, b"").to_vec();
    l.extend(std::iter::repeat_n(1u8, 600));
    let t = layout(&[l]);
    let err = crate::common::analyze_err(&oci(t.path()), &[]);
    assert!(
        err.contains("layer 0") && err.contains("truncated"),
        "{err}"
    );
}
