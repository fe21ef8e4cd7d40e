//! Stage 1 of the pipeline: turn an image reference into a resolved image —
//! manifest, config and one reader per layer. All I/O on the image lives in
//! this module; later stages only see [`Image`] and the readers it opens.
//!
//! Transports follow the containers ecosystem's names: `docker-archive:PATH`,
//! `oci:DIR[:REF]`, `oci-archive:PATH[:REF]`, or a bare path (detected).
//! Registry (`docker://`) and daemon (`docker-daemon:`) references are parsed
//! here too; they are the seam where those sources plug in.

pub mod daemon;
pub mod docs;
pub mod registry;
mod resolve;
pub mod store;

use crate::digest::Digest;
use crate::error::{Error, Result};
use docs::{Compression, Config};
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{DirStore, Store, TarStore};

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `docker save` output (legacy or Docker 25+ shape), maybe gzip-compressed.
    DockerArchive {
        path: PathBuf,
        reference: Option<String>,
    },
    /// OCI image layout directory.
    Oci {
        dir: PathBuf,
        reference: Option<String>,
    },
    /// OCI image layout as a tar archive.
    OciArchive {
        path: PathBuf,
        reference: Option<String>,
    },
    /// A path whose kind is detected from its contents.
    Path(PathBuf),
    /// `docker://…` — a registry.
    Registry(String),
    /// `docker-daemon:…` — the local daemon.
    Daemon(String),
    /// A bare `NAME[:TAG]`: the daemon when it has the image, else the registry.
    Name(String),
}

/// Split `PATH[:REF]`, preferring the whole string when it names an existing path.
fn split_path_ref(s: &str) -> (PathBuf, Option<String>) {
    if Path::new(s).exists() {
        return (PathBuf::from(s), None);
    }
    match s.rsplit_once(':') {
        Some((p, r)) if !p.is_empty() && !r.contains('/') => {
            (PathBuf::from(p), Some(r.to_string()))
        }
        _ => (PathBuf::from(s), None),
    }
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<ImageRef> {
        if s.is_empty() {
            return Err(Error::BadReference {
                reference: s.into(),
                reason: "empty image reference".into(),
            });
        }
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            let (path, reference) = split_path_ref(rest);
            return Ok(ImageRef::DockerArchive { path, reference });
        }
        if let Some(rest) = s.strip_prefix("oci-archive:") {
            let (path, reference) = split_path_ref(rest);
            return Ok(ImageRef::OciArchive { path, reference });
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, reference) = split_path_ref(rest);
            return Ok(ImageRef::Oci { dir, reference });
        }
        if let Some(rest) = s.strip_prefix("docker://") {
            return Ok(ImageRef::Registry(rest.to_string()));
        }
        if let Some(rest) = s.strip_prefix("docker-daemon:") {
            return Ok(ImageRef::Daemon(rest.to_string()));
        }
        if Path::new(s).exists() {
            return Ok(ImageRef::Path(PathBuf::from(s)));
        }
        // A missing file must not turn into a registry request.
        let looks_like_path = s.starts_with('/')
            || s.starts_with('.')
            || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".json"]
                .iter()
                .any(|ext| s.ends_with(ext));
        if looks_like_path {
            return Err(Error::NotFound(PathBuf::from(s)));
        }
        match registry::reference::RegistryRef::parse(s) {
            Ok(_) => Ok(ImageRef::Name(s.to_string())),
            Err(e) => Err(Error::BadReference {
                reference: s.into(),
                reason: format!("no such file or directory, and not an image name either ({e})"),
            }),
        }
    }
}

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

/// Options that influence how a reference is resolved.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// `os/arch[/variant]`; `None` = linux/amd64, or the only one present.
    pub platform: Option<String>,
    /// Where temporary decompressed archives may be written.
    pub cache_dir: Option<PathBuf>,
    /// Plain http to a non-loopback registry (`--insecure`).
    pub insecure: bool,
    /// Registry credentials from the command line; `None` = docker's config.
    pub credentials: Option<registry::auth::Credentials>,
    /// Fetch foreign (non-distributable) layers from the `urls` of their
    /// descriptors when the registry does not serve them
    /// (`--allow-foreign-layers`). Off by default: those URLs are chosen by
    /// whoever wrote the manifest. See docs/SECURITY.md.
    pub allow_foreign_layers: bool,
    /// Accept a bearer-token realm on a link-local address, or on a private
    /// or loopback address when the registry itself is public
    /// (`--allow-private-realm`). See docs/SECURITY.md.
    pub allow_private_realm: bool,
    /// Cache directory for a daemon image's export documents (with the
    /// layer cache; `None` under `--no-cache`). See `daemon.rs`.
    pub doc_cache: Option<PathBuf>,
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
    store: Arc<dyn Store>,
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

/// Resolve `r` into an [`Image`].
pub fn open(r: &ImageRef, opts: &ResolveOptions) -> Result<Image> {
    match r {
        ImageRef::Registry(name) => registry::open(name, opts),
        ImageRef::Daemon(name) => daemon::open(name, opts),
        ImageRef::Name(name) => open_name(name, opts),
        ImageRef::Oci { dir, reference } => {
            if !dir.is_dir() {
                return Err(if dir.exists() {
                    Error::NotAnImage {
                        path: dir.display().to_string(),
                        reason: "oci: expects a directory (use oci-archive: for a tar)".into(),
                    }
                } else {
                    Error::NotFound(dir.clone())
                });
            }
            let store = Arc::new(DirStore::new(dir)?);
            resolve::resolve(
                store,
                SourceKind::Oci,
                reference.as_deref(),
                opts,
                &dir.display().to_string(),
            )
        }
        ImageRef::OciArchive { path, reference } => {
            let store = Arc::new(open_tar(path, opts)?);
            resolve::resolve(
                store,
                SourceKind::OciArchive,
                reference.as_deref(),
                opts,
                &path.display().to_string(),
            )
        }
        ImageRef::DockerArchive { path, reference } => {
            let store = Arc::new(open_tar(path, opts)?);
            resolve::resolve(
                store,
                SourceKind::DockerArchive,
                reference.as_deref(),
                opts,
                &path.display().to_string(),
            )
        }
        ImageRef::Path(p) => {
            if p.is_dir() {
                let store = Arc::new(DirStore::new(p)?);
                resolve::resolve(store, SourceKind::Oci, None, opts, &p.display().to_string())
            } else {
                let store: Arc<dyn Store> = Arc::new(open_tar(p, opts)?);
                let kind = if store.open("manifest.json")?.is_some() {
                    SourceKind::DockerArchive
                } else {
                    SourceKind::OciArchive
                };
                resolve::resolve(store, kind, None, opts, &p.display().to_string())
            }
        }
    }
}

/// A bare name: the daemon's image when a daemon answers and has it, else
/// the registry's (docker's name normalisation applies to both).
fn open_name(name: &str, opts: &ResolveOptions) -> Result<Image> {
    let why = match daemon::lookup(name)? {
        daemon::Lookup::Found(ins) => return daemon::open_found(name, &ins, opts),
        daemon::Lookup::Missing => "the docker daemon has no such image".to_string(),
        daemon::Lookup::Unreachable(why) => format!("no docker daemon: {why}"),
    };
    registry::open(name, opts).map_err(|e| Error::Registry {
        reference: name.into(),
        reason: format!("{e} (tried the registry because {why})"),
    })
}

/// The platforms an image offers, for `--all-platforms`: every manifest of
/// its index (attestations skipped), one entry for a single-platform image.
pub fn platforms(r: &ImageRef, opts: &ResolveOptions) -> Result<Vec<String>> {
    let store: Arc<dyn Store> = match r {
        ImageRef::Registry(name) => return registry::platforms(name, opts),
        ImageRef::Name(name) if !matches!(daemon::lookup(name)?, daemon::Lookup::Found(_)) => {
            return registry::platforms(name, opts)
        }
        ImageRef::Oci { dir, .. } => Arc::new(DirStore::new(dir)?),
        ImageRef::Path(p) if p.is_dir() => Arc::new(DirStore::new(p)?),
        ImageRef::OciArchive { path, .. } | ImageRef::Path(path) => Arc::new(open_tar(path, opts)?),
        _ => return Ok(vec![open(r, opts)?.platform()]),
    };
    match store::read_capped(&*store, "index.json", docs::MAX_DOC, "index.json")? {
        Some(index) => resolve::list_platforms(&*store, &index),
        None => Ok(vec![open(r, opts)?.platform()]),
    }
}

/// Open an archive file, decompressing a gzip-compressed one into an
/// anonymous temporary file in the cache directory.
fn open_tar(path: &Path, opts: &ResolveOptions) -> Result<TarStore> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path.to_path_buf())
        } else {
            Error::io(&name, e)
        }
    })?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::NotAnImage {
            path: name,
            reason: "is a directory; use oci:DIR for an OCI layout".into(),
        });
    }
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut f, &mut magic).map_err(|e| Error::io(&name, e))?;
    f.rewind().map_err(|e| Error::io(&name, e))?;
    if n >= 2 && magic[..2] == [0x1f, 0x8b] {
        let dir = opts.cache_dir.clone().unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut tmp =
            tempfile::tempfile_in(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        std::io::copy(&mut dec, &mut tmp).map_err(|e| Error::NotAnImage {
            path: name.clone(),
            reason: format!("corrupt gzip-compressed archive: {e}"),
        })?;
        tmp.rewind()
            .map_err(|e| Error::io(dir.display().to_string(), e))?;
        return TarStore::index(tmp, name);
    }
    if n >= 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        return Err(Error::NotAnImage {
            path: name,
            reason: "zstd-compressed archive; decompress it first (zstd -d)".into(),
        });
    }
    TarStore::index(f, name)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(&mut buf[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_transports() {
        assert_eq!(
            ImageRef::parse("oci:/x/y:latest").unwrap(),
            ImageRef::Oci {
                dir: "/x/y".into(),
                reference: Some("latest".into())
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:/tmp/a.tar").unwrap(),
            ImageRef::DockerArchive {
                path: "/tmp/a.tar".into(),
                reference: None
            }
        );
        assert!(matches!(
            ImageRef::parse("docker://ubuntu").unwrap(),
            ImageRef::Registry(_)
        ));
        assert!(matches!(
            ImageRef::parse("./missing.tar"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            ImageRef::parse("missing.tgz"),
            Err(Error::NotFound(_))
        ));
        assert_eq!(
            ImageRef::parse("python:3.12").unwrap(),
            ImageRef::Name("python:3.12".into())
        );
        assert!(matches!(
            ImageRef::parse("Not An Image"),
            Err(Error::BadReference { .. })
        ));
    }
}
