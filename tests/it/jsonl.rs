//! `analyze --format jsonl` (issue 20): the records of every entry of every
//! layer add up to the JSON report's totals on the demo image, the
//! accounting fixtures and generated images with whiteouts, opaque
//! directories, hardlinks, duplicates and symlinked parents; the fates of
//! known paths are right; and the documented DuckDB and jq queries run.

use crate::common::{accounting_fixtures, analyze_json, have_tools, imgaudit, repo_root};
use crate::layout::{oci, tar, Img, E};
use serde_json::Value;

/// Run `analyze --format jsonl` and parse every line.
fn jsonl(image: &str, extra: &[&str]) -> Vec<Value> {
    let out = imgaudit()
        .args(["analyze", image, "--format", "jsonl", "-q"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "analyze --format jsonl {image} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(text.ends_with('\n'));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// The keys of every entry record, sorted.
const ENTRY_KEYS: [&str; 13] = [
    "bytes",
    "category",
    "download_bytes",
    "final",
    "hidden_by",
    "kept_by_link",
    "layer",
    "link_target",
    "op",
    "package",
    "path",
    "record",
    "type",
];

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// The consistency checks of the issue, against `--format json`, and the
/// order and shape of the records.
fn check_consistency(image: &str) -> Vec<Value> {
    let a = analyze_json(image, &[]);
    let recs = jsonl(image, &[]);
    let t = &a["totals"];
    let header = &recs[0];
    assert_eq!(header["record"], "header");
    assert_eq!(header["schema_version"], 2);
    assert_eq!(header["image"], a["image"], "header names the same image");
    let layers = a["layers"].as_array().unwrap();
    assert_eq!(header["layers"].as_array().unwrap().len(), layers.len());
    let entries = &recs[1..];
    let (mut fin, mut hidden, mut files) = (0, 0, 0);
    let (mut fin_download, mut hidden_download) = (0, 0);
    let mut per_layer = vec![0u64; layers.len()];
    let mut download = vec![0u64; layers.len()];
    let mut layer_recs: Vec<&Value> = Vec::new();
    let mut in_layer = 0;
    let mut last: Option<(u64, String)> = None;
    for r in entries {
        if r["record"] == "layer" {
            // Each layer's entries follow its record, layers in order.
            let l = u(&r["layer"]);
            assert_eq!(l, layer_recs.len() as u64, "{r}");
            if let Some(prev) = layer_recs.last() {
                assert_eq!(u(&prev["entries"]), in_layer, "{prev}");
            }
            in_layer = 0;
            layer_recs.push(r);
            continue;
        }
        assert_eq!(r["record"], "entry", "{r}");
        in_layer += 1;
        let layer = u(&r["layer"]);
        assert_eq!(layer + 1, layer_recs.len() as u64, "{r} outside its layer");
        download[layer as usize] += u(&r["download_bytes"]);
        let path = r["path"].as_str().unwrap().to_string();
        // Layer order, then path order (byte order, as UTF-8 here).
        if let Some((l, p)) = &last {
            assert!(
                (*l, p.as_str()) <= (layer, path.as_str()),
                "{r} after {l} {p}"
            );
        }
        last = Some((layer, path));
        let ty = r["type"].as_str().unwrap();
        let op = r["op"].as_str().unwrap();
        let bytes = u(&r["bytes"]);
        assert!(
            ["file", "dir", "symlink", "hardlink", "other"].contains(&ty),
            "{r}"
        );
        assert!(
            ["added", "modified", "removed", "opaque"].contains(&op),
            "{r}"
        );
        if ty != "file" || op == "removed" {
            assert_eq!(bytes, 0, "{r}");
        }
        // Every entry has the same keys (query engines infer one schema);
        // only the `_hex` twins are added, for names that are not UTF-8.
        let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.retain(|k| !k.ends_with("_hex"));
        keys.sort_unstable();
        assert_eq!(keys, ENTRY_KEYS, "{r}");
        let is_final = r["final"] == true;
        match op {
            "removed" | "opaque" => {
                for k in ["final", "hidden_by", "kept_by_link"] {
                    assert!(r[k].is_null(), "{r}");
                }
            }
            _ => {
                // Exactly one fate; a later layer (or this one, for an entry
                // written twice in it) hides it.
                assert!(
                    r["final"].is_boolean() && r["kept_by_link"].is_boolean(),
                    "{r}"
                );
                assert!(is_final == r["hidden_by"].is_null(), "{r}");
                if !r["hidden_by"].is_null() {
                    let h = &r["hidden_by"];
                    assert!(u(h) >= layer && u(h) < layers.len() as u64, "{r}");
                }
                if r["kept_by_link"] == true {
                    assert!(!is_final && ty == "file", "{r}");
                }
            }
        }
        if ty == "file" && op != "removed" {
            per_layer[layer as usize] += bytes;
            if is_final || r["kept_by_link"] == true {
                fin += bytes;
                fin_download += u(&r["download_bytes"]);
            } else {
                hidden += bytes;
                hidden_download += u(&r["download_bytes"]);
            }
        }
        // A package only where a final package database lists the path.
        if !r["package"].is_null() {
            assert!(r["package"].is_string(), "{r}");
            assert!(["file", "hardlink", "symlink"].contains(&ty), "{r}");
            assert!(["added", "modified"].contains(&op), "{r}");
        }
        if is_final && (ty == "file" || ty == "hardlink") {
            files += 1;
        }
    }
    assert_eq!(fin, u(&t["final_bytes"]), "surviving bytes = final_bytes");
    assert_eq!(hidden, u(&t["wasted_bytes"]), "hidden bytes = wasted_bytes");
    assert_eq!(files, u(&t["files"]), "surviving files = totals.files");
    for (i, l) in layers.iter().enumerate() {
        assert_eq!(per_layer[i], u(&l["file_bytes"]), "layer {i} file_bytes");
    }
    // Download (issue 17): each layer's entries and its unattributed bytes
    // add up to its stored size, which is the blob's size when the
    // manifest names one; the surviving and hidden files' figures are the
    // report's final and wasted download bytes.
    assert_eq!(layer_recs.len(), layers.len(), "one layer record per layer");
    if let Some(prev) = layer_recs.last() {
        assert_eq!(u(&prev["entries"]), in_layer, "{prev}");
    }
    for (i, (l, r)) in layers.iter().zip(&layer_recs).enumerate() {
        assert_eq!(
            u(&r["download_bytes"]),
            u(&l["download_bytes"]),
            "layer {i}"
        );
        assert_eq!(
            download[i] + u(&r["unattributed_bytes"]),
            u(&l["download_bytes"]),
            "layer {i}: Σ entries' download_bytes + unattributed_bytes"
        );
        assert_eq!(u(&r["tar_bytes"]), u(&l["tar_bytes"]), "layer {i}");
        if let Some(c) = header["layers"][i]["download_bytes"].as_u64() {
            assert_eq!(c, u(&l["download_bytes"]), "layer {i}: the blob's size");
        }
    }
    assert_eq!(
        fin_download,
        u(&t["final_download_bytes"]),
        "final download"
    );
    assert_eq!(
        hidden_download,
        u(&t["wasted_download_bytes"]),
        "wasted download"
    );
    recs
}

fn find<'a>(recs: &'a [Value], layer: u64, path: &str) -> &'a Value {
    recs.iter()
        .find(|r| r["layer"] == layer && r["path"] == path)
        .unwrap_or_else(|| panic!("no record for layer {layer} {path}"))
}

#[test]
fn jsonl_adds_up_on_the_demo_image() {
    let demo = repo_root().join("testdata/demo/demo-oci.tar");
    let recs = check_consistency(&demo.display().to_string());
    // The demo deletes and replaces files: some records are hidden, some
    // regular files carry a category.
    assert!(recs.iter().any(|r| r["hidden_by"].is_u64()));
    assert!(recs.iter().any(|r| r["op"] == "removed"));
    assert!(recs.iter().any(|r| r["category"].is_string()));
    // Packages: each surviving file's owner as the report attributes it,
    // so the surviving files of a package add up to its bytes.
    let a = analyze_json(&demo.display().to_string(), &[]);
    let mut by_package: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for r in &recs {
        if r["record"] == "entry" && r["type"] == "file" && r["final"] == true {
            if let Some(p) = r["package"].as_str() {
                let e = by_package.entry(p.to_string()).or_default();
                e.0 += u(&r["bytes"]);
                e.1 += u(&r["download_bytes"]);
            }
        }
    }
    let packages = a["packages"].as_array().unwrap();
    assert!(!packages.is_empty() && !by_package.is_empty());
    for p in packages {
        let name = p["name"].as_str().unwrap();
        let (bytes, download) = by_package.get(name).copied().unwrap_or_default();
        assert_eq!(bytes, u(&p["bytes"]), "package {name} bytes");
        assert_eq!(download, u(&p["download_bytes"]), "package {name} download");
    }
    assert_eq!(by_package.len(), packages.len());
    // Without classification there is no package.
    let bare = jsonl(&demo.display().to_string(), &["--sizes-only"]);
    assert!(bare.iter().all(|r| r["package"].is_null()));
}

#[test]
fn jsonl_adds_up_on_the_accounting_fixtures() {
    let Some(dir) = accounting_fixtures() else {
        return;
    };
    for name in ["oci-archive.tar", "docker-archive.tar", "docker25.tar"] {
        check_consistency(&dir.join(name).display().to_string());
    }
}

/// Whiteouts (of a file and a directory), an opaque directory, hardlinks
/// (one keeping the bytes of a file its own layer deletes), a file written
/// twice in one layer, a directory replaced by a file, a symlinked parent,
/// and a directory re-declared over a directory.
fn tricky_image() -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().unwrap();
    let img = Img::new()
        .gz(tar(&[
            E::Dir("a"),
            E::File("a/big", 100),
            E::File("a/keep", 10),
            E::File("d/sub/x", 7),
            E::File("h/orig", 40),
            E::Link("h/link", "h/orig"),
            E::File("c/old", 5),
            E::File("dup", 1),
            E::File("dup", 2),
            E::File("x/y", 8),
            E::Dir("real"),
            E::Sym("s", "real"),
            E::File("gone", 30),
        ]))
        .gz(tar(&[
            E::Link("kept", "gone"),
            E::File(".wh.gone", 0),
            E::File("a/.wh.big", 0),
            E::File(".wh.d", 0),
            E::File("c/new", 3),
            E::File("c/.wh..wh..opq", 0),
            E::File("x", 4),
            E::File("s/inner", 6),
            E::Dir("a"),
        ]))
        .plain(tar(&[E::File("a/keep", 11), E::File("kept", 2)]));
    img.write(t.path(), |_, _| {});
    let r = oci(t.path());
    (t, r)
}

#[test]
fn jsonl_adds_up_and_knows_each_fate_on_a_tricky_image() {
    let (_t, image) = tricky_image();
    let recs = check_consistency(&image);
    let fate = |l, p| {
        let r = find(&recs, l, p);
        match &r["hidden_by"] {
            Value::Null => format!("final {}", r["final"]),
            h => format!("hidden_by {h}"),
        }
    };
    assert_eq!(fate(0, "/a/big"), "hidden_by 1");
    assert_eq!(fate(0, "/a/keep"), "hidden_by 2");
    assert_eq!(fate(2, "/a/keep"), "final true");
    assert_eq!(fate(0, "/d/sub/x"), "hidden_by 1");
    assert_eq!(fate(0, "/c/old"), "hidden_by 1");
    assert_eq!(fate(1, "/c/new"), "final true");
    assert_eq!(fate(0, "/x/y"), "hidden_by 1");
    assert_eq!(fate(0, "/h/orig"), "final true");
    assert_eq!(fate(0, "/h/link"), "final true");
    // The directory re-declared by layer 1 is the same directory.
    assert_eq!(fate(0, "/a"), "final true");
    assert_eq!(find(&recs, 1, "/a")["op"], "modified");
    // The entry under the symlinked parent is stored as written.
    assert_eq!(fate(1, "/s/inner"), "final true");
    assert_eq!(find(&recs, 0, "/s")["link_target"], "real");
    // A file written twice in one layer: the first is hidden by that layer.
    let dups: Vec<&Value> = recs
        .iter()
        .filter(|r| r["layer"] == 0 && r["path"] == "/dup")
        .collect();
    assert_eq!(dups.len(), 2);
    assert_eq!(dups[0]["hidden_by"], 0);
    assert_eq!(dups[1]["final"], true);
    // /gone is whited out, but layer 1's hardlink kept its bytes until
    // layer 2 replaced /kept.
    let gone = find(&recs, 0, "/gone");
    assert_eq!(gone["hidden_by"], 1);
    assert_eq!(gone["kept_by_link"], false);
    assert_eq!(find(&recs, 1, "/kept")["type"], "hardlink");
    assert_eq!(find(&recs, 1, "/kept")["link_target"], "/gone");
    assert_eq!(fate(1, "/kept"), "hidden_by 2");
    let removed = find(&recs, 1, "/d");
    assert_eq!(
        (&removed["op"], &removed["type"]),
        (&"removed".into(), &"dir".into())
    );
    assert_eq!(find(&recs, 1, "/c")["op"], "opaque");
}

/// A whited-out file whose bytes a later hardlink keeps alive: the record
/// is hidden, its bytes still count as final.
#[test]
fn jsonl_marks_bytes_kept_by_a_hardlink() {
    let t = tempfile::tempdir().unwrap();
    Img::new()
        .gz(tar(&[E::File("orig", 40), E::File("other", 3)]))
        .gz(tar(&[E::Link("keep", "orig"), E::File(".wh.orig", 0)]))
        .write(t.path(), |_, _| {});
    let image = oci(t.path());
    let recs = check_consistency(&image);
    let orig = find(&recs, 0, "/orig");
    assert_eq!(orig["hidden_by"], 1);
    assert_eq!(orig["kept_by_link"], true);
    assert_eq!(find(&recs, 1, "/keep")["final"], true);
}

/// A path that is not UTF-8 keeps its exact bytes beside the lossy text.
#[test]
fn jsonl_keeps_raw_bytes_of_names_that_are_not_utf8() {
    let t = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(4);
    h.set_mode(0o644);
    h.as_gnu_mut().unwrap().name[..4].copy_from_slice(b"n\xffme");
    h.set_cksum();
    b.append(&h, &b"abcd"[..]).unwrap();
    Img::new()
        .plain(b.into_inner().unwrap())
        .write(t.path(), |_, _| {});
    let recs = check_consistency(&oci(t.path()));
    assert_eq!(recs[1]["record"], "layer");
    let r = &recs[2];
    assert_eq!(r["path_hex"], "6eff6d65");
    assert_eq!(r["path"], "/n\u{fffd}me");
}

#[test]
fn jsonl_is_refused_where_it_means_nothing() {
    let (_t, image) = tricky_image();
    for args in [
        vec!["analyze", &image, &image, "--format", "jsonl"],
        vec!["diff", &image, &image, "--format", "jsonl"],
    ] {
        let out = imgaudit().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("jsonl"), "{err}");
    }
}

/// The same records from the layer cache as from the image.
#[test]
fn jsonl_from_the_layer_cache_is_the_same() {
    let (_t, image) = tricky_image();
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        let out = imgaudit()
            .env_remove("IMGAUDIT_NO_CACHE")
            .env("XDG_CACHE_HOME", cache.path())
            .args(["analyze", &image, "--format", "jsonl", "-q"])
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let cold = run();
    let warm = run();
    assert!(crate::common::files_under(cache.path()).len() >= 3);
    assert_eq!(cold, warm);
}

/// The documented DuckDB query (docs/REPORTS.md) on the tricky image.
#[test]
fn jsonl_loads_into_duckdb() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("jsonl_loads_into_duckdb: python3 module duckdb missing under CI=true");
        }
        eprintln!("SKIP jsonl_loads_into_duckdb: python3 module duckdb not installed");
        return;
    }
    let (t, image) = tricky_image();
    let file = t.path().join("paths.jsonl");
    let out = imgaudit()
        .args(["analyze", &image, "--format", "jsonl", "-q", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let a = analyze_json(&image, &[]);
    let script = r#"
import duckdb, sys
final, wasted = duckdb.sql(f"""
  SELECT sum(bytes) FILTER (WHERE "final" OR kept_by_link),
         sum(bytes) FILTER (WHERE hidden_by IS NOT NULL AND NOT kept_by_link)
  FROM read_json_auto('{sys.argv[1]}', format='newline_delimited')
  WHERE record = 'entry' AND type = 'file' AND op <> 'removed'
""").fetchall()[0]
download, = duckdb.sql(f"""
  SELECT sum(download_bytes) FILTER (WHERE record = 'entry')
       + sum(unattributed_bytes) FILTER (WHERE record = 'layer')
  FROM read_json_auto('{sys.argv[1]}', format='newline_delimited')
""").fetchall()[0]
print(final, wasted, download)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    let t = &a["totals"];
    assert_eq!(
        got.trim(),
        format!(
            "{} {} {}",
            t["final_bytes"], t["wasted_bytes"], t["download_bytes"]
        )
    );
}

/// The documented jq query: bytes hidden per layer that hid them.
#[test]
fn jsonl_answers_the_documented_jq_query() {
    if !have_tools("jsonl_answers_the_documented_jq_query", &["jq"]) {
        return;
    }
    let (t, image) = tricky_image();
    let file = t.path().join("paths.jsonl");
    let out = imgaudit()
        .args(["analyze", &image, "--format", "jsonl", "-q", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = std::process::Command::new("jq")
        .args([
            "-s",
            "-c",
            r#"map(select(.type == "file" and .op != "removed" and .hidden_by != null and (.kept_by_link | not)))
               | group_by(.layer) | map({layer: .[0].layer, wasted: (map(.bytes) | add)})"#,
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = analyze_json(&image, &[]);
    let want: Vec<Value> = a["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| u(&l["wasted_bytes"]) > 0)
        .map(|l| serde_json::json!({"layer": l["index"], "wasted": l["wasted_bytes"]}))
        .collect();
    assert_eq!(got, Value::Array(want));
}
