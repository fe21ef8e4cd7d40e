//! The size history on the command line: recording a run of `analyze` or
//! `check` (`--history DB`, `--series`, `--label`, the CI environment's
//! labels), `history import`, and the `history` command itself.

use super::args::{HistoryAction, HistoryArgs, RecordArgs};
use super::settings::check_writable;
use anyhow::{bail, Context};
use imgaudit::analysis::Analysis;
use imgaudit::history::{self, Query, Record, Store};
use imgaudit::report::Format;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where and how to record a run, validated (the store is opened, so a file
/// that is not a history is refused before any image is read).
pub struct Recorder {
    pub store: Box<dyn Store>,
    pub series: Option<String>,
    pub labels: BTreeMap<String, String>,
}

fn parse_labels(given: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|l| history::parse_label(l).with_context(|| "--label"))
        .collect()
}

impl RecordArgs {
    /// `None` without `--history` (and no `IMGAUDIT_HISTORY`).
    pub fn into_recorder(self) -> anyhow::Result<Option<Recorder>> {
        let Some(location) = self.history.filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        let mut labels = history::ci_labels(|k| std::env::var(k).ok());
        for (k, v) in parse_labels(&self.label)? {
            labels.insert(k, v);
        }
        let store = history::open(&location, true).context("--history")?;
        Ok(Some(Recorder {
            store,
            series: self.series,
            labels,
        }))
    }
}

impl Recorder {
    /// Record a finished analysis; returns the record's id.
    pub fn record(&mut self, a: &Analysis) -> anyhow::Result<i64> {
        let r = Record::of(a, self.series.as_deref(), self.labels.clone());
        let id = self
            .store
            .insert(&r)
            .context("cannot record the run in the size history")?;
        Ok(id)
    }

    /// The baseline for `check`: the latest record of `a`'s series (with
    /// `labels`, when given). Without one, the run itself (growth 0), with
    /// a note.
    pub fn baseline(
        &mut self,
        a: &Analysis,
        labels: &[(String, String)],
    ) -> anyhow::Result<Analysis> {
        let series = self.series_of(a);
        let q = Query {
            series: Some(series.clone()),
            labels: labels.to_vec(),
            last: Some(1),
        };
        let found = self.store.records(&q)?;
        let with = if labels.is_empty() {
            String::new()
        } else {
            let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(" with {}", l.join(", "))
        };
        match found.last() {
            Some(r) => {
                eprintln!(
                    "imgaudit: baseline: history record {} of series {series}{with} ({}, {})",
                    r.id, r.image.reference, r.recorded_at
                );
                Ok(r.baseline_analysis("--history")?)
            }
            None => {
                eprintln!(
                    "imgaudit: note: no record of series {series}{with} in the history yet: the growth rules compare this build with itself"
                );
                Ok(a.clone())
            }
        }
    }

    /// The growth window for `growth_window.max_percent`: the series' last
    /// `builds` records (with `labels`, when given) before this run.
    pub fn window(
        &mut self,
        a: &Analysis,
        builds: usize,
        labels: &[(String, String)],
    ) -> anyhow::Result<imgaudit::budget::Window> {
        use imgaudit::budget::{Contributor, ContributorKind};
        let series = self.series_of(a);
        let q = Query {
            series: Some(series.clone()),
            labels: labels.to_vec(),
            last: Some(builds),
        };
        let mut records = self.store.records(&q)?;
        let Some(first) = records.first() else {
            eprintln!(
                "imgaudit: note: no record of series {series} in the history yet: growth_window compares this build with itself"
            );
            return Ok(imgaudit::budget::Window {
                builds: 0,
                base_final_bytes: a.totals.final_bytes,
                contributors: Vec::new(),
            });
        };
        let base_final_bytes = first.totals.final_bytes;
        let n = records.len();
        let mut now = Record::of(a, Some(&series), self.labels.clone());
        now.id = i64::MAX;
        records.push(now);
        let names: std::collections::HashMap<i64, String> = records
            .iter()
            .map(|r| {
                let commit = r
                    .labels
                    .get("commit")
                    .map(|c| format!(", commit {}", &c[..c.len().min(12)]))
                    .unwrap_or_default();
                let name = if r.id == i64::MAX {
                    format!("this build ({}{commit})", r.image.reference)
                } else {
                    format!("record {} ({}{commit})", r.id, r.image.reference)
                };
                (r.id, name)
            })
            .collect();
        let h = history::analyse(records);
        let mut grew: Vec<_> = h.steps.iter().filter(|s| s.final_bytes_delta > 0).collect();
        grew.sort_by_key(|s| std::cmp::Reverse(s.final_bytes_delta));
        Ok(imgaudit::budget::Window {
            builds: n,
            base_final_bytes,
            contributors: grew
                .into_iter()
                .take(10)
                .map(|s| Contributor {
                    name: names[&s.to].clone(),
                    bytes: Some(s.final_bytes_delta as u64),
                    layer: None,
                    kind: ContributorKind::Item,
                })
                .collect(),
        })
    }

    /// The series `a` is recorded under.
    pub fn series_of(&self, a: &Analysis) -> String {
        match &self.series {
            Some(s) => s.clone(),
            None => history::series_of(&a.image.reference, Some(source_name(a))),
        }
    }
}

fn source_name(a: &Analysis) -> &'static str {
    use imgaudit::source::SourceKind::*;
    match a.image.source {
        DockerArchive => "docker-archive",
        Oci => "oci",
        OciArchive => "oci-archive",
        Registry => "registry",
        DockerDaemon => "docker-daemon",
    }
}

/// `imgaudit history [import]`.
pub fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(HistoryAction::Import { files, record }) => import(files, record),
        None => show(args),
    }
}

fn import(files: Vec<PathBuf>, record: RecordArgs) -> anyhow::Result<ExitCode> {
    if record.history.as_deref().map_or(true, str::is_empty) {
        bail!("history import needs --history DB (or IMGAUDIT_HISTORY)");
    }
    let mut rec = record.into_recorder()?.expect("--history was checked");
    // Every file is read and checked before the first record is written.
    let mut records = Vec::new();
    for f in &files {
        let what = f.display().to_string();
        let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {what}"))?;
        let mut r = Record::from_json(&text, &what, rec.series.as_deref(), BTreeMap::new())?;
        if let Ok(t) = std::fs::metadata(f).and_then(|m| m.modified()) {
            r.recorded_at = history::rfc3339(t);
        }
        records.push(r);
    }
    for (f, mut r) in files.iter().zip(records) {
        r.labels = rec.labels.clone();
        let id = rec
            .store
            .insert(&r)
            .with_context(|| format!("cannot record {}", f.display()))?;
        eprintln!(
            "imgaudit: recorded {} as record {id} of series {}",
            f.display(),
            r.series
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let Some(location) = args.history.filter(|h| !h.is_empty()) else {
        bail!("history needs --history DB (or IMGAUDIT_HISTORY)");
    };
    if let Some(o) = &args.output {
        check_writable("--output", o)?;
    }
    if args.last == Some(0) {
        bail!("--last must be at least 1");
    }
    let q = Query {
        series: args.series,
        labels: parse_labels(&args.label)?,
        last: args.last,
    };
    super::settings::refuse_jsonl(args.format, "history")?;
    let mut store = history::open(&location, false).context("--history")?;
    let records = store.records(&q)?;
    let h = history::analyse(records);
    let format = Format::from(args.format);
    let o = match &args.output {
        Some(_) => imgaudit::report::RenderOptions::default(),
        None => imgaudit::report::RenderOptions::for_stdout(false),
    };
    super::commands::emit(args.output.as_ref(), |w| {
        imgaudit::report::render_history(&h, format, &o, w)
    })?;
    Ok(ExitCode::SUCCESS)
}
