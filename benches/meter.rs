//! What the download meter costs (issue 17), measured in one process: every
//! gzip layer of an OCI layout is decoded and its tar walked twice per round,
//! once the way `read_layer` does it with the meter (stops at every header's
//! end, anchors, attribution) and once without it (the same decoder and tar
//! walk, reads of up to 256 KiB). The two runs of a layer follow each other
//! within a second, and their order alternates between rounds, so a machine
//! whose speed drifts from minute to minute (docs/PERFORMANCE.md) moves both
//! alike; the figure reported is the median over rounds of the per-round
//! ratio, per layer and for the whole image.
//!
//! ```text
//! cargo bench --bench meter -- [--rounds N] [--only plain|metered] --oci DIR [--ref NAME]
//! ```
//!
//! `--only` runs one side alone, for a profiler (`perf record`).
//!
//! Single-threaded on purpose: the ratio is of CPU work, which `analyze`
//! spreads over its threads. The last line, `meter: +X.X%`, is the whole
//! image's median ratio; `delta` is the meter's extra seconds per pass,
//! which divided by `analyze`'s CPU time (user + sys) on the same image gives
//! the share of the whole run.

use imgaudit::layer::inflate::{GzDecoder, Inflater};
use imgaudit::layer::meter::{Attribution, Meter, Metered};
use imgaudit::layer::tarstream::{ReadSkip, TarReader};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod common;
use common::{gzip_blobs, oci_layers};

const USAGE: &str = "usage: meter [--rounds N] [--only plain|metered] --oci DIR [--ref NAME]";
const BUF: usize = 256 * 1024;

struct Args {
    rounds: usize,
    /// Profile one side: only plain (0) or only metered (1) runs.
    only: Option<usize>,
    oci: PathBuf,
    reference: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let (mut rounds, mut oci, mut reference, mut only) = (10, None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            "--rounds" => {
                let v = it.next().ok_or("--rounds needs a value")?;
                rounds = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("bad --rounds {v:?}"))?;
            }
            "--only" => {
                only = match it.next().as_deref() {
                    Some("plain") => Some(0),
                    Some("metered") => Some(1),
                    other => return Err(format!("bad --only {other:?} (plain or metered)")),
                }
            }
            "--oci" => oci = Some(PathBuf::from(it.next().ok_or("--oci needs a directory")?)),
            "--ref" => reference = Some(it.next().ok_or("--ref needs a name")?),
            "-h" | "--help" => return Err(USAGE.into()),
            s => return Err(format!("unexpected argument {s:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        rounds,
        only,
        oci: oci.ok_or(USAGE)?,
        reference,
    })
}

/// Decode `path` and walk its tar; with `metered`, the way `read_layer`
/// measures download cost. Returns (entries, bytes charged to entries).
fn walk(path: &Path, metered: bool) -> std::io::Result<(u64, u64)> {
    let file = BufReader::with_capacity(BUF, File::open(path)?);
    let (mut entries, mut charged) = (0u64, 0u64);
    if !metered {
        let dec = GzDecoder::new(file, Inflater::ZlibRs);
        let mut tar = TarReader::new(ReadSkip(BufReader::with_capacity(BUF, dec)));
        loop {
            tar.skip_data()?;
            if tar.next_entry()?.is_none() {
                break;
            }
            entries += 1;
        }
        let ReadSkip(mut rest) = tar.into_inner();
        std::io::copy(rest.get_mut(), &mut std::io::sink())?;
        return Ok((entries, charged));
    }
    let meter = Meter::new(false);
    let dec = GzDecoder::metered(file, Inflater::ZlibRs, Some(meter.clone()));
    let decoded = Metered::new(dec, meter.clone());
    let mut tar =
        TarReader::new(ReadSkip(BufReader::with_capacity(BUF, decoded))).with_meter(meter.clone());
    let mut attribution = Attribution::default();
    let mut open = None;
    loop {
        tar.skip_data()?;
        attribution.close(tar.position(), open.take());
        attribution.settle(Some(&meter), |_, b| charged += b);
        if tar.next_entry()?.is_none() {
            break;
        }
        open = Some(entries as usize);
        entries += 1;
    }
    // Drain the rest (end-of-archive blocks, padding) as read_layer does.
    let pos = tar.position();
    let ReadSkip(mut rest) = tar.into_inner();
    let mut end = pos + rest.buffer().len() as u64;
    let mut tail = vec![0u8; BUF];
    loop {
        let n = rest.get_mut().read(&mut tail)?;
        if n == 0 {
            break;
        }
        end += n as u64;
    }
    meter.finish(end);
    attribution.settle(Some(&meter), |_, b| charged += b);
    Ok((entries, charged))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let layers = gzip_blobs(oci_layers(&args.oci, args.reference.as_deref())?, "meter")?;
    if layers.is_empty() {
        return Err("no gzip layers".into());
    }
    // times[layer][mode] = per-round seconds (mode 0: plain, 1: metered).
    let mut times = vec![[Vec::new(), Vec::new()]; layers.len()];
    let mut entries = vec![0u64; layers.len()];
    for round in 0..args.rounds {
        for (i, (path, size)) in layers.iter().enumerate() {
            let order = if (round + i) % 2 == 0 { [0, 1] } else { [1, 0] };
            for mode in order {
                if args.only.is_some_and(|o| o != mode) {
                    times[i][mode].push(f64::NAN);
                    continue;
                }
                let t = Instant::now();
                let (n, charged) =
                    walk(path, mode == 1).map_err(|e| format!("{}: {e}", path.display()))?;
                times[i][mode].push(t.elapsed().as_secs_f64());
                entries[i] = n;
                if charged > *size {
                    return Err(format!(
                        "{}: entries charged {charged} bytes of a {size}-byte blob",
                        path.display()
                    ));
                }
            }
        }
        eprintln!("round {}/{} done", round + 1, args.rounds);
    }
    println!("| layer | stored MB | entries | plain s | metered s | metered / plain |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, (path, size)) in layers.iter().enumerate() {
        let ratios: Vec<f64> = (0..args.rounds)
            .map(|r| times[i][1][r] / times[i][0][r])
            .collect();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        println!(
            "| {}… | {:.1} | {} | {:.3} | {:.3} | {:+.1}% |",
            name.chars().take(12).collect::<String>(),
            *size as f64 / 1e6,
            entries[i],
            median(times[i][0].clone()),
            median(times[i][1].clone()),
            100.0 * (median(ratios) - 1.0)
        );
    }
    let pass = |mode: usize, r: usize| times.iter().map(|t| t[mode][r]).sum::<f64>();
    let ratios: Vec<f64> = (0..args.rounds).map(|r| pass(1, r) / pass(0, r)).collect();
    let deltas: Vec<f64> = (0..args.rounds).map(|r| pass(1, r) - pass(0, r)).collect();
    let plain = median((0..args.rounds).map(|r| pass(0, r)).collect());
    println!(
        "{} rounds; whole image: plain {plain:.3} s per pass, delta {:.3} s",
        args.rounds,
        median(deltas)
    );
    println!("meter: {:+.1}%", 100.0 * (median(ratios) - 1.0));
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meter: {e}");
            ExitCode::from(2)
        }
    }
}
