//! One recorded run: the series it belongs to, the image, labels, totals and
//! the per-layer, per-group, per-category and per-package figures. A record
//! is built from `analyze --format json` output, whether saved in a file
//! (`history import`) or serialized from the run that just finished, so both
//! paths read the same fields.

pub(crate) use super::packages::{Decoder, Packages};
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One record (the `records` of `history --format json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// The store's id (0 before the record is stored); ids grow with time.
    pub id: i64,
    /// RFC 3339, UTC.
    pub recorded_at: String,
    pub series: String,
    pub image: RecordImage,
    pub labels: BTreeMap<String, String>,
    pub totals: RecordTotals,
    /// The savings breakdown's removable bytes (`None` with `--sizes-only`).
    pub removable_bytes: Option<u64>,
    pub layers: Vec<LayerFigure>,
    /// Final bytes per category group (`savings` groups), largest first.
    pub groups: Vec<Figure>,
    /// Final bytes per category, largest first.
    pub categories: Vec<Figure>,
    /// Bytes per package (`manager:name`); JSON lists them largest first.
    pub packages: Packages,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordImage {
    pub reference: String,
    pub manifest_digest: Option<String>,
    pub config_digest: String,
    pub platform: String,
}

/// The same fields as `analyze`'s `totals`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordTotals {
    pub compressed_bytes: Option<u64>,
    pub layer_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    pub files: u64,
    pub efficiency: f64,
    pub dive_wasted_bytes: u64,
    pub tar_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerFigure {
    pub index: u32,
    pub digest: Option<String>,
    pub diff_id: String,
    pub compressed_bytes: Option<u64>,
    pub file_bytes: u64,
    pub wasted_bytes: u64,
    pub created_by: Option<String>,
}

/// A named byte figure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Figure {
    pub name: String,
    pub bytes: u64,
}

/// The per-record figures stored as one document (the `figures` column).
/// Since schema version 2 the packages are in their own column
/// ([`Packages::encode`]); a version 1 document also holds them here.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct Figures {
    pub layers: Vec<LayerFigure>,
    pub groups: Vec<Figure>,
    pub categories: Vec<Figure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Figure>,
}

impl Figures {
    /// A schema version 1 `figures` document as version 2 stores it: the
    /// document without its packages, and the packages' stored form.
    pub(crate) fn split_v1(text: &str) -> serde_json::Result<(String, Vec<u8>)> {
        let mut f: Figures = serde_json::from_str(text)?;
        let packages = Packages::new(
            std::mem::take(&mut f.packages)
                .into_iter()
                .map(|p| (p.name, p.bytes)),
        );
        Ok((serde_json::to_string(&f)?, packages.encode()))
    }
}

/// What a record needs from `analyze --format json` (unknown fields ignored).
#[derive(Deserialize)]
struct Saved {
    schema_version: u32,
    tool: SavedTool,
    image: SavedImage,
    totals: RecordTotals,
    layers: Vec<SavedLayer>,
    #[serde(default)]
    categories: Vec<SavedCategory>,
    #[serde(default)]
    packages: Vec<SavedPackage>,
    savings: Option<SavedSavings>,
}

#[derive(Deserialize)]
struct SavedTool {
    name: String,
}

#[derive(Deserialize)]
struct SavedImage {
    reference: String,
    source: Option<String>,
    manifest_digest: Option<String>,
    config_digest: String,
    platform: String,
}

#[derive(Deserialize)]
struct SavedLayer {
    index: u32,
    digest: Option<String>,
    diff_id: String,
    compressed_bytes: Option<u64>,
    file_bytes: u64,
    wasted_bytes: u64,
    created_by: Option<String>,
}

#[derive(Deserialize)]
struct SavedCategory {
    id: String,
    group: String,
    final_bytes: u64,
}

#[derive(Deserialize)]
struct SavedPackage {
    manager: String,
    name: String,
    bytes: u64,
}

#[derive(Deserialize)]
struct SavedSavings {
    removable_bytes: u64,
}

fn largest_first(m: BTreeMap<String, u64>) -> Vec<Figure> {
    let mut v: Vec<Figure> = m
        .into_iter()
        .map(|(name, bytes)| Figure { name, bytes })
        .collect();
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    v
}

impl Record {
    /// A record of a finished analysis (`series` given, else derived from
    /// the reference; `recorded_at` now).
    pub fn of(a: &Analysis, series: Option<&str>, labels: BTreeMap<String, String>) -> Record {
        let v = serde_json::to_value(a).expect("the analysis model serializes");
        Record::from_value(v, "analysis", series, labels)
            .expect("an analysis has every field a record reads")
    }

    /// A record from saved `analyze --format json` output; `what` names the
    /// file in errors.
    pub fn from_json(
        text: &str,
        what: &str,
        series: Option<&str>,
        labels: BTreeMap<String, String>,
    ) -> Result<Record> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Malformed {
            what: what.into(),
            reason: format!("not JSON: {e}"),
        })?;
        Record::from_value(v, what, series, labels)
    }

    fn from_value(
        v: serde_json::Value,
        what: &str,
        series: Option<&str>,
        labels: BTreeMap<String, String>,
    ) -> Result<Record> {
        let bad = |reason: String| Error::Malformed {
            what: what.into(),
            reason,
        };
        if v.get("records").is_some() || v.get("rows").is_some() || v.get("passed").is_some() {
            return Err(bad(
                "not the output of `imgaudit analyze IMAGE --format json` for one image".into(),
            ));
        }
        let s: Saved = serde_json::from_value(v).map_err(|e| {
            bad(format!(
                "not the output of `imgaudit analyze IMAGE --format json` ({e})"
            ))
        })?;
        if s.tool.name != "imgaudit" || s.schema_version != crate::analysis::SCHEMA_VERSION {
            return Err(bad(format!(
                "written by {} with schema version {}; this imgaudit reads schema version {}",
                s.tool.name,
                s.schema_version,
                crate::analysis::SCHEMA_VERSION
            )));
        }
        let mut groups = BTreeMap::new();
        let mut categories = BTreeMap::new();
        for c in &s.categories {
            *groups.entry(c.group.clone()).or_insert(0) += c.final_bytes;
            *categories.entry(c.id.clone()).or_insert(0) += c.final_bytes;
        }
        let packages = Packages::new(
            s.packages
                .iter()
                .map(|p| (format!("{}:{}", p.manager, p.name), p.bytes)),
        );
        Ok(Record {
            id: 0,
            recorded_at: super::now_rfc3339(),
            series: match series {
                Some(s) => s.to_string(),
                None => series_of(&s.image.reference, s.image.source.as_deref()),
            },
            image: RecordImage {
                reference: s.image.reference,
                manifest_digest: s.image.manifest_digest,
                config_digest: s.image.config_digest,
                platform: s.image.platform,
            },
            labels,
            totals: s.totals,
            removable_bytes: s.savings.map(|x| x.removable_bytes),
            layers: s
                .layers
                .into_iter()
                .map(|l| LayerFigure {
                    index: l.index,
                    digest: l.digest,
                    diff_id: l.diff_id,
                    compressed_bytes: l.compressed_bytes,
                    file_bytes: l.file_bytes,
                    wasted_bytes: l.wasted_bytes,
                    created_by: l.created_by,
                })
                .collect(),
            groups: largest_first(groups),
            categories: largest_first(categories),
            packages,
        })
    }

    /// The `figures` document (without the packages, stored apart).
    pub(crate) fn figures_json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            layers: &'a [LayerFigure],
            groups: &'a [Figure],
            categories: &'a [Figure],
        }
        serde_json::to_string(&Doc {
            layers: &self.layers,
            groups: &self.groups,
            categories: &self.categories,
        })
        .expect("figures serialize")
    }

    /// Fill in the stored figures: the `figures` document and the
    /// `packages` value (`None` in a record not yet migrated: the packages
    /// are then in the document). An error names the part that is damaged.
    pub(crate) fn set_stored_figures(
        &mut self,
        figures: &str,
        packages: Option<&[u8]>,
        decoder: &mut Decoder,
    ) -> std::result::Result<(), String> {
        let f: Figures = serde_json::from_str(figures).map_err(|e| format!("figures: {e}"))?;
        self.layers = f.layers;
        self.groups = f.groups;
        self.categories = f.categories;
        self.packages = match packages {
            Some(p) => decoder.decode(p)?,
            None => Packages::new(f.packages.into_iter().map(|p| (p.name, p.bytes))),
        };
        Ok(())
    }
}

/// The series of an image: its repository name without tag or digest; an
/// archive or layout directory (no name) uses its file name.
pub fn series_of(reference: &str, source: Option<&str>) -> String {
    let file_name = |p: &str| {
        let p = p.trim_end_matches('/');
        std::path::Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.to_string())
    };
    for prefix in ["docker-archive:", "oci-archive:", "oci:"] {
        if let Some(rest) = reference.strip_prefix(prefix) {
            // `PATH[:REF]`: a REF never holds a '/'.
            let path = match rest.rsplit_once(':') {
                Some((p, r)) if !p.is_empty() && !r.contains('/') => p,
                _ => rest,
            };
            return file_name(path);
        }
    }
    let local = matches!(source, Some("docker-archive" | "oci" | "oci-archive"));
    if local || std::path::Path::new(reference).exists() {
        return file_name(reference);
    }
    let name = reference
        .strip_prefix("docker://")
        .or_else(|| reference.strip_prefix("docker-daemon:"))
        .unwrap_or(reference);
    let name = name.split('@').next().unwrap_or(name);
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo.to_string(),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::series_of;

    #[test]
    fn series_names() {
        assert_eq!(
            series_of("docker://reg:5000/org/app:1.2", None),
            "reg:5000/org/app"
        );
        assert_eq!(series_of("app@sha256:abcd", Some("registry")), "app");
        assert_eq!(series_of("localhost:5000/app", None), "localhost:5000/app");
        assert_eq!(series_of("docker-daemon:app:pr-3", None), "app");
        assert_eq!(
            series_of("docker-archive:/x/y/img.tar:app", None),
            "img.tar"
        );
        assert_eq!(series_of("oci:./layout/", None), "layout");
        assert_eq!(
            series_of("/no/such/build.tar", Some("docker-archive")),
            "build.tar"
        );
    }
}
