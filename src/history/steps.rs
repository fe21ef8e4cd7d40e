//! Steps and creeps. A step compares two consecutive records of a series;
//! it is *notable* when its final-bytes change is beyond the series' normal
//! noise: more than `NOISE_FACTOR` × the median absolute change of the
//! series' steps, and more than `MIN_STEP_PERCENT` % of the size before it.
//! A *creep* is growth made of steps that are each below that line: from
//! the lowest record since the last notable step, at least `CREEP_STEPS`
//! growing steps whose sum crosses the line one step would need. It is
//! reported with the build where it began (the first growing build after
//! that low). docs/HISTORY.md states the same rules.

use super::model::{Figure, Record};
use serde::Serialize;
use std::collections::HashMap;

/// A step is notable above this many times the median absolute change.
pub const NOISE_FACTOR: f64 = 4.0;
/// ... and above this percentage of the final bytes before it.
pub const MIN_STEP_PERCENT: f64 = 0.5;
/// A creep needs at least this many growing steps.
pub const CREEP_STEPS: usize = 3;
/// The changes listed per step, largest first.
pub const MAX_CHANGES: usize = 20;

/// What moved in a step.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    /// `group`, `category`, `package` or `layer`.
    pub kind: &'static str,
    pub name: String,
    pub delta_bytes: i64,
}

/// Two consecutive records of a series.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub series: String,
    /// Record ids.
    pub from: i64,
    pub to: i64,
    pub final_bytes_delta: i64,
    pub compressed_bytes_delta: Option<i64>,
    /// Beyond the series' normal noise.
    pub notable: bool,
    /// The change a step of this series must exceed to be notable.
    pub threshold_bytes: u64,
    pub changes: Vec<Change>,
}

/// Slow growth made of steps each below the notable line.
#[derive(Debug, Clone, Serialize)]
pub struct Creep {
    pub series: String,
    /// The record before the creep began (as low as any since the last
    /// notable step).
    pub from: i64,
    /// The build where the creep began (the first that grew after `from`).
    pub began: i64,
    /// The last record of the creep.
    pub to: i64,
    /// Growing steps in it.
    pub steps: usize,
    pub final_bytes_delta: i64,
    pub percent: f64,
}

/// Records (oldest first) with their steps and creeps: the JSON of
/// `imgaudit history --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub records: Vec<Record>,
    pub steps: Vec<Step>,
    pub creeps: Vec<Creep>,
}

impl History {
    /// The notable steps, in record order.
    pub fn notable(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.notable)
    }
}

fn signed(a: u64, b: u64) -> i64 {
    (b as i128 - a as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// A change before it is kept: borrowed, so that only the ones listed
/// allocate.
struct Candidate<'a> {
    kind: &'static str,
    name: std::borrow::Cow<'a, str>,
    delta: i64,
}

/// The order changes are listed in: largest first, then by kind and name.
fn listed_first(x: &Candidate, y: &Candidate) -> std::cmp::Ordering {
    y.delta
        .unsigned_abs()
        .cmp(&x.delta.unsigned_abs())
        .then_with(|| x.kind.cmp(y.kind))
        .then_with(|| x.name.cmp(&y.name))
}

/// The first [`MAX_CHANGES`] changes in [`listed_first`] order, kept while
/// the changes are found: a change that would not be listed costs one
/// comparison.
#[derive(Default)]
struct Top<'a>(Vec<Candidate<'a>>);

impl<'a> Top<'a> {
    fn offer(&mut self, kind: &'static str, name: std::borrow::Cow<'a, str>, delta: i64) {
        if delta == 0 {
            return;
        }
        let c = Candidate { kind, name, delta };
        if self.0.len() == MAX_CHANGES {
            let last = self.0.last().expect("full");
            if listed_first(&c, last) != std::cmp::Ordering::Less {
                return;
            }
            self.0.pop();
        }
        let at = self
            .0
            .partition_point(|x| listed_first(x, &c) == std::cmp::Ordering::Less);
        self.0.insert(at, c);
    }
}

/// A few named figures (groups, categories): `before` is looked up by name.
fn figure_changes<'a>(kind: &'static str, a: &'a [Figure], b: &'a [Figure], top: &mut Top<'a>) {
    for f in b {
        let old = a.iter().find(|x| x.name == f.name).map_or(0, |x| x.bytes);
        top.offer(kind, f.name.as_str().into(), signed(old, f.bytes));
    }
    for f in a {
        if !b.iter().any(|x| x.name == f.name) {
            top.offer(kind, f.name.as_str().into(), signed(f.bytes, 0));
        }
    }
}

/// What moved between two records, largest first (at most [`MAX_CHANGES`]).
pub fn changes(a: &Record, b: &Record) -> Vec<Change> {
    let mut top = Top::default();
    figure_changes("group", &a.groups, &b.groups, &mut top);
    figure_changes("category", &a.categories, &b.categories, &mut top);
    a.packages.merge(&b.packages, |name, x, y| {
        if x != y {
            top.offer("package", name.into(), signed(x, y));
        }
    });
    // Layers by index: `layer N`.
    for l in &b.layers {
        let old = a
            .layers
            .iter()
            .find(|x| x.index == l.index)
            .map_or(0, |x| x.file_bytes);
        let d = signed(old, l.file_bytes);
        if d != 0 {
            top.offer("layer", format!("layer {}", l.index).into(), d);
        }
    }
    for l in &a.layers {
        if !b.layers.iter().any(|x| x.index == l.index) {
            top.offer(
                "layer",
                format!("layer {}", l.index).into(),
                signed(l.file_bytes, 0),
            );
        }
    }
    top.0
        .into_iter()
        .map(|c| Change {
            kind: c.kind,
            name: c.name.into_owned(),
            delta_bytes: c.delta,
        })
        .collect()
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] / 2) + (v[m] / 2) + (v[m - 1] % 2 + v[m] % 2) / 2
    }
}

/// The line a step of size `before` must exceed, given the series' noise.
pub fn threshold(noise: u64, before: u64) -> u64 {
    let by_noise = (noise as f64 * NOISE_FACTOR).ceil() as u64;
    let by_size = (before as f64 * MIN_STEP_PERCENT / 100.0).ceil() as u64;
    by_noise.max(by_size)
}

/// Steps and creeps of `records` (any order; each series on its own).
pub fn analyse(mut records: Vec<Record>) -> History {
    records.sort_by_key(|r| r.id);
    let mut by_series: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let at = *index.entry(r.series.as_str()).or_insert_with(|| {
            by_series.push((r.series.as_str(), Vec::new()));
            by_series.len() - 1
        });
        by_series[at].1.push(i);
    }
    let mut steps = Vec::new();
    let mut creeps = Vec::new();
    for (series, idx) in &by_series {
        let finals: Vec<u64> = idx.iter().map(|&i| records[i].totals.final_bytes).collect();
        let noise = median(finals.windows(2).map(|w| w[1].abs_diff(w[0])).collect());
        let mut notable = vec![false; idx.len()];
        for k in 1..idx.len() {
            let (a, b) = (&records[idx[k - 1]], &records[idx[k]]);
            let d = signed(a.totals.final_bytes, b.totals.final_bytes);
            let line = threshold(noise, a.totals.final_bytes);
            notable[k] = d.unsigned_abs() > line;
            steps.push(Step {
                series: series.to_string(),
                from: a.id,
                to: b.id,
                final_bytes_delta: d,
                compressed_bytes_delta: match (a.totals.compressed_bytes, b.totals.compressed_bytes)
                {
                    (Some(x), Some(y)) => Some(signed(x, y)),
                    _ => None,
                },
                notable: notable[k],
                threshold_bytes: line,
                changes: changes(a, b),
            });
        }
        // Creeps: from the lowest record since the last notable step.
        let mut base = 0usize;
        let mut current: Option<Creep> = None;
        for k in 1..idx.len() {
            if notable[k] || finals[k] < finals[base] {
                creeps.extend(current.take());
                base = k;
                continue;
            }
            let growth = finals[k] - finals[base];
            let growing = (base + 1..=k)
                .filter(|&j| finals[j] > finals[j - 1])
                .count();
            if growing >= CREEP_STEPS && growth > threshold(noise, finals[base]) {
                let began = (base + 1..=k)
                    .find(|&j| finals[j] > finals[j - 1])
                    .expect("a growing step");
                current = Some(Creep {
                    series: series.to_string(),
                    from: records[idx[began - 1]].id,
                    began: records[idx[began]].id,
                    to: records[idx[k]].id,
                    steps: growing,
                    final_bytes_delta: growth as i64,
                    percent: if finals[base] == 0 {
                        100.0
                    } else {
                        growth as f64 * 100.0 / finals[base] as f64
                    },
                });
            }
        }
        creeps.extend(current);
    }
    steps.sort_by_key(|s| s.to);
    History {
        records,
        steps,
        creeps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::model::{RecordImage, RecordTotals};
    use crate::history::Packages;

    fn rec(id: i64, series: &str, final_bytes: u64, pkg: u64) -> Record {
        Record {
            id,
            recorded_at: String::new(),
            series: series.into(),
            image: RecordImage {
                reference: series.into(),
                manifest_digest: None,
                config_digest: String::new(),
                platform: "linux/amd64".into(),
            },
            labels: Default::default(),
            totals: RecordTotals {
                compressed_bytes: None,
                layer_bytes: final_bytes,
                final_bytes,
                wasted_bytes: 0,
                files: 1,
                efficiency: 1.0,
                dive_wasted_bytes: 0,
                tar_bytes: final_bytes,
            },
            removable_bytes: None,
            layers: vec![],
            groups: vec![],
            categories: vec![],
            packages: crate::history::Packages::new([("deb:big", pkg)]),
        }
    }

    #[test]
    fn a_jump_is_notable_and_noise_is_not() {
        let mb = 1_000_000;
        let sizes = [100, 101, 100, 101, 100, 130, 130, 131, 130];
        let h = analyse(
            sizes
                .iter()
                .enumerate()
                .map(|(i, s)| rec(i as i64 + 1, "app", s * mb, s * mb / 2))
                .collect(),
        );
        let notable: Vec<i64> = h.notable().map(|s| s.to).collect();
        assert_eq!(notable, vec![6]);
        let s = h.steps.iter().find(|s| s.to == 6).unwrap();
        assert_eq!(s.final_bytes_delta, 30 * mb as i64);
        assert_eq!(s.changes[0].kind, "package");
        assert_eq!(s.changes[0].delta_bytes, 15 * mb as i64);
        assert!(h.creeps.is_empty(), "{:?}", h.creeps);
    }

    /// What `changes` must list: every change, sorted, cut to the first
    /// [`MAX_CHANGES`].
    fn all_changes_sorted(a: &Record, b: &Record) -> Vec<Change> {
        let mut out = Vec::new();
        let mut add = |kind: &'static str, x: Vec<(String, u64)>, y: Vec<(String, u64)>| {
            let old: HashMap<String, u64> = x.into_iter().collect();
            let new: HashMap<String, u64> = y.into_iter().collect();
            for name in old
                .keys()
                .chain(new.keys().filter(|k| !old.contains_key(*k)))
            {
                let d = signed(
                    old.get(name).copied().unwrap_or(0),
                    new.get(name).copied().unwrap_or(0),
                );
                if d != 0 {
                    out.push(Change {
                        kind,
                        name: name.clone(),
                        delta_bytes: d,
                    });
                }
            }
        };
        let figs = |v: &[Figure]| {
            v.iter()
                .map(|f| (f.name.clone(), f.bytes))
                .collect::<Vec<_>>()
        };
        let pkgs = |r: &Record| r.packages.iter().map(|(n, b)| (n.to_string(), b)).collect();
        let layers = |r: &Record| {
            r.layers
                .iter()
                .map(|l| (format!("layer {}", l.index), l.file_bytes))
                .collect()
        };
        add("group", figs(&a.groups), figs(&b.groups));
        add("category", figs(&a.categories), figs(&b.categories));
        add("package", pkgs(a), pkgs(b));
        add("layer", layers(a), layers(b));
        out.sort_by(|x, y| {
            y.delta_bytes
                .unsigned_abs()
                .cmp(&x.delta_bytes.unsigned_abs())
                .then_with(|| x.kind.cmp(y.kind))
                .then_with(|| x.name.cmp(&y.name))
        });
        out.truncate(MAX_CHANGES);
        out
    }

    #[test]
    fn the_changes_listed_are_the_largest_of_all_in_order() {
        use crate::history::LayerFigure;
        // Many ties (sizes from a small range), packages added and removed,
        // figures of every kind.
        let mut seed = 7u64;
        let mut next = move |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let mut records = Vec::new();
        for id in 0..40 {
            let mut r = rec(id, "app", 1000, 0);
            let mut pkgs = Vec::new();
            for p in 0..300 {
                // Every fourth run of four records has the same packages.
                if id / 4 % 4 == 0 || next(10) > 0 {
                    pkgs.push((format!("dpkg:p{p:03}"), next(6) * 100));
                }
            }
            r.packages = Packages::new(pkgs);
            for g in 0..6 {
                if next(5) > 0 {
                    r.groups.push(Figure {
                        name: format!("g{g}"),
                        bytes: next(6) * 100,
                    });
                }
            }
            for c in 0..12 {
                r.categories.push(Figure {
                    name: format!("c{c}"),
                    bytes: next(6) * 100,
                });
            }
            for index in 0..next(12) as u32 {
                r.layers.push(LayerFigure {
                    index,
                    digest: None,
                    diff_id: String::new(),
                    compressed_bytes: None,
                    file_bytes: next(6) * 100,
                    wasted_bytes: 0,
                    created_by: None,
                });
            }
            records.push(r);
        }
        for w in records.windows(2) {
            let want = all_changes_sorted(&w[0], &w[1]);
            assert_eq!(want.len(), MAX_CHANGES);
            assert_eq!(changes(&w[0], &w[1]), want);
        }
        // The same, read as from a store: records with the same packages
        // share their names, and are compared without looking them up.
        let mut d = crate::history::model::Decoder::default();
        let read: Vec<Record> = records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.packages = d.decode(&r.packages.encode()).unwrap();
                r
            })
            .collect();
        let mut shared = 0;
        for (w, v) in read.windows(2).zip(records.windows(2)) {
            shared += usize::from(w[0].packages.shares_names(&w[1].packages));
            assert_eq!(changes(&w[0], &w[1]), changes(&v[0], &v[1]));
        }
        assert!(shared >= 6, "{shared}");
    }

    #[test]
    fn a_creep_is_found_with_the_build_where_it_began() {
        let mb = 1_000_000;
        // Flat, then +0.4 MB per build: each below 0.5 % of 100 MB.
        let mut sizes = vec![100 * mb; 5];
        for i in 1..=10 {
            sizes.push(100 * mb + i * 400_000);
        }
        let h = analyse(
            sizes
                .iter()
                .enumerate()
                .map(|(i, &s)| rec(i as i64 + 1, "app", s, 0))
                .chain([rec(100, "other", 5, 0)])
                .collect(),
        );
        assert_eq!(h.notable().count(), 0);
        assert_eq!(h.creeps.len(), 1, "{:?}", h.creeps);
        let c = &h.creeps[0];
        assert_eq!((c.from, c.began, c.to), (5, 6, 15));
        assert_eq!(c.final_bytes_delta, 4 * mb as i64);
        assert_eq!(c.steps, 10);
    }
}
