//! A generated matrix of layer shapes — type changes across layers, the same
//! path twice in one layer and across layers, whiteouts of every kind of
//! path, opaque directories, hardlinks — each written as a docker-archive
//! and checked against dive itself: `totals.efficiency`,
//! `totals.dive_wasted_bytes` and `dive_wasted_files` must equal dive's
//! `efficiencyScore`, `inefficientBytes` and `fileReference` exactly.

use crate::common::{analyze_json, have_tools};
use crate::dive_compat::dive_json;
use crate::layout::{sha, tar, E};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// Write a legacy `docker save` archive (`<id>/layer.tar`, config,
/// manifest.json) holding `layers` (uncompressed tars).
pub fn docker_archive(out: &Path, layers: &[Vec<u8>]) {
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| sha(l)).collect::<Vec<_>>()},
        "history": layers.iter().enumerate().map(|(i, _)| json!({"created_by": format!("RUN step {i}")})).collect::<Vec<_>>(),
    });
    let cfg = serde_json::to_vec(&config).unwrap();
    let cfg_name = format!("{}.json", &sha(&cfg)[7..]);
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    let mut put = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data).unwrap();
    };
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        // Identical layers would share a name: keep one directory per index.
        let name = format!("{:02}{}/layer.tar", i, &sha(l)[9..]);
        put(&name, l);
        names.push(name);
    }
    put(&cfg_name, &cfg);
    let manifest = json!([{"Config": cfg_name, "RepoTags": ["matrix:latest"], "Layers": names}]);
    put("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    b.into_inner().unwrap().flush().unwrap();
}

type Shape = (&'static str, Vec<Vec<E<'static>>>);

/// The matrix. Every shape is a list of layers; `.wh.` names are whiteouts.
pub fn shapes() -> Vec<Shape> {
    use E::*;
    vec![
        ("overwrite", vec![vec![File("a", 100)], vec![File("a", 40)]]),
        (
            "file→symlink",
            vec![vec![File("a", 100), File("b", 7)], vec![Sym("a", "b")]],
        ),
        (
            "symlink→file",
            vec![vec![File("b", 7), Sym("a", "b")], vec![File("a", 100)]],
        ),
        (
            "file→hardlink",
            vec![vec![File("a", 100), File("b", 30)], vec![Link("a", "b")]],
        ),
        (
            "hardlink→file",
            vec![vec![File("b", 30), Link("a", "b")], vec![File("a", 100)]],
        ),
        (
            "file→empty dir",
            vec![vec![File("a", 100)], vec![Dir("a/")]],
        ),
        (
            "empty dir→file",
            vec![vec![Dir("a/")], vec![File("a", 100)]],
        ),
        (
            "dir with children→file",
            vec![
                vec![Dir("a/"), File("a/x", 60), File("a/y", 5)],
                vec![File("a", 100)],
            ],
        ),
        (
            "file→dir with children",
            vec![vec![File("a", 100)], vec![Dir("a/"), File("a/x", 60)]],
        ),
        (
            "symlink→file→symlink",
            vec![
                vec![File("t", 9), Sym("a", "t")],
                vec![File("a", 100)],
                vec![Sym("a", "t")],
            ],
        ),
        (
            "same file twice in a layer",
            vec![vec![File("a", 10), File("a", 30)]],
        ),
        (
            "file then symlink in a layer",
            vec![vec![File("a", 50), Sym("a", "b"), File("b", 3)]],
        ),
        (
            "symlink then file in a layer",
            vec![vec![Sym("a", "b"), File("a", 50)]],
        ),
        (
            "duplicate in a layer, then overwritten",
            vec![vec![File("a", 10), File("a", 30)], vec![File("a", 20)]],
        ),
        (
            "duplicates in two layers",
            vec![
                vec![File("a", 10), File("a", 30)],
                vec![File("a", 20), File("a", 5)],
            ],
        ),
        (
            "three sizes",
            vec![vec![File("a", 10)], vec![File("a", 5)], vec![File("a", 20)]],
        ),
        (
            "whiteout of a file",
            vec![vec![File("a", 100), File("b", 1)], vec![File(".wh.a", 0)]],
        ),
        (
            "whiteout of a directory (explicit entries)",
            vec![
                vec![Dir("d/"), Dir("d/s/"), File("d/x", 60), File("d/s/y", 40)],
                vec![File(".wh.d", 0)],
            ],
        ),
        (
            "whiteout of a directory (implied parents)",
            vec![
                vec![File("d/x", 60), File("d/s/y", 40)],
                vec![File(".wh.d", 0)],
            ],
        ),
        (
            "whiteout of a directory an upper layer wrote into",
            vec![
                vec![Dir("d/"), File("d/x", 60)],
                vec![File("d/y", 40)],
                vec![File(".wh.d", 0)],
            ],
        ),
        (
            "whiteout of a symlink",
            vec![vec![File("t", 9), Sym("a", "t")], vec![File(".wh.a", 0)]],
        ),
        (
            "whiteout of a hardlink",
            vec![vec![File("t", 90), Link("a", "t")], vec![File(".wh.a", 0)]],
        ),
        (
            "whiteout of an empty dir",
            vec![vec![Dir("e/"), File("f", 4)], vec![File(".wh.e", 0)]],
        ),
        (
            "whiteout of a missing path stops dive's layer",
            vec![
                vec![File("a", 10), File("z", 20)],
                vec![File(".wh.m", 0), File("a", 5), File("z", 7)],
            ],
        ),
        (
            "whiteout in the first layer",
            vec![vec![File("a", 10), File(".wh.b", 0)], vec![File("a", 3)]],
        ),
        (
            "whiteout and re-create in one layer",
            vec![vec![File("a", 100)], vec![File(".wh.a", 0), File("a", 20)]],
        ),
        (
            "directory deleted then re-created",
            vec![
                vec![Dir("d/"), File("d/x", 60)],
                vec![File(".wh.d", 0)],
                vec![Dir("d/"), File("d/x", 6)],
            ],
        ),
        (
            "opaque directory with new content",
            vec![
                vec![Dir("c/"), File("c/old", 10), File("c/keep", 3)],
                vec![Dir("c/"), File("c/.wh..wh..opq", 0), File("c/new", 5)],
            ],
        ),
        (
            "opaque directory alone",
            vec![
                vec![Dir("c/"), File("c/old", 10)],
                vec![File("c/.wh..wh..opq", 0)],
            ],
        ),
        (
            "opaque directory re-adding a lower file",
            vec![
                vec![File("c/old", 10)],
                vec![File("c/.wh..wh..opq", 0), File("c/old", 4)],
            ],
        ),
        (
            "opaque directory, then the directory deleted",
            vec![
                vec![Dir("c/"), File("c/old", 10)],
                vec![File("c/.wh..wh..opq", 0), File("c/n", 2)],
                vec![File(".wh.c", 0)],
            ],
        ),
        (
            "hardlink keeps a file its layer deletes",
            vec![
                vec![File("orig", 40)],
                vec![Link("keep", "orig"), File(".wh.orig", 0)],
            ],
        ),
        (
            "directory deleted with links and symlinks inside",
            vec![
                vec![
                    Dir("d/"),
                    File("d/f", 50),
                    Link("d/h", "d/f"),
                    Sym("d/s", "f"),
                ],
                vec![File(".wh.d", 0)],
            ],
        ),
        ("empty dir twice", vec![vec![Dir("e/")], vec![Dir("e/")]]),
        (
            "directory listed again without children",
            vec![
                vec![Dir("d/"), File("d/x", 8)],
                vec![Dir("d/")],
                vec![Dir("d/")],
            ],
        ),
        (
            "symlink→directory",
            vec![
                vec![Sym("s", "t"), Dir("t/")],
                vec![Dir("s/"), File("s/x", 12)],
            ],
        ),
        (
            "file under a path that became a file",
            vec![
                vec![File("a/b", 10)],
                vec![File("a", 3)],
                vec![File("a/b", 7)],
            ],
        ),
        (
            "several whiteouts in one directory",
            vec![
                vec![File("d/a", 1), File("d/b", 2), File("d/c", 4)],
                vec![File("d/.wh.a", 0), File("d/.wh.b", 0)],
            ],
        ),
        (
            "zero-size files",
            vec![
                vec![File("a", 0), File("b", 0)],
                vec![File("a", 0), File(".wh.b", 0)],
            ],
        ),
        (
            "names around the whiteout prefix",
            vec![
                vec![
                    File("d/-", 3),
                    File("d/A", 5),
                    File("d/_", 7),
                    File("d/.w", 1),
                ],
                vec![File("d/-", 1), File("d/.wh._", 0), File("d/A", 2)],
            ],
        ),
        (
            "deep implied parents deleted",
            vec![
                vec![File("p/q/r/s", 33), File("p/q/t", 11)],
                vec![File("p/.wh.q", 0)],
                vec![File("p/q/r/s", 1)],
            ],
        ),
    ]
}

/// Build the archive for a shape; returns its path.
pub fn build(dir: &Path, i: usize, layers: &[Vec<E>]) -> std::path::PathBuf {
    let out = dir.join(format!("shape{i:02}.tar"));
    let tars: Vec<Vec<u8>> = layers.iter().map(|l| tar(l)).collect();
    docker_archive(&out, &tars);
    out
}

/// dive's `fileReference` as sorted (path, count, bytes) triples.
fn dive_refs(d: &Value) -> Vec<(String, u64, u64)> {
    let mut v: Vec<_> = d["image"]["fileReference"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["sizeBytes"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn our_refs(a: &Value) -> Vec<(String, u64, u64)> {
    let mut v: Vec<_> = a["dive_wasted_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["dive_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Compare imgaudit's dive figures and list with dive's on one archive;
/// `Err` describes every difference.
pub fn compare_with_dive(archive: &Path) -> Result<(), String> {
    let d = dive_json(archive);
    let a = analyze_json(archive.to_str().unwrap(), &["--top", "100000"]);
    let mut diffs = Vec::new();
    let score = d["image"]["efficiencyScore"].as_f64().unwrap();
    let ours = a["totals"]["efficiency"].as_f64().unwrap();
    if (score - ours).abs() > 1e-12 {
        diffs.push(format!("efficiency: dive {score}, imgaudit {ours}"));
    }
    if a["totals"]["dive_wasted_bytes"] != d["image"]["inefficientBytes"] {
        diffs.push(format!(
            "wasted: dive {}, imgaudit {}",
            d["image"]["inefficientBytes"], a["totals"]["dive_wasted_bytes"]
        ));
    }
    if a["totals"]["layer_bytes"] != d["image"]["sizeBytes"] {
        diffs.push(format!(
            "size: dive {}, imgaudit {}",
            d["image"]["sizeBytes"], a["totals"]["layer_bytes"]
        ));
    }
    let (dr, or) = (dive_refs(&d), our_refs(&a));
    if dr != or {
        diffs.push(format!("files: dive {dr:?}, imgaudit {or:?}"));
    }
    // The list is sorted by dive's bytes, largest first.
    let bytes: Vec<u64> = a["dive_wasted_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["dive_bytes"].as_u64().unwrap())
        .collect();
    if bytes.windows(2).any(|w| w[0] < w[1]) {
        diffs.push(format!("dive_wasted_files not sorted: {bytes:?}"));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

#[test]
fn every_shape_matches_dive() {
    let shapes = shapes();
    assert!(shapes.len() >= 30);
    if !have_tools("dive matrix", &["dive"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, (name, layers)) in shapes.iter().enumerate() {
        let archive = build(t.path(), i, layers);
        if let Err(e) = compare_with_dive(&archive) {
            failures.push(format!("{i:02} {name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} shapes differ from dive:\n{}",
        failures.len(),
        shapes.len(),
        failures.join("\n")
    );
}

#[test]
fn hidden_bytes_are_ours_and_labelled_apart() {
    // A 150-byte file deleted by a later layer: dive lists it with 150 (its
    // whiteout adds 0); our hidden bytes are the same 150. A file rewritten:
    // dive counts both copies (100 + 40), we count the hidden one (100).
    use E::*;
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("img.tar");
    docker_archive(
        &archive,
        &[
            tar(&[File("big", 150), File("a", 100), Dir("d/"), File("d/x", 7)]),
            tar(&[File(".wh.big", 0), File("a", 40), File(".wh.d", 0)]),
        ],
    );
    let a = analyze_json(archive.to_str().unwrap(), &[]);
    let files = a["dive_wasted_files"].as_array().unwrap();
    let get = |p: &str| {
        files
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} missing: {files:?}"))
    };
    assert_eq!(get("/big")["dive_bytes"], 150);
    assert_eq!(get("/big")["hidden_bytes"], 150);
    assert_eq!(get("/big")["count"], 2);
    assert_eq!(get("/a")["dive_bytes"], 140);
    assert_eq!(get("/a")["hidden_bytes"], 100);
    // dive names a deleted directory only when some layer lists it as a
    // leaf: not here (its bytes appear nowhere in dive's list).
    assert!(files
        .iter()
        .all(|f| f["path"] != "/d" && f["path"] != "/d/x"));
    // --top cuts the list, largest dive bytes first.
    let a = analyze_json(archive.to_str().unwrap(), &["--top", "1"]);
    assert_eq!(a["dive_wasted_files"].as_array().unwrap().len(), 1);
    assert_eq!(a["dive_wasted_files"][0]["path"], "/big");
}
