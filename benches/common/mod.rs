//! What the decode benches share: the layer blobs an OCI image layout lists,
//! and which of them are gzip.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf, String> {
    let (alg, hex) = digest
        .split_once(':')
        .filter(|(a, h)| !a.is_empty() && !h.is_empty() && !h.contains('/') && !a.contains('/'))
        .ok_or(format!("bad digest {digest:?}"))?;
    Ok(dir.join("blobs").join(alg).join(hex))
}

/// The layer blobs of an OCI layout's (first or named) manifest.
pub fn oci_layers(dir: &Path, reference: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let mut doc = read_json(&dir.join("index.json"))?;
    let mut named = reference;
    // Follow nested indexes down to a manifest.
    for _ in 0..8 {
        let Some(list) = doc.get("manifests").and_then(|m| m.as_array()) else {
            break;
        };
        let pick = match named.take() {
            Some(name) => list.iter().find(|d| {
                d.pointer("/annotations/org.opencontainers.image.ref.name")
                    .and_then(|v| v.as_str())
                    == Some(name)
            }),
            None => list.first(),
        }
        .ok_or("index lists no (matching) manifest")?;
        let digest = pick["digest"].as_str().ok_or("descriptor without digest")?;
        doc = read_json(&blob_path(dir, digest)?)?;
    }
    let layers = doc
        .get("layers")
        .and_then(|l| l.as_array())
        .ok_or("manifest has no layers")?;
    layers
        .iter()
        .map(|d| blob_path(dir, d["digest"].as_str().ok_or("layer without digest")?))
        .collect()
}

fn is_gzip(path: &Path) -> std::io::Result<bool> {
    let mut head = [0u8; 2];
    let mut f = File::open(path)?;
    let n = f.read(&mut head)?;
    Ok(n == 2 && head == [0x1f, 0x8b])
}

/// The gzip blobs among `paths`, with their sizes; the others are skipped
/// with a note on stderr (`who`: the bench's name).
pub fn gzip_blobs(paths: Vec<PathBuf>, who: &str) -> Result<Vec<(PathBuf, u64)>, String> {
    let mut blobs = Vec::new();
    for p in paths {
        let size = std::fs::metadata(&p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .len();
        if !is_gzip(&p).map_err(|e| format!("{}: {e}", p.display()))? {
            eprintln!("{who}: skipping {} (not gzip)", p.display());
            continue;
        }
        blobs.push((p, size));
    }
    Ok(blobs)
}
