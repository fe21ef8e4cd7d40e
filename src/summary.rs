//! The one-row-per-image summary (`imgaudit analyze A B C`, and
//! `--all-platforms`): the audit table engineers otherwise assemble by hand.
//! An image that could not be analysed is a row too ([`SummaryRow::failed`]),
//! so the others are still reported.

use crate::analysis::{Analysis, SCHEMA_VERSION};
use crate::source::SourceKind;
use serde::ser::SerializeMap;
use serde::Serialize;

/// One image given on the command line (or one platform of it).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum SummaryRow {
    Image(ImageRow),
    /// In the JSON: `{"reference": …, "error": …}`.
    Failed(FailedRow),
}

/// An image that could not be analysed.
#[derive(Debug, Clone, Serialize)]
pub struct FailedRow {
    /// The reference as given.
    pub reference: String,
    /// The error, with its causes (`{:#}` of an `anyhow::Error`).
    pub error: String,
}

/// One analysed image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRow {
    pub reference: String,
    pub platform: String,
    pub source: SourceKind,
    pub manifest_digest: Option<String>,
    pub layers: usize,
    pub compressed_bytes: Option<u64>,
    pub layer_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    /// `None` with `--sizes-only`.
    pub removable_bytes: Option<u64>,
    pub files: u64,
    pub efficiency: f64,
}

/// Rows in the order the images were given.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Rows are the platforms of one image (`--all-platforms`): the JSON
    /// key is `platforms` instead of `images`.
    pub by_platform: bool,
    pub rows: Vec<SummaryRow>,
}

impl Serialize for Summary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        m.serialize_entry(
            if self.by_platform {
                "platforms"
            } else {
                "images"
            },
            &self.rows,
        )?;
        m.end()
    }
}

impl Summary {
    /// How many rows are failures.
    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r, SummaryRow::Failed(_)))
            .count()
    }
}

impl SummaryRow {
    /// The row of an image that could not be analysed: `reference` as the
    /// user gave it, `error` the message with its causes.
    pub fn failed(reference: impl Into<String>, error: impl Into<String>) -> SummaryRow {
        SummaryRow::Failed(FailedRow {
            reference: reference.into(),
            error: error.into(),
        })
    }

    pub fn of(a: &Analysis) -> SummaryRow {
        SummaryRow::Image(ImageRow {
            reference: a.image.reference.clone(),
            platform: a.image.platform.clone(),
            source: a.image.source,
            manifest_digest: a.image.manifest_digest.as_ref().map(|d| d.to_string()),
            layers: a.layers.len(),
            compressed_bytes: a.totals.compressed_bytes,
            layer_bytes: a.totals.layer_bytes,
            final_bytes: a.totals.final_bytes,
            wasted_bytes: a.totals.wasted_bytes,
            removable_bytes: a.savings.as_ref().map(|s| s.removable_bytes),
            files: a.totals.files,
            efficiency: a.totals.efficiency,
        })
    }
}
