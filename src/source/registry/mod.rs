//! Images straight from a registry (OCI distribution API), with no daemon and
//! no temporary copy: a [`RegistryStore`] answers the same "open this path"
//! questions as a directory or an archive, so the shared resolver
//! (`resolve.rs`) does platform selection, size caps and digest checks
//! exactly as for an OCI layout:
//!
//! - `index.json` is the document the tag (or digest) names when it is an
//!   index, or a one-entry index synthesised around it when it is a manifest;
//! - `blobs/sha256/<hex>` is a manifest GET for digests an index listed, a
//!   fully read (4 MiB-capped, cached) blob GET for configs, and a lazily
//!   opened, resumable streaming blob GET ([`blob::BlobReader`]) for layers,
//!   which the layer stage hashes while decoding.

pub mod auth;
mod blob;
mod client;
pub mod reference;

use super::docs::{is_index_type, Document, MAX_DOC};
use super::store::Store;
use super::{resolve, Image, ResolveOptions, SourceKind};
use crate::digest::Digest;
use crate::error::{Error, Result};
use auth::Credentials;
use client::Client;
use reference::RegistryRef;
use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

pub use blob::BlobReader;

/// Media types asked for when fetching a manifest by tag or digest.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

#[derive(Default)]
struct Known {
    /// Documents already fetched (manifests, indexes, configs), by digest.
    docs: HashMap<Digest, Arc<Vec<u8>>>,
    /// Digests an index listed: fetched from `/manifests/`.
    manifests: HashSet<Digest>,
    /// Config digests: read whole (capped) and cached.
    configs: HashSet<Digest>,
    /// Layer sizes from manifests.
    sizes: HashMap<Digest, u64>,
    /// Foreign-layer URLs from manifests.
    urls: HashMap<Digest, Vec<String>>,
}

/// A registry repository seen as a [`Store`].
pub struct RegistryStore {
    client: Arc<Client>,
    /// Whether foreign-layer URLs may be fetched (`ResolveOptions::allow_foreign_layers`).
    allow_foreign: bool,
    index_json: Vec<u8>,
    known: Mutex<Known>,
}

fn blob_digest(path: &str) -> Option<Digest> {
    let hex = path.strip_prefix("blobs/sha256/")?;
    Digest::parse(&format!("sha256:{hex}"), path).ok()
}

impl RegistryStore {
    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember what a fetched document points at, so later opens go to the
    /// right endpoint.
    fn register(&self, bytes: &[u8]) {
        let Ok(doc) = Document::parse(bytes, "registry document") else {
            return;
        };
        let mut k = self.known();
        for d in doc.manifests.iter().flatten() {
            if let Ok(dg) = Digest::parse(&d.digest, "index entry") {
                k.manifests.insert(dg);
            }
        }
        if let Some(c) = &doc.config {
            if let Ok(dg) = Digest::parse(&c.digest, "config") {
                k.configs.insert(dg);
            }
        }
        for l in doc.layers.iter().flatten() {
            if let (Ok(dg), Ok(size)) = (Digest::parse(&l.digest, "layer"), u64::try_from(l.size)) {
                if let Some(urls) = l.urls.as_ref().filter(|u| !u.is_empty()) {
                    k.urls.insert(dg.clone(), urls.clone());
                }
                k.sizes.insert(dg, size);
            }
        }
    }

    fn fetch_manifest(&self, d: &Digest) -> Result<Option<Vec<u8>>> {
        let what = format!("manifest {d}");
        let resp = self.client.send(
            &self.client.url(&format!("manifests/{d}")),
            &[("Accept", MANIFEST_ACCEPT)],
        )?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            s => return Err(self.client.status_error(s, &what)),
        }
        let bytes =
            client::read_capped(resp, MAX_DOC, &format!("{what} in {}", self.client.display))?;
        self.register(&bytes);
        Ok(Some(bytes))
    }

    fn fetch_small_blob(&self, d: &Digest) -> Result<Option<Vec<u8>>> {
        let what = format!("blob {d}");
        let resp = self.client.send(
            &self.client.url(&format!("blobs/{d}")),
            &[("Accept", "*/*")],
        )?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            s => return Err(self.client.status_error(s, &what)),
        }
        client::read_capped(
            resp,
            MAX_DOC,
            &format!("config {d} in {}", self.client.display),
        )
        .map(Some)
    }
}

impl Store for RegistryStore {
    fn name(&self) -> &str {
        &self.client.display
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        if path == "index.json" {
            let b = self.index_json.clone();
            let n = b.len() as u64;
            return Ok(Some((Box::new(Cursor::new(b)), n)));
        }
        let Some(d) = blob_digest(path) else {
            return Ok(None);
        };
        let (cached, is_manifest, is_config, size, urls) = {
            let k = self.known();
            (
                k.docs.get(&d).cloned(),
                k.manifests.contains(&d),
                k.configs.contains(&d),
                k.sizes.get(&d).copied(),
                k.urls.get(&d).cloned().unwrap_or_default(),
            )
        };
        let bytes = match cached {
            Some(b) => Some(b.to_vec()),
            None if is_manifest => body_retries(|| self.fetch_manifest(&d))?,
            None if is_config => body_retries(|| self.fetch_small_blob(&d))?,
            None => {
                let r = BlobReader::new(self.client.clone(), d, size, urls, self.allow_foreign);
                return Ok(Some((Box::new(r), size.unwrap_or(0))));
            }
        };
        Ok(bytes.map(|b| {
            let n = b.len() as u64;
            self.known().docs.insert(d, Arc::new(b.clone()));
            let r: Box<dyn Read + Send> = Box::new(Cursor::new(b));
            (r, n)
        }))
    }
}

/// Documents are small and read whole: a connection that drops while one is
/// read (an I/O error, not an HTTP status) is retried from the start.
fn body_retries<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(Error::Io { .. }) if attempt < 3 => {
                attempt += 1;
                std::thread::sleep(client::backoff(attempt));
            }
            r => return r,
        }
    }
}

/// The top document a reference names, fetched and checked.
struct Top {
    bytes: Vec<u8>,
    digest: Digest,
    media_type: String,
}

fn fetch_top(client: &Client, r: &RegistryRef) -> Result<Top> {
    let mref = r.manifest_ref();
    let what = match &r.digest {
        Some(d) => format!("manifest {d}"),
        None => format!("tag {mref:?}"),
    };
    let resp = client.send(
        &client.url(&format!("manifests/{mref}")),
        &[("Accept", MANIFEST_ACCEPT)],
    )?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(client.status_error(status, &what));
    }
    let header_digest = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_string());
    let bytes = client::read_capped(resp, MAX_DOC, &format!("{what} of {}", client.display))?;
    let actual = Digest::of_bytes(&bytes);
    let mismatch = |expected: String| Error::DigestMismatch {
        what: format!("{what} of {}", client.display),
        expected,
        actual: actual.to_string(),
    };
    if let Some(want) = &r.digest {
        if want != &actual {
            return Err(mismatch(want.to_string()));
        }
    }
    if let Some(h) = header_digest.filter(|h| h.starts_with("sha256:")) {
        if h != actual.as_str() {
            return Err(mismatch(h));
        }
    }
    let doc = Document::parse(&bytes, &format!("{what} of {}", client.display))?;
    let media_type = doc.media_type.clone().or(content_type).unwrap_or_default();
    if media_type.starts_with("application/vnd.docker.distribution.manifest.v1") {
        return Err(Error::Unsupported(format!(
            "{}: {what} is a schema 1 manifest ({media_type}), which is not supported",
            client.display
        )));
    }
    let media_type = if media_type.is_empty() {
        if doc.is_index() {
            "application/vnd.oci.image.index.v1+json".into()
        } else {
            "application/vnd.oci.image.manifest.v1+json".into()
        }
    } else {
        media_type
    };
    Ok(Top {
        bytes,
        digest: actual,
        media_type,
    })
}

/// Connect to the registry for `r` and build its store.
fn connect(
    r: &RegistryRef,
    opts: &ResolveOptions,
    quick: bool,
) -> Result<(RegistryStore, Vec<String>)> {
    let display = format!("docker://{r}");
    let mut warnings = Vec::new();
    let scheme = if r.is_loopback() {
        "http"
    } else if opts.insecure {
        let w = format!(
            "{}: --insecure: talking plain http, without TLS, to a non-loopback registry",
            r.registry
        );
        eprintln!("imgaudit: warning: {w}");
        warnings.push(w);
        "http"
    } else {
        "https"
    };
    let creds: Option<Credentials> = match &opts.credentials {
        Some(c) => Some(c.clone()),
        None => auth::from_docker_config(&r.registry)?,
    };
    let client = Arc::new(
        Client::new(
            format!("{scheme}://{}", r.api_host()),
            r.repository.clone(),
            display,
            creds,
            quick,
            opts.allow_private_realm,
        )?
        .with_retry_hook(opts.on_retry.clone()),
    );
    let top = body_retries(|| fetch_top(&client, r))?;
    let store = RegistryStore {
        client,
        allow_foreign: opts.allow_foreign_layers,
        index_json: Vec::new(),
        known: Mutex::new(Known::default()),
    };
    store.register(&top.bytes);
    let index_json = if is_index_type(&top.media_type) {
        top.bytes.clone()
    } else {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": top.media_type,
                "digest": top.digest.as_str(),
                "size": top.bytes.len(),
            }]
        }))
        .map_err(|e| Error::malformed("synthesised index", e.to_string()))?
    };
    store
        .known()
        .docs
        .insert(top.digest.clone(), Arc::new(top.bytes));
    Ok((
        RegistryStore {
            index_json,
            ..store
        },
        warnings,
    ))
}

/// Resolve `docker://NAME` into an [`Image`] whose layers stream from the registry.
pub fn open(name: &str, opts: &ResolveOptions) -> Result<Image> {
    let r = RegistryRef::parse(name)?;
    let (store, warnings) = connect(&r, opts, false)?;
    let display = store.client.display.clone();
    let mut image = resolve::resolve(Arc::new(store), SourceKind::Registry, None, opts, &display)?;
    image.warnings.extend(warnings);
    Ok(image)
}

/// Like [`open`], but one attempt per request and a short connect timeout:
/// for optional look-ups (compressed sizes of a daemon image).
pub fn open_quick(name: &str, opts: &ResolveOptions) -> Result<Image> {
    let r = RegistryRef::parse(name)?;
    let (store, _) = connect(&r, opts, true)?;
    let display = store.client.display.clone();
    resolve::resolve(Arc::new(store), SourceKind::Registry, None, opts, &display)
}

/// The platforms `docker://NAME` offers (one entry for a single-platform image).
pub fn platforms(name: &str, opts: &ResolveOptions) -> Result<Vec<String>> {
    let r = RegistryRef::parse(name)?;
    let (store, _) = connect(&r, opts, false)?;
    let index = store.index_json.clone();
    resolve::list_platforms(&store, &index)
}
