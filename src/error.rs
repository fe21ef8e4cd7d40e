//! The library's error type: one structured variant per way an image can be
//! wrong, so callers (and `main`) can print one clear message naming the file,
//! layer or path and the problem.

use std::path::PathBuf;

/// Everything that can go wrong while reading and analysing an image.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    #[error("{path}: not a container image ({reason})")]
    NotAnImage { path: String, reason: String },
    /// An archive that ends before its last member does (a cut download or
    /// copy): says what is missing.
    #[error("{path}: truncated archive: {missing}")]
    Truncated { path: String, missing: String },
    #[error("unsupported image reference {reference:?}: {reason}")]
    BadReference { reference: String, reason: String },
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what} is larger than the {} limit ({limit} bytes)", crate::units::human(*.limit))]
    TooLarge { what: String, limit: u64 },
    /// More entries than `--max-entries` allows (memory grows with entries).
    #[error(
        "{what} has more than {limit} entries, the per-image limit; raise it with --max-entries N"
    )]
    TooManyEntries { what: String, limit: u64 },
    #[error("invalid digest {digest:?} in {what}: {reason}")]
    BadDigest {
        what: String,
        digest: String,
        reason: String,
    },
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what}: blob {digest} is missing from the image")]
    MissingBlob { what: String, digest: String },
    #[error("{what}: unknown media type {media_type:?}")]
    UnknownMediaType { what: String, media_type: String },
    #[error("no image for platform {wanted} (available: {available})")]
    PlatformNotFound { wanted: String, available: String },
    #[error("{what}: {reason}")]
    Ambiguous { what: String, reason: String },
    #[error("layer {index} ({digest}): {reason}")]
    Layer {
        index: usize,
        digest: String,
        reason: String,
    },
    #[error("{0}")]
    Unsupported(String),
    /// A registry answered with an error, or could not be reached.
    #[error("{reference}: {reason}")]
    Registry { reference: String, reason: String },
    /// Authentication with a registry failed (names the repository and what was tried).
    #[error("{reference}: {reason}")]
    Auth { reference: String, reason: String },
    /// The Docker daemon could not be reached or refused the request.
    #[error("docker daemon ({endpoint}): {reason}")]
    Daemon { endpoint: String, reason: String },
    /// A size history that cannot be opened, read or written (names the
    /// file, or the server without credentials).
    #[error("{what}: {reason}")]
    History { what: String, reason: String },
}

/// Shorthand used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn malformed(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
