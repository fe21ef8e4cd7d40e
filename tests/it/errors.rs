//! Bad input: each case must end in one clear message naming the file, layer
//! or path and the problem, exit code 2, and no panic.

use crate::common::{analyze_err, analyze_json, imgaudit};
use crate::layout::{gzip, oci, pack, put_blob, sha, tar, write_index, Img, E};
use serde_json::json;
use std::path::Path;

fn simple() -> Img {
    Img::new().gz(tar(&[E::File("a", 100)]))
}

#[test]
fn missing_file() {
    let err = analyze_err("/no/such/image.tar", &[]);
    assert!(
        err.contains("/no/such/image.tar") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn not_an_image() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("notes.txt");
    std::fs::write(&p, "hello, this is not a tar archive at all\n".repeat(40)).unwrap();
    let err = analyze_err(p.to_str().unwrap(), &[]);
    assert!(
        err.contains("notes.txt") && err.contains("not a container image"),
        "{err}"
    );
    // A valid tar that is not an image.
    let q = t.path().join("plain.tar");
    std::fs::write(&q, tar(&[E::File("readme", 10)])).unwrap();
    let err = analyze_err(q.to_str().unwrap(), &[]);
    assert!(err.contains("neither manifest.json"), "{err}");
}

#[test]
fn truncated_archive() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("l");
    std::fs::create_dir(&dir).unwrap();
    Img::new()
        .plain(tar(&[E::File("big", 200_000)]))
        .write(&dir, |_, _| {});
    let archive = t.path().join("img.tar");
    pack(&dir, &archive);
    let bytes = std::fs::read(&archive).unwrap();
    std::fs::write(&archive, &bytes[..bytes.len() / 2]).unwrap();
    let err = analyze_err(archive.to_str().unwrap(), &[]);
    assert!(
        err.contains("img.tar") && err.contains("truncated archive") && err.contains("short"),
        "{err}"
    );
    // Truncated, not "not a container image": the file was one until cut.
    assert!(!err.contains("not a container image"), "{err}");
    // Cut inside a tar header, too.
    std::fs::write(&archive, &bytes[..700]).unwrap();
    let err = analyze_err(archive.to_str().unwrap(), &[]);
    assert!(
        err.contains("truncated archive") && err.contains("inside a tar header"),
        "{err}"
    );
}

#[test]
fn truncated_layer() {
    let t = tempfile::tempdir().unwrap();
    let img = simple();
    img.write(t.path(), |m, _| {
        // Replace the layer with its first half, keeping the descriptor honest about digest/size.
        let half = img.layers[0].0[..img.layers[0].0.len() / 2].to_vec();
        m["layers"][0]["digest"] = json!(put_blob(t.path(), &half));
        m["layers"][0]["size"] = json!(half.len());
    });
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(err.contains("layer 0") && err.contains("gzip"), "{err}");
}

#[test]
fn layer_digest_mismatch_names_layer_and_both_digests() {
    let t = tempfile::tempdir().unwrap();
    let img = Img::new().plain(tar(&[E::File("a", 100)]));
    img.write(t.path(), |_, _| {});
    let d = sha(&img.layers[0].0);
    let p = t.path().join("blobs/sha256").join(&d[7..]);
    let mut b = std::fs::read(&p).unwrap();
    b[600] ^= 0xff; // inside the file's data: the tar still parses
    std::fs::write(&p, &b).unwrap();
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(
        err.contains("layer 0") && err.contains("digest mismatch") && err.contains(&d),
        "{err}"
    );
}

#[test]
fn garbage_after_tar_end_is_caught() {
    let t = tempfile::tempdir().unwrap();
    let img = Img::new().plain(tar(&[E::File("a", 100)]));
    img.write(t.path(), |_, _| {});
    let d = sha(&img.layers[0].0);
    let p = t.path().join("blobs/sha256").join(&d[7..]);
    let mut b = std::fs::read(&p).unwrap();
    b.extend_from_slice(b"trailing garbage");
    std::fs::write(&p, &b).unwrap();
    // The blob is now longer than its descriptor says: refused before any
    // byte is read, with or without digest verification (the digest path
    // for trailing garbage is in hostile_blobs.rs).
    for extra in [&[][..], &["--no-verify"]] {
        let err = analyze_err(&oci(t.path()), extra);
        assert!(
            err.contains("layer 0") && err.contains("descriptor says 2048 bytes"),
            "{err}"
        );
    }
}

#[test]
fn declared_gzip_but_plain_bytes_is_decoded_with_a_warning() {
    let t = tempfile::tempdir().unwrap();
    let img = Img::new().plain(tar(&[E::File("a", 100)]));
    img.write(t.path(), |m, _| {
        m["layers"][0]["mediaType"] = json!(crate::layout::GZ);
    });
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 100);
    assert!(
        a["warnings"].to_string().contains("declares gzip"),
        "{}",
        a["warnings"]
    );
}

#[test]
fn bad_digest_strings_are_rejected_before_use() {
    for bad in [
        "sha256:../../etc/passwd",
        "sha256:ABCDEF",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
    ] {
        let t = tempfile::tempdir().unwrap();
        simple().write(t.path(), |_, _| {});
        write_index(
            t.path(),
            &[
                json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": bad, "size": 10}),
            ],
        );
        let err = analyze_err(&oci(t.path()), &[]);
        assert!(err.contains("invalid digest"), "{bad}: {err}");
    }
}

#[test]
fn huge_long_name_record_is_bounded() {
    // A GNU long-name header claiming 10 GiB, followed by 2 MiB of name.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(10 << 30);
    h.set_path("././@LongLink").unwrap();
    h.set_cksum();
    let mut t0 = h.as_bytes().to_vec();
    t0.extend(std::iter::repeat_n(b'a', 2 << 20));
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new();
    img.layers.push((gzip(&t0), crate::layout::GZ.into(), t0));
    img.write(t.path(), |_, _| {});
    let err = analyze_err(&oci(t.path()), &[]);
    assert!(err.contains("layer 0") && err.contains("exceeds"), "{err}");
}

#[test]
fn archive_paths_cannot_escape() {
    // A docker-save manifest.json pointing outside the archive.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        br#"[{"Config":"../../etc/passwd","RepoTags":["x:1"],"Layers":[]}]"#,
    )
    .unwrap();
    let archive = t.path().join("evil.tar");
    pack(&dir, &archive);
    let err = analyze_err(archive.to_str().unwrap(), &[]);
    assert!(err.contains("leaves the image"), "{err}");
}

/// One bad layout: how to write it (returning what the error must say), the
/// flags, and the case's name for the failure message.
struct Case {
    name: &'static str,
    write: fn(&Path) -> Vec<String>,
    args: &'static [&'static str],
}

/// Layouts that are wrong in one way each: one error line (exit 2, no
/// panic, see `analyze_err`) naming the problem.
#[test]
fn bad_layouts_fail_with_one_clear_line() {
    let cases = [
        Case {
            name: "a diff_id that does not match, under --verify full",
            write: |d| {
                simple().write(d, |_, c| {
                    c["rootfs"]["diff_ids"][0] = json!(format!("sha256:{}", "0".repeat(64)));
                });
                // Unverified decoding of the same layout is fine.
                analyze_json(&oci(d), &[]);
                vec!["diff_id".into(), "digest mismatch".into()]
            },
            args: &["--verify", "full"],
        },
        Case {
            name: "fewer diff_ids than layers",
            write: |d| {
                simple().write(d, |_, c| c["rootfs"]["diff_ids"] = json!([]));
                vec!["0 diff_ids".into(), "1 layers".into()]
            },
            args: &[],
        },
        Case {
            name: "rootfs.type other than layers",
            write: |d| {
                simple().write(d, |_, c| c["rootfs"]["type"] = json!("snapshot"));
                vec!["rootfs.type".into()]
            },
            args: &[],
        },
        Case {
            name: "an unknown layer media type",
            write: |d| {
                simple().write(d, |m, _| {
                    m["layers"][0]["mediaType"] = json!("application/x-surprise")
                });
                vec!["unknown media type".into(), "application/x-surprise".into()]
            },
            args: &[],
        },
        Case {
            name: "an index.json over the document limit",
            write: |d| {
                simple().write(d, |_, _| {});
                let pad = "x".repeat(5 << 20);
                let idx = format!(
                    r#"{{"schemaVersion":2,"manifests":[],"annotations":{{"pad":"{pad}"}}}}"#
                );
                std::fs::write(d.join("index.json"), idx).unwrap();
                vec!["index.json".into(), "larger than".into()]
            },
            args: &[],
        },
        Case {
            name: "malformed JSON",
            write: |d| {
                simple().write(d, |_, _| {});
                std::fs::write(d.join("index.json"), b"{\"manifests\": [").unwrap();
                vec!["index.json".into(), "invalid JSON".into()]
            },
            args: &[],
        },
        Case {
            name: "a manifest that is also an index",
            write: |d| {
                simple().write(d, |m, _| m["manifests"] = json!([]));
                vec!["ambiguous".into()]
            },
            args: &[],
        },
        Case {
            name: "a negative descriptor size",
            write: |d| {
                simple().write(d, |m, _| m["layers"][0]["size"] = json!(-5));
                vec!["negative descriptor size".into()]
            },
            args: &[],
        },
        Case {
            name: "a layer over --max-layer-bytes",
            write: |d| {
                Img::new()
                    .gz(tar(&[E::File("zeros", 3 << 20)]))
                    .write(d, |_, _| {});
                vec!["layer 0".into(), "per-layer limit".into()]
            },
            args: &["--max-layer-bytes", "1000000"],
        },
        Case {
            name: "a layer over --max-entries",
            write: |d| {
                Img::new()
                    .gz(tar(&[E::File("a", 1), E::File("b", 1), E::File("c", 1)]))
                    .write(d, |_, _| {});
                vec![
                    "layer 0".into(),
                    "more than 2 entries".into(),
                    "--max-entries".into(),
                ]
            },
            args: &["--max-entries", "2"],
        },
        Case {
            name: "layers each under --max-entries, together over it",
            write: |d| {
                Img::new()
                    .gz(tar(&[E::File("a", 1), E::File("b", 1)]))
                    .gz(tar(&[E::File("c", 1), E::File("d", 1)]))
                    .write(d, |_, _| {});
                vec![
                    "the image (through layer 1)".into(),
                    "more than 3 entries".into(),
                    "--max-entries".into(),
                ]
            },
            args: &["--max-entries", "3"],
        },
        Case {
            name: "a missing layer blob",
            write: |d| {
                let img = simple();
                img.write(d, |_, _| {});
                let digest = sha(&img.layers[0].0);
                std::fs::remove_file(d.join("blobs/sha256").join(&digest[7..])).unwrap();
                vec!["missing".into(), digest]
            },
            args: &[],
        },
    ];
    for case in cases {
        let t = tempfile::tempdir().unwrap();
        let must = (case.write)(t.path());
        let err = analyze_err(&oci(t.path()), case.args);
        for m in must {
            assert!(
                err.contains(&m),
                "{}: {err:?} does not say {m:?}",
                case.name
            );
        }
    }
}

/// `--max-entries` counts entries, not more: an image with exactly that many
/// passes (the failing side is in `bad_layouts_fail_with_one_clear_line`).
#[test]
fn max_entries_admits_an_image_at_the_limit() {
    let t = tempfile::tempdir().unwrap();
    Img::new()
        .gz(tar(&[E::File("a", 1), E::File("b", 1)]))
        .gz(tar(&[E::File("c", 1), E::File("d", 1)]))
        .write(t.path(), |_, _| {});
    let out = imgaudit()
        .args([
            "analyze",
            &oci(t.path()),
            "-q",
            "--no-cache",
            "--max-entries",
            "4",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
