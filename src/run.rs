//! The pipeline driver: resolve the image, decode its layers in parallel
//! (largest first, so the longest layer starts at once), stack them in
//! manifest order and build the analysis.

use crate::analysis::{self, Analysis, Detail};
use crate::cache::LayerCache;
use crate::classify::{PathTag, Rules, NO_TAG};
use crate::error::{Error, Result};
use crate::layer::{self, ChangeKind, Inflater, LayerChanges, Limits, Verify};
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
    /// Which gzip decoder reads gzip layers.
    pub inflater: Inflater,
    pub detail: Detail,
    /// Worker threads for layer decoding (`None` = one per core).
    pub jobs: Option<usize>,
    /// Classify: run the content probes (ELF, package databases) while
    /// decoding, match the category rules and build categories, packages and
    /// the savings breakdown. `false` = sizes only.
    pub classify: bool,
    /// User rule files layered over the built-in category rules.
    pub rule_files: Vec<std::path::PathBuf>,
    /// Cache directory for per-layer results (`None`: no layer cache).
    pub layer_cache: Option<std::path::PathBuf>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            resolve: ResolveOptions::default(),
            verify: Verify::Stored,
            limits: Limits::default(),
            inflater: Inflater::Auto,
            detail: Detail {
                top: 20,
                depth: 3,
                paths: false,
            },
            jobs: None,
            classify: true,
            rule_files: Vec::new(),
            layer_cache: None,
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

/// Watches the stacking on the stacker thread, layer by layer, in layer
/// order (the JSONL export of every path, issue 20). Every hook has a
/// default that does nothing.
pub trait StackObserver: Send {
    /// Before any layer: the resolved image, and the rules when classifying.
    fn start(&mut self, _image: &source::Image, _rules: Option<&Rules>) {}
    /// Layer `lc.index` (with its path-rule tags) is about to be applied on
    /// `tree` (every lower layer is stacked).
    fn before_layer(&mut self, _tree: &Tree, _lc: &LayerChanges, _tags: &[PathTag]) {}
    /// The same layer has just been applied (its changes are spent).
    fn after_layer(&mut self, _tree: &Tree, _layer: usize) {}
    /// Every layer is stacked; the tree is final.
    fn finish(&mut self, _tree: &Tree) {}
}

/// [`analyze`] with an observer of the stacking.
pub fn analyze_observed(
    reference: &ImageRef,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
    observer: &mut dyn StackObserver,
) -> Result<Analysis> {
    let rules = Rules::load(&opts.rule_files)?;
    let image = source::open(reference, &opts.resolve)?;
    analyze_image_observed(&image, &rules, opts, progress, Some(observer))
}

/// The pipeline after the source stage: decode, stack, classify, build the
/// analysis of an already resolved image.
pub fn analyze_image(
    image: &source::Image,
    rules: &Rules,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Analysis> {
    analyze_image_observed(image, rules, opts, progress, None)
}

/// [`analyze_image`], calling `observer` (if any) on the stacker thread.
pub fn analyze_image_observed(
    image: &source::Image,
    rules: &Rules,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
    mut observer: Option<&mut dyn StackObserver>,
) -> Result<Analysis> {
    if let Some(o) = observer.as_deref_mut() {
        o.start(image, opts.classify.then_some(rules));
    }
    let n = image.layers.len();
    let cache = opts.layer_cache.as_deref().map(LayerCache::new);
    let keys: Vec<Option<String>> = image
        .layers
        .iter()
        .map(|spec| {
            cache
                .as_ref()
                .map(|_| LayerCache::key(spec, opts.classify, &rules.hash))
        })
        .collect();
    // A cache hit on a local source is taken only when the blob's cheap
    // facts hold (issue 18); under `--verify full` a local blob is hashed
    // even then, and only its decoding is skipped.
    let plans: Vec<Plan> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let recorded = match (&cache, k) {
                (Some(c), Some(k)) => c.recorded_size(k),
                _ => None,
            };
            match recorded {
                Some(size) if image.cached_blob_holds(i, size) => {
                    if opts.verify == Verify::Full && image.is_local() {
                        Plan::CachedVerify
                    } else {
                        Plan::Cached
                    }
                }
                _ => Plan::Read,
            }
        })
        .collect();
    let skip_open: Vec<bool> = plans.iter().map(|p| *p == Plan::Cached).collect();
    let cache_warnings = Mutex::new(Vec::new());
    let tag = |lc: &LayerChanges| {
        if opts.classify {
            tag_changes(rules, lc)
        } else {
            Vec::new()
        }
    };
    // Read, verify and tag layer `i`, and remember it when its digest was
    // checked.
    let decode = |i: usize, reader, advance: &(dyn Fn(u64) + Sync)| -> Result<_> {
        let lc = read(image, i, reader, opts, advance)?;
        let tags = tag(&lc);
        if let (Some(c), Some(k), true) = (&cache, &keys[i], opts.verify != Verify::None) {
            if let Err(e) = c.store(k, &lc, &tags) {
                lock(&cache_warnings).push(format!("layer cache not written: {e}"));
            }
        }
        Ok((lc, tags))
    };
    // On the worker that decoded it (or loaded it from the cache), each
    // layer gets its path-rule tags (package rules need the final package
    // index and come later), then goes to the stacker thread, which stacks
    // it as soon as every layer below it is. A small lower layer decoded late
    // releases a backlog of stacking; on its own thread that backlog fills
    // the time a decode worker would otherwise sit idle at the end, instead
    // of holding up the worker that finished the small layer.
    let decode_all =
        |to_stacker: std::sync::mpsc::Sender<(usize, (LayerChanges, Vec<PathTag>))>| {
            for_each_layer(image, opts, progress, &skip_open, |i, reader, advance| {
                let hit = match (&cache, &keys[i], plans[i]) {
                    (Some(c), Some(k), Plan::Cached | Plan::CachedVerify) => c.load(k, i),
                    _ => None,
                };
                let spec = &image.layers[i];
                let (lc, tags) = match (hit, reader) {
                    (Some(hit), None) => hit,
                    // `--verify full`: hash the blob, skip the decoding.
                    (Some(hit), Some(r))
                        if layer::stored_digest(spec, hit.0.compression).is_some() =>
                    {
                        layer::verify_stored(spec, r, hit.0.compression, advance)?;
                        hit
                    }
                    (_, Some(r)) => decode(i, r, advance)?,
                    // A damaged cache entry: read the layer after all.
                    (None, None) => decode(i, image.open_layer(i)?.0, advance)?,
                };
                // The stacker outlives every sender (the scope below).
                let _ = to_stacker.send((i, (lc, tags)));
                Ok(())
            })
        };
    let (to_stacker, stacker_rx) = std::sync::mpsc::channel();
    let (decoded, stacked) = std::thread::scope(|scope| {
        let stacker = scope.spawn(move || {
            let mut tree = Tree::new();
            tree.expect_layers(n);
            let mut stack = Stack {
                tree,
                next: 0,
                ready: (0..n).map(|_| None).collect(),
                applied: Vec::with_capacity(n),
                observer,
                entries: 0,
                max_entries: opts.limits.max_entries,
                over: None,
            };
            for (i, layer) in stacker_rx {
                // Over the entry limit: later layers are dropped as they come.
                if stack.over.is_none() {
                    stack.ready[i] = Some(layer);
                    stack.stack_ready();
                }
            }
            if let Some(o) = stack.observer.as_deref_mut() {
                if stack.next == n {
                    o.finish(&stack.tree);
                }
            }
            stack
        });
        let decoded = decode_all(to_stacker);
        (decoded, stacker.join())
    });
    decoded?;
    let Stack {
        tree,
        mut applied,
        over,
        ..
    } = stacked.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    if let Some(e) = over {
        return Err(e);
    }
    // Cache trouble is reported with the first layer's warnings.
    let cache_warnings = cache_warnings
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(first) = applied.first_mut() {
        first.warnings.extend(cache_warnings.into_iter().take(1));
    }
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How one layer is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Read, verified and decoded (not cached, or the blob's cheap facts do
    /// not hold: see `Image::cached_blob_holds`).
    Read,
    /// From the cache, the blob not opened.
    Cached,
    /// From the cache, the blob opened and hashed (`--verify full`, local).
    CachedVerify,
}

/// The size tree being built while layers decode: layers wait in `ready`
/// until every layer below them has been stacked.
struct Stack<'o> {
    tree: Tree,
    next: usize,
    ready: Vec<Option<(LayerChanges, Vec<PathTag>)>>,
    applied: Vec<LayerChanges>,
    observer: Option<&'o mut dyn StackObserver>,
    /// Entries stacked so far, against `max_entries` (`--max-entries`).
    entries: u64,
    max_entries: u64,
    /// Set once the image has more entries than allowed: nothing more is stacked.
    over: Option<crate::error::Error>,
}

impl Stack<'_> {
    fn stack_ready(&mut self) {
        while let Some((mut lc, tags)) = self.ready.get_mut(self.next).and_then(Option::take) {
            if self.over.is_some() {
                return;
            }
            self.entries += lc.changes.len() as u64;
            if self.entries > self.max_entries {
                self.over = Some(crate::error::Error::TooManyEntries {
                    what: format!("the image (through layer {})", lc.index),
                    limit: self.max_entries,
                });
                return;
            }
            if let Some(o) = self.observer.as_deref_mut() {
                o.before_layer(&self.tree, &lc, &tags);
            }
            self.tree.apply_tagged(&mut lc, &tags);
            if let Some(o) = self.observer.as_deref_mut() {
                o.after_layer(&self.tree, self.next);
            }
            // Spent: the tree holds what it needs (paths, facts); free the
            // rest now rather than holding every layer's entries to the end.
            lc.changes = Default::default();
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
            ChangeKind::File | ChangeKind::Hardlink(_) => rules.path_tag(c.path, &mut buf),
            _ => NO_TAG,
        })
        .collect()
}

/// Read and verify layer `i` from `reader`.
fn read(
    image: &source::Image,
    i: usize,
    reader: Box<dyn std::io::Read + Send>,
    opts: &AnalyzeOptions,
    advance: &(dyn Fn(u64) + Sync),
) -> Result<LayerChanges> {
    layer::read_layer(
        &image.layers[i],
        reader,
        opts.verify,
        opts.limits,
        opts.inflater,
        opts.classify,
        advance,
    )
}

/// Run `work` once per layer on a pool of `opts.jobs` workers. Layers not
/// marked in `skip_open` are opened first (their stored sizes order the
/// work, largest first, and feed the progress bar) and handed to `work`
/// open; the others (cached) come after, with `None`. The first error in
/// layer order wins; once one layer fails the others are not started.
fn for_each_layer<T: Send>(
    image: &source::Image,
    opts: &AnalyzeOptions,
    progress: &dyn Progress,
    skip_open: &[bool],
    work: impl Fn(usize, Option<Box<dyn std::io::Read + Send>>, &(dyn Fn(u64) + Sync)) -> Result<T>
        + Sync,
) -> Result<Vec<T>> {
    let n = image.layers.len();
    let mut opened = Vec::with_capacity(n);
    for (i, &skip) in skip_open.iter().enumerate() {
        opened.push(if skip {
            None
        } else {
            Some(image.open_layer(i)?)
        });
    }
    let total: u64 = opened.iter().flatten().map(|(_, s)| *s).sum();
    progress.start(n, total);
    // Largest first; but a forward-only source (the daemon's export stream)
    // is read in stream order, so no reader has to go back.
    let positions: Option<Vec<u64>> = (0..n)
        .map(|i| match skip_open[i] {
            true => Some(0),
            false => image.stream_position(i),
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| {
        let size = opened[i].as_ref().map_or(0, |(_, s)| *s);
        let key = match &positions {
            Some(p) => p[i],
            None => u64::MAX - size,
        };
        (skip_open[i], key)
    });

    let results: Vec<Mutex<Option<Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let failed = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Unsupported(format!("cannot start worker threads: {e}")))?;
    let advance = |b: u64| progress.advance(b);
    pool.scope_fifo(|s| {
        for &i in &order {
            let reader = opened[i].take().map(|(r, _)| r);
            let (results, failed, advance, work) = (&results, &failed, &advance, &work);
            s.spawn_fifo(move |_| {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let r = work(i, reader, advance);
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
