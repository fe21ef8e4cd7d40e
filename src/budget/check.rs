//! Rule evaluation: [`check`] walks the rules the budget sets (in the
//! order of the table in `rules.rs`) and turns each into a [`Finding`]:
//! measure, compare, and for an exceeded rule list the contributors.

use super::model::{bad, globs, Budget, Limit, RuleLimit};
use super::report::{CheckReport, Counts};
use super::rules::{Cmp, Contributors, LayerKey, Measure};
use crate::analysis::{Analysis, LayerInfo, PathEntry, SCHEMA_VERSION};
use crate::diff::Diff;
use crate::error::{Error, Result};
use crate::finding::{Amount, Contributor, ContributorKind, Finding, Level, Status};
use globset::GlobSet;
use std::collections::BTreeMap;

/// Contributors listed per finding (five times as many matching paths for
/// `forbidden_paths`).
const CONTRIBUTORS: usize = 10;

/// Evaluate `budget` on `a` (and `baseline` for growth rules).
pub fn check(budget: &Budget, a: &Analysis, baseline: Option<&Analysis>) -> Result<CheckReport> {
    check_with_window(budget, a, baseline, None)
}

/// The growth window of the size history for `growth_window.max_percent`:
/// the oldest of the series' last `builds` records, and the builds in the
/// window that grew the most (its contributors).
#[derive(Debug, Clone)]
pub struct Window {
    /// Records in the window (before this run).
    pub builds: usize,
    pub base_final_bytes: u64,
    pub contributors: Vec<Contributor>,
}

/// [`check`] with the size history's growth window.
pub fn check_with_window(
    budget: &Budget,
    a: &Analysis,
    baseline: Option<&Analysis>,
    window: Option<&Window>,
) -> Result<CheckReport> {
    let mut ctx = Ctx::new(budget, a, baseline)?;
    ctx.window = window;
    let findings = budget
        .limits
        .iter()
        .map(|rl| ctx.evaluate(rl))
        .collect::<Result<Vec<_>>>()?;
    let counts = Counts::of(&findings);
    Ok(CheckReport {
        schema_version: SCHEMA_VERSION,
        image: a.image.reference.clone(),
        platform: a.image.platform.clone(),
        baseline: baseline.map(|b| b.image.reference.clone()),
        budget: budget.origin.clone(),
        passed: counts.fail == 0,
        counts,
        excluded_paths: ctx.excluded_paths,
        excluded_bytes: ctx.excluded_bytes,
        findings,
        notes: budget.notes.clone(),
    })
}

/// dive's `WastedUserPercent`: its wasted bytes over the file bytes of every
/// layer above the first (a ratio, despite the name).
pub fn dive_user_wasted_ratio(a: &Analysis) -> f64 {
    let user: u64 = a.layers.iter().skip(1).map(|l| l.file_bytes).sum();
    a.totals.dive_wasted_bytes as f64 / user as f64
}

/// What every rule may look at: the analysis, the paths left after
/// exclusions, and the diff with the baseline.
struct Ctx<'a> {
    budget: &'a Budget,
    a: &'a Analysis,
    /// Final paths not excluded, in the analysis's order.
    kept: Vec<&'a PathEntry>,
    excluded_paths: u64,
    excluded_bytes: u64,
    excluded_by_cat: BTreeMap<&'a str, u64>,
    /// Download bytes of the excluded paths, per category.
    excluded_download_by_cat: BTreeMap<&'a str, u64>,
    /// Download bytes of each kept path (parallel to `kept`; 0 when the
    /// analysis kept no per-path changes).
    kept_download: Vec<u64>,
    forbid: GlobSet,
    diff: Option<Diff>,
    window: Option<&'a Window>,
}

fn rel(p: &str) -> &str {
    p.trim_start_matches('/')
}

impl<'a> Ctx<'a> {
    fn new(budget: &'a Budget, a: &'a Analysis, baseline: Option<&'a Analysis>) -> Result<Self> {
        let origin = &budget.origin;
        let exclude = globs(origin, &budget.exclude_paths)?;
        let cat_ids: &[String] = a.paths.as_ref().map_or(&[], |p| &p.categories[..]);
        let mut ctx = Ctx {
            budget,
            a,
            kept: Vec::new(),
            excluded_paths: 0,
            excluded_bytes: 0,
            excluded_by_cat: BTreeMap::new(),
            excluded_download_by_cat: BTreeMap::new(),
            kept_download: Vec::new(),
            forbid: globs(origin, &budget.forbidden_paths)?,
            diff: None,
            window: None,
        };
        let downloads: &[u64] = a.changes.as_ref().map_or(&[], |c| &c.file_downloads[..]);
        for (i, e) in a.paths.iter().flat_map(|p| &p.entries).enumerate() {
            let download = downloads.get(i).copied().unwrap_or(0);
            if budget.exclude_paths.is_empty() || !exclude.is_match(rel(&e.path)) {
                ctx.kept.push(e);
                ctx.kept_download.push(download);
                continue;
            }
            ctx.excluded_paths += 1;
            ctx.excluded_bytes += e.bytes;
            if let Some(c) = e.category.and_then(|c| cat_ids.get(c as usize)) {
                *ctx.excluded_by_cat.entry(c.as_str()).or_default() += e.bytes;
                *ctx.excluded_download_by_cat.entry(c.as_str()).or_default() += download;
            }
        }
        if let (true, Some(base)) = (budget.needs_baseline(), baseline) {
            ctx.diff = Some(crate::diff::diff(base, a, CONTRIBUTORS));
        }
        Ok(ctx)
    }

    /// One rule: measure, compare, contributors, message.
    fn evaluate(&self, rl: &RuleLimit) -> Result<Finding> {
        let rule = rl.rule;
        let measured = self.measure(rl)?;
        let over = match rule.cmp {
            Cmp::Max => measured.above(rl.limit.value),
            Cmp::Min => measured.below(rl.limit.value),
        };
        let status = match (over, rl.limit.level) {
            (false, _) => Status::Pass,
            (true, Level::Warn) => Status::Warn,
            (true, Level::Fail) => Status::Fail,
        };
        let contributors = if over {
            self.contributors(rl)
        } else {
            Vec::new()
        };
        let message = message(self.budget, rl, measured, over);
        Ok(Finding {
            code: rule.code,
            rule: rl.key(),
            level: rl.limit.level,
            status,
            unit: rule.unit,
            measured,
            limit: rl.limit.value,
            message,
            contributors,
            layer: None,
            bytes: None,
        })
    }

    fn measure(&self, rl: &RuleLimit) -> Result<Amount> {
        let (a, t) = (self.a, &self.a.totals);
        let origin = &self.budget.origin;
        Ok(match rl.rule.measure {
            Measure::FinalBytes => Amount::Int(t.final_bytes.saturating_sub(self.excluded_bytes)),
            Measure::CompressedBytes => Amount::Int(t.compressed_bytes.ok_or_else(|| {
                Error::Unsupported(format!(
                    "{origin}: max_compressed_bytes: the compressed size of {} is unknown (legacy docker-save archive)",
                    a.image.reference
                ))
            })?),
            Measure::WastedBytes => Amount::Int(t.wasted_bytes),
            Measure::WastedPercent => Amount::Real(if t.layer_bytes > 0 {
                t.wasted_bytes as f64 * 100.0 / t.layer_bytes as f64
            } else {
                0.0
            }),
            Measure::Efficiency => Amount::Real(t.efficiency),
            Measure::LayerCount => Amount::Int(a.layers.len() as u64),
            Measure::LargestLayer => {
                Amount::Int(a.layers.iter().map(|x| x.file_bytes).max().unwrap_or(0))
            }
            Measure::RemovableBytes => match &a.savings {
                Some(s) => Amount::Int(s.removable_bytes),
                None => {
                    return Err(Error::Unsupported(format!(
                    "{origin}: max_removable_bytes needs the savings breakdown (do not pass --sizes-only)"
                )))
                }
            },
            Measure::CategoryBytes => Amount::Int(self.category_bytes(rl)?),
            Measure::ForbiddenPaths => {
                if a.paths.is_none() {
                    return Err(Error::Unsupported(
                        "forbidden_paths: the analysis carries no path list".into(),
                    ));
                }
                Amount::Int(self.forbidden().count() as u64)
            }
            Measure::GrowthBytes => Amount::Int(self.diff()?.totals.final_bytes.delta.max(0) as u64),
            Measure::GrowthPercent => {
                let c = &self.diff()?.totals.final_bytes;
                let growth = if c.delta > 0 { f64::INFINITY } else { 0.0 };
                Amount::Real(c.percent.unwrap_or(growth).max(0.0))
            }
            Measure::WindowGrowthPercent => {
                let w = self.window.ok_or_else(|| {
                    Error::Unsupported(format!(
                        "{origin}: growth_window needs the size history: --history DB"
                    ))
                })?;
                let grown = t.final_bytes.saturating_sub(w.base_final_bytes);
                Amount::Real(match (grown, w.base_final_bytes) {
                    (0, _) => 0.0,
                    (_, 0) => f64::INFINITY,
                    (g, b) => g as f64 * 100.0 / b as f64,
                })
            }
            Measure::DownloadBytes => Amount::Int(t.download_bytes),
            Measure::CategoryDownloadBytes => Amount::Int(self.category_download_bytes(rl)?),
            Measure::DownloadGrowthBytes => {
                Amount::Int(self.diff()?.totals.download_bytes.delta.max(0) as u64)
            }
            Measure::DiveWastedBytes => Amount::Int(t.dive_wasted_bytes),
            Measure::DiveUserWastedRatio => Amount::Real(dive_user_wasted_ratio(a)),
        })
    }

    fn diff(&self) -> Result<&Diff> {
        self.diff.as_ref().ok_or_else(|| {
            Error::Unsupported(format!(
                "{}: max_growth_bytes / max_growth_percent / max_download_growth_bytes need --baseline IMAGE",
                self.budget.origin
            ))
        })
    }

    /// A category's final bytes less its excluded bytes; errors for an
    /// unknown category or an analysis without categories.
    fn category_bytes(&self, rl: &RuleLimit) -> Result<u64> {
        let c = self.category(rl)?;
        let excluded = self
            .excluded_by_cat
            .get(c.id.as_str())
            .copied()
            .unwrap_or(0);
        Ok(c.final_bytes.saturating_sub(excluded))
    }

    /// A category's final download bytes less those of its excluded paths.
    fn category_download_bytes(&self, rl: &RuleLimit) -> Result<u64> {
        let c = self.category(rl)?;
        let excluded = self
            .excluded_download_by_cat
            .get(c.id.as_str())
            .copied()
            .unwrap_or(0);
        Ok(c.final_download_bytes.saturating_sub(excluded))
    }

    /// The category a per-category rule names; errors for an unknown
    /// category or an analysis without categories.
    fn category(&self, rl: &RuleLimit) -> Result<&'a crate::breakdown::CategoryInfo> {
        let id = rl.category.as_deref().unwrap_or_default();
        let origin = &self.budget.origin;
        if self.a.savings.is_none() {
            return Err(Error::Unsupported(format!(
                "{origin}: category.{id} needs categories (do not pass --sizes-only)"
            )));
        }
        let Some(c) = self.a.categories.iter().find(|c| c.id == id) else {
            let known: Vec<&str> = self.a.categories.iter().map(|c| c.id.as_str()).collect();
            return Err(bad(
                origin,
                format!(
                    "category.{id}: unknown category (known: {})",
                    known.join(", ")
                ),
            ));
        };
        Ok(c)
    }

    fn forbidden(&self) -> impl Iterator<Item = &&'a PathEntry> + '_ {
        self.kept
            .iter()
            .filter(|e| self.forbid.is_match(rel(&e.path)))
    }

    fn contributors(&self, rl: &RuleLimit) -> Vec<Contributor> {
        match rl.rule.contributors {
            Contributors::LargestPaths if self.kept.is_empty() => self
                .a
                .largest_files
                .iter()
                .take(CONTRIBUTORS)
                .map(|f| path_contributor(&f.path, f.bytes, f.layer))
                .collect(),
            Contributors::LargestPaths => self.largest_paths(|_| true),
            Contributors::Layers(key) => self.layers_by(key, rl.limit),
            Contributors::RemovableGroups => self.removable_groups(),
            Contributors::CategoryPaths => self.category_paths(rl),
            Contributors::ForbiddenPaths => self
                .forbidden()
                .take(CONTRIBUTORS * 5)
                .map(|e| path_contributor(&e.path, e.bytes, e.layer))
                .collect(),
            Contributors::GrownPaths => self.grown_paths(),
            Contributors::WindowBuilds => self
                .window
                .map(|w| w.contributors.clone())
                .unwrap_or_default(),
            Contributors::CategoryDownloadPaths => self.category_download_paths(rl),
            Contributors::NewLayers => self.new_layers(),
        }
    }

    /// The category's paths with the most download bytes; without per-path
    /// figures, or for package-rule categories, its savings items.
    fn category_download_paths(&self, rl: &RuleLimit) -> Vec<Contributor> {
        let id = rl.category.as_deref().unwrap_or_default();
        let cat_ids: &[String] = self.a.paths.as_ref().map_or(&[], |p| &p.categories[..]);
        let idx = cat_ids.iter().position(|x| x == id).map(|i| i as u16);
        let mut v: Vec<(&PathEntry, u64)> = self
            .kept
            .iter()
            .zip(&self.kept_download)
            .filter(|(e, &d)| d > 0 && idx.is_some() && e.category == idx)
            .map(|(e, &d)| (*e, d))
            .collect();
        if v.is_empty() {
            return self.category_items(id, |it| it.download_bytes);
        }
        v.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.path.cmp(&y.0.path)));
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|(e, d)| path_contributor(&e.path, d, e.layer))
            .collect()
    }

    /// The layers of the image the baseline does not have, by download bytes.
    fn new_layers(&self) -> Vec<Contributor> {
        let Some(d) = &self.diff else {
            return Vec::new();
        };
        let mut v: Vec<&LayerInfo> = self
            .a
            .layers
            .iter()
            .filter(|l| {
                d.layers
                    .only_after
                    .iter()
                    .any(|r| r.after_index == Some(l.index))
            })
            .collect();
        v.sort_by(|x, y| {
            y.download_bytes
                .cmp(&x.download_bytes)
                .then(x.index.cmp(&y.index))
        });
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|l| layer_contributor(l, l.download_bytes))
            .collect()
    }

    fn largest_paths(&self, filter: impl Fn(&PathEntry) -> bool) -> Vec<Contributor> {
        let mut v: Vec<&&PathEntry> = self
            .kept
            .iter()
            .filter(|e| e.bytes > 0 && filter(e))
            .collect();
        v.sort_by(|x, y| y.bytes.cmp(&x.bytes).then(x.path.cmp(&y.path)));
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|e| path_contributor(&e.path, e.bytes, e.layer))
            .collect()
    }

    fn layers_by(&self, key: LayerKey, limit: Limit) -> Vec<Contributor> {
        let lim = limit.value.as_f64() as u64;
        let figure = |l: &LayerInfo| match key {
            LayerKey::Compressed => l.compressed_bytes.unwrap_or(0),
            LayerKey::Download => l.download_bytes,
            LayerKey::Wasted => l.wasted_bytes,
            LayerKey::FileBytes => l.file_bytes,
            LayerKey::FileBytesOverLimit if l.file_bytes > lim => l.file_bytes,
            LayerKey::FileBytesOverLimit => 0,
        };
        let mut v: Vec<&LayerInfo> = self.a.layers.iter().filter(|l| figure(l) > 0).collect();
        v.sort_by(|x, y| figure(y).cmp(&figure(x)).then(x.index.cmp(&y.index)));
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|l| layer_contributor(l, figure(l)))
            .collect()
    }

    fn removable_groups(&self) -> Vec<Contributor> {
        let Some(s) = &self.a.savings else {
            return Vec::new();
        };
        s.removable
            .iter()
            .filter(|g| g.in_final && g.subtotal > 0)
            .take(CONTRIBUTORS)
            .map(|g| Contributor {
                name: format!("{}: {}", g.group, g.fix),
                bytes: Some(g.subtotal),
                layer: None,
                kind: ContributorKind::Group,
            })
            .collect()
    }

    /// The category's largest paths; for package-rule categories, which
    /// list no path of their own, the savings items of its groups.
    fn category_paths(&self, rl: &RuleLimit) -> Vec<Contributor> {
        let id = rl.category.as_deref().unwrap_or_default();
        let cat_ids: &[String] = self.a.paths.as_ref().map_or(&[], |p| &p.categories[..]);
        let idx = cat_ids.iter().position(|x| x == id).map(|i| i as u16);
        let paths = self.largest_paths(|e| idx.is_some() && e.category == idx);
        if !paths.is_empty() {
            return paths;
        }
        self.category_items(id, |it| it.bytes)
    }

    /// The savings items of the groups that hold category `id`, measured by
    /// `bytes` (for categories that list no path of their own).
    fn category_items(
        &self,
        id: &str,
        bytes: impl Fn(&crate::breakdown::SavingsItem) -> u64,
    ) -> Vec<Contributor> {
        let Some(s) = &self.a.savings else {
            return Vec::new();
        };
        s.removable
            .iter()
            .filter(|g| g.categories.iter().any(|x| x == id))
            .flat_map(|g| g.items.iter())
            .take(CONTRIBUTORS)
            .map(|it| Contributor {
                name: it.label.clone(),
                bytes: Some(bytes(it)),
                layer: it.layers.first().copied(),
                kind: ContributorKind::Item,
            })
            .collect()
    }

    fn grown_paths(&self) -> Vec<Contributor> {
        let Some(d) = &self.diff else {
            return Vec::new();
        };
        let mut v: Vec<&crate::diff::PathDiff> =
            d.paths.added.iter().chain(&d.paths.grown).collect();
        v.sort_by(|x, y| y.bytes.delta.cmp(&x.bytes.delta).then(x.path.cmp(&y.path)));
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|p| Contributor {
                name: p.path.clone(),
                bytes: Some(p.bytes.delta.max(0) as u64),
                layer: None,
                kind: ContributorKind::Path,
            })
            .collect()
    }
}

fn layer_contributor(l: &LayerInfo, bytes: u64) -> Contributor {
    Contributor {
        // The same short ID as analyze and diff show (`Diff ID`).
        name: format!(
            "layer {}, diff ID {}: {}",
            l.index,
            l.diff_id.short(),
            crate::units::shorten(l.created_by.as_deref().unwrap_or(""), 70)
        ),
        bytes: Some(bytes),
        layer: Some(l.index as u32),
        kind: ContributorKind::Layer,
    }
}

fn path_contributor(path: &str, bytes: u64, layer: u32) -> Contributor {
    Contributor {
        name: path.to_string(),
        bytes: Some(bytes),
        layer: Some(layer),
        kind: ContributorKind::Path,
    }
}

/// The finding's one line: readable sizes, and no image path (the paths
/// are the contributors, which each renderer escapes for its output).
fn message(budget: &Budget, rl: &RuleLimit, measured: Amount, over: bool) -> String {
    let rule = rl.rule;
    if rule.measure == Measure::ForbiddenPaths {
        let n = measured.as_f64() as u64;
        return if over {
            format!(
                "{n} forbidden path{} present",
                if n == 1 { " is" } else { "s are" }
            )
        } else {
            format!("no path matches {}", budget.forbidden_paths.join(", "))
        };
    }
    let what = match &rl.category {
        Some(id) => format!("{} {id}", rule.what),
        None => rule.what.to_string(),
    };
    let (m, l) = (rule.unit.show(measured), rule.unit.show(rl.limit.value));
    match (over, rule.cmp) {
        (true, Cmp::Max) => format!("{what} is {m}, over the limit of {l}"),
        (true, Cmp::Min) => format!("{what} is {m}, under the minimum of {l}"),
        (false, Cmp::Max) => format!("{what} is {m} (limit {l})"),
        (false, Cmp::Min) => format!("{what} is {m} (minimum {l})"),
    }
}
