//! Hostile and odd layer changesets (issue 7, "layer changesets" group):
//! invalid whiteouts (bare `.wh.`, `.wh..`, `.wh...`), a whiteout and a
//! same-named entry in one layer (both orders), an opaque marker on the root,
//! a file replaced by a directory, and whiteouts of things that never
//! existed. The opaque-after-siblings and directory-replaced-by-file cases
//! are in layout.rs; empty names, invalid UTF-8 and missing contents are in
//! hostile_tar.rs.

use crate::common::gzip_layout as layout;
use crate::common::{analyze_err, analyze_json};
use crate::hostile_fixtures::{raw_tar, Raw};
use crate::layout::oci;

#[test]
fn invalid_whiteouts_are_errors_naming_layer_and_path() {
    for (name, shown) in [
        (&b".wh."[..], "/.wh."),
        (b"dir/.wh.", "/dir/.wh."),
        (b"dir/.wh..", "/dir/.wh.."),
        (b".wh...", "/.wh..."),
    ] {
        let l0 = raw_tar(&[Raw::file(b"dir/f", b"x")]);
        let l1 = raw_tar(&[Raw::file(b"ok", b"1"), Raw::file(name, b"")]);
        let t = layout(&[l0, l1]);
        let err = analyze_err(&oci(t.path()), &[]);
        assert!(
            err.contains("layer 1") && err.contains("invalid whiteout") && err.contains(shown),
            "{shown}: {err}"
        );
    }
}

#[test]
fn whiteout_and_same_named_entry_in_one_layer() {
    // Whatever the order inside the layer, the whiteout removes the lower
    // layer's file and the layer's own entry stays.
    for l1 in [
        raw_tar(&[Raw::file(b"f", &[1; 7]), Raw::file(b".wh.f", b"")]),
        raw_tar(&[Raw::file(b".wh.f", b""), Raw::file(b"f", &[1; 7])]),
    ] {
        let l0 = raw_tar(&[Raw::file(b"f", &[0; 100])]);
        let t = layout(&[l0, l1]);
        let a = analyze_json(&oci(t.path()), &[]);
        assert_eq!(a["totals"]["final_bytes"], 7);
        assert_eq!(a["totals"]["wasted_bytes"], 100);
        assert_eq!(a["layers"][0]["wasted_bytes"], 100);
    }
}

#[test]
fn opaque_marker_on_the_root_hides_every_lower_file() {
    let l0 = raw_tar(&[Raw::file(b"a", &[0; 10]), Raw::file(b"d/b", &[0; 20])]);
    let l1 = raw_tar(&[Raw::file(b"c", &[0; 5]), Raw::file(b".wh..wh..opq", b"")]);
    let t = layout(&[l0, l1]);
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 5);
    assert_eq!(a["totals"]["wasted_bytes"], 30);
}

#[test]
fn file_replaced_by_a_directory() {
    let l0 = raw_tar(&[Raw::file(b"p", &[0; 50])]);
    let l1 = raw_tar(&[Raw::file(b"p/q", &[0; 5])]);
    let t = layout(&[l0, l1]);
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 5);
    assert_eq!(a["layers"][0]["wasted_bytes"], 50);
}

#[test]
fn whiteouts_of_missing_paths_and_aufs_metadata_are_harmless() {
    let l0 = raw_tar(&[Raw::file(b"keep", &[0; 9])]);
    let l1 = raw_tar(&[
        Raw::file(b".wh.never-existed", b""),
        Raw::file(b"deep/er/.wh.nothing", b""),
        Raw::file(b".wh..wh.plnk", b""),
        Raw::file(b".wh..wh.aufs", b""),
    ]);
    let t = layout(&[l0, l1]);
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 9);
    assert_eq!(a["totals"]["wasted_bytes"], 0);
    assert_eq!(a["layers"][1]["removed"], 0);
}
