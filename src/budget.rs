//! Size budgets for CI: a TOML budget file (docs/BUDGETS.md) or a dive
//! `.dive-ci` file is parsed into a [`Budget`]; [`check`] evaluates it on an
//! [`Analysis`] (and an optional baseline) and returns a [`CheckReport`]
//! with one [`Finding`] per rule: a stable code, the measured value, the
//! limit and the largest contributors. Renderers format the report.
//!
//! Forbidden paths and path exclusions need every final path: callers
//! analyse with `Detail { paths: true, .. }` (see [`Budget::needs_paths`]).

use crate::analysis::{Analysis, SCHEMA_VERSION};
use crate::error::{Error, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a failed rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the check (exit code 1).
    #[default]
    Fail,
    /// Reported, exit code unaffected.
    Warn,
}

/// Outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// Unit of a finding's measured value and limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Bytes,
    Percent,
    Ratio,
    Count,
}

/// One numeric rule: a limit and its level.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub value: f64,
    pub level: Level,
}

/// A parsed budget. Every rule is optional.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    pub max_final_bytes: Option<Limit>,
    pub max_compressed_bytes: Option<Limit>,
    pub max_wasted_bytes: Option<Limit>,
    pub max_wasted_percent: Option<Limit>,
    pub min_efficiency: Option<Limit>,
    pub max_layers: Option<Limit>,
    pub max_layer_bytes: Option<Limit>,
    pub max_removable_bytes: Option<Limit>,
    pub max_growth_bytes: Option<Limit>,
    pub max_growth_percent: Option<Limit>,
    /// Category id → max final bytes.
    pub categories: BTreeMap<String, Limit>,
    /// Glob patterns of paths that must not exist, and the rule's level.
    pub forbidden_paths: Vec<String>,
    pub forbidden_level: Level,
    /// Glob patterns of paths no rule counts.
    pub exclude_paths: Vec<String>,
    /// dive `.dive-ci` rules (strict comparisons, dive's figures).
    pub dive: Option<DiveRules>,
    /// Where the budget came from, for reports.
    pub origin: String,
}

/// dive's three CI rules; `None` = disabled.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiveRules {
    pub lowest_efficiency: Option<f64>,
    pub highest_wasted_bytes: Option<u64>,
    pub highest_user_wasted_percent: Option<f64>,
}

/// Parse a size: an integer byte count or a number with a unit
/// (`B`, `kB`/`KB`/`k`, `MB`, `GB`, `TB` decimal; `KiB`, `MiB`, `GiB`, `TiB`
/// binary), case-insensitive, space optional: `"1.5 GB"`, `"700MB"`, `0`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "ti" | "tib" => 1024f64.powi(4),
        _ => return None,
    };
    Some((n * mult).round() as u64)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RuleValue {
    Plain(Scalar),
    Table {
        value: Scalar,
        #[serde(default)]
        level: Level,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PathsValue {
    Plain(Vec<String>),
    Table {
        value: Vec<String>,
        #[serde(default)]
        level: Level,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryRule {
    max_bytes: Scalar,
    #[serde(default)]
    level: Level,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetFile {
    max_final_bytes: Option<RuleValue>,
    max_compressed_bytes: Option<RuleValue>,
    max_wasted_bytes: Option<RuleValue>,
    max_wasted_percent: Option<RuleValue>,
    min_efficiency: Option<RuleValue>,
    max_layers: Option<RuleValue>,
    max_layer_bytes: Option<RuleValue>,
    max_removable_bytes: Option<RuleValue>,
    max_growth_bytes: Option<RuleValue>,
    max_growth_percent: Option<RuleValue>,
    #[serde(default)]
    category: BTreeMap<String, CategoryRule>,
    forbidden_paths: Option<PathsValue>,
    #[serde(default)]
    exclude_paths: Vec<String>,
}

fn bad(origin: &str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        what: origin.to_string(),
        reason: reason.into(),
    }
}

fn size_of(origin: &str, rule: &str, v: &Scalar) -> Result<f64> {
    match v {
        Scalar::Int(i) if *i >= 0 => Ok(*i as f64),
        Scalar::Text(s) => parse_size(s).map(|b| b as f64).ok_or_else(|| {
            bad(
                origin,
                format!("{rule}: {s:?} is not a size (e.g. \"1.5 GB\")"),
            )
        }),
        _ => Err(bad(
            origin,
            format!("{rule}: expected a size (a non-negative integer or e.g. \"700 MB\")"),
        )),
    }
}

fn number_of(origin: &str, rule: &str, v: &Scalar) -> Result<f64> {
    let n = match v {
        Scalar::Int(i) => *i as f64,
        Scalar::Float(f) => *f,
        Scalar::Text(s) => s
            .trim()
            .trim_end_matches('%')
            .trim()
            .parse()
            .map_err(|_| bad(origin, format!("{rule}: {s:?} is not a number")))?,
    };
    if !n.is_finite() || n < 0.0 {
        return Err(bad(
            origin,
            format!("{rule}: must be a non-negative number"),
        ));
    }
    Ok(n)
}

impl Budget {
    /// Parse a TOML budget file's text (`origin` names it in errors).
    pub fn from_toml(text: &str, origin: &str) -> Result<Budget> {
        let f: BudgetFile =
            toml::from_str(text).map_err(|e| bad(origin, e.message().to_string()))?;
        let lim = |rule: &str, v: Option<RuleValue>, size: bool| -> Result<Option<Limit>> {
            let Some(v) = v else { return Ok(None) };
            let (s, level) = match v {
                RuleValue::Plain(s) => (s, Level::Fail),
                RuleValue::Table { value, level } => (value, level),
            };
            let value = if size {
                size_of(origin, rule, &s)?
            } else {
                number_of(origin, rule, &s)?
            };
            Ok(Some(Limit { value, level }))
        };
        let mut b = Budget {
            max_final_bytes: lim("max_final_bytes", f.max_final_bytes, true)?,
            max_compressed_bytes: lim("max_compressed_bytes", f.max_compressed_bytes, true)?,
            max_wasted_bytes: lim("max_wasted_bytes", f.max_wasted_bytes, true)?,
            max_wasted_percent: lim("max_wasted_percent", f.max_wasted_percent, false)?,
            min_efficiency: lim("min_efficiency", f.min_efficiency, false)?,
            max_layers: lim("max_layers", f.max_layers, false)?,
            max_layer_bytes: lim("max_layer_bytes", f.max_layer_bytes, true)?,
            max_removable_bytes: lim("max_removable_bytes", f.max_removable_bytes, true)?,
            max_growth_bytes: lim("max_growth_bytes", f.max_growth_bytes, true)?,
            max_growth_percent: lim("max_growth_percent", f.max_growth_percent, false)?,
            exclude_paths: f.exclude_paths,
            origin: origin.to_string(),
            ..Budget::default()
        };
        if b.min_efficiency.as_ref().is_some_and(|l| l.value > 1.0) {
            return Err(bad(origin, "min_efficiency: a ratio between 0 and 1"));
        }
        for (id, c) in f.category {
            let value = size_of(origin, &format!("category.{id}.max_bytes"), &c.max_bytes)?;
            b.categories.insert(
                id,
                Limit {
                    value,
                    level: c.level,
                },
            );
        }
        if let Some(p) = f.forbidden_paths {
            let (v, level) = match p {
                PathsValue::Plain(v) => (v, Level::Fail),
                PathsValue::Table { value, level } => (value, level),
            };
            b.forbidden_paths = v;
            b.forbidden_level = level;
        }
        globs(origin, &b.forbidden_paths)?;
        globs(origin, &b.exclude_paths)?;
        Ok(b)
    }

    /// Parse a dive `.dive-ci` file (YAML with a `rules:` map of
    /// `lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`;
    /// each may be `disabled`). Missing rules take dive's defaults: 0.9,
    /// disabled, 0.1.
    pub fn from_dive_ci(text: &str, origin: &str) -> Result<Budget> {
        let mut rules = DiveRules {
            lowest_efficiency: Some(0.9),
            highest_wasted_bytes: None,
            highest_user_wasted_percent: Some(0.1),
        };
        let mut in_rules = false;
        for (n, raw) in text.lines().enumerate() {
            let line = strip_comment(raw);
            if line.trim().is_empty() || line.trim() == "---" {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            let Some((key, value)) = line.trim().split_once(':') else {
                return Err(bad(
                    origin,
                    format!("line {}: expected `key: value`", n + 1),
                ));
            };
            let key = key.trim();
            let value = value.trim().trim_matches(['"', '\'']);
            if !indented {
                in_rules = key == "rules";
                if in_rules && !value.is_empty() {
                    return Err(bad(origin, format!("line {}: `rules:` is a map", n + 1)));
                }
                continue;
            }
            if !in_rules {
                continue;
            }
            let disabled = value.eq_ignore_ascii_case("disabled");
            let ratio = |rule: &str| -> Result<Option<f64>> {
                if disabled {
                    return Ok(None);
                }
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| bad(origin, format!("{rule}: {value:?} is not a number")))
            };
            match key {
                "lowestEfficiency" => rules.lowest_efficiency = ratio(key)?,
                "highestUserWastedPercent" => rules.highest_user_wasted_percent = ratio(key)?,
                "highestWastedBytes" => {
                    rules.highest_wasted_bytes = if disabled {
                        None
                    } else {
                        Some(parse_size(value).ok_or_else(|| {
                            bad(origin, format!("highestWastedBytes: {value:?} is not a size"))
                        })?)
                    }
                }
                other => {
                    return Err(bad(
                        origin,
                        format!(
                            "unknown rule {other:?} (dive knows lowestEfficiency, highestWastedBytes, highestUserWastedPercent)"
                        ),
                    ))
                }
            }
        }
        Ok(Budget {
            dive: Some(rules),
            origin: origin.to_string(),
            ..Budget::default()
        })
    }

    /// Read a budget file: `.dive-ci` (or any `.yaml`/`.yml`) as dive's
    /// format, everything else as TOML.
    pub fn load(path: &std::path::Path) -> Result<Budget> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound(path.to_path_buf())
            } else {
                Error::io(path.display().to_string(), e)
            }
        })?;
        let origin = path.display().to_string();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".dive-ci")
            || name == ".dive-ci"
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
        {
            Budget::from_dive_ci(&text, &origin)
        } else {
            Budget::from_toml(&text, &origin)
        }
    }

    /// Whether the check needs every final path (forbidden paths, exclusions,
    /// per-path contributors).
    pub fn needs_paths(&self) -> bool {
        !self.forbidden_paths.is_empty()
            || !self.exclude_paths.is_empty()
            || !self.categories.is_empty()
            || self.max_final_bytes.is_some()
    }

    /// Whether any rule compares with a baseline image.
    pub fn needs_baseline(&self) -> bool {
        self.max_growth_bytes.is_some() || self.max_growth_percent.is_some()
    }
}

fn strip_comment(line: &str) -> &str {
    match line
        .find(" #")
        .or_else(|| line.starts_with('#').then_some(0))
    {
        Some(i) => &line[..i],
        None => line,
    }
}

fn globs(origin: &str, patterns: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches('/');
        let g = Glob::new(p).map_err(|e| bad(origin, format!("pattern {p:?}: {e}")))?;
        b.add(g);
    }
    b.build().map_err(|e| bad(origin, e.to_string()))
}

/// Something that makes up a finding's measured value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Contributor {
    pub name: String,
    pub bytes: Option<u64>,
    /// Layer index, when the contributor is a path or a layer.
    pub layer: Option<u32>,
}

/// One evaluated rule.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code (docs/BUDGETS.md).
    pub code: &'static str,
    /// The rule as spelled in the budget file (`category.build-tools.max_bytes`).
    pub rule: String,
    pub level: Level,
    pub status: Status,
    pub unit: Unit,
    pub measured: f64,
    pub limit: f64,
    pub message: String,
    /// The largest contributors to the measured value, largest first.
    pub contributors: Vec<Contributor>,
}

/// Counts of findings by status.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// The result of `imgaudit check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub schema_version: u32,
    pub image: String,
    pub platform: String,
    pub baseline: Option<String>,
    pub budget: String,
    /// `false` when any fail-level rule failed (exit code 1).
    pub passed: bool,
    pub counts: Counts,
    /// Paths matching `exclude_paths`, left out of every rule.
    pub excluded_paths: u64,
    pub excluded_bytes: u64,
    pub findings: Vec<Finding>,
}

const CONTRIBUTORS: usize = 10;

/// Evaluate `budget` on `a` (and `baseline` for growth rules).
pub fn check(budget: &Budget, a: &Analysis, baseline: Option<&Analysis>) -> Result<CheckReport> {
    let origin = &budget.origin;
    let forbid = globs(origin, &budget.forbidden_paths)?;
    let exclude = globs(origin, &budget.exclude_paths)?;
    let rel = |p: &str| p.trim_start_matches('/').to_string();
    let entries: Vec<&crate::analysis::PathEntry> = a
        .paths
        .as_ref()
        .map(|p| p.entries.iter().collect())
        .unwrap_or_default();
    let cat_ids: &[String] = a.paths.as_ref().map_or(&[], |p| &p.categories[..]);
    let (mut excluded_paths, mut excluded_bytes) = (0u64, 0u64);
    let mut excluded_by_cat: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kept: Vec<&crate::analysis::PathEntry> = Vec::with_capacity(entries.len());
    for e in entries {
        if !budget.exclude_paths.is_empty() && exclude.is_match(rel(&e.path)) {
            excluded_paths += 1;
            excluded_bytes += e.bytes;
            if let Some(c) = e.category.and_then(|c| cat_ids.get(c as usize)) {
                *excluded_by_cat.entry(c).or_default() += e.bytes;
            }
        } else {
            kept.push(e);
        }
    }
    let largest_paths = |filter: &dyn Fn(&crate::analysis::PathEntry) -> bool| {
        let mut v: Vec<&&crate::analysis::PathEntry> =
            kept.iter().filter(|e| e.bytes > 0 && filter(e)).collect();
        v.sort_by(|x, y| y.bytes.cmp(&x.bytes).then(x.path.cmp(&y.path)));
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|e| Contributor {
                name: e.path.clone(),
                bytes: Some(e.bytes),
                layer: Some(e.layer),
            })
            .collect::<Vec<_>>()
    };
    let layers_by = |key: &dyn Fn(&crate::analysis::LayerInfo) -> u64| {
        let mut v: Vec<&crate::analysis::LayerInfo> =
            a.layers.iter().filter(|l| key(l) > 0).collect();
        v.sort_by(|x, y| key(y).cmp(&key(x)).then(x.index.cmp(&y.index)));
        v.into_iter()
            .take(CONTRIBUTORS)
            .map(|l| Contributor {
                name: format!(
                    "layer {}: {}",
                    l.index,
                    crate::units::shorten(l.created_by.as_deref().unwrap_or(""), 70)
                ),
                bytes: Some(key(l)),
                layer: Some(l.index as u32),
            })
            .collect::<Vec<_>>()
    };

    let mut findings = Vec::new();
    let mut forbidden_msg: Option<String> = None;
    let mut push = |code: &'static str,
                    rule: &str,
                    limit: &Limit,
                    unit: Unit,
                    measured: f64,
                    over: bool,
                    what: &str,
                    contributors: Vec<Contributor>| {
        let status = match (over, limit.level) {
            (false, _) => Status::Pass,
            (true, Level::Warn) => Status::Warn,
            (true, Level::Fail) => Status::Fail,
        };
        let show = |v: f64| match unit {
            Unit::Bytes => crate::units::human(v as u64),
            Unit::Percent => format!("{v:.1}%"),
            Unit::Ratio => format!("{v:.3}"),
            Unit::Count => format!("{v}"),
        };
        let message = if over {
            format!(
                "{what} is {}, over the limit of {}",
                show(measured),
                show(limit.value)
            )
        } else {
            format!("{what} is {} (limit {})", show(measured), show(limit.value))
        };
        findings.push(Finding {
            code,
            rule: rule.to_string(),
            level: limit.level,
            status,
            unit,
            measured,
            limit: limit.value,
            message,
            contributors: if over { contributors } else { Vec::new() },
        });
    };
    let t = &a.totals;

    if let Some(l) = &budget.max_final_bytes {
        let m = t.final_bytes.saturating_sub(excluded_bytes) as f64;
        let c = if kept.is_empty() {
            a.largest_files
                .iter()
                .take(CONTRIBUTORS)
                .map(|f| Contributor {
                    name: f.path.clone(),
                    bytes: Some(f.bytes),
                    layer: Some(f.layer),
                })
                .collect()
        } else {
            largest_paths(&|_| true)
        };
        push(
            "B001",
            "max_final_bytes",
            l,
            Unit::Bytes,
            m,
            m > l.value,
            "final size",
            c,
        );
    }
    if let Some(l) = &budget.max_compressed_bytes {
        match t.compressed_bytes {
            Some(cb) => push(
                "B002",
                "max_compressed_bytes",
                l,
                Unit::Bytes,
                cb as f64,
                cb as f64 > l.value,
                "compressed size",
                layers_by(&|x| x.compressed_bytes.unwrap_or(0)),
            ),
            None => {
                return Err(Error::Unsupported(format!(
                    "{origin}: max_compressed_bytes: the compressed size of {} is unknown (legacy docker-save archive)",
                    a.image.reference
                )))
            }
        }
    }
    if let Some(l) = &budget.max_wasted_bytes {
        let m = t.wasted_bytes as f64;
        push(
            "B003",
            "max_wasted_bytes",
            l,
            Unit::Bytes,
            m,
            m > l.value,
            "wasted bytes",
            layers_by(&|x| x.wasted_bytes),
        );
    }
    if let Some(l) = &budget.max_wasted_percent {
        let m = if t.layer_bytes > 0 {
            t.wasted_bytes as f64 * 100.0 / t.layer_bytes as f64
        } else {
            0.0
        };
        push(
            "B004",
            "max_wasted_percent",
            l,
            Unit::Percent,
            m,
            m > l.value,
            "wasted share of layer bytes",
            layers_by(&|x| x.wasted_bytes),
        );
    }
    if let Some(l) = &budget.min_efficiency {
        let m = t.efficiency;
        push(
            "B005",
            "min_efficiency",
            l,
            Unit::Ratio,
            m,
            m < l.value,
            "efficiency",
            layers_by(&|x| x.wasted_bytes),
        );
    }
    if let Some(l) = &budget.max_layers {
        let m = a.layers.len() as f64;
        push(
            "B006",
            "max_layers",
            l,
            Unit::Count,
            m,
            m > l.value,
            "layer count",
            layers_by(&|x| x.file_bytes),
        );
    }
    if let Some(l) = &budget.max_layer_bytes {
        let biggest = a.layers.iter().map(|x| x.file_bytes).max().unwrap_or(0) as f64;
        let lim = l.value as u64;
        push(
            "B007",
            "max_layer_bytes",
            l,
            Unit::Bytes,
            biggest,
            biggest > l.value,
            "largest layer",
            layers_by(&|x| if x.file_bytes > lim { x.file_bytes } else { 0 }),
        );
    }
    if let Some(l) = &budget.max_removable_bytes {
        let Some(s) = &a.savings else {
            return Err(Error::Unsupported(format!(
                "{origin}: max_removable_bytes needs the savings breakdown (do not pass --sizes-only)"
            )));
        };
        let m = s.removable_bytes as f64;
        let c = s
            .removable
            .iter()
            .filter(|g| g.in_final && g.subtotal > 0)
            .take(CONTRIBUTORS)
            .map(|g| Contributor {
                name: format!("{} ({})", g.group, g.fix),
                bytes: Some(g.subtotal),
                layer: None,
            })
            .collect();
        push(
            "B008",
            "max_removable_bytes",
            l,
            Unit::Bytes,
            m,
            m > l.value,
            "removable bytes",
            c,
        );
    }
    for (id, l) in &budget.categories {
        if a.savings.is_none() {
            return Err(Error::Unsupported(format!(
                "{origin}: category.{id} needs categories (do not pass --sizes-only)"
            )));
        }
        let Some(c) = a.categories.iter().find(|c| &c.id == id) else {
            let known: Vec<&str> = a.categories.iter().map(|c| c.id.as_str()).collect();
            return Err(bad(
                origin,
                format!(
                    "category.{id}: unknown category (known: {})",
                    known.join(", ")
                ),
            ));
        };
        let m = c
            .final_bytes
            .saturating_sub(excluded_by_cat.get(id.as_str()).copied().unwrap_or(0))
            as f64;
        let idx = cat_ids.iter().position(|x| x == id).map(|i| i as u16);
        let mut contributors = largest_paths(&|e| idx.is_some() && e.category == idx);
        if contributors.is_empty() {
            // Package-rule categories: the savings items of the group.
            if let Some(s) = &a.savings {
                contributors = s
                    .removable
                    .iter()
                    .filter(|g| g.categories.iter().any(|x| x == id))
                    .flat_map(|g| g.items.iter())
                    .take(CONTRIBUTORS)
                    .map(|it| Contributor {
                        name: it.label.clone(),
                        bytes: Some(it.bytes),
                        layer: it.layers.first().copied(),
                    })
                    .collect();
            }
        }
        push(
            "B009",
            &format!("category.{id}.max_bytes"),
            l,
            Unit::Bytes,
            m,
            m > l.value,
            &format!("category {id}"),
            contributors,
        );
    }
    if !budget.forbidden_paths.is_empty() {
        if a.paths.is_none() {
            return Err(Error::Unsupported(
                "forbidden_paths: the analysis carries no path list".into(),
            ));
        }
        let matched: Vec<&&crate::analysis::PathEntry> = kept
            .iter()
            .filter(|e| forbid.is_match(rel(&e.path)))
            .collect();
        let limit = Limit {
            value: 0.0,
            level: budget.forbidden_level,
        };
        let c = matched
            .iter()
            .take(CONTRIBUTORS * 5)
            .map(|e| Contributor {
                name: e.path.clone(),
                bytes: Some(e.bytes),
                layer: Some(e.layer),
            })
            .collect();
        let n = matched.len();
        push(
            "B010",
            "forbidden_paths",
            &limit,
            Unit::Count,
            n as f64,
            n > 0,
            "paths matching forbidden_paths",
            c,
        );
        forbidden_msg = Some(if n > 0 {
            format!(
                "{n} forbidden path{} present: {}",
                if n == 1 { "" } else { "s" },
                matched
                    .iter()
                    .take(5)
                    .map(|e| e.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("no path matches {}", budget.forbidden_paths.join(", "))
        });
    }
    if budget.needs_baseline() {
        let Some(base) = baseline else {
            return Err(Error::Unsupported(format!(
                "{origin}: max_growth_bytes / max_growth_percent need --baseline IMAGE"
            )));
        };
        let d = crate::diff::diff(base, a, CONTRIBUTORS);
        let grown: Vec<Contributor> = {
            let mut v: Vec<&crate::diff::PathDiff> =
                d.paths.added.iter().chain(&d.paths.grown).collect();
            v.sort_by(|x, y| y.bytes.delta.cmp(&x.bytes.delta).then(x.path.cmp(&y.path)));
            v.into_iter()
                .take(CONTRIBUTORS)
                .map(|p| Contributor {
                    name: p.path.clone(),
                    bytes: Some(p.bytes.delta.max(0) as u64),
                    layer: None,
                })
                .collect()
        };
        let growth = d.totals.final_bytes.delta;
        if let Some(l) = &budget.max_growth_bytes {
            let m = growth.max(0) as f64;
            push(
                "B011",
                "max_growth_bytes",
                l,
                Unit::Bytes,
                m,
                m > l.value,
                "growth over the baseline",
                grown.clone(),
            );
        }
        if let Some(l) = &budget.max_growth_percent {
            let m = d
                .totals
                .final_bytes
                .percent
                .unwrap_or(if growth > 0 { f64::INFINITY } else { 0.0 })
                .max(0.0);
            push(
                "B012",
                "max_growth_percent",
                l,
                Unit::Percent,
                m,
                m > l.value,
                "growth over the baseline",
                grown,
            );
        }
    }
    if let Some(dv) = &budget.dive {
        // dive's rules, with dive's figures and strict comparisons.
        if let Some(v) = dv.lowest_efficiency {
            let l = Limit {
                value: v,
                level: Level::Fail,
            };
            let m = t.efficiency;
            push(
                "D001",
                "lowestEfficiency",
                &l,
                Unit::Ratio,
                m,
                m < v,
                "efficiency",
                layers_by(&|x| x.wasted_bytes),
            );
        }
        if let Some(v) = dv.highest_wasted_bytes {
            let l = Limit {
                value: v as f64,
                level: Level::Fail,
            };
            let m = t.dive_wasted_bytes;
            push(
                "D002",
                "highestWastedBytes",
                &l,
                Unit::Bytes,
                m as f64,
                m > v,
                "wasted bytes (dive)",
                layers_by(&|x| x.wasted_bytes),
            );
        }
        if let Some(v) = dv.highest_user_wasted_percent {
            let l = Limit {
                value: v,
                level: Level::Fail,
            };
            let m = dive_user_wasted_ratio(a);
            // NaN (nothing wasted, no user bytes) compares false: pass, as in dive.
            push(
                "D003",
                "highestUserWastedPercent",
                &l,
                Unit::Ratio,
                m,
                m > v,
                "wasted bytes per byte added above the base layer (dive)",
                layers_by(&|x| x.wasted_bytes),
            );
        }
    }

    if let Some(m) = forbidden_msg {
        if let Some(f) = findings.iter_mut().find(|f| f.code == "B010") {
            f.message = m;
        }
    }
    let mut counts = Counts::default();
    for f in &findings {
        match f.status {
            Status::Pass => counts.pass += 1,
            Status::Warn => counts.warn += 1,
            Status::Fail => counts.fail += 1,
        }
    }
    Ok(CheckReport {
        schema_version: SCHEMA_VERSION,
        image: a.image.reference.clone(),
        platform: a.image.platform.clone(),
        baseline: baseline.map(|b| b.image.reference.clone()),
        budget: budget.origin.clone(),
        passed: counts.fail == 0,
        counts,
        excluded_paths,
        excluded_bytes,
        findings,
    })
}

/// dive's `WastedUserPercent`: its wasted bytes over the file bytes of every
/// layer above the first (a ratio, despite the name).
pub fn dive_user_wasted_ratio(a: &Analysis) -> f64 {
    let user: u64 = a.layers.iter().skip(1).map(|l| l.file_bytes).sum();
    a.totals.dive_wasted_bytes as f64 / user as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
        assert_eq!(parse_size("700MB"), Some(700_000_000));
        assert_eq!(parse_size("20MiB"), Some(20 * 1024 * 1024));
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn toml_spellings() {
        let b = Budget::from_toml(
            r#"
max_final_bytes = "1.5 GB"
max_compressed_bytes = "700 MB"
max_wasted_bytes = "50 MB"
min_efficiency = { value = 0.95, level = "warn" }
forbidden_paths = ["/usr/bin/gcc*", "/usr/bin/make"]
[category.build-tools]
max_bytes = 0
[category.debug-symbols]
max_bytes = "20 MB"
level = "warn"
"#,
            "b.toml",
        )
        .unwrap();
        assert_eq!(b.max_final_bytes.unwrap().value, 1.5e9);
        assert_eq!(b.min_efficiency.unwrap().level, Level::Warn);
        assert_eq!(b.categories["build-tools"].value, 0.0);
        assert_eq!(b.categories["debug-symbols"].level, Level::Warn);
        assert_eq!(b.forbidden_paths.len(), 2);
        assert!(Budget::from_toml("max_final_bites = 1", "x").is_err());
        assert!(Budget::from_toml("max_final_bytes = \"lots\"", "x").is_err());
    }

    #[test]
    fn dive_ci_defaults_and_disabled() {
        let b = Budget::from_dive_ci(
            "rules:\n  highestWastedBytes: 20MB # c\n  lowestEfficiency: disabled\n",
            "d",
        )
        .unwrap();
        let d = b.dive.unwrap();
        assert_eq!(d.lowest_efficiency, None);
        assert_eq!(d.highest_wasted_bytes, Some(20_000_000));
        assert_eq!(d.highest_user_wasted_percent, Some(0.1));
        let d = Budget::from_dive_ci("", "d").unwrap().dive.unwrap();
        assert_eq!(d.lowest_efficiency, Some(0.9));
        assert_eq!(d.highest_wasted_bytes, None);
        assert!(Budget::from_dive_ci("rules:\n  lowestEfficency: 1\n", "d").is_err());
    }
}
