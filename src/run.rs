//! The pipeline driver: resolve the image, decode its layers in parallel
//! (largest first, so the longest layer starts at once), stack them in
//! manifest order and build the analysis.

use crate::analysis::{self, Analysis, Detail};
use crate::classify::Rules;
use crate::error::{Error, Result};
use crate::layer::{self, LayerChanges, Limits, Verify};
use crate::source::{self, ImageRef, ResolveOptions};
use crate::tree::Tree;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Everything `analyze` needs to know, already validated.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub resolve: ResolveOptions,
    pub verify: Verify,
    pub limits: Limits,
    pub detail: Detail,
    /// Worker threads for layer decoding (`None` = one per core).
    pub jobs: Option<usize>,
    /// Run the content probes (ELF, package databases) while decoding.
    pub probes: bool,
    /// User rule files layered over the built-in category rules.
    pub rule_files: Vec<std::path::PathBuf>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            resolve: ResolveOptions::default(),
            verify: Verify::Stored,
            limits: Limits::default(),
            detail: Detail { top: 20, depth: 3 },
            jobs: None,
            probes: true,
            rule_files: Vec::new(),
        }
    }
}

/// Progress callbacks (the binary draws a bar; tests pass [`NoProgress`]).
pub trait Progress: Sync {
    fn start(&self, _layers: usize, _total_bytes: u64) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Run the whole pipeline on one image reference.
pub fn analyze(
    reference: &ImageRef,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Analysis> {
    let rules = Rules::load(&opts.rule_files)?;
    let image = source::open(reference, &opts.resolve)?;
    let mut layers = decode_layers(&image, opts, progress)?;
    let mut tree = Tree::new();
    for lc in &mut layers {
        tree.apply(lc);
    }
    Ok(analysis::build(&image, &layers, tree, opts.detail, &rules))
}

/// Decode every layer once, in parallel, largest first.
pub fn decode_layers(
    image: &source::Image,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Vec<LayerChanges>> {
    let n = image.layers.len();
    let mut opened = Vec::with_capacity(n);
    for i in 0..n {
        opened.push(Some(image.open_layer(i)?));
    }
    let total: u64 = opened.iter().flatten().map(|(_, s)| *s).sum();
    progress.start(n, total);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(opened[i].as_ref().map_or(0, |(_, s)| *s)));

    let results: Vec<Mutex<Option<Result<LayerChanges>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    let failed = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Unsupported(format!("cannot start worker threads: {e}")))?;
    let advance = |b: u64| progress.advance(b);
    pool.scope_fifo(|s| {
        for &i in &order {
            let (reader, _) = opened[i].take().expect("each layer opened once");
            let (results, failed, spec, advance) = (&results, &failed, &image.layers[i], &advance);
            s.spawn_fifo(move |_| {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let r =
                    layer::read_layer(spec, reader, opts.verify, opts.limits, opts.probes, advance);
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    progress.finish();
    let mut out = Vec::with_capacity(n);
    let mut first_err = None;
    for m in results {
        match m.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(lc)) => out.push(lc),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
