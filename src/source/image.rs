//! A resolved image ([`Image`]): its documents parsed and verified, one
//! [`LayerSpec`] per layer, and the store its layers are opened from; and
//! where it was read from ([`SourceKind`]).

use super::docs::Config;
use super::store::Store;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layer::LayerSpec;
use std::io::Read;
use std::sync::Arc;

/// Where the image was read from, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    DockerArchive,
    Oci,
    OciArchive,
    /// Pulled from a registry over the distribution API.
    Registry,
    /// Exported by the local Docker (or podman) daemon.
    DockerDaemon,
}

/// A resolved image: documents parsed and verified, layers ready to open.
pub struct Image {
    pub reference: String,
    pub source: SourceKind,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Digest,
    pub config: Config,
    pub layers: Vec<LayerSpec>,
    /// Warnings met while resolving (shown in the report).
    pub warnings: Vec<String>,
    pub(super) store: Arc<dyn Store>,
}

impl Image {
    /// Open layer `i` as stored (still compressed) with its stored size.
    /// For images read from files (archives, layouts), a descriptor whose
    /// size differs from the blob's is refused here, before any byte is read.
    /// (Registry blobs are checked against `Content-Length` as they stream;
    /// the daemon serves uncompressed exports, so sizes differ by design.)
    pub fn open_layer(&self, i: usize) -> Result<(Box<dyn Read + Send>, u64)> {
        let spec = &self.layers[i];
        let (r, size) = self
            .store
            .open(&spec.path)?
            .ok_or_else(|| Error::MissingBlob {
                what: format!("layer {} in {}", i, self.store.name()),
                digest: spec
                    .digest
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| spec.path.clone()),
            })?;
        let from_files = matches!(
            self.source,
            SourceKind::Oci | SourceKind::OciArchive | SourceKind::DockerArchive
        );
        if let Some(declared) = spec.compressed_size.filter(|_| from_files) {
            if declared != size {
                return Err(Error::Layer {
                    index: i,
                    digest: spec
                        .digest
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| spec.path.clone()),
                    reason: format!(
                        "the descriptor says {declared} bytes but the blob in {} has {size}",
                        self.store.name()
                    ),
                });
            }
        }
        Ok((r, size))
    }

    /// Position of layer `i` in a forward-only source (see
    /// [`Store::stream_position`]); `None` for random-access sources.
    pub fn stream_position(&self, i: usize) -> Option<u64> {
        self.store.stream_position(&self.layers[i].path)
    }

    pub fn platform(&self) -> String {
        self.config.platform().display()
    }
}
