//! The runners: one function per command, taking validated settings, calling
//! the library and writing the report to standard output or `--output`.
//! Diagnostics go to standard error; the error chain is printed once, by
//! `main`.

use super::args::{CacheAction, CacheArgs, Cli};
use super::progress::bar;
use super::settings::{default_cache_dir, AnalyzeSettings, CheckSettings, Common, DiffSettings};
use anyhow::Context;
use imgaudit::report::{self, Format};
use imgaudit::run::AnalyzeOptions;
use imgaudit::source::ImageRef;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Analyse one image with the shared settings (`what` names it in errors).
fn analyze_one(
    image: &ImageRef,
    c: &Common,
    options: Option<&AnalyzeOptions>,
    what: Option<&str>,
) -> anyhow::Result<imgaudit::analysis::Analysis> {
    let a = imgaudit::analyze(image, options.unwrap_or(&c.options), &bar(c.progress));
    Ok(match what {
        Some(w) => a.with_context(|| w.to_string())?,
        None => a?,
    })
}

/// How to lay out a report: fitted to the terminal when it goes to standard
/// output (unless `--wide`), full width into a file.
fn layout(output: Option<&PathBuf>, c: &Common) -> report::RenderOptions {
    match output {
        Some(_) => report::RenderOptions::default(),
        None => report::RenderOptions::for_stdout(c.wide),
    }
}

/// Write a report to FILE or standard output (a closed pipe is not an error).
pub(super) fn emit(
    output: Option<&PathBuf>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            );
            render(&mut f)
                .and_then(|_| f.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            if let Err(e) = render(&mut lock).and_then(|_| lock.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e).context("cannot write to standard output");
                }
            }
        }
    }
    Ok(())
}

pub fn analyze(s: AnalyzeSettings) -> anyhow::Result<ExitCode> {
    if s.all_platforms || s.images.len() > 1 {
        return summary(s);
    }
    let image = match &s.images[0].1 {
        Ok(image) => image,
        Err(e) => anyhow::bail!("{e}"),
    };
    if s.format == Format::Jsonl {
        return jsonl(image, &s);
    }
    let analysis = analyze_one(image, &s.common, None, None)?;
    let mut s = s;
    if let Some(r) = s.record.as_mut() {
        r.record(&analysis)?;
    }
    let tree = imgaudit::explore::model::build(&analysis, Default::default());
    let mut analysis = analysis;
    // The path list fed the tree; it is not part of the analysis report.
    analysis.paths = None;
    analysis.changes = None;
    let o = layout(s.output.as_ref(), &s.common);
    emit(s.output.as_ref(), |w| {
        report::render_analysis_with(&analysis, tree.as_ref(), s.format, &o, w)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `analyze --format jsonl`: every entry of every layer, recorded while the
/// layers are stacked and written once the last one is.
fn jsonl(image: &ImageRef, s: &AnalyzeSettings) -> anyhow::Result<ExitCode> {
    let c = &s.common;
    // The spill files go to the cache directory (the temporary one under
    // --no-cache).
    let mut export = imgaudit::report::jsonl::JsonlExport::new(c.options.layer_cache.as_deref())
        .context("cannot create the JSONL spill files")?;
    imgaudit::run::analyze_observed(image, &c.options, &bar(c.progress), &mut export)?;
    emit(s.output.as_ref(), |w| export.write(w))?;
    Ok(ExitCode::SUCCESS)
}

fn summary(mut s: AnalyzeSettings) -> anyhow::Result<ExitCode> {
    use imgaudit::summary::SummaryRow;
    let mut rows = Vec::new();
    let mut recorder = s.record.take();
    // One image (or platform) that fails is a row and a message; the others
    // are still analysed and reported, and the exit code says 2 at the end.
    let mut record = |rows: &mut Vec<SummaryRow>, given: &str, r: anyhow::Result<_>| match r
        .and_then(|a| match recorder.as_mut() {
            Some(h) => h.record(&a).map(|_| a),
            None => Ok(a),
        }) {
        Ok(a) => rows.push(SummaryRow::of(&a)),
        Err(e) => {
            // Most errors name the image already; say it once.
            let msg = format!("{e:#}");
            let own = msg.strip_prefix(&format!("{given}: ")).unwrap_or(&msg);
            eprintln!("imgaudit: error: {given}: {own}");
            rows.push(SummaryRow::failed(given, own));
        }
    };
    for (given, image) in &s.images {
        let image = match image {
            Ok(image) => image,
            Err(e) => {
                record(&mut rows, given, Err(anyhow::anyhow!("{e}")));
                continue;
            }
        };
        if s.all_platforms {
            let platforms = match imgaudit::source::platforms(image, &s.common.options.resolve) {
                Ok(p) => p,
                Err(e) => {
                    record(&mut rows, given, Err(e.into()));
                    continue;
                }
            };
            for p in platforms {
                let mut options = s.common.options.clone();
                options.resolve.platform = Some(p.clone());
                let a = analyze_one(image, &s.common, Some(&options), None);
                record(&mut rows, &format!("{given} ({p})"), a);
            }
        } else {
            let a = analyze_one(image, &s.common, None, None);
            record(&mut rows, given, a);
        }
    }
    let summary = imgaudit::summary::Summary {
        by_platform: s.all_platforms && s.images.len() == 1,
        rows,
    };
    let o = layout(s.output.as_ref(), &s.common);
    emit(s.output.as_ref(), |w| {
        report::render_summary_with(&summary, s.format, &o, w)
    })?;
    Ok(if summary.failed() > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Each side of a diff page unfolds half as far as one image's page.
const DIFF_SIDE: imgaudit::explore::Limits = imgaudit::explore::Limits {
    min_share: 2e-5,
    max_children: 300,
};

pub fn diff(s: DiffSettings) -> anyhow::Result<ExitCode> {
    let before = analyze_one(&s.before, &s.common, None, Some("before image"))?;
    let after = analyze_one(&s.after, &s.common, None, Some("after image"))?;
    let d = imgaudit::diff::diff(&before, &after, s.top);
    let trees = if s.format == Format::Html {
        (
            imgaudit::explore::model::build(&before, DIFF_SIDE),
            imgaudit::explore::model::build(&after, DIFF_SIDE),
        )
    } else {
        (None, None)
    };
    let o = layout(s.output.as_ref(), &s.common);
    emit(s.output.as_ref(), |w| {
        report::render_diff_with(
            &d,
            Some((&before, &after)),
            (trees.0.as_ref(), trees.1.as_ref()),
            s.format,
            &o,
            w,
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn check(s: CheckSettings) -> anyhow::Result<ExitCode> {
    if let Some(file) = &s.discovered_budget {
        eprintln!(
            "imgaudit: using budget {} (found in the working directory; --budget FILE picks another)",
            file.display()
        );
    }
    let a = analyze_one(&s.image, &s.common, None, None)?;
    let mut s = s;
    let base = match (&s.baseline, s.record.as_mut()) {
        (Some(b), _) => Some(analyze_one(b, &s.common, None, Some("baseline image"))?),
        (None, Some(h)) if s.budget.needs_baseline() => Some(h.baseline(&a, &s.baseline_labels)?),
        _ => None,
    };
    let window = match (s.budget.growth_window_builds, s.record.as_mut()) {
        (Some(builds), Some(h)) => Some(h.window(&a, builds, &s.baseline_labels)?),
        _ => None,
    };
    let r = imgaudit::budget::check_with_window(&s.budget, &a, base.as_ref(), window.as_ref())?;
    if let Some(h) = s.record.as_mut() {
        h.record(&a)?;
    }
    if s.annotations {
        // GitHub reads workflow commands from standard output and standard
        // error alike: a report on standard output (a PR comment, JSON)
        // stays clean when they go to standard error.
        let mut buf = Vec::new();
        report::annotations::render(&r, &mut buf).context("cannot format annotations")?;
        if s.output.is_some() {
            std::io::stdout().write_all(&buf).ok();
        } else {
            std::io::stderr().write_all(&buf).ok();
        }
    }
    // The report first: a JUnit file that cannot be written never hides
    // the check's own result.
    let o = layout(s.output.as_ref(), &s.common);
    emit(s.output.as_ref(), |w| {
        report::render_check_with(&r, s.format, &o, w)
    })?;
    if let Some(path) = &s.junit {
        emit(Some(path), |w| report::junit::render(&r, w))?;
    }
    Ok(if r.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn cache(args: CacheArgs) -> anyhow::Result<ExitCode> {
    let dir = args.cache_dir.unwrap_or_else(default_cache_dir);
    let cache = imgaudit::cache::LayerCache::new(&dir);
    let human = imgaudit::units::human;
    match args.action {
        CacheAction::Info => {
            let i = cache.info()?;
            println!("cache: {}", i.dir.display());
            println!("layers: {}", i.entries);
            println!("daemon image documents: {}", i.documents);
            println!("size: {} ({} bytes)", human(i.bytes), i.bytes);
        }
        CacheAction::Prune => {
            let f = cache.prune()?;
            println!(
                "removed {} cached layers and {} daemon image documents, {} ({} bytes), from {}",
                f.entries,
                f.documents,
                human(f.bytes),
                f.bytes,
                f.dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `imgaudit completions SHELL`: the script, generated from the clap definition.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    emit(None, |w| {
        clap_complete::generate(shell, &mut cmd, "imgaudit", w);
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `imgaudit man`: a roff manual page, generated from the clap definition,
/// with one section per command.
pub fn man() -> anyhow::Result<ExitCode> {
    let cmd = <Cli as clap::CommandFactory>::command();
    emit(None, |w| {
        let page = clap_mangen::Man::new(cmd.clone());
        page.render_title(w)?;
        page.render_name_section(w)?;
        page.render_synopsis_section(w)?;
        page.render_description_section(w)?;
        page.render_options_section(w)?;
        page.render_subcommands_section(w)?;
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("imgaudit {}", sub.get_name());
            writeln!(w, ".SH \"{}\"", name.to_uppercase())?;
            let sub = sub.clone().bin_name(name);
            let page = clap_mangen::Man::new(sub);
            let mut part = Vec::new();
            page.render_synopsis_section(&mut part)?;
            page.render_description_section(&mut part)?;
            page.render_options_section(&mut part)?;
            // The command's own headings sit under its section.
            let part = String::from_utf8_lossy(&part).replace(".SH ", ".SS ");
            w.write_all(part.as_bytes())?;
        }
        page.render_version_section(w)?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The full-screen terminal explorer over one image.
pub fn explore(s: super::settings::ExploreSettings) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("explore needs a terminal (standard input and output); for a file, use analyze --format html");
    }
    let a = analyze_one(&s.image, &s.common, None, None)?;
    let x = imgaudit::explore::model::build(&a, Default::default())
        .context("no file list to explore")?;
    drop(a);
    imgaudit::explore::tui::run(&x).context("terminal")?;
    Ok(ExitCode::SUCCESS)
}
