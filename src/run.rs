//! The pipeline driver: resolve the image, decode its layers in parallel
//! (largest first, so the longest layer starts at once), stack them in
//! manifest order and build the analysis.

use crate::analysis::{self, Analysis, Detail};
use crate::classify::{PathTag, Rules, NO_TAG};
use crate::error::{Error, Result};
use crate::layer::{self, ChangeKind, LayerChanges, Limits, Verify};
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
    /// Classify: run the content probes (ELF, package databases) while
    /// decoding, match the category rules and build categories, packages and
    /// the savings breakdown. `false` = sizes only.
    pub classify: bool,
    /// User rule files layered over the built-in category rules.
    pub rule_files: Vec<std::path::PathBuf>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            resolve: ResolveOptions::default(),
            verify: Verify::Stored,
            limits: Limits::default(),
            detail: Detail {
                top: 20,
                depth: 3,
                paths: false,
            },
            jobs: None,
            classify: true,
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
    analyze_image(&image, &rules, opts, progress)
}

/// The pipeline after the source stage: decode, stack, classify, build the
/// analysis of an already resolved image.
pub fn analyze_image(
    image: &source::Image,
    rules: &Rules,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Analysis> {
    let n = image.layers.len();
    let stack = Mutex::new(Stack {
        tree: Tree::new(),
        next: 0,
        ready: (0..n).map(|_| None).collect(),
        applied: Vec::with_capacity(n),
    });
    // On the worker that decoded it, each layer gets its path-rule tags
    // (package rules need the final package index and come later), then is
    // stacked as soon as every layer below it is: most of the stacking
    // overlaps the decoding of the remaining layers.
    decode_layers_then(image, opts, progress, |lc| {
        let tags = if opts.classify {
            tag_changes(rules, &lc)
        } else {
            Vec::new()
        };
        let mut s = stack.lock().unwrap_or_else(|e| e.into_inner());
        let i = lc.index;
        s.ready[i] = Some((lc, tags));
        s.stack_ready();
    })?;
    let Stack { tree, applied, .. } = stack.into_inner().unwrap_or_else(|e| e.into_inner());
    let a = analysis::build(
        image,
        &applied,
        tree,
        opts.detail,
        opts.classify.then_some(rules),
    );
    crate::drop_later(applied);
    Ok(a)
}

/// The size tree being built while layers decode: layers wait in `ready`
/// until every layer below them has been stacked.
struct Stack {
    tree: Tree,
    next: usize,
    ready: Vec<Option<(LayerChanges, Vec<PathTag>)>>,
    applied: Vec<LayerChanges>,
}

impl Stack {
    fn stack_ready(&mut self) {
        while let Some((mut lc, tags)) = self.ready.get_mut(self.next).and_then(Option::take) {
            self.tree.apply_tagged(&mut lc, &tags);
            // Spent: the tree holds what it needs (paths, facts); free the
            // rest now rather than holding every layer's entries to the end.
            lc.changes = Vec::new();
            self.applied.push(lc);
            self.next += 1;
        }
    }
}

/// Path-rule tags for a layer's files and hardlinks (one per change).
fn tag_changes(rules: &Rules, lc: &LayerChanges) -> Vec<PathTag> {
    let mut buf = String::new();
    lc.changes
        .iter()
        .map(|c| match c.kind {
            ChangeKind::File | ChangeKind::Hardlink(_) => rules.path_tag(&c.path, &mut buf),
            _ => NO_TAG,
        })
        .collect()
}

/// Decode every layer once, in parallel, largest first.
pub fn decode_layers(
    image: &source::Image,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Vec<LayerChanges>> {
    decode_layers_then(image, opts, progress, |lc| lc)
}

/// [`decode_layers`], running `then` on each decoded layer on the worker
/// that decoded it (per-layer work that should not wait for the others).
pub fn decode_layers_then<T: Send>(
    image: &source::Image,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
    then: impl Fn(LayerChanges) -> T + Sync,
) -> Result<Vec<T>> {
    let n = image.layers.len();
    let mut opened = Vec::with_capacity(n);
    for i in 0..n {
        opened.push(Some(image.open_layer(i)?));
    }
    let total: u64 = opened.iter().flatten().map(|(_, s)| *s).sum();
    progress.start(n, total);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(opened[i].as_ref().map_or(0, |(_, s)| *s)));

    let results: Vec<Mutex<Option<Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let failed = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Unsupported(format!("cannot start worker threads: {e}")))?;
    let advance = |b: u64| progress.advance(b);
    pool.scope_fifo(|s| {
        for &i in &order {
            let (reader, _) = opened[i].take().expect("each layer opened once");
            let (results, failed, spec, advance, then) =
                (&results, &failed, &image.layers[i], &advance, &then);
            s.spawn_fifo(move |_| {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let r = layer::read_layer(
                    spec,
                    reader,
                    opts.verify,
                    opts.limits,
                    opts.classify,
                    advance,
                );
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                let r = r.map(then);
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
