//! Validation: the clap structs of `args.rs` become settings once, here.
//! Everything that can be refused before an image is read is refused here
//! (unwritable `--output`/`--junit` paths, a missing budget, bad numbers),
//! so a mistake costs nothing, not a decoded image.

use super::args::{AnalyzeArgs, CheckArgs, CommonArgs, DiffArgs, FormatArg, InflateArg, VerifyArg};
use anyhow::{bail, Context};
use imgaudit::analysis::Detail;
use imgaudit::budget::Budget;
use imgaudit::layer::{Inflater, Limits, Verify};
use imgaudit::report::Format;
use imgaudit::run::AnalyzeOptions;
use imgaudit::source::registry::auth::Credentials;
use imgaudit::source::{ImageRef, ResolveOptions, RetryHook, RetryNotice};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// Validated settings shared by every command that reads images.
pub struct Common {
    pub options: AnalyzeOptions,
    pub progress: bool,
    /// `--wide`: tables at full width even on a terminal.
    pub wide: bool,
}

/// Validated settings for one `analyze` run.
pub struct AnalyzeSettings {
    /// Each image as the user wrote it, and its parsed reference. With
    /// several images a reference that does not parse is a failed row of the
    /// summary, not the end of the run; with one it is the error.
    pub images: Vec<(String, Result<ImageRef, imgaudit::error::Error>)>,
    pub all_platforms: bool,
    pub format: Format,
    pub output: Option<PathBuf>,
    /// Record each analysis in the size history (`--history`).
    pub record: Option<super::history::Recorder>,
    pub common: Common,
}

/// Validated settings for `diff`.
pub struct DiffSettings {
    pub before: ImageRef,
    pub after: ImageRef,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub top: usize,
    pub common: Common,
}

/// Validated settings for `check`.
pub struct CheckSettings {
    pub image: ImageRef,
    pub baseline: Option<ImageRef>,
    pub budget: Budget,
    /// Set when the budget file was found in the working directory rather
    /// than named with `--budget`: the file used, to say so on stderr.
    pub discovered_budget: Option<PathBuf>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    /// Print GitHub Actions workflow commands (GITHUB_ACTIONS=true).
    pub annotations: bool,
    /// Record the run in the size history (`--history`); the baseline
    /// comes from it when the budget needs one and no --baseline is given.
    pub record: Option<super::history::Recorder>,
    /// `--baseline-label`: the baseline record carries these labels.
    pub baseline_labels: Vec<(String, String)>,
    pub common: Common,
}

pub fn default_cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("imgaudit");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("imgaudit");
    }
    std::env::temp_dir().join("imgaudit")
}

/// Refuse at once a report path that cannot be written (missing or
/// read-only directory, a directory, a read-only file), before any image is
/// read. Nothing is left behind: an existing file is opened without
/// truncation, a new one is removed again.
pub fn check_writable(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("{flag} {}: is a directory, not a file", path.display());
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("{flag} {}: cannot write there", path.display()))?;
    if !existed {
        std::fs::remove_file(path).ok();
    }
    Ok(())
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
        }
    }
}

fn credentials(username: Option<String>) -> anyhow::Result<Option<Credentials>> {
    let Some(username) = username else {
        return Ok(None);
    };
    let mut secret = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut secret)
        .context("cannot read the password from standard input")?;
    let secret = secret.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        bail!("--password-stdin: standard input is empty");
    }
    Ok(Some(Credentials {
        username,
        secret,
        origin: "--username/--password-stdin".into(),
    }))
}

/// On a terminal, a line on stderr for every registry retry: what failed,
/// which attempt, and how long until the next one.
fn retry_lines() -> RetryHook {
    RetryHook(std::sync::Arc::new(|n: &RetryNotice| {
        eprintln!(
            "imgaudit: {}: {} (attempt {} of {}); retrying in {:.1} s",
            n.what,
            n.reason,
            n.attempt,
            n.attempts,
            n.wait.as_secs_f64()
        );
    }))
}

impl CommonArgs {
    fn into_common(self, detail: Detail) -> anyhow::Result<Common> {
        if self.jobs == Some(0) {
            bail!("--jobs must be at least 1");
        }
        let cache_dir = self.cache_dir.clone().unwrap_or_else(default_cache_dir);
        let verify = match (self.no_verify, self.verify) {
            (true, _) => Verify::None,
            (false, VerifyArg::Stored) => Verify::Stored,
            (false, VerifyArg::Full) => Verify::Full,
        };
        let inflater = match self.inflate {
            InflateArg::Auto => Inflater::Auto,
            InflateArg::Isal if !Inflater::ISAL_BUILT => {
                bail!("--inflate isal: this imgaudit was built without the `isal` feature (build with `--features isal`)")
            }
            InflateArg::Isal => Inflater::Isal,
            InflateArg::ZlibRs => Inflater::ZlibRs,
        };
        let show_progress = !self.quiet && std::io::stderr().is_terminal();
        let project = PathBuf::from(imgaudit::classify::PROJECT_RULES);
        let mut rule_files = Vec::new();
        if project.is_file() {
            rule_files.push(project);
        }
        rule_files.extend(self.rules);
        Ok(Common {
            options: AnalyzeOptions {
                resolve: ResolveOptions {
                    platform: self.platform,
                    cache_dir: Some(cache_dir.clone()),
                    insecure: self.insecure,
                    credentials: credentials(self.username)?,
                    allow_foreign_layers: self.allow_foreign_layers,
                    allow_private_realm: self.allow_private_realm,
                    doc_cache: (!self.no_cache).then(|| cache_dir.clone()),
                    on_retry: show_progress.then(retry_lines),
                },
                verify,
                limits: Limits {
                    max_layer_bytes: self.max_layer_bytes,
                    max_entries: self.max_entries,
                },
                inflater,
                detail,
                jobs: self.jobs,
                classify: !self.sizes_only,
                layer_cache: (!self.no_cache).then(|| cache_dir.clone()),
                rule_files,
            },
            progress: show_progress,
            wide: self.wide,
        })
    }
}

impl AnalyzeArgs {
    pub fn into_settings(self) -> anyhow::Result<AnalyzeSettings> {
        if let Some(o) = &self.output {
            check_writable("--output", o)?;
        }
        let mut images: Vec<_> = self
            .images
            .iter()
            .map(|i| (i.clone(), ImageRef::parse(i)))
            .collect();
        if images.len() == 1 {
            if let (_, Err(e)) = images.remove(0) {
                return Err(e.into());
            }
            images = vec![(self.images[0].clone(), ImageRef::parse(&self.images[0]))];
        }
        let format = Format::from(self.format);
        if format == Format::Jsonl && (images.len() > 1 || self.all_platforms) {
            anyhow::bail!("--format jsonl: one image, one platform at a time");
        }
        // The HTML treemap of one image needs every final path.
        let paths = format == Format::Html && images.len() == 1 && !self.all_platforms;
        Ok(AnalyzeSettings {
            images,
            all_platforms: self.all_platforms,
            format,
            output: self.output,
            record: self.record.into_recorder()?,
            common: self.common.into_common(Detail {
                top: self.top,
                depth: self.depth,
                paths,
            })?,
        })
    }
}

/// Validated settings for `explore`.
pub struct ExploreSettings {
    pub image: ImageRef,
    pub common: Common,
}

impl super::args::ExploreArgs {
    pub fn into_settings(self) -> anyhow::Result<ExploreSettings> {
        Ok(ExploreSettings {
            image: ImageRef::parse(&self.image)?,
            common: self.common.into_common(Detail {
                top: 20,
                depth: 3,
                paths: true,
            })?,
        })
    }
}

impl DiffArgs {
    pub fn into_settings(self) -> anyhow::Result<DiffSettings> {
        refuse_jsonl(self.format, "diff")?;
        if let Some(o) = &self.output {
            check_writable("--output", o)?;
        }
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

/// The budget named with `--budget`, else the one found in the working
/// directory (`Budget::discover`: `imgaudit.toml`, else `.dive-ci`), with
/// its file when it was found rather than named.
fn budget(given: Option<PathBuf>) -> anyhow::Result<(Budget, PathBuf, bool)> {
    if let Some(p) = given {
        return Ok((Budget::load(&p)?, p, false));
    }
    let (file, budget) = Budget::discover(Path::new(""))?.with_context(|| {
        format!(
            "no budget: pass --budget FILE, or put {} or {} in the working directory (see docs/BUDGETS.md)",
            imgaudit::budget::DISCOVERED[0], imgaudit::budget::DISCOVERED[1]
        )
    })?;
    Ok((budget, file, true))
}

impl CheckArgs {
    pub fn into_settings(self) -> anyhow::Result<CheckSettings> {
        refuse_jsonl(self.format, "check")?;
        for (flag, path) in [("--output", &self.output), ("--junit", &self.junit)] {
            if let Some(p) = path {
                check_writable(flag, p)?;
            }
        }
        let (budget, file, discovered) = budget(self.budget)?;
        let record = self.record.into_recorder()?;
        if budget.needs_baseline() && self.baseline.is_none() && record.is_none() {
            bail!(
                "{}: max_growth_bytes / max_growth_percent need --baseline IMAGE or --history DB",
                file.display()
            );
        }
        if budget.needs_window() && record.is_none() {
            bail!(
                "{}: growth_window needs the size history: --history DB",
                file.display()
            );
        }
        let image = ImageRef::parse(&self.image)?;
        let baseline = self.baseline.as_deref().map(ImageRef::parse).transpose()?;
        Ok(CheckSettings {
            image,
            baseline,
            discovered_budget: discovered.then_some(file),
            format: self.format.into(),
            output: self.output,
            junit: self.junit,
            annotations: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            record,
            baseline_labels: self
                .baseline_label
                .iter()
                .map(|l| imgaudit::history::parse_label(l))
                .collect::<Result<_, _>>()
                .context("--baseline-label")?,
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

/// `--format jsonl` is an `analyze` export only.
pub(super) fn refuse_jsonl(f: FormatArg, command: &str) -> anyhow::Result<()> {
    if matches!(f, FormatArg::Jsonl) {
        anyhow::bail!("--format jsonl is for `analyze` only, not `{command}`");
    }
    Ok(())
}
