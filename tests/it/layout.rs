//! Writes OCI image layouts from layer tars built in the test, so every byte
//! and every document is under the test's control (including broken ones),
//! and checks accounting rules against sizes known by construction.

use crate::common::{analyze_err, analyze_json};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::Path;

pub fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// One tar entry to write.
pub enum E<'a> {
    File(&'a str, usize),
    Dir(&'a str),
    Link(&'a str, &'a str),
    Sym(&'a str, &'a str),
}

/// Deterministic, not-too-compressible content.
fn content(n: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32 ^ seed as u32;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x & 0xff) as u8
        })
        .collect()
}

pub fn tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (i, e) in entries.iter().enumerate() {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(0);
        match e {
            E::File(p, n) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(*n as u64);
                b.append_data(&mut h, p, &content(*n, i as u8)[..]).unwrap();
            }
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            E::Link(p, t) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Sym(p, t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

pub const GZ: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// An image under construction: layers as (stored bytes, media type, tar).
pub struct Img {
    pub layers: Vec<(Vec<u8>, String, Vec<u8>)>,
    pub platform: (&'static str, &'static str),
}

impl Img {
    pub fn new() -> Img {
        Img {
            layers: Vec::new(),
            platform: ("linux", "amd64"),
        }
    }
    pub fn gz(mut self, t: Vec<u8>) -> Img {
        self.layers.push((gzip(&t), GZ.into(), t));
        self
    }
    pub fn plain(mut self, t: Vec<u8>) -> Img {
        self.layers.push((t.clone(), TAR.into(), t));
        self
    }
    pub fn config(&self) -> Value {
        json!({
            "architecture": self.platform.1, "os": self.platform.0,
            "created": "2024-01-01T00:00:00Z",
            "rootfs": {"type": "layers", "diff_ids": self.layers.iter().map(|l| sha(&l.2)).collect::<Vec<_>>()},
            "history": self.layers.iter().enumerate().map(|(i, _)| json!({"created_by": format!("RUN step {i}")})).collect::<Vec<_>>(),
        })
    }
    /// Write blobs and return the manifest JSON (config blob written too).
    pub fn write_blobs(&self, dir: &Path, config: &Value) -> Value {
        let cfg = serde_json::to_vec(config).unwrap();
        put_blob(dir, &cfg);
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|(stored, mt, _)| {
                put_blob(dir, stored);
                json!({"mediaType": mt, "digest": sha(stored), "size": stored.len()})
            })
            .collect();
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&cfg), "size": cfg.len()},
            "layers": layers,
        })
    }
    /// Write a complete layout; `tweak` may edit manifest and config first.
    pub fn write(&self, dir: &Path, tweak: impl FnOnce(&mut Value, &mut Value)) {
        let mut config = self.config();
        // Layers first (the tweak may need their digests), then documents.
        let mut manifest = self.write_blobs(dir, &config);
        tweak(&mut manifest, &mut config);
        let cfg = serde_json::to_vec(&config).unwrap();
        put_blob(dir, &cfg);
        manifest["config"]["digest"] = json!(sha(&cfg));
        manifest["config"]["size"] = json!(cfg.len());
        let m = serde_json::to_vec(&manifest).unwrap();
        put_blob(dir, &m);
        write_index(
            dir,
            &[
                json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&m), "size": m.len()}),
            ],
        );
    }
}

pub fn put_blob(dir: &Path, b: &[u8]) -> String {
    let d = sha(b);
    let p = dir.join("blobs/sha256");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join(&d[7..]), b).unwrap();
    d
}

pub fn write_index(dir: &Path, manifests: &[Value]) {
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
}

pub fn oci(dir: &Path) -> String {
    format!("oci:{}", dir.display())
}

/// Pack a directory into a tar archive (for oci-archive tests).
pub fn pack(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let mut b = tar::Builder::new(f);
    b.append_dir_all(".", dir).unwrap();
    b.finish().unwrap();
}

#[test]
fn accounting_known_by_construction() {
    // Layer 0: a=1000, d/x=300, d/y=200, h/orig=4096 (+ hardlink h/l), s -> a
    // Layer 1: a rewritten (50), d deleted, h/orig deleted (link keeps it), n=70
    let l0 = tar(&[
        E::File("a", 1000),
        E::Dir("d/"),
        E::File("d/x", 300),
        E::File("d/y", 200),
        E::File("h/orig", 4096),
        E::Link("h/l", "h/orig"),
        E::Sym("s", "a"),
    ]);
    let l1 = tar(&[
        E::File("a", 50),
        E::File(".wh.d", 0),
        E::File("h/.wh.orig", 0),
        E::File("n", 70),
    ]);
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(l0).plain(l1).write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    let tot = &a["totals"];
    let layer0 = 1000 + 300 + 200 + 4096;
    let layer1 = 50 + 70;
    let fin = 50 + 4096 + 70;
    assert_eq!(tot["layer_bytes"], layer0 + layer1);
    assert_eq!(tot["final_bytes"], fin);
    assert_eq!(tot["wasted_bytes"], layer0 + layer1 - fin);
    assert_eq!(tot["files"], 3); // a, h/l, n
    assert_eq!(a["layers"][0]["wasted_bytes"], 1000 + 300 + 200);
    assert_eq!(a["layers"][1]["wasted_bytes"], 0);
    assert_eq!(a["layers"][1]["modified"], 1);
    assert_eq!(a["layers"][1]["added"], 1);
    assert_eq!(a["layers"][1]["removed"], 3); // d/x, d/y, h/orig
    assert_eq!(a["layers"][1]["created_by"], "RUN step 1");
    assert_eq!(a["largest_files"][0]["path"], "/h/l");
    assert_eq!(a["largest_files"][0]["layer"], 0);
    assert_eq!(a["largest_dirs"][0]["path"], "/h");
    assert_eq!(a["largest_dirs"][0]["bytes"], 4096);
}

#[test]
fn opaque_marker_applies_before_siblings_whatever_the_order() {
    let l0 = tar(&[E::File("c/old1", 10), E::File("c/old2", 20)]);
    let l1 = tar(&[E::File("c/new", 5), E::File("c/.wh..wh..opq", 0)]);
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(l0).gz(l1).write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 5);
    assert_eq!(a["totals"]["wasted_bytes"], 30);
    assert_eq!(a["layers"][1]["removed"], 2);
}

#[test]
fn directory_replaced_by_file_and_back() {
    let l0 = tar(&[E::File("p/q", 100)]);
    let l1 = tar(&[E::File("p", 7)]);
    let l2 = tar(&[E::File("p/r", 3)]);
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(l0).gz(l1).gz(l2).write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 3);
    assert_eq!(a["layers"][0]["wasted_bytes"], 100);
    assert_eq!(a["layers"][1]["wasted_bytes"], 7);
}

#[test]
fn duplicate_entries_last_wins_with_warning() {
    let l0 = tar(&[E::File("f", 10), E::File("./f", 25)]);
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(l0).write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["final_bytes"], 25);
    assert_eq!(a["totals"]["wasted_bytes"], 10);
    let w = a["warnings"].to_string();
    assert!(w.contains("more than once"), "{w}");
}

#[test]
fn deleting_a_whole_directory_counts_its_bytes_as_wasted() {
    // dive and diving report 0 here; we count the bytes still shipped.
    let l0 = tar(&[
        E::File("root/.cache/pip/a.whl", 5000),
        E::File("root/.cache/pip/b.whl", 3000),
    ]);
    let l1 = tar(&[E::File("root/.wh..cache", 0)]);
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(l0).gz(l1).write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_eq!(a["totals"]["wasted_bytes"], 8000);
    assert_eq!(a["totals"]["final_bytes"], 0);
}

#[test]
fn multi_platform_index_selects_and_lists() {
    let t = tempfile::tempdir().unwrap();
    let mut amd = Img::new().gz(tar(&[E::File("amd", 11)]));
    amd.platform = ("linux", "amd64");
    let mut arm = Img::new().gz(tar(&[E::File("arm", 22)]));
    arm.platform = ("linux", "arm64");
    let mut descs = Vec::new();
    for img in [&amd, &arm] {
        let cfg = img.config();
        let m = serde_json::to_vec(&img.write_blobs(t.path(), &cfg)).unwrap();
        put_blob(t.path(), &m);
        descs.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(&m), "size": m.len(),
            "platform": {"os": img.platform.0, "architecture": img.platform.1}}));
    }
    // Nest the pair inside a second-level index.
    let nested = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descs})).unwrap();
    put_blob(t.path(), &nested);
    write_index(
        t.path(),
        &[
            json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(&nested), "size": nested.len()}),
        ],
    );
    let r = oci(t.path());
    assert_eq!(analyze_json(&r, &[])["totals"]["final_bytes"], 11);
    let a = analyze_json(&r, &["--platform", "linux/arm64"]);
    assert_eq!(a["totals"]["final_bytes"], 22);
    assert_eq!(a["image"]["platform"], "linux/arm64");
    let err = analyze_err(&r, &["--platform", "linux/s390x"]);
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
}

#[test]
fn oci_archive_equals_layout() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("layout");
    std::fs::create_dir(&dir).unwrap();
    Img::new()
        .gz(tar(&[E::File("a", 10), E::File("b", 20)]))
        .gz(tar(&[E::File(".wh.a", 0)]))
        .write(&dir, |_, _| {});
    let archive = t.path().join("img.tar");
    pack(&dir, &archive);
    let x = analyze_json(&oci(&dir), &[]);
    let y = analyze_json(&format!("oci-archive:{}", archive.display()), &[]);
    let z = analyze_json(archive.to_str().unwrap(), &[]);
    assert_eq!(x["totals"], y["totals"]);
    assert_eq!(x["layers"], y["layers"]);
    assert_eq!(y["totals"], z["totals"]);
    assert_eq!(x["totals"]["wasted_bytes"], 10);
}
