//! The decode floor: how fast can this machine merely gunzip an image's
//! layers, output discarded? By default with flate2 on the zlib-rs backend
//! (`MultiGzDecoder` over a `BufReader`: the floor the issues measure
//! against); `--backend isal` uses imgaudit's own default decoder instead
//! (`layer::inflate::GzDecoder` with ISA-L's igzip), the floor of what
//! imgaudit itself could reach.
//!
//! `scripts/bench.sh` reports every other figure as a ratio to the zlib-rs
//! floor and shows the igzip floor beside it.
//!
//! ```text
//! cargo bench --bench floor -- [--threads N] [--backend zlib-rs|isal] FILE...
//! cargo bench --bench floor -- [--threads N] [--backend zlib-rs|isal] --oci DIR [--ref NAME]
//! ```
//!
//! With `--oci DIR` the layer blobs are the ones an OCI image layout's
//! index.json → manifest lists (the first manifest, or the one whose
//! `org.opencontainers.image.ref.name` is NAME). Layers are decoded on
//! `--threads` threads (default 2), largest first, like imgaudit does; blobs
//! that are not gzip are skipped with a note. Prints wall time, compressed and
//! decompressed bytes and MB/s, then one `floor:` line for scripts.

use flate2::bufread::MultiGzDecoder;
use imgaudit::layer::inflate::{GzDecoder, Inflater};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

mod common;
use common::{gzip_blobs, oci_layers};

const USAGE: &str =
    "usage: floor [--threads N] [--backend zlib-rs|isal] (FILE... | --oci DIR [--ref NAME])";

struct Args {
    threads: usize,
    isal: bool,
    files: Vec<PathBuf>,
    oci: Option<PathBuf>,
    reference: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        threads: 2,
        isal: false,
        files: Vec::new(),
        oci: None,
        reference: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            "--threads" | "-j" => {
                let v = it.next().ok_or("--threads needs a value")?;
                a.threads = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("bad --threads {v:?}"))?;
            }
            "--backend" => {
                a.isal = match it.next().as_deref() {
                    Some("isal") if imgaudit::layer::Inflater::ISAL_BUILT => true,
                    Some("isal") => return Err("this build has no isal feature".into()),
                    Some("zlib-rs") => false,
                    other => return Err(format!("bad --backend {other:?} (zlib-rs or isal)")),
                }
            }
            "--oci" => a.oci = Some(it.next().ok_or("--oci needs a directory")?.into()),
            "--ref" => a.reference = Some(it.next().ok_or("--ref needs a name")?),
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => a.files.push(s.into()),
        }
    }
    if a.oci.is_some() != a.files.is_empty() {
        return Err(USAGE.into());
    }
    Ok(a)
}

/// Gunzip one file to nowhere; returns the decompressed byte count.
fn decode(path: &Path, buf: &mut [u8], isal: bool) -> std::io::Result<u64> {
    let file = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let mut dec: Box<dyn Read> = if isal {
        Box::new(GzDecoder::new(file, Inflater::Isal))
    } else {
        Box::new(MultiGzDecoder::new(file))
    };
    let mut total = 0u64;
    loop {
        match dec.read(buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let paths = match &args.oci {
        Some(dir) => oci_layers(dir, args.reference.as_deref())?,
        None => args.files.clone(),
    };
    let mut jobs = gzip_blobs(paths, "floor")?;
    if jobs.is_empty() {
        return Err("no gzip blobs to decode".into());
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.1));
    let compressed: u64 = jobs.iter().map(|j| j.1).sum();

    let next = AtomicUsize::new(0);
    let first_err = Mutex::new(None::<String>);
    let decompressed = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.threads.min(jobs.len()) {
            s.spawn(|| {
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((path, _)) = jobs.get(i) else { break };
                    match decode(path, &mut buf, args.isal) {
                        Ok(n) => {
                            decompressed.fetch_add(n as usize, Ordering::Relaxed);
                        }
                        Err(e) => {
                            first_err
                                .lock()
                                .unwrap()
                                .get_or_insert(format!("{}: {e}", path.display()));
                        }
                    }
                }
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    if let Some(e) = first_err.into_inner().unwrap() {
        return Err(e);
    }
    let decompressed = decompressed.into_inner() as u64;
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "decoded {} gzip blobs on {} threads ({})",
        jobs.len(),
        args.threads,
        if args.isal {
            "ISA-L igzip, imgaudit's GzDecoder"
        } else {
            "flate2 + zlib-rs, MultiGzDecoder"
        }
    );
    println!("wall time     {wall:.3} s");
    println!(
        "compressed    {} bytes ({:.1} MB)",
        compressed,
        mb(compressed)
    );
    println!(
        "decompressed  {} bytes ({:.1} MB)",
        decompressed,
        mb(decompressed)
    );
    println!(
        "throughput    {:.1} MB/s compressed in, {:.1} MB/s decompressed out",
        mb(compressed) / wall,
        mb(decompressed) / wall
    );
    println!(
        "floor: wall_s={wall:.4} compressed_bytes={compressed} decompressed_bytes={decompressed} blobs={} threads={}",
        jobs.len(),
        args.threads
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::from(2)
        }
    }
}
