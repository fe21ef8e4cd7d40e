//! Criterion bench of the whole in-process pipeline (`imgaudit::analyze`:
//! resolve → decode and walk layers → stack → analysis) on a synthetic OCI
//! layout built in memory at bench time: 3 gzip layers of 5,000 files each,
//! text-like contents, the third layer deleting and overwriting part of the
//! first (whiteouts, waste). Runs in well under a minute:
//!
//! ```text
//! cargo bench --bench pipeline
//! ```
//!
//! For figures on a real multi-GB image see scripts/bench.sh and
//! docs/PERFORMANCE.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::write::GzEncoder;
use flate2::Compression;
use imgaudit::layer::Verify;
use imgaudit::run::{AnalyzeOptions, NoProgress};
use imgaudit::source::{ImageRef, ResolveOptions};
use sha2::{Digest as _, Sha256};
use std::path::Path;
use std::time::Duration;

const LAYERS: usize = 3;
const FILES_PER_LAYER: usize = 5_000;

/// A small deterministic generator (no `rand` dependency needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const WORDS: &[&str] = &[
    "import", "def", "return", "self", "class", "None", "for", "in", "if", "else", "value",
    "numpy", "array", "dtype", "shape", "index", "data", "frame", "series", "the", "of", "and",
    "while", "lambda", "yield", "from", "raise", "except", "try", "with", "as", "assert",
];

/// Source-like text of about `len` bytes (compresses roughly like real code).
fn text(rng: &mut Lcg, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let w = WORDS[(rng.next() as usize) % WORDS.len()];
        out.extend_from_slice(w.as_bytes());
        out.push(if rng.next() % 9 == 0 { b'\n' } else { b' ' });
        if rng.next() % 50 == 0 {
            out.extend_from_slice(format!("{:x}", rng.next()).as_bytes());
        }
    }
    out.truncate(len);
    out
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn append_file(t: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    t.append_data(&mut h, path, data).expect("tar append");
}

fn append_dir(t: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(0o755);
    h.set_mtime(1_700_000_000);
    t.append_data(&mut h, path, std::io::empty())
        .expect("tar append");
}

/// One layer's uncompressed tar.
fn layer_tar(layer: usize, rng: &mut Lcg) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    let dirs = FILES_PER_LAYER / 50;
    for d in 0..dirs {
        let dir = format!("opt/layer{layer}/pkg{d:03}");
        append_dir(&mut t, &dir);
        for f in 0..50 {
            // Mostly small files, a few large ones, like a site-packages tree.
            let len = match rng.next() % 100 {
                0 => 64 * 1024 + (rng.next() % (192 * 1024)) as usize,
                1..=20 => 8 * 1024 + (rng.next() % (24 * 1024)) as usize,
                _ => (rng.next() % 4096) as usize,
            };
            append_file(&mut t, &format!("{dir}/mod{f:02}.py"), &text(rng, len));
        }
    }
    if layer == LAYERS - 1 {
        // Delete a tenth of layer 0's packages and rewrite another tenth.
        for d in (0..dirs).step_by(10) {
            append_file(&mut t, &format!("opt/layer0/.wh.pkg{d:03}"), b"");
        }
        for d in (5..dirs).step_by(10) {
            for f in 0..50 {
                let len = (rng.next() % 4096) as usize;
                append_file(
                    &mut t,
                    &format!("opt/layer0/pkg{d:03}/mod{f:02}.py"),
                    &text(rng, len),
                );
            }
        }
    }
    t.into_inner().expect("tar finish")
}

fn write_blob(dir: &Path, bytes: &[u8]) -> (String, u64) {
    let hex = sha256_hex(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).expect("write blob");
    (format!("sha256:{hex}"), bytes.len() as u64)
}

/// Build the OCI layout; returns (compressed bytes, uncompressed tar bytes).
fn build_layout(dir: &Path) -> (u64, u64) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    let mut rng = Lcg(0x1dea_5eed);
    let (mut layers, mut diff_ids) = (Vec::new(), Vec::new());
    let (mut stored, mut raw) = (0, 0);
    for i in 0..LAYERS {
        let tar = layer_tar(i, &mut rng);
        raw += tar.len() as u64;
        diff_ids.push(format!("sha256:{}", sha256_hex(&tar)));
        let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
        std::io::Write::write_all(&mut gz, &tar).expect("gzip");
        let (digest, size) = write_blob(dir, &gz.finish().expect("gzip"));
        stored += size;
        layers.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest, "size": size,
        }));
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": (0..LAYERS).map(|i| serde_json::json!({"created_by": format!("layer {i}")})).collect::<Vec<_>>(),
    });
    let (cdigest, csize) = write_blob(dir, &serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
        "layers": layers,
    });
    let (mdigest, msize) = write_blob(dir, &serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": mdigest, "size": msize,
            "annotations": {"org.opencontainers.image.ref.name": "bench"},
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).expect("write");
    (stored, raw)
}

fn bench_pipeline(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = tmp.path().join("layout");
    let (stored, raw) = build_layout(&layout);
    eprintln!(
        "synthetic image: {LAYERS} layers x {FILES_PER_LAYER} files, {:.1} MB gzip, {:.1} MB tar",
        stored as f64 / 1e6,
        raw as f64 / 1e6
    );
    let reference = ImageRef::parse(&format!("oci:{}", layout.display())).expect("reference");
    let options = |verify| AnalyzeOptions {
        resolve: ResolveOptions {
            platform: None,
            cache_dir: Some(tmp.path().join("cache")),
            ..ResolveOptions::default()
        },
        verify,
        ..AnalyzeOptions::default()
    };
    // Sanity check once, outside the timings.
    let a = imgaudit::analyze(&reference, &options(Verify::Stored), &NoProgress).expect("analyze");
    assert!(a.totals.files > 0 && a.totals.wasted_bytes > 0);

    let mut g = c.benchmark_group("analyze");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6))
        .throughput(Throughput::Bytes(raw));
    for (name, verify) in [
        ("verify-stored", Verify::Stored),
        ("no-verify", Verify::None),
        ("verify-full", Verify::Full),
    ] {
        let opts = options(verify);
        g.bench_function(name, |b| {
            b.iter(|| imgaudit::analyze(&reference, &opts, &NoProgress).expect("analyze"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_pipeline);
criterion_main!(benches);
