//! The command line as clap derive structs. They hold no logic: `settings.rs`
//! validates them once into settings, `commands.rs` runs those.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Where the bytes in a container image are, and how to get rid of the ones you don't need.
#[derive(Parser)]
#[command(name = "imgaudit", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Analyse one image: size per layer, directory and file, and the bytes wasted by later layers.
    ///
    /// IMAGE is one of:
    ///   docker-archive:PATH[:NAME[:TAG]|:@N]
    ///                               `docker save` output (legacy or Docker 25+), gzip allowed;
    ///                               NAME as skopeo reads it, @N the N-th image
    ///   oci:DIR[:REF|:@N]           an OCI image layout directory
    ///   oci-archive:PATH[:REF|:@N]  an OCI image layout as a tar
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
    /// Explore one image full screen in the terminal: layers, the file tree, and what each layer added, modified, removed and wasted.
    ///
    /// Keys: Tab switches pane, ↑/↓ move, Enter/Space open a directory,
    /// 1-5 filter (added, modified, removed, unmodified, wasted) by the
    /// selected layer, s sorts by size or name, / searches, q quits.
    /// NO_COLOR turns colours off.
    ///
    /// Example:
    ///   imgaudit explore python:3.12-slim
    #[command(verbatim_doc_comment)]
    Explore(ExploreArgs),
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
    /// Show the size history recorded by `analyze`/`check --history DB`: the
    /// records, the steps beyond the series' normal noise and slow creeps.
    ///
    /// DB is a SQLite file or a postgres:// URL (also IMGAUDIT_HISTORY).
    /// See docs/HISTORY.md.
    ///
    /// Examples:
    ///   imgaudit history --history sizes.db --series app --last 30
    ///   imgaudit history --history sizes.db --format markdown > comment.md
    ///   imgaudit history --history sizes.db --format html --output history.html
    ///   imgaudit history import --history sizes.db old/*.json
    #[command(verbatim_doc_comment)]
    History(HistoryArgs),
    /// Print a shell completion script for imgaudit.
    ///
    /// Examples:
    ///   imgaudit completions bash > ~/.local/share/bash-completion/completions/imgaudit
    ///   imgaudit completions zsh > "${fpath[1]}/_imgaudit"
    ///   imgaudit completions fish > ~/.config/fish/completions/imgaudit.fish
    ///   imgaudit completions powershell >> $PROFILE
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print imgaudit's manual page (roff), e.g. `imgaudit man > imgaudit.1`.
    ///
    /// Examples:
    ///   imgaudit man | man -l -
    ///   imgaudit man > /usr/local/share/man/man1/imgaudit.1
    #[command(verbatim_doc_comment)]
    Man,
}

#[derive(Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
    /// The cache directory (default: $XDG_CACHE_HOME/imgaudit).
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Subcommand, Clone, Copy)]
pub enum CacheAction {
    /// Where the cache is, how many layers it holds and their size.
    Info,
    /// Delete every cached layer.
    Prune,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum FormatArg {
    /// Tables for a terminal.
    Table,
    /// Machine-readable JSON (versioned schema).
    Json,
    /// GitHub-flavoured Markdown for a pull-request comment.
    Markdown,
    /// One self-contained HTML file (treemap, layer bars, savings).
    Html,
    /// Every entry of every layer, one JSON object per line (`analyze` of one image).
    Jsonl,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum VerifyArg {
    /// Check each blob against the digest that names its stored bytes.
    Stored,
    /// Also check each compressed layer's decoded tar against its diff_id.
    Full,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum InflateArg {
    /// ISA-L's igzip when this build has it, else zlib-rs.
    Auto,
    /// ISA-L's igzip (C and assembly; the faster one).
    Isal,
    /// flate2's pure-Rust zlib-rs backend.
    ZlibRs,
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// The image(s) to analyse (see above for the accepted forms). With more
    /// than one, one summary row per image.
    #[arg(required = true, num_args = 1.., value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Analyse every platform of a multi-platform image and print one summary row per platform.
    #[arg(long, conflicts_with = "platform")]
    pub all_platforms: bool,
    /// How many of the largest files and directories to list.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Deepest directory level listed under "Largest directories".
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub depth: usize,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Recording a run in the size history (analyze, check).
#[derive(Args)]
pub struct RecordArgs {
    /// Record the run in this size history: a SQLite file (created when
    /// missing) or a postgres:// URL. See docs/HISTORY.md.
    #[arg(long, value_name = "DB", env = "IMGAUDIT_HISTORY")]
    pub history: Option<String>,
    /// The series to record under (default: the image's repository name
    /// without tag or digest; an archive's or layout's file name).
    #[arg(long, value_name = "NAME", requires = "history")]
    pub series: Option<String>,
    /// A label for the record, KEY=VALUE; repeatable. Added to what the CI
    /// environment says (commit, branch, pull_request, run_url).
    #[arg(long, value_name = "KEY=VALUE", requires = "history")]
    pub label: Vec<String>,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// The size history: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "DB", env = "IMGAUDIT_HISTORY")]
    pub history: Option<String>,
    /// Only this series (default: every series).
    #[arg(long, value_name = "NAME")]
    pub series: Option<String>,
    /// Only the last N records (of the selection).
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// Only records with this label, KEY=VALUE; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum HistoryAction {
    /// Backfill records from saved `analyze --format json` output.
    ///
    /// Each file is recorded as if `analyze` had just run, dated by the file's
    /// modification time.
    Import {
        /// Saved `imgaudit analyze IMAGE --format json` output.
        #[arg(required = true, value_name = "FILE.json")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        record: RecordArgs,
    },
}

#[derive(Args)]
pub struct ExploreArgs {
    /// The image to explore (the forms `analyze` accepts).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The image before the change.
    pub before: String,
    /// The image after the change.
    pub after: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many packages and paths to list per kind of change.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The image to check.
    pub image: String,
    /// Budget file: TOML (see docs/BUDGETS.md), or a dive `.dive-ci` file
    /// (named `.dive-ci`, `*.dive-ci`, `*.yaml` or `*.yml`). Default:
    /// `./imgaudit.toml`, else `./.dive-ci`, when present (the one used is
    /// named on standard error).
    #[arg(long, value_name = "FILE")]
    pub budget: Option<PathBuf>,
    /// Image to compare with for max_growth_bytes / max_growth_percent.
    #[arg(long, value_name = "IMAGE")]
    pub baseline: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the findings as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// With --history and no --baseline: take the baseline from the latest
    /// record carrying this label, KEY=VALUE (repeatable), instead of the
    /// latest record of the series.
    #[arg(
        long,
        value_name = "KEY=VALUE",
        requires = "history",
        conflicts_with = "baseline"
    )]
    pub baseline_label: Vec<String>,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by every command that reads images.
#[derive(Args)]
pub struct CommonArgs {
    /// Platform to pick from a multi-platform image (os/arch[/variant], or
    /// a short form: `arm64`), matched as containerd does. Default:
    /// linux/amd64, or the only one present.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Registry user name (the password is read from standard input: --password-stdin).
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password (or token) from standard input; needs --username.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Allow plain http (no TLS) to a registry that is not on loopback.
    #[arg(long)]
    pub insecure: bool,
    /// Fetch foreign (non-distributable) layers from the URLs in their
    /// descriptors when the registry does not serve them (never with credentials).
    #[arg(long)]
    pub allow_foreign_layers: bool,
    /// Accept a bearer-token realm on a link-local address, or on a private or
    /// loopback address when the registry is public (see docs/SECURITY.md).
    #[arg(long)]
    pub allow_private_realm: bool,
    /// Digest checking: `stored` checks every blob as stored; `full` also hashes each
    /// decompressed layer against its diff_id (slower).
    #[arg(
        long,
        value_enum,
        default_value = "stored",
        conflicts_with = "no_verify"
    )]
    pub verify: VerifyArg,
    /// Skip digest verification entirely (faster; the image's integrity is then not checked).
    #[arg(long)]
    pub no_verify: bool,
    /// Gzip decoder. Both verify every gzip CRC and accept the same streams;
    /// `zlib-rs` is the pure-Rust fallback if you suspect the default.
    #[arg(long, value_enum, value_name = "DECODER", default_value = "auto")]
    pub inflate: InflateArg,
    /// Refuse layers that decompress to more than this (guards against
    /// bombs). Bytes, or a size with a unit as in budget files: `2 GB`,
    /// `1.5GiB`, `500M`.
    #[arg(long, value_name = "SIZE", default_value = "1 TiB", value_parser = imgaudit::budget::parse_size_arg)]
    pub max_layer_bytes: u64,
    /// Refuse images with more entries than this, all layers together
    /// (bounds memory: roughly 150 bytes per entry).
    #[arg(long, value_name = "N", default_value_t = imgaudit::layer::DEFAULT_MAX_ENTRIES)]
    pub max_entries: u64,
    /// Decoder threads (default: one per core).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Directory for temporary and cached data (default: $XDG_CACHE_HOME/imgaudit).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Neither read nor write the layer cache: every layer is read, decoded and
    /// verified again. (A cached layer of a local image is used only when its
    /// blob is still there with the recorded size, and is re-hashed only
    /// under --verify full.)
    #[arg(long, env = "IMGAUDIT_NO_CACHE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_cache: bool,
    /// Extra category rules (TOML, see docs/CATEGORIES.md); repeatable. A
    /// `.imgaudit-rules.toml` in the working directory is read first when present.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Sizes only: skip the content probes (ELF debug sections, package
    /// databases), categories, packages and the savings breakdown.
    #[arg(long)]
    pub sizes_only: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Tables at full width. By default a table on a terminal is fitted to
    /// its width (optional columns dropped with a note, long commands cut);
    /// a file or a pipe always gets full width.
    #[arg(long)]
    pub wide: bool,
}
