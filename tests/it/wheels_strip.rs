//! Debug-symbol estimates on real repaired wheels: every ELF file of the
//! numpy and scipy wheels (auditwheel rewrote their `*.libs/` with
//! patchelf) is probed by `layer::elf` and stripped for real with
//! `strip --strip-unneeded`; each estimate must be within 2% of what strip
//! saved, and so must the image's `debug-symbols` strippable total.
//!
//! The wheels come from `pip download` (cached under
//! target/test-fixtures/wheels); offline, the test prints SKIP, except under
//! CI=true, where it fails.

use crate::common::{analyze_json, files_under, have_tools, repo_root};
use crate::layout::{oci, Img};
use imgaudit::layer::elf::ElfProbe;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The unpacked wheels, downloaded once.
fn wheels() -> Option<PathBuf> {
    let dir = repo_root().join("target/test-fixtures/wheels");
    let unpacked = dir.join("unpacked");
    if unpacked.join(".done").exists() {
        return Some(unpacked);
    }
    let dl = dir.join("download");
    std::fs::create_dir_all(&dl).unwrap();
    let out = Command::new("python3")
        .args(["-m", "pip", "download", "-q", "--disable-pip-version-check"])
        .args(["--no-deps", "--only-binary=:all:", "numpy", "scipy", "-d"])
        .arg(&dl)
        .output()
        .unwrap();
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("pip download numpy scipy failed under CI=true: {why}");
        }
        eprintln!("SKIP wheels: pip download failed (offline?): {why}");
        return None;
    }
    let _ = std::fs::remove_dir_all(&unpacked);
    for w in std::fs::read_dir(&dl).unwrap() {
        let w = w.unwrap().path();
        if w.extension().is_some_and(|e| e == "whl") {
            let ok = Command::new("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(&w)
                .arg(&unpacked)
                .status()
                .unwrap();
            assert!(ok.success(), "unzip {}", w.display());
        }
    }
    std::fs::write(unpacked.join(".done"), b"").unwrap();
    Some(unpacked)
}

fn is_elf(p: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == *b"\x7fELF"
}

/// `layer::elf`'s estimate, fed in 64 KiB chunks as a layer would feed it.
fn estimate(data: &[u8]) -> u64 {
    let mut p = ElfProbe::start(&data[..data.len().min(64)], data.len() as u64)
        .expect("an ELF executable or shared object");
    for (i, c) in data.chunks(65536).enumerate() {
        p.feed((i * 65536) as u64, c);
    }
    p.finish().expect("probe finished").strippable_bytes
}

/// What `strip --strip-unneeded` saves on a copy of `p` (0 when it grows
/// the file, as it does to some patchelf'd libraries whose section table sat
/// in a gap between segments).
fn strip_saves(p: &Path, scratch: &Path) -> u64 {
    let copy = scratch.join("copy");
    std::fs::copy(p, &copy).unwrap();
    let ok = Command::new("strip")
        .arg("--strip-unneeded")
        .arg(&copy)
        .status()
        .unwrap();
    assert!(ok.success(), "strip {}", p.display());
    std::fs::metadata(p)
        .unwrap()
        .len()
        .saturating_sub(std::fs::metadata(&copy).unwrap().len())
}

#[test]
fn numpy_and_scipy_wheels_match_strip() {
    if !have_tools("wheels against strip", &["python3", "strip"]) {
        return;
    }
    let Some(root) = wheels() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let mut elfs: Vec<PathBuf> = files_under(&root)
        .into_iter()
        .filter(|p| is_elf(p))
        .collect();
    elfs.sort();
    assert!(
        elfs.len() > 50,
        "only {} ELF files in the wheels",
        elfs.len()
    );
    let repaired = elfs
        .iter()
        .filter(|p| p.to_string_lossy().contains(".libs/"))
        .count();
    assert!(repaired >= 4, "no auditwheel-repaired libraries found");
    let (mut est_total, mut strip_total) = (0u64, 0u64);
    let mut bad = Vec::new();
    for p in &elfs {
        let data = std::fs::read(p).unwrap();
        let est = estimate(&data);
        let saved = strip_saves(p, scratch.path());
        est_total += est;
        strip_total += saved;
        if est.abs_diff(saved) * 50 > saved {
            bad.push(format!(
                "{}: estimate {est}, strip saves {saved}",
                p.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    eprintln!(
        "{} ELF files: estimate {est_total}, strip {strip_total}",
        elfs.len()
    );
    assert!(bad.is_empty(), "off by more than 2%:\n{}", bad.join("\n"));

    // The same files in an image: the debug-symbols strippable bytes.
    let mut entries = Vec::new();
    for p in &elfs {
        let rel = p.strip_prefix(&root).unwrap();
        entries.push((
            format!("usr/lib/python3/site-packages/{}", rel.display()),
            std::fs::read(p).unwrap(),
        ));
    }
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in &entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let t = tempfile::tempdir().unwrap();
    Img::new()
        .plain(b.into_inner().unwrap())
        .write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    let dbg = a["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "debug-symbols")
        .map_or(0, |c| c["final_bytes"].as_u64().unwrap());
    assert!(
        dbg.abs_diff(strip_total) * 50 <= strip_total,
        "debug-symbols {dbg}, strip saves {strip_total}"
    );
}
