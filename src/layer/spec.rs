//! The layer stage's input: what one layer is ([`LayerSpec`]) and how its
//! bytes may be compressed ([`Compression`]). The source stage fills these
//! in from the image's documents; the layer stage, the layer cache and the
//! analysis read them. They live here, with the stage they feed, so that no
//! import runs from the layer stage back to the source stage.

use crate::digest::Digest;

/// How a layer's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Everything the layer stage needs to read and verify one layer.
#[derive(Debug, Clone)]
pub struct LayerSpec {
    pub index: usize,
    /// Path of the blob inside the store.
    pub path: String,
    /// Digest of the bytes as stored, when the image names it (OCI, Docker 25+).
    pub digest: Option<Digest>,
    /// Digest of the uncompressed tar, from the config.
    pub diff_id: Digest,
    /// Declared media type (`None` for legacy docker-save layers).
    pub media_type: Option<String>,
    /// Declared compression (sniffed bytes win; see the layer stage).
    pub compression: Option<Compression>,
    /// Size as stored, when known from a descriptor.
    pub compressed_size: Option<u64>,
    pub created_by: Option<String>,
}
