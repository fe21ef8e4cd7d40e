//! The `imgaudit` binary: parse arguments, turn them into validated settings
//! once, call the library, print the error chain once, map to exit codes
//! (0 ok, 1 budget failed, 2 error).

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use imgaudit::analysis::Detail;
use imgaudit::layer::{Inflater, Limits, Verify};
use imgaudit::report::{self, Format};
use imgaudit::run::{AnalyzeOptions, Progress};
use imgaudit::source::registry::auth::Credentials;
use imgaudit::source::{ImageRef, ResolveOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the bytes in a container image are, and how to get rid of the ones you don't need.
#[derive(Parser)]
#[command(name = "imgaudit", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse one image: size per layer, directory and file, and the bytes wasted by later layers.
    ///
    /// IMAGE is one of:
    ///   docker-archive:PATH[:TAG]   `docker save` output (legacy or Docker 25+), gzip allowed
    ///   oci:DIR[:REF]               an OCI image layout directory
    ///   oci-archive:PATH[:REF]      an OCI image layout as a tar
    ///   docker://[REGISTRY/]REPO[:TAG|@DIGEST]
    ///                               straight from a registry (no daemon, no temp copy)
    ///   docker-daemon:NAME[:TAG]    the local Docker daemon (DOCKER_HOST honoured)
    ///   PATH                        a file or directory; the kind is detected
    ///   NAME[:TAG]                  the daemon's image if it has one, else the registry's
    ///
    /// Examples:
    ///   imgaudit analyze python:3.12-slim
    ///   imgaudit analyze docker://registry.example.com/org/app:1.2 --all-platforms
    ///   imgaudit analyze img.tar
    ///   imgaudit analyze oci:./layout:latest --platform linux/arm64
    ///   imgaudit analyze img.tar --format json --output report.json
    #[command(verbatim_doc_comment)]
    Analyze(AnalyzeArgs),
    /// Compare two images: sizes, categories, packages, layers and paths before → after.
    ///
    /// Examples:
    ///   imgaudit diff app:before app:after
    ///   imgaudit diff old.tar oci:./new --format markdown > comment.md
    #[command(verbatim_doc_comment)]
    Diff(DiffArgs),
    /// Check an image against a size budget (exit 0 pass, 1 a fail-level rule failed, 2 error).
    ///
    /// Examples:
    ///   imgaudit check app:latest --budget budget.toml
    ///   imgaudit check app:latest --budget .dive-ci
    ///   imgaudit check app:pr --budget budget.toml --baseline app:main --junit budget.xml
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// Show or empty the layer cache (per-layer results, reused by later runs).
    ///
    /// Every analysed layer whose digest was verified is remembered under its
    /// digests, the imgaudit version and the category rules; an image that
    /// shares layers with one analysed before decodes (or downloads) only its
    /// new layers. Location: --cache-dir, else $XDG_CACHE_HOME/imgaudit, else
    /// ~/.cache/imgaudit.
    ///
    /// Examples:
    ///   imgaudit cache info
    ///   imgaudit cache prune
    #[command(verbatim_doc_comment)]
    Cache(CacheArgs),
}

#[derive(Args)]
struct CacheArgs {
    #[command(subcommand)]
    action: CacheAction,
    /// The cache directory (default: $XDG_CACHE_HOME/imgaudit).
    #[arg(long, value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(Subcommand, Clone, Copy)]
enum CacheAction {
    /// Where the cache is, how many layers it holds and their size.
    Info,
    /// Delete every cached layer.
    Prune,
}

#[derive(Copy, Clone, ValueEnum)]
enum FormatArg {
    /// Tables for a terminal.
    Table,
    /// Machine-readable JSON (versioned schema).
    Json,
    /// GitHub-flavoured Markdown for a pull-request comment.
    Markdown,
    /// One self-contained HTML file (treemap, layer bars, savings).
    Html,
}

#[derive(Copy, Clone, ValueEnum)]
enum VerifyArg {
    /// Check each blob against the digest that names its stored bytes.
    Stored,
    /// Also check each compressed layer's decoded tar against its diff_id.
    Full,
}

#[derive(Copy, Clone, ValueEnum)]
enum InflateArg {
    /// ISA-L's igzip when this build has it, else zlib-rs.
    Auto,
    /// ISA-L's igzip (C and assembly; the faster one).
    Isal,
    /// flate2's pure-Rust zlib-rs backend.
    ZlibRs,
}

#[derive(Args)]
struct AnalyzeArgs {
    /// The image(s) to analyse (see above for the accepted forms). With more
    /// than one, one summary row per image.
    #[arg(required = true, num_args = 1.., value_name = "IMAGE")]
    images: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Analyse every platform of a multi-platform image and print one summary row per platform.
    #[arg(long, conflicts_with = "platform")]
    all_platforms: bool,
    /// How many of the largest files and directories to list.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
    /// Deepest directory level listed under "Largest directories".
    #[arg(long, default_value_t = 3, value_name = "N")]
    depth: usize,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct DiffArgs {
    /// The image before the change.
    before: String,
    /// The image after the change.
    after: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// How many packages and paths to list per kind of change.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct CheckArgs {
    /// The image to check.
    image: String,
    /// Budget file: TOML (see docs/BUDGETS.md), or a dive `.dive-ci` file
    /// (named `.dive-ci`, `*.dive-ci`, `*.yaml` or `*.yml`).
    #[arg(long, value_name = "FILE")]
    budget: PathBuf,
    /// Image to compare with for max_growth_bytes / max_growth_percent.
    #[arg(long, value_name = "IMAGE")]
    baseline: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the findings as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Options shared by every command that reads images.
#[derive(Args)]
struct CommonArgs {
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    /// Default: linux/amd64, or the only one present.
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<String>,
    /// Registry user name (the password is read from standard input: --password-stdin).
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    username: Option<String>,
    /// Read the registry password (or token) from standard input; needs --username.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Allow plain http (no TLS) to a registry that is not on loopback.
    #[arg(long)]
    insecure: bool,
    /// Fetch foreign (non-distributable) layers from the URLs in their
    /// descriptors when the registry does not serve them (never with credentials).
    #[arg(long)]
    allow_foreign_layers: bool,
    /// Accept a bearer-token realm on a link-local address, or on a private or
    /// loopback address when the registry is public (see docs/SECURITY.md).
    #[arg(long)]
    allow_private_realm: bool,
    /// Digest checking: `stored` checks every blob as stored; `full` also hashes each
    /// decompressed layer against its diff_id (slower).
    #[arg(
        long,
        value_enum,
        default_value = "stored",
        conflicts_with = "no_verify"
    )]
    verify: VerifyArg,
    /// Skip digest verification entirely (faster; the image's integrity is then not checked).
    #[arg(long)]
    no_verify: bool,
    /// Gzip decoder. Both verify every gzip CRC and accept the same streams;
    /// `zlib-rs` is the pure-Rust fallback if you suspect the default.
    #[arg(long, value_enum, value_name = "DECODER", default_value = "auto")]
    inflate: InflateArg,
    /// Refuse layers that decompress to more than this many bytes (guards against bombs).
    #[arg(long, value_name = "BYTES", default_value_t = 1u64 << 40)]
    max_layer_bytes: u64,
    /// Decoder threads (default: one per core).
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
    /// Directory for temporary and cached data (default: $XDG_CACHE_HOME/imgaudit).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Neither read nor write the layer cache: every layer is read, decoded and
    /// verified again. (A cached layer of a local image is used only when its
    /// blob is still there with the recorded size, and is re-hashed only
    /// under --verify full.)
    #[arg(long, env = "IMGAUDIT_NO_CACHE", value_parser = clap::builder::BoolishValueParser::new())]
    no_cache: bool,
    /// Extra category rules (TOML, see docs/CATEGORIES.md); repeatable. A
    /// `.imgaudit-rules.toml` in the working directory is read first when present.
    #[arg(long, value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Sizes only: skip the content probes (ELF debug sections, package
    /// databases), categories, packages and the savings breakdown.
    #[arg(long)]
    sizes_only: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Validated settings shared by every command that reads images.
struct Common {
    options: AnalyzeOptions,
    progress: bool,
}

/// Validated settings for one `analyze` run.
struct AnalyzeSettings {
    images: Vec<ImageRef>,
    all_platforms: bool,
    format: Format,
    output: Option<PathBuf>,
    common: Common,
}

/// Validated settings for `diff`.
struct DiffSettings {
    before: ImageRef,
    after: ImageRef,
    format: Format,
    output: Option<PathBuf>,
    top: usize,
    common: Common,
}

/// Validated settings for `check`.
struct CheckSettings {
    image: ImageRef,
    baseline: Option<ImageRef>,
    budget: imgaudit::budget::Budget,
    format: Format,
    output: Option<PathBuf>,
    junit: Option<PathBuf>,
    /// Print GitHub Actions workflow commands (GITHUB_ACTIONS=true).
    annotations: bool,
    common: Common,
}

fn default_cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("imgaudit");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("imgaudit");
    }
    std::env::temp_dir().join("imgaudit")
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
        }
    }
}

impl CommonArgs {
    fn into_common(self, detail: Detail) -> anyhow::Result<Common> {
        if self.jobs == Some(0) {
            bail!("--jobs must be at least 1");
        }
        let cache_dir = self.cache_dir.clone().unwrap_or_else(default_cache_dir);
        let credentials = match self.username {
            Some(username) => {
                let mut secret = String::new();
                std::io::stdin()
                    .take(64 * 1024)
                    .read_to_string(&mut secret)
                    .context("cannot read the password from standard input")?;
                let secret = secret.trim_end_matches(['\n', '\r']).to_string();
                if secret.is_empty() {
                    bail!("--password-stdin: standard input is empty");
                }
                Some(Credentials {
                    username,
                    secret,
                    origin: "--username/--password-stdin".into(),
                })
            }
            None => None,
        };
        let verify = match (self.no_verify, self.verify) {
            (true, _) => Verify::None,
            (false, VerifyArg::Stored) => Verify::Stored,
            (false, VerifyArg::Full) => Verify::Full,
        };
        Ok(Common {
            options: AnalyzeOptions {
                resolve: ResolveOptions {
                    platform: self.platform,
                    cache_dir: Some(cache_dir.clone()),
                    insecure: self.insecure,
                    credentials,
                    allow_foreign_layers: self.allow_foreign_layers,
                    allow_private_realm: self.allow_private_realm,
                    doc_cache: (!self.no_cache).then(|| cache_dir.clone()),
                },
                verify,
                limits: Limits {
                    max_layer_bytes: self.max_layer_bytes,
                },
                inflater: match self.inflate {
                    InflateArg::Auto => Inflater::Auto,
                    InflateArg::Isal if !Inflater::ISAL_BUILT => {
                        bail!("--inflate isal: this imgaudit was built without the `isal` feature")
                    }
                    InflateArg::Isal => Inflater::Isal,
                    InflateArg::ZlibRs => Inflater::ZlibRs,
                },
                detail,
                jobs: self.jobs,
                classify: !self.sizes_only,
                layer_cache: (!self.no_cache).then(|| cache_dir.clone()),
                rule_files: {
                    let project = PathBuf::from(imgaudit::classify::PROJECT_RULES);
                    let mut files = Vec::new();
                    if project.is_file() {
                        files.push(project);
                    }
                    files.extend(self.rules);
                    files
                },
            },
            progress: !self.quiet && std::io::stderr().is_terminal(),
        })
    }
}

impl AnalyzeArgs {
    fn into_settings(self) -> anyhow::Result<AnalyzeSettings> {
        let images = self
            .images
            .iter()
            .map(|i| ImageRef::parse(i))
            .collect::<Result<Vec<_>, _>>()?;
        let format = Format::from(self.format);
        // The HTML treemap of one image needs every final path.
        let paths = format == Format::Html && images.len() == 1 && !self.all_platforms;
        Ok(AnalyzeSettings {
            images,
            all_platforms: self.all_platforms,
            format,
            output: self.output,
            common: self.common.into_common(Detail {
                top: self.top,
                depth: self.depth,
                paths,
            })?,
        })
    }
}

impl DiffArgs {
    fn into_settings(self) -> anyhow::Result<DiffSettings> {
        Ok(DiffSettings {
            before: ImageRef::parse(&self.before)?,
            after: ImageRef::parse(&self.after)?,
            format: self.format.into(),
            output: self.output,
            top: self.top,
            common: self.common.into_common(Detail {
                top: self.top,
                depth: 3,
                paths: true,
            })?,
        })
    }
}

impl CheckArgs {
    fn into_settings(self) -> anyhow::Result<CheckSettings> {
        let budget = imgaudit::budget::Budget::load(&self.budget)?;
        if budget.needs_baseline() && self.baseline.is_none() {
            bail!(
                "{}: max_growth_bytes / max_growth_percent need --baseline IMAGE",
                self.budget.display()
            );
        }
        Ok(CheckSettings {
            image: ImageRef::parse(&self.image)?,
            baseline: self.baseline.as_deref().map(ImageRef::parse).transpose()?,
            format: self.format.into(),
            output: self.output,
            junit: self.junit,
            annotations: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            common: self.common.into_common(Detail {
                top: 20,
                depth: 3,
                // Every final path only when a rule looks at paths.
                paths: budget.needs_paths() || budget.needs_baseline(),
            })?,
            budget,
        })
    }
}

/// A byte-count progress bar on stderr.
struct Bar(ProgressBar);
impl Progress for Bar {
    fn start(&self, layers: usize, total: u64) {
        self.0.set_length(total);
        self.0.set_message(format!("decoding {layers} layers"));
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn bar(show: bool) -> Bar {
    if !show {
        return Bar(ProgressBar::hidden());
    }
    let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    pb.set_style(style);
    Bar(pb)
}

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

/// Write a report to FILE or standard output (a closed pipe is not an error).
fn emit(
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

fn run_analyze(s: AnalyzeSettings) -> anyhow::Result<ExitCode> {
    if s.all_platforms || s.images.len() > 1 {
        return run_summary(s);
    }
    let analysis = analyze_one(&s.images[0], &s.common, None, None)?;
    let tree = imgaudit::dirtree::build(&analysis, 6, 0.002);
    let mut analysis = analysis;
    // The path list fed the tree; it is not part of the analysis report.
    analysis.paths = None;
    emit(s.output.as_ref(), |w| {
        report::render_analysis(&analysis, tree.as_ref(), s.format, w)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn run_summary(s: AnalyzeSettings) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    for (image, given) in s.images.iter().zip(0..) {
        let label = |p: Option<&str>| match p {
            Some(p) if s.images.len() > 1 => format!("image {} platform {p}", given + 1),
            Some(p) => format!("platform {p}"),
            None => format!("image {}", given + 1),
        };
        if s.all_platforms {
            let platforms = imgaudit::source::platforms(image, &s.common.options.resolve)?;
            for p in platforms {
                let mut options = s.common.options.clone();
                options.resolve.platform = Some(p.clone());
                let a = analyze_one(image, &s.common, Some(&options), Some(&label(Some(&p))))?;
                rows.push(imgaudit::summary::SummaryRow::of(&a));
            }
        } else {
            let a = analyze_one(image, &s.common, None, Some(&label(None)))?;
            rows.push(imgaudit::summary::SummaryRow::of(&a));
        }
    }
    let summary = imgaudit::summary::Summary {
        by_platform: s.all_platforms && s.images.len() == 1,
        rows,
    };
    emit(s.output.as_ref(), |w| {
        report::render_summary(&summary, s.format, w)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn run_diff(s: DiffSettings) -> anyhow::Result<ExitCode> {
    let before = analyze_one(&s.before, &s.common, None, Some("before image"))?;
    let after = analyze_one(&s.after, &s.common, None, Some("after image"))?;
    let d = imgaudit::diff::diff(&before, &after, s.top);
    let trees = if s.format == Format::Html {
        (
            imgaudit::dirtree::build(&before, 5, 0.004),
            imgaudit::dirtree::build(&after, 5, 0.004),
        )
    } else {
        (None, None)
    };
    emit(s.output.as_ref(), |w| {
        report::render_diff(
            &d,
            Some((&before, &after)),
            (trees.0.as_ref(), trees.1.as_ref()),
            s.format,
            w,
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

fn run_check(s: CheckSettings) -> anyhow::Result<ExitCode> {
    let a = analyze_one(&s.image, &s.common, None, None)?;
    let base = match &s.baseline {
        Some(b) => Some(analyze_one(b, &s.common, None, Some("baseline image"))?),
        None => None,
    };
    let r = imgaudit::budget::check(&s.budget, &a, base.as_ref())?;
    if s.annotations {
        // GitHub reads workflow commands from standard output; keep a
        // JSON or HTML report on standard output valid by using stderr then.
        let to_stdout = s.output.is_some() || matches!(s.format, Format::Table | Format::Markdown);
        let mut buf = Vec::new();
        report::annotations::render(&r, &mut buf).context("cannot format annotations")?;
        if to_stdout {
            std::io::stdout().write_all(&buf).ok();
        } else {
            std::io::stderr().write_all(&buf).ok();
        }
    }
    if let Some(path) = &s.junit {
        let path = path.clone();
        emit(Some(&path), |w| report::junit::render(&r, w))?;
    }
    emit(s.output.as_ref(), |w| report::render_check(&r, s.format, w))?;
    Ok(if r.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_cache(args: CacheArgs) -> anyhow::Result<()> {
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
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => args.into_settings().and_then(run_analyze),
        Command::Diff(args) => args.into_settings().and_then(run_diff),
        Command::Check(args) => args.into_settings().and_then(run_check),
        Command::Cache(args) => run_cache(args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let mut msg = format!("imgaudit: error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
