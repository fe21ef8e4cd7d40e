//! Stage 1 of the pipeline: turn an image reference into a resolved image —
//! manifest, config and one reader per layer. All I/O on the image lives in
//! this module; later stages only see [`Image`] and the readers it opens.
//!
//! This file is the front door: [`open`] and [`platforms`], which share one
//! dispatch from a reference to its store. The reference ([`ImageRef`]), the
//! options ([`ResolveOptions`]) and the result ([`Image`], [`SourceKind`])
//! have files of their own; the stores are in `store.rs` (files),
//! `registry/` and `daemon/`, and `resolve.rs` turns any store's documents
//! into an [`Image`].

pub mod daemon;
pub mod docs;
mod image;
mod image_ref;
mod options;
mod platform;
pub mod registry;
mod resolve;
pub mod store;

pub use crate::layer::LayerSpec;
pub use image::{Image, SourceKind};
pub use image_ref::ImageRef;
pub use options::{ResolveOptions, RetryHook, RetryNotice};

use crate::error::{Error, Result};
use std::path::Path;
use std::sync::Arc;
use store::{open_archive, DirStore, Store};

/// Resolve `r` into an [`Image`].
pub fn open(r: &ImageRef, opts: &ResolveOptions) -> Result<Image> {
    match locate(r, opts)? {
        Where::Files(local) => local.resolve(opts),
        Where::Registry(name) => registry::open(name, opts),
        Where::Daemon(name) => daemon::open(name, opts),
        Where::Name(name) => open_name(name, opts),
    }
}

/// The platforms an image offers, for `--all-platforms`: every manifest of
/// its index (attestations skipped), one entry for a single-platform image.
pub fn platforms(r: &ImageRef, opts: &ResolveOptions) -> Result<Vec<String>> {
    let local = match locate(r, opts)? {
        Where::Files(local) => local,
        Where::Registry(name) => return registry::platforms(name, opts),
        Where::Name(name) if !matches!(daemon::lookup(name)?, daemon::Lookup::Found(_)) => {
            return registry::platforms(name, opts)
        }
        Where::Name(_) | Where::Daemon(_) => return Ok(vec![open(r, opts)?.platform()]),
    };
    // An explicit docker-archive is read through its manifest.json (one image).
    let index = match r {
        ImageRef::DockerArchive { .. } => None,
        _ => store::read_capped(&*local.store, "index.json", docs::MAX_DOC, "index.json")?,
    };
    match index {
        Some(index) => resolve::list_image_platforms(&*local.store, &index, local.reference),
        None => Ok(vec![local.resolve(opts)?.platform()]),
    }
}

/// Where a reference's image is.
enum Where<'a> {
    /// In files: the store is open.
    Files(Local<'a>),
    Registry(&'a str),
    Daemon(&'a str),
    /// A bare name: the daemon's, else the registry's.
    Name(&'a str),
}

/// A reference to an image in files, its store opened.
struct Local<'a> {
    store: Arc<dyn Store>,
    kind: SourceKind,
    /// The image's name inside the store (`:REF`).
    reference: Option<&'a str>,
    display: String,
}

impl Local<'_> {
    fn resolve(self, opts: &ResolveOptions) -> Result<Image> {
        resolve::resolve(self.store, self.kind, self.reference, opts, &self.display)
    }
}

/// The one store dispatch: for a reference to files (a directory or an
/// archive; a gzip-compressed archive is decompressed once into an anonymous
/// temporary file in the cache directory) its opened store; for the others,
/// the name to hand to the registry or daemon source.
fn locate<'a>(r: &'a ImageRef, opts: &ResolveOptions) -> Result<Where<'a>> {
    let temp_dir = opts.cache_dir.as_deref();
    let files = |store: Arc<dyn Store>, kind, reference: &'a Option<String>, path: &Path| {
        Where::Files(Local {
            store,
            kind,
            reference: reference.as_deref(),
            display: path.display().to_string(),
        })
    };
    Ok(match r {
        ImageRef::Registry(name) => Where::Registry(name),
        ImageRef::Daemon(name) => Where::Daemon(name),
        ImageRef::Name(name) => Where::Name(name),
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
            files(
                Arc::new(DirStore::new(dir)?),
                SourceKind::Oci,
                reference,
                dir,
            )
        }
        ImageRef::OciArchive { path, reference } => {
            let store = Arc::new(open_archive(path, temp_dir)?);
            files(store, SourceKind::OciArchive, reference, path)
        }
        ImageRef::DockerArchive { path, reference } => {
            let store = Arc::new(open_archive(path, temp_dir)?);
            files(store, SourceKind::DockerArchive, reference, path)
        }
        ImageRef::Path(p) if p.is_dir() => {
            files(Arc::new(DirStore::new(p)?), SourceKind::Oci, &None, p)
        }
        ImageRef::Path(p) => {
            let store: Arc<dyn Store> = Arc::new(open_archive(p, temp_dir)?);
            let kind = if store.open("manifest.json")?.is_some() {
                SourceKind::DockerArchive
            } else {
                SourceKind::OciArchive
            };
            files(store, kind, &None, p)
        }
    })
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
