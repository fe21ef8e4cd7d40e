//! Hostile and broken layer blobs (issue 7, "blobs" group): bytes that do not
//! match their digest (garbage after the end of a gzip stream, legacy
//! uncompressed layers), diff_ids that lie, multi-member gzip, a gzip bomb
//! and a zstd frame asking for a huge window (peak memory measured), and
//! media types that lie about the compression.

use crate::common::{analyze_err, analyze_json};
use crate::hostile_fixtures::{docker_save, failed_cleanly, header, run_measured, write_owned};
use crate::layout::{gzip, oci, sha, tar, Img, E, GZ};
use serde_json::json;

/// Peak memory allowed for the bounded cases (the CLI is a debug build here).
const PEAK_KIB: u64 = 200 * 1024;

#[test]
fn garbage_after_a_gzip_stream_is_caught() {
    let t = tempfile::tempdir().unwrap();
    let l = tar(&[E::File("a", 100)]);
    let mut stored = gzip(&l);
    stored.extend_from_slice(b"\0\0\0\0trailing bytes that are not gzip");
    let mut img = Img::new();
    img.layers.push((stored, GZ.into(), l));
    img.write(t.path(), |_, _| {});
    // The digest names the bytes with garbage, so only the decoder can object.
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(err.contains("layer 0") && err.contains("gzip"), "{err}");
}

#[test]
fn legacy_layers_are_checked_against_their_diff_id() {
    let l = tar(&[E::File("a", 100)]);
    // Uncompressed legacy layer with trailing garbage: its diff_id no longer matches.
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("trail.tar");
    let mut members = docker_save(std::slice::from_ref(&l), |_, _| {});
    let mut bad = l.clone();
    bad.extend_from_slice(b"garbage after the end marker");
    members[2].1 = crate::hostile_fixtures::M::File(bad);
    write_owned(&p, members);
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("layer 0") && err.contains("digest mismatch") && err.contains(&sha(&l)),
        "{err}"
    );
    // A gzip legacy layer (no stored digest) whose diff_id is wrong: checked
    // by default, since nothing else names those bytes.
    let p = t.path().join("gz.tar");
    let wrong = format!("sha256:{}", "1".repeat(64));
    let mut members = docker_save(std::slice::from_ref(&l), |_, c| {
        c["rootfs"]["diff_ids"][0] = json!(wrong)
    });
    members[2].1 = crate::hostile_fixtures::M::File(gzip(&l));
    write_owned(&p, members);
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("diff_id") && err.contains(&wrong) && err.contains(&sha(&l)),
        "{err}"
    );
}

#[test]
fn multi_member_gzip_is_read_whole() {
    let l = tar(&[E::File("a", 70_000), E::File("b", 30_000)]);
    let (x, y) = l.split_at(12_345);
    let mut stored = gzip(x);
    stored.extend_from_slice(&gzip(y));
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((stored, GZ.into(), l));
    img.write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &["--verify", "full"]);
    assert_eq!(a["totals"]["final_bytes"], 100_000);
    assert_eq!(a["totals"]["files"], 2);
}

/// A gzip layer holding one file of `chunks` × 8 MiB of zeros, built from
/// repeated gzip members so the test does not compress it all.
fn gzip_bomb(chunks: usize) -> (Vec<u8>, u64) {
    let chunk = 8u64 << 20;
    let total = chunk * chunks as u64;
    let mut stored = gzip(&header(b"zeros", b'0', total, b""));
    let z = gzip(&vec![0u8; chunk as usize]);
    for _ in 0..chunks {
        stored.extend_from_slice(&z);
    }
    stored.extend_from_slice(&gzip(&[0u8; 1024]));
    (stored, total)
}

#[test]
fn gzip_bomb_hits_the_layer_budget_with_bounded_memory() {
    let (stored, total) = gzip_bomb(64); // 512 MiB
    assert!(stored.len() as u64 * 100 < total, "{} bytes", stored.len());
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((stored, GZ.into(), Vec::new()));
    img.write(t.path(), |_, _| {});
    let r = oci(t.path());
    let Some((out, kib)) = run_measured(
        "gzip_bomb_hits_the_layer_budget_with_bounded_memory",
        &[&r, "--max-layer-bytes", "67108864"],
    ) else {
        return;
    };
    let err = failed_cleanly(&out);
    assert!(
        err.contains("layer 0")
            && err.contains("more than 67.1 MB (67108864 bytes)")
            && err.contains("--max-layer-bytes"),
        "{err}"
    );
    assert!(kib < PEAK_KIB, "peak {kib} KiB");
    // Under the default budget the same bomb streams through, memory still bounded.
    let Some((out, kib)) = run_measured("gzip_bomb", &[&r, "--format", "json", "--no-verify"])
    else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["totals"]["final_bytes"], total);
    assert!(kib < PEAK_KIB, "peak {kib} KiB");
}

#[test]
fn zstd_frame_asking_for_a_huge_window_is_refused_with_bounded_memory() {
    // A zstd frame header declaring a 2 GiB window (Window_Descriptor exponent
    // 21 → 2^31), then one raw block of a tar header.
    let body = header(b"f", b'0', 0, b"");
    let mut stored = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3];
    let bh = ((body.len() as u32) << 3) | 1; // last block, raw
    stored.extend_from_slice(&bh.to_le_bytes()[..3]);
    stored.extend_from_slice(&body);
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((
        stored,
        "application/vnd.oci.image.layer.v1.tar+zstd".into(),
        Vec::new(),
    ));
    img.write(t.path(), |_, _| {});
    let r = oci(t.path());
    let Some((out, kib)) = run_measured(
        "zstd_frame_asking_for_a_huge_window_is_refused_with_bounded_memory",
        &[&r],
    ) else {
        return;
    };
    let err = failed_cleanly(&out);
    assert!(
        err.contains("layer 0") && err.contains("zstd") && err.to_lowercase().contains("memory"),
        "{err}"
    );
    assert!(kib < PEAK_KIB, "peak {kib} KiB");
}

#[test]
fn declared_gzip_but_zstd_bytes_is_decoded_with_a_warning() {
    let l = tar(&[E::File("a", 4321)]);
    let stored = zstd::encode_all(&l[..], 3).unwrap();
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((stored, GZ.into(), l));
    img.write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &["--verify", "full"]);
    assert_eq!(a["totals"]["final_bytes"], 4321);
    let w = a["warnings"].to_string();
    assert!(w.contains("declares gzip") && w.contains("zstd"), "{w}");
    // Declared zstd but the bytes are gzip: the same, the other way.
    let l = tar(&[E::File("b", 99)]);
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((
        gzip(&l),
        "application/vnd.oci.image.layer.v1.tar+zstd".into(),
        l,
    ));
    img.write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 99);
    assert!(a["warnings"].to_string().contains("declares zstd"));
}

#[test]
fn plain_layer_with_trailing_garbage_and_an_honest_descriptor() {
    // The descriptor names the bytes *with* the garbage (digest and size),
    // the config's diff_id the clean tar. The stored digest matches; with
    // --verify full the diff_id must match the same bytes too.
    let l = tar(&[E::File("a", 100)]);
    let mut stored = l.clone();
    stored.extend_from_slice(b"garbage after the end marker");
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers
        .push((stored.clone(), crate::layout::TAR.into(), l.clone()));
    img.write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 100);
    let err = analyze_err(&oci(t.path()), &["--verify", "full"]);
    assert!(
        err.contains("layer 0 (uncompressed, diff_id)")
            && err.contains(&sha(&l))
            && err.contains(&sha(&stored)),
        "{err}"
    );
}
