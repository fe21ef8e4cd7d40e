//! The size history at scale: fills a history with RECORDS records of
//! PACKAGES packages each (default 5,000 × 500; 8 layers, 12 categories in 6
//! groups, a few steps and a creep), then times reading it back the way
//! `imgaudit history` does (open, query, steps and creeps, render) for each
//! format, in process. The CLI end to end is timed with hyperfine on the
//! files this leaves behind (docs/PERFORMANCE.md, "Size history").
//!
//! ```text
//! cargo bench --bench history -- [--records N] [--packages N] [--db FILE|postgres://URL]
//!     [--runs N] [--reuse] [--format json|table|markdown|html]...
//! ```
//!
//! Default DB: target/bench-history/history.db (recreated each run; a
//! postgres:// database must be empty or hold only an earlier bench run's
//! history, whose records are then added to). `--reuse` keeps a history that
//! already holds RECORDS records and only reads it. Each figure is the best
//! and the median of `--runs` runs (default 5); reports are written to a
//! byte counter, as to a file.

use imgaudit::history::{
    self, Figure, LayerFigure, Packages, Query, Record, RecordImage, RecordTotals,
};
use imgaudit::report::{self, Format, RenderOptions};
use std::time::Instant;

fn record(i: usize, packages: usize) -> Record {
    // A slow creep from build 3,000, a step at 1,000 and 4,000.
    let mut base: u64 = 400_000_000 + (i as u64 % 7) * 20_000;
    if i >= 1000 {
        base += 30_000_000;
    }
    if i >= 3000 {
        base += (i as u64 - 3000) * 15_000;
    }
    if i >= 4000 {
        base -= 25_000_000;
    }
    let pkgs = Packages::new((0..packages).map(|p| {
        (
            format!("dpkg:package-{p:04}"),
            (base / packages as u64 / 2) + (p as u64 * 37 + i as u64) % 5000,
        )
    }));
    let groups = [
        "Application",
        "Base system",
        "Runtime",
        "Docs",
        "Caches",
        "Build tools",
    ];
    Record {
        id: 0,
        recorded_at: format!("2026-01-01T00:{:02}:{:02}Z", i / 60 % 60, i % 60),
        series: "bench/app".into(),
        image: RecordImage {
            reference: format!("registry.example/bench/app:{i}"),
            manifest_digest: Some(format!("sha256:{:064x}", i)),
            config_digest: format!("sha256:{:064x}", i + 1),
            platform: "linux/amd64".into(),
        },
        labels: [
            (
                "branch".to_string(),
                if i % 3 == 0 { "main" } else { "feature" }.to_string(),
            ),
            ("commit".to_string(), format!("{:040x}", i * 7919)),
        ]
        .into_iter()
        .collect(),
        totals: RecordTotals {
            compressed_bytes: Some(base / 3),
            layer_bytes: base + 5_000_000,
            final_bytes: base,
            wasted_bytes: 5_000_000,
            files: 20_000,
            efficiency: 0.98,
            dive_wasted_bytes: 1_000_000,
            tar_bytes: base + 9_000_000,
        },
        removable_bytes: Some(base / 10),
        layers: (0..8)
            .map(|l| LayerFigure {
                index: l,
                digest: Some(format!("sha256:{:064x}", l + 10)),
                diff_id: format!("sha256:{:064x}", l + 20),
                compressed_bytes: Some(base / 24),
                file_bytes: base / 8,
                wasted_bytes: 0,
                created_by: Some(format!("RUN step {l}")),
            })
            .collect(),
        groups: groups
            .iter()
            .enumerate()
            .map(|(g, n)| Figure {
                name: n.to_string(),
                bytes: base / (g as u64 + 2),
            })
            .collect(),
        categories: (0..12)
            .map(|c| Figure {
                name: format!("category-{c}"),
                bytes: base / (c as u64 + 3),
            })
            .collect(),
        packages: pkgs,
    }
}

/// Counts what a report writes (as a file or pipe would take it).
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn ms(v: f64) -> String {
    format!("{:.0} ms", v * 1e3)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut records, mut packages, mut runs) = (5000usize, 500usize, 5usize);
    let mut reuse = false;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-history");
    let mut db = dir.join("history.db").display().to_string();
    let mut formats: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => records = args.next().unwrap().parse().unwrap(),
            "--packages" => packages = args.next().unwrap().parse().unwrap(),
            "--runs" => runs = args.next().unwrap().parse().unwrap(),
            "--db" => db = args.next().unwrap(),
            "--reuse" => reuse = true,
            "--format" => formats.push(args.next().unwrap()),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    let fill = !reuse
        || history::open(&db, false)
            .and_then(|mut s| s.records(&Query::default()))
            .map_or(true, |r| r.len() < records);
    if fill {
        if !db.starts_with("postgres") {
            std::fs::create_dir_all(&dir).unwrap();
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{db}{suffix}"));
            }
        }
        let t = Instant::now();
        let mut store = history::open(&db, true).unwrap();
        for i in 0..records {
            store.insert(&record(i, packages)).unwrap();
        }
        println!(
            "filled {records} records × {packages} packages in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        // One record more, as `analyze --history` adds it: open + insert.
        let mut times = Vec::new();
        for k in 0..runs {
            let t = Instant::now();
            let mut s = history::open(&db, true).unwrap();
            s.insert(&record(records + k, packages)).unwrap();
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "record one run (open + insert): best {:.1} ms, median {:.1} ms",
            times[0] * 1e3,
            times[times.len() / 2] * 1e3
        );
    } else {
        println!("reusing the history in {db}");
    }
    let all = [
        ("json", Format::Json),
        ("table", Format::Table),
        ("markdown", Format::Markdown),
        ("html", Format::Html),
    ];
    for (name, format) in all {
        if !formats.is_empty() && !formats.iter().any(|f| f == name) {
            continue;
        }
        // (total, read, analyse, render) per run.
        let mut times: Vec<[f64; 4]> = Vec::new();
        let mut bytes = 0;
        let mut n = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let mut s = history::open(&db, false).unwrap();
            let recs = s.records(&Query::default()).unwrap();
            let read = t.elapsed().as_secs_f64();
            n = recs.len();
            let h = history::analyse(recs);
            let analysed = t.elapsed().as_secs_f64();
            let mut out = Counter(0);
            report::render_history(&h, format, &RenderOptions::default(), &mut out).unwrap();
            let total = t.elapsed().as_secs_f64();
            times.push([total, read, analysed - read, total - analysed]);
            bytes = out.0;
            drop(h);
        }
        times.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let med = times[times.len() / 2];
        println!(
            "history --format {name} ({n} records, {bytes} bytes): best {}, median {} (read {}, steps {}, render {})",
            ms(times[0][0]),
            ms(med[0]),
            ms(med[1]),
            ms(med[2]),
            ms(med[3]),
        );
    }
}
