//! The JSON documents of an image (index, manifest, config, docker-save
//! `manifest.json`) as lenient serde structs, plus media-type handling.
//!
//! These are deliberately forgiving where real images are (`"manifests":
//! null`, missing `created`/`history`) and strict where safety needs it
//! (digests validated, ambiguous documents rejected, sizes capped).

use crate::digest::Digest;
use crate::error::{Error, Result};
use oci_spec::image::MediaType;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest manifest, index or config accepted (as containers/image does).
pub const MAX_DOC: u64 = 4 << 20;

#[derive(Debug, Clone, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    pub fn display(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{}", self.os, self.architecture, v),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
}

impl Descriptor {
    pub fn digest(&self, what: &str) -> Result<Digest> {
        Digest::parse(&self.digest, what)
    }
    pub fn checked_size(&self, what: &str) -> Result<u64> {
        u64::try_from(self.size)
            .map_err(|_| Error::malformed(what, format!("negative descriptor size {}", self.size)))
    }
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(|s| s.as_str())
    }
}

/// An index or a manifest: parsed together so documents that are both can be
/// refused (CVE-2021-41190).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
}

impl Document {
    pub fn parse(bytes: &[u8], what: &str) -> Result<Document> {
        let doc: Document = parse_json(bytes, what)?;
        if doc.manifests.is_some() && (doc.layers.is_some() || doc.config.is_some()) {
            return Err(Error::malformed(
                what,
                "ambiguous document: has both 'manifests' and 'layers'/'config'",
            ));
        }
        Ok(doc)
    }
    pub fn is_index(&self) -> bool {
        self.config.is_none() && self.layers.is_none()
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

/// The image config, with only the fields the analysis uses.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Config {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

impl Config {
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone(),
        }
    }

    /// `created_by` for each non-empty layer, in order (history entries with
    /// `empty_layer: true` have no layer).
    pub fn layer_history(&self, layers: usize) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .history
            .iter()
            .flatten()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.clone())
            .collect();
        out.resize(layers, None);
        out
    }
}

/// One entry of a docker-save `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DockerSaveEntry {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub layers: Vec<String>,
}

/// Parse JSON with a nesting-depth guard (serde_json's own limit is 128).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::malformed(what, format!("invalid JSON: {e}")))
}

/// How a layer's bytes are compressed (the layer stage's type, named here
/// too because the media types below map to it).
pub use crate::layer::Compression;

/// The compression a layer media type declares; unknown types are an error.
pub fn layer_compression(media_type: &str, what: &str) -> Result<Compression> {
    let c = match MediaType::from(media_type) {
        MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => Compression::None,
        MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => Compression::Gzip,
        MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => Compression::Zstd,
        MediaType::Other(s) => match s.as_str() {
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Compression::Gzip,
            "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar" => Compression::None,
            "application/vnd.docker.image.rootfs.diff.tar.zstd" => Compression::Zstd,
            _ => {
                return Err(Error::UnknownMediaType {
                    what: what.to_string(),
                    media_type: media_type.to_string(),
                })
            }
        },
        _ => {
            return Err(Error::UnknownMediaType {
                what: what.to_string(),
                media_type: media_type.to_string(),
            })
        }
    };
    Ok(c)
}

pub fn is_manifest_type(mt: &str) -> bool {
    matches!(
        mt,
        "application/vnd.oci.image.manifest.v1+json"
            | "application/vnd.docker.distribution.manifest.v2+json"
    )
}
pub fn is_index_type(mt: &str) -> bool {
    matches!(
        mt,
        "application/vnd.oci.image.index.v1+json"
            | "application/vnd.docker.distribution.manifest.list.v2+json"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_documents_are_refused() {
        let j = br#"{"manifests":[],"layers":[]}"#;
        assert!(Document::parse(j, "x").is_err());
        let j = br#"{"manifests":null}"#;
        assert!(Document::parse(j, "x").unwrap().is_index());
    }

    #[test]
    fn media_types_map_to_compression() {
        assert_eq!(
            layer_compression("application/vnd.docker.image.rootfs.diff.tar.gzip", "l").unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            layer_compression("application/vnd.oci.image.layer.v1.tar+zstd", "l").unwrap(),
            Compression::Zstd
        );
        assert!(layer_compression("text/plain", "l").is_err());
    }

    #[test]
    fn history_skips_empty_layers() {
        let c: Config = serde_json::from_str(
            r#"{"rootfs":{"type":"layers","diff_ids":[]},"history":[
            {"created_by":"ENV A=1","empty_layer":true},{"created_by":"RUN x"},{"created_by":"RUN y"}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.layer_history(2),
            vec![Some("RUN x".to_string()), Some("RUN y".to_string())]
        );
    }
}
