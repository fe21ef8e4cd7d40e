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
        if let Some(declared) = spec.compressed_size.filter(|_| self.read_from_files()) {
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

    /// Whether the image was read from files (archives, layouts), whose
    /// descriptor sizes are the sizes of the blobs.
    fn read_from_files(&self) -> bool {
        matches!(
            self.source,
            SourceKind::Oci | SourceKind::OciArchive | SourceKind::DockerArchive
        )
    }

    /// Whether the blob of layer `i` is on this machine (archive, layout,
    /// daemon export), so its bytes can be checked before a cached analysis
    /// of it is used. A registry's blobs are not (see [`Image::cached_blob_holds`]).
    pub fn is_local(&self) -> bool {
        self.source != SourceKind::Registry
    }

    /// The cheap facts a layer cache hit is taken on (issue 18), found
    /// without reading the blob: for a local source, the blob of layer `i`
    /// exists, is a regular file reached within the store's symlink limit,
    /// and its size equals the descriptor's (images read from files) and
    /// `recorded`, the stored size in the cache entry (for a legacy
    /// docker-archive member, which has no descriptor size, the recorded one
    /// alone; for a daemon export, the member's size in the export's index).
    /// A registry layer always holds: it is not requested when cached.
    pub fn cached_blob_holds(&self, i: usize, recorded: u64) -> bool {
        if !self.is_local() {
            return true;
        }
        let spec = &self.layers[i];
        let Ok(Some(size)) = self.store.stat(&spec.path) else {
            return false;
        };
        let declared = spec.compressed_size.filter(|_| self.read_from_files());
        size == recorded && declared.map_or(true, |d| d == size)
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
