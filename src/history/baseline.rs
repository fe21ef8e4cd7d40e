//! A record as the baseline of a budget check: `check --history DB` compares
//! the image with the latest matching record instead of a baseline image.
//! The analysis built here carries what a record keeps (totals, layers,
//! categories, packages, removable bytes); it has no paths, so a growth
//! rule lists packages, categories and layers as contributors, not paths.

use super::model::Record;
use crate::analysis::{Analysis, ImageInfo, LayerInfo, Tool, Totals, SCHEMA_VERSION};
use crate::breakdown::{CategoryInfo, PackageInfo, Savings};
use crate::classify::packages::Manager;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::source::docs::Compression;
use crate::source::SourceKind;

impl Record {
    /// This record as a baseline analysis (`what` names the history).
    pub fn baseline_analysis(&self, what: &str) -> Result<Analysis> {
        let bad = |reason: String| Error::History {
            what: what.to_string(),
            reason: format!("damaged imgaudit history: record {}: {reason}", self.id),
        };
        let digest = |s: &str| Digest::parse(s, what).map_err(|e| bad(e.to_string()));
        let t = &self.totals;
        let mut layers = Vec::new();
        for l in &self.layers {
            layers.push(LayerInfo {
                index: l.index as usize,
                digest: l.digest.as_deref().map(digest).transpose()?,
                diff_id: digest(&l.diff_id)?,
                media_type: None,
                compression: Compression::None,
                compressed_bytes: l.compressed_bytes,
                tar_bytes: 0,
                file_bytes: l.file_bytes,
                added: 0,
                modified: 0,
                removed: 0,
                wasted_bytes: l.wasted_bytes,
                // Records keep no download figures beyond the stored size.
                download_bytes: l.compressed_bytes.unwrap_or(0),
                wasted_download_bytes: 0,
                created_by: l.created_by.clone(),
            });
        }
        let packages = self
            .packages
            .largest_first()
            .into_iter()
            .filter_map(|(full, bytes)| {
                let (m, name) = full.split_once(':')?;
                let manager = match m {
                    "dpkg" => Manager::Dpkg,
                    "pip" => Manager::Pip,
                    "apk" => Manager::Apk,
                    _ => return None,
                };
                Some(PackageInfo {
                    manager,
                    name: name.to_string(),
                    version: String::new(),
                    bytes,
                    download_bytes: 0,
                    files: 0,
                    layer: 0,
                    category: String::new(),
                })
            })
            .collect();
        Ok(Analysis {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "imgaudit",
                version: env!("CARGO_PKG_VERSION"),
            },
            image: ImageInfo {
                reference: format!(
                    "history record {} ({}, {})",
                    self.id, self.image.reference, self.recorded_at
                ),
                source: SourceKind::Oci,
                manifest_digest: self
                    .image
                    .manifest_digest
                    .as_deref()
                    .map(digest)
                    .transpose()?,
                config_digest: digest(&self.image.config_digest)?,
                platform: self.image.platform.clone(),
                created: None,
            },
            totals: Totals {
                compressed_bytes: t.compressed_bytes,
                layer_bytes: t.layer_bytes,
                final_bytes: t.final_bytes,
                wasted_bytes: t.wasted_bytes,
                files: t.files,
                efficiency: t.efficiency,
                dive_wasted_bytes: t.dive_wasted_bytes,
                tar_bytes: t.tar_bytes,
                download_bytes: t.compressed_bytes.unwrap_or(0),
                final_download_bytes: 0,
                wasted_download_bytes: 0,
            },
            layers,
            largest_files: Vec::new(),
            largest_dirs: Vec::new(),
            // The record keeps no per-path figures.
            dive_wasted_files: Vec::new(),
            changes: None,
            categories: self
                .categories
                .iter()
                .map(|c| CategoryInfo {
                    id: c.name.clone(),
                    name: c.name.clone(),
                    group: String::new(),
                    removable: false,
                    fix: String::new(),
                    final_bytes: c.bytes,
                    wasted_bytes: 0,
                    final_download_bytes: 0,
                    wasted_download_bytes: 0,
                    files: 0,
                    layers: Vec::new(),
                })
                .collect(),
            packages,
            savings: self.removable_bytes.map(|r| Savings {
                removable: Vec::new(),
                required: Vec::new(),
                removable_bytes: r,
                hidden_bytes: 0,
                minimum_bytes: 0,
                minimum_compressed_bytes: None,
                removable_download_bytes: 0,
                hidden_download_bytes: 0,
                minimum_download_bytes: 0,
                findings: Vec::new(),
            }),
            warnings: Vec::new(),
            paths: None,
        })
    }
}
