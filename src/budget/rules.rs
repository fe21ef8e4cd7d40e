//! The rules as data: one row per rule, saying which file syntax spells it,
//! its key, its code, its unit, how it is measured, how the measurement
//! compares with the limit, and what is listed as its contributors.
//! [`super::check`] walks this table; the parsers accept exactly the keys
//! it lists; docs/BUDGETS.md documents the same rows.

use crate::finding::{Code, Unit};

/// Which budget syntax spells a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// imgaudit's TOML budget file.
    Toml,
    /// dive's `.dive-ci` (dive's figures, always fail-level).
    DiveCi,
}

/// How the measured value compares with the limit. Comparisons are strict:
/// a value equal to its limit passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Fails when measured > limit.
    Max,
    /// Fails when measured < limit.
    Min,
}

/// What a rule measures on the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Final bytes − excluded bytes.
    FinalBytes,
    /// Σ stored layer sizes (unknown for legacy archives: an error).
    CompressedBytes,
    /// imgaudit's wasted bytes.
    WastedBytes,
    /// Wasted ÷ layer bytes × 100.
    WastedPercent,
    /// dive's efficiency score.
    Efficiency,
    LayerCount,
    /// File bytes of the largest layer.
    LargestLayer,
    /// The savings breakdown's removable bytes.
    RemovableBytes,
    /// A category's final bytes − excluded bytes in it (`category.<id>`).
    CategoryBytes,
    /// Paths matching `forbidden_paths`.
    ForbiddenPaths,
    /// Final bytes − the baseline's (0 when smaller).
    GrowthBytes,
    /// Growth ÷ the baseline's final bytes × 100.
    GrowthPercent,
    /// Growth over the oldest of the series' last N records in the size
    /// history ÷ its final bytes × 100 (`[growth_window]`).
    WindowGrowthPercent,
    /// Σ the layers' stored bytes: what a pull transfers (issue 17).
    DownloadBytes,
    /// A category's final download bytes − the download bytes of excluded
    /// paths in it (`category.<id>.max_download_bytes`).
    CategoryDownloadBytes,
    /// Download bytes − the baseline's (0 when smaller).
    DownloadGrowthBytes,
    /// dive's wasted bytes.
    DiveWastedBytes,
    /// dive's wasted bytes ÷ file bytes of every layer above the first.
    DiveUserWastedRatio,
}

/// A per-layer figure layers are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKey {
    Compressed,
    /// Stored bytes (known for every layer).
    Download,
    Wasted,
    FileBytes,
    /// File bytes, only of the layers over the limit.
    FileBytesOverLimit,
}

/// What a failed rule lists as its contributors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contributors {
    /// The largest final paths (not excluded).
    LargestPaths,
    /// Layers ranked by a figure.
    Layers(LayerKey),
    /// Removable savings groups with their fix.
    RemovableGroups,
    /// The category's largest paths, else its savings items.
    CategoryPaths,
    /// The matching paths.
    ForbiddenPaths,
    /// The largest added or grown paths over the baseline.
    GrownPaths,
    /// The builds of the growth window that grew the most.
    WindowBuilds,
    /// The category's paths with the most download bytes, else its
    /// savings items.
    CategoryDownloadPaths,
    /// The after image's layers the baseline does not have, by download bytes.
    NewLayers,
}

/// One rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub code: Code,
    /// The key in the budget file; `category.*.max_bytes` (and
    /// `category.*.max_download_bytes`) for the per-category rules, whose
    /// key names the category in place of `*`.
    pub key: &'static str,
    pub syntax: Syntax,
    pub unit: Unit,
    pub cmp: Cmp,
    pub measure: Measure,
    /// The measured thing in a message: "final size is 9.2 kB".
    pub what: &'static str,
    pub contributors: Contributors,
    /// Needs every final path (`Detail::paths`).
    pub paths: bool,
    /// Needs `--baseline`.
    pub baseline: bool,
}

const fn row(
    code: Code,
    key: &'static str,
    unit: Unit,
    cmp: Cmp,
    measure: Measure,
    what: &'static str,
    contributors: Contributors,
) -> Rule {
    Rule {
        code,
        key,
        syntax: Syntax::Toml,
        unit,
        cmp,
        measure,
        what,
        contributors,
        paths: false,
        baseline: false,
    }
}

const fn paths(r: Rule) -> Rule {
    Rule { paths: true, ..r }
}

const fn baseline(r: Rule) -> Rule {
    Rule {
        baseline: true,
        ..r
    }
}

const fn dive(r: Rule) -> Rule {
    Rule {
        syntax: Syntax::DiveCi,
        ..r
    }
}

use Cmp::{Max, Min};
use Contributors as C;
use LayerKey as L;
use Measure as M;

/// Every rule, in the order findings are reported.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    paths(row(Code::B001, "max_final_bytes", Unit::Bytes, Max, M::FinalBytes, "final size", C::LargestPaths)),
    row(Code::B002, "max_compressed_bytes", Unit::Bytes, Max, M::CompressedBytes, "compressed size", C::Layers(L::Compressed)),
    row(Code::B003, "max_wasted_bytes", Unit::Bytes, Max, M::WastedBytes, "wasted bytes", C::Layers(L::Wasted)),
    row(Code::B004, "max_wasted_percent", Unit::Percent, Max, M::WastedPercent, "wasted share of layer bytes", C::Layers(L::Wasted)),
    row(Code::B005, "min_efficiency", Unit::Ratio, Min, M::Efficiency, "efficiency", C::Layers(L::Wasted)),
    row(Code::B006, "max_layers", Unit::Count, Max, M::LayerCount, "layer count", C::Layers(L::FileBytes)),
    row(Code::B007, "max_layer_bytes", Unit::Bytes, Max, M::LargestLayer, "largest layer", C::Layers(L::FileBytesOverLimit)),
    row(Code::B008, "max_removable_bytes", Unit::Bytes, Max, M::RemovableBytes, "removable bytes", C::RemovableGroups),
    paths(row(Code::B009, "category.*.max_bytes", Unit::Bytes, Max, M::CategoryBytes, "category", C::CategoryPaths)),
    paths(row(Code::B010, "forbidden_paths", Unit::Count, Max, M::ForbiddenPaths, "paths matching forbidden_paths", C::ForbiddenPaths)),
    baseline(row(Code::B011, "max_growth_bytes", Unit::Bytes, Max, M::GrowthBytes, "growth over the baseline", C::GrownPaths)),
    baseline(row(Code::B012, "max_growth_percent", Unit::Percent, Max, M::GrowthPercent, "growth over the baseline", C::GrownPaths)),
    row(Code::B013, "growth_window.max_percent", Unit::Percent, Max, M::WindowGrowthPercent, "growth over the growth window", C::WindowBuilds),
    row(Code::B014, "max_download_bytes", Unit::Bytes, Max, M::DownloadBytes, "download size", C::Layers(L::Download)),
    paths(row(Code::B015, "category.*.max_download_bytes", Unit::Bytes, Max, M::CategoryDownloadBytes, "download of category", C::CategoryDownloadPaths)),
    baseline(row(Code::B016, "max_download_growth_bytes", Unit::Bytes, Max, M::DownloadGrowthBytes, "download growth over the baseline", C::NewLayers)),
    dive(row(Code::D001, "lowestEfficiency", Unit::Ratio, Min, M::Efficiency, "efficiency", C::Layers(L::Wasted))),
    dive(row(Code::D002, "highestWastedBytes", Unit::Bytes, Max, M::DiveWastedBytes, "wasted bytes (dive)", C::Layers(L::Wasted))),
    dive(row(Code::D003, "highestUserWastedPercent", Unit::Ratio, Max, M::DiveUserWastedRatio, "wasted bytes per byte added above the base layer (dive)", C::Layers(L::Wasted))),
];

/// The rule spelt `key` in `syntax`.
pub fn find(syntax: Syntax, key: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.syntax == syntax && r.key == key)
}

/// The rule with `code`.
pub fn by_code(code: Code) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.code == code)
        .expect("every budget code has a row")
}

/// The keys of `syntax`'s plain rules (not `category.*`), for messages.
pub fn keys(syntax: Syntax) -> Vec<&'static str> {
    RULES
        .iter()
        .filter(|r| r.syntax == syntax && !r.key.contains('*') && r.measure != M::ForbiddenPaths)
        .map(|r| r.key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_code_and_per_key() {
        let mut codes = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(codes.insert(r.code), "{} twice", r.code);
            assert!(
                keys.insert((r.syntax == Syntax::Toml, r.key)),
                "{} twice",
                r.key
            );
            assert_eq!(by_code(r.code).key, r.key);
        }
        // Every B and D code has a row; IA codes are the analysis's own.
        for c in Code::ALL {
            let budget = c.as_str().starts_with('B') || c.as_str().starts_with('D');
            assert_eq!(codes.contains(&c), budget, "{c}");
        }
        // Table order is code order, the order findings are reported in.
        assert!(RULES.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn dive_rules_are_only_dives() {
        assert!(find(Syntax::DiveCi, "lowestEfficiency").is_some());
        assert!(find(Syntax::Toml, "lowestEfficiency").is_none());
        assert!(find(Syntax::DiveCi, "max_final_bytes").is_none());
        assert_eq!(keys(Syntax::DiveCi).len(), 3);
    }
}
