//! The `imgaudit` binary: parse arguments, turn them into validated settings
//! once, call the library, print the error chain once, map to exit codes
//! (0 ok, 1 budget failed, 2 error).

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use imgaudit::analysis::Detail;
use imgaudit::layer::{Limits, Verify};
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
}

#[derive(Copy, Clone, ValueEnum)]
enum FormatArg {
    /// Tables for a terminal.
    Table,
    /// Machine-readable JSON (versioned schema).
    Json,
}

#[derive(Copy, Clone, ValueEnum)]
enum VerifyArg {
    /// Check each blob against the digest that names its stored bytes.
    Stored,
    /// Also check each compressed layer's decoded tar against its diff_id.
    Full,
}

#[derive(Args)]
struct AnalyzeArgs {
    /// The image to analyse (see above for the accepted forms).
    image: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    /// Default: linux/amd64, or the only one present.
    #[arg(long, value_name = "OS/ARCH", conflicts_with = "all_platforms")]
    platform: Option<String>,
    /// Analyse every platform of a multi-platform image and print one summary row per platform.
    #[arg(long)]
    all_platforms: bool,
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
    /// How many of the largest files and directories to list.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
    /// Deepest directory level listed under "Largest directories".
    #[arg(long, default_value_t = 3, value_name = "N")]
    depth: usize,
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
    /// Refuse layers that decompress to more than this many bytes (guards against bombs).
    #[arg(long, value_name = "BYTES", default_value_t = 1u64 << 40)]
    max_layer_bytes: u64,
    /// Decoder threads (default: one per core).
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
    /// Directory for temporary and cached data (default: $XDG_CACHE_HOME/imgaudit).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
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

/// Validated settings for one `analyze` run.
struct AnalyzeSettings {
    image: ImageRef,
    all_platforms: bool,
    format: Format,
    output: Option<PathBuf>,
    options: AnalyzeOptions,
    progress: bool,
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

impl AnalyzeArgs {
    fn into_settings(self) -> anyhow::Result<AnalyzeSettings> {
        if self.jobs == Some(0) {
            bail!("--jobs must be at least 1");
        }
        let image = ImageRef::parse(&self.image)?;
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
        Ok(AnalyzeSettings {
            image,
            all_platforms: self.all_platforms,
            format: match self.format {
                FormatArg::Table => Format::Table,
                FormatArg::Json => Format::Json,
            },
            output: self.output,
            options: AnalyzeOptions {
                resolve: ResolveOptions {
                    platform: self.platform,
                    cache_dir: Some(self.cache_dir.unwrap_or_else(default_cache_dir)),
                    insecure: self.insecure,
                    credentials,
                    allow_foreign_layers: self.allow_foreign_layers,
                    allow_private_realm: self.allow_private_realm,
                },
                verify,
                limits: Limits {
                    max_layer_bytes: self.max_layer_bytes,
                },
                detail: Detail {
                    top: self.top,
                    depth: self.depth,
                },
                jobs: self.jobs,
                classify: !self.sizes_only,
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

fn run_analyze(s: AnalyzeSettings) -> anyhow::Result<()> {
    if s.all_platforms {
        return run_all_platforms(s);
    }
    let bar = if s.progress {
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        pb.set_style(style);
        pb
    } else {
        ProgressBar::hidden()
    };
    let analysis = imgaudit::analyze(&s.image, &s.options, &Bar(bar))?;
    match &s.output {
        Some(path) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            );
            report::render(&analysis, s.format, &mut f)
                .and_then(|_| f.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            if let Err(e) =
                report::render(&analysis, s.format, &mut lock).and_then(|_| lock.flush())
            {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e).context("cannot write to standard output");
                }
            }
        }
    }
    Ok(())
}

/// One summary row per platform of a multi-platform image.
#[derive(serde::Serialize)]
struct PlatformRow {
    platform: String,
    reference: String,
    source: imgaudit::source::SourceKind,
    manifest_digest: Option<String>,
    layers: usize,
    compressed_bytes: Option<u64>,
    layer_bytes: u64,
    final_bytes: u64,
    wasted_bytes: u64,
    files: u64,
    efficiency: f64,
}

fn run_all_platforms(s: AnalyzeSettings) -> anyhow::Result<()> {
    let platforms = imgaudit::source::platforms(&s.image, &s.options.resolve)?;
    let mut rows = Vec::with_capacity(platforms.len());
    for p in platforms {
        let mut options = s.options.clone();
        options.resolve.platform = Some(p.clone());
        let a = imgaudit::analyze(&s.image, &options, &imgaudit::run::NoProgress)
            .with_context(|| format!("platform {p}"))?;
        rows.push(PlatformRow {
            platform: a.image.platform.clone(),
            reference: a.image.reference.clone(),
            source: a.image.source,
            manifest_digest: a.image.manifest_digest.as_ref().map(|d| d.to_string()),
            layers: a.layers.len(),
            compressed_bytes: a.totals.compressed_bytes,
            layer_bytes: a.totals.layer_bytes,
            final_bytes: a.totals.final_bytes,
            wasted_bytes: a.totals.wasted_bytes,
            files: a.totals.files,
            efficiency: a.totals.efficiency,
        });
    }
    let mut out: Box<dyn Write> = match &s.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let written = match s.format {
        Format::Json => serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "schema_version": 1, "platforms": rows }),
        )
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out)),
        Format::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header([
                "platform",
                "layers",
                "compressed",
                "layer bytes",
                "final",
                "wasted",
                "files",
                "efficiency",
                "manifest",
            ]);
            for r in &rows {
                t.add_row([
                    r.platform.clone(),
                    r.layers.to_string(),
                    r.compressed_bytes
                        .map(imgaudit::units::human)
                        .unwrap_or_else(|| "unknown".into()),
                    imgaudit::units::human(r.layer_bytes),
                    imgaudit::units::human(r.final_bytes),
                    imgaudit::units::human(r.wasted_bytes),
                    r.files.to_string(),
                    format!("{:.1}%", r.efficiency * 100.0),
                    r.manifest_digest
                        .as_deref()
                        .map(|d| d.chars().take(19).collect())
                        .unwrap_or_default(),
                ]);
            }
            writeln!(
                out,
                "{}",
                rows.first().map(|r| r.reference.as_str()).unwrap_or("")
            )
            .and_then(|_| writeln!(out, "{t}"))
        }
    };
    match written.and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write the report")
        }
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => args.into_settings().and_then(run_analyze),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
