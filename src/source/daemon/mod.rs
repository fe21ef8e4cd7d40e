//! Images from the local Docker daemon (or podman's docker-compatible
//! socket), through bollard: `DOCKER_HOST` is honoured, else
//! `/var/run/docker.sock`.
//!
//! The daemon hands out an image only as a `docker save` stream (legacy
//! `<id>/layer.tar` shape, or Docker 25+'s OCI layout inside the tar). The
//! stream is not seekable, `manifest.json` comes *after* the layers (members
//! are in name order), and the pipeline decodes layers in parallel, largest
//! first. So, with no temp file and no layer buffered in memory:
//!
//! 1. **Inspect** the image: its ID (= config digest, so every export below
//!    is of exactly this image, even if the tag moves), diff_ids, platform
//!    and RepoDigests.
//! 2. **Index pass**: export once and walk the tar, recording every member's
//!    name, size and position, and keeping only the small documents
//!    (`manifest.json`, configs, `index.json`, manifests; ≤ 4 MiB each, 64 MiB
//!    in all). Layer bytes are skipped as they pass. The shared resolver then
//!    works on this [`DaemonStore`] as on any docker archive.
//! 3. **Layer reads**: each layer reader, on its first read, takes an export
//!    stream positioned at or before its member from a small pool (or starts
//!    a new export), walks forward to its member, and streams that member's
//!    bytes into the decoder; when done it returns the stream to the pool,
//!    where a reader of a later member can continue from it. Parallel
//!    decoding thus costs extra exports only when readers go backwards in
//!    stream order; memory stays bounded (a few chunks per open stream).
//!
//! With the layer cache on, the documents the index pass kept are cached by
//! image ID ([`doc_cache`]). The next time the image is read,
//! a [`CachedStore`] serves them and exports nothing unless a layer has to
//! be read: an image whose layers are all cached is analysed without any
//! export.
//!
//! Layers in an export are uncompressed, so compressed sizes are unknown —
//! unless the image has a RepoDigest whose registry answers with a manifest
//! for this very config; then the registry's layer sizes are reported.

mod doc_cache;

use super::docs::MAX_DOC;
use super::registry;
use super::store::{clean_rel_path, Store};
use super::{resolve, Image, ResolveOptions, SourceKind};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layer::tarstream::{Kind, ReadSkip, TarReader};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Cursor, Read};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use doc_cache::ExportDocs;

/// Most bytes of small documents kept from the index pass.
const MAX_DOCS_TOTAL: u64 = 64 << 20;
/// Export streams kept idle for later readers.
const MAX_IDLE: usize = 4;
/// How long connecting to the daemon and inspecting an image may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Chunks buffered between an export's network thread and its reader.
const CHANNEL_CHUNKS: usize = 8;

/// Where the daemon is, for messages.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

fn daemon_err(reason: impl Into<String>) -> Error {
    Error::Daemon {
        endpoint: endpoint(),
        reason: reason.into(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| daemon_err(format!("cannot start the async runtime: {e}")))
}

/// Connect and agree on an API version; the error is the reason alone.
async fn connect() -> std::result::Result<Docker, String> {
    let d = Docker::connect_with_defaults()
        .map_err(|e| format!("cannot connect: {e}"))?
        .with_timeout(Duration::from_secs(600));
    d.negotiate_version()
        .await
        .map_err(|e| format!("not reachable: {e}"))
}

/// What the daemon says about an image.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub id: Digest,
    pub diff_ids: Vec<Digest>,
    pub repo_digests: Vec<String>,
    pub platform: String,
}

/// Outcome of asking the daemon for an image.
pub enum Lookup {
    Found(Inspected),
    /// The daemon answered: no such image.
    Missing,
    /// No daemon to ask (socket absent, connection refused, …).
    Unreachable(String),
}

/// Inspect `name` in the daemon.
pub fn lookup(name: &str) -> Result<Lookup> {
    let rt = runtime()?;
    rt.block_on(async {
        // A DOCKER_HOST that never answers must not hold up a bare name.
        let asked = tokio::time::timeout(LOOKUP_TIMEOUT, async {
            let docker = connect().await?;
            Ok::<_, String>(docker.inspect_image(name).await)
        })
        .await;
        let answer = match asked {
            Err(_) => {
                return Ok(Lookup::Unreachable(format!(
                    "no answer within {} s",
                    LOOKUP_TIMEOUT.as_secs()
                )))
            }
            Ok(Err(why)) => return Ok(Lookup::Unreachable(why)),
            Ok(Ok(answer)) => answer,
        };
        let ii = match answer {
            Ok(ii) => ii,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(Lookup::Missing),
            Err(e) => return Err(daemon_err(format!("inspecting image {name}: {e}"))),
        };
        let what = format!("image {name} in the docker daemon");
        let id = Digest::parse(ii.id.as_deref().unwrap_or(""), &what)?;
        let diff_ids = ii
            .root_fs
            .and_then(|r| r.layers)
            .unwrap_or_default()
            .iter()
            .map(|d| Digest::parse(d, &what))
            .collect::<Result<Vec<_>>>()?;
        let mut platform = format!(
            "{}/{}",
            ii.os.unwrap_or_default(),
            ii.architecture.unwrap_or_default()
        );
        if let Some(v) = ii.variant.filter(|v| !v.is_empty()) {
            platform = format!("{platform}/{v}");
        }
        Ok(Lookup::Found(Inspected {
            id,
            diff_ids,
            repo_digests: ii.repo_digests.unwrap_or_default(),
            platform,
        }))
    })
}

/// A `Read` over one export stream, fed by a thread that runs bollard.
struct ExportRead {
    rx: Receiver<io::Result<bytes::Bytes>>,
    cur: bytes::Bytes,
}

impl ExportRead {
    fn start(image_id: &str) -> io::Result<ExportRead> {
        let (tx, rx) = sync_channel::<io::Result<bytes::Bytes>>(CHANNEL_CHUNKS);
        let id = image_id.to_string();
        std::thread::Builder::new()
            .name("docker-export".into())
            .spawn(move || {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(io::Error::other(e.to_string())));
                        return;
                    }
                };
                rt.block_on(async {
                    let docker = match connect().await {
                        Ok(d) => d,
                        Err(why) => {
                            let _ = tx.send(Err(io::Error::other(format!("docker daemon: {why}"))));
                            return;
                        }
                    };
                    let mut s = docker.export_image(&id);
                    while let Some(item) = s.next().await {
                        let item = item.map_err(|e| {
                            io::Error::other(format!("docker daemon export of {id}: {e}"))
                        });
                        let stop = item.is_err();
                        // The reader hung up: stop pulling (the stream is dropped).
                        if tx.send(item).is_err() || stop {
                            return;
                        }
                    }
                });
            })?;
        Ok(ExportRead {
            rx,
            cur: bytes::Bytes::new(),
        })
    }
}

impl Read for ExportRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.recv() {
                Ok(Ok(b)) => self.cur = b,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// Produces the export stream from its start, as often as asked: the daemon's
/// `GET /images/{id}/get`, or (in tests) any re-readable `docker save` bytes.
pub type Exporter = Arc<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// The daemon's export of image `id` as an [`Exporter`].
fn daemon_exporter(id: &Digest) -> Exporter {
    let id = id.to_string();
    Arc::new(move || Ok(Box::new(ExportRead::start(&id)?) as Box<dyn Read + Send>))
}

/// One export stream, walked entry by entry.
struct Session {
    tar: TarReader<ReadSkip<BufReader<Box<dyn Read + Send>>>>,
    /// Index of the next entry `next_entry` will return.
    next: usize,
}

impl Session {
    fn start(exporter: &Exporter) -> io::Result<Session> {
        let r = exporter()?;
        Ok(Session {
            tar: TarReader::new(ReadSkip(BufReader::with_capacity(256 * 1024, r))),
            next: 0,
        })
    }
}

/// One member of the export, as seen by the index pass.
#[derive(Clone)]
struct Member {
    path: Vec<u8>,
    size: u64,
}

enum Node {
    /// Entry index in the stream.
    File(usize),
    Link(String),
}

/// The export streams and what the index pass learnt.
struct Pool {
    exporter: Exporter,
    entries: Vec<Member>,
    idle: Mutex<Vec<Session>>,
}

impl Pool {
    /// A session whose next entry is `k`'s, ready to read its data.
    fn checkout(&self, k: usize) -> io::Result<Session> {
        let reuse = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let best = idle
                .iter()
                .enumerate()
                .filter(|(_, s)| s.next <= k)
                .max_by_key(|(_, s)| s.next)
                .map(|(i, _)| i);
            best.map(|i| idle.swap_remove(i))
        };
        let mut s = match reuse {
            Some(s) => s,
            None => Session::start(&self.exporter)?,
        };
        while s.next <= k {
            let e = s.tar.next_entry()?.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "docker daemon export ended before the member",
                )
            })?;
            s.next += 1;
            if s.next - 1 == k {
                let want = &self.entries[k];
                if e.path != want.path || e.size != want.size {
                    return Err(io::Error::other(format!(
                        "docker daemon export changed between passes (member {k}: {:?} of {} bytes, expected {:?} of {})",
                        String::from_utf8_lossy(&e.path),
                        e.size,
                        String::from_utf8_lossy(&want.path),
                        want.size
                    )));
                }
            }
        }
        Ok(s)
    }

    fn give_back(&self, s: Session) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(s);
        }
    }
}

/// Streams one member's bytes; takes an export stream on first read.
struct MemberReader {
    pool: Arc<Pool>,
    k: usize,
    session: Option<Session>,
    done: bool,
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.session.is_none() {
            self.session = Some(self.pool.checkout(self.k)?);
        }
        let s = self.session.as_mut().expect("checked out above");
        let n = s.tar.read_data(buf)?;
        if n == 0 {
            self.done = true;
            if let Some(s) = self.session.take() {
                self.pool.give_back(s);
            }
        }
        Ok(n)
    }
}

/// The daemon's export seen as a [`Store`].
pub struct DaemonStore {
    name: String,
    pool: Arc<Pool>,
    nodes: HashMap<String, Node>,
    docs: HashMap<usize, Arc<Vec<u8>>>,
}

impl DaemonStore {
    /// The index pass: walk one export, keep the small documents.
    fn index(name: String, exporter: Exporter, ins: &Inspected) -> Result<DaemonStore> {
        let layers: HashSet<String> = ins.diff_ids.iter().map(|d| d.hex().to_string()).collect();
        let bad = |e: io::Error| daemon_err(format!("reading the export of {name}: {e}"));
        let mut s = Session::start(&exporter).map_err(bad)?;
        let mut entries = Vec::new();
        let mut nodes = HashMap::new();
        let mut docs = HashMap::new();
        let mut kept = 0u64;
        while let Some(e) = s.tar.next_entry().map_err(bad)? {
            let k = entries.len();
            entries.push(Member {
                path: e.path.clone(),
                size: e.size,
            });
            let Some(path) = std::str::from_utf8(&e.path)
                .ok()
                .and_then(|p| clean_rel_path(p, &name).ok())
            else {
                continue;
            };
            match e.kind {
                Kind::File => {
                    // Layers are never kept: `*.tar` members (legacy and
                    // skopeo shapes) and blobs named by a diff_id (Docker 25+).
                    let is_layer = path.ends_with(".tar")
                        || path
                            .strip_prefix("blobs/sha256/")
                            .is_some_and(|h| layers.contains(h));
                    if !is_layer && e.size <= MAX_DOC && kept + e.size <= MAX_DOCS_TOTAL {
                        let mut b = vec![0u8; e.size as usize];
                        let mut got = 0;
                        while got < b.len() {
                            let n = s.tar.read_data(&mut b[got..]).map_err(bad)?;
                            if n == 0 {
                                break;
                            }
                            got += n;
                        }
                        kept += e.size;
                        docs.insert(k, Arc::new(b));
                    }
                    nodes.insert(path, Node::File(k));
                }
                Kind::Symlink => {
                    let target = String::from_utf8_lossy(&e.link).into_owned();
                    let joined = std::path::Path::new(&path)
                        .parent()
                        .unwrap_or(std::path::Path::new(""))
                        .join(target)
                        .to_string_lossy()
                        .into_owned();
                    nodes.insert(path, Node::Link(joined));
                }
                Kind::Hardlink => {
                    nodes.insert(
                        path,
                        Node::Link(String::from_utf8_lossy(&e.link).into_owned()),
                    );
                }
                _ => {}
            }
        }
        if entries.is_empty() {
            return Err(daemon_err(format!("the export of {name} is empty")));
        }
        Ok(DaemonStore {
            name,
            pool: Arc::new(Pool {
                exporter,
                entries,
                idle: Mutex::new(Vec::new()),
            }),
            nodes,
            docs,
        })
    }

    fn lookup(&self, path: &str) -> Result<Option<usize>> {
        let p = follow_links(&self.name, path, |p| match self.nodes.get(p) {
            Some(Node::Link(t)) => Some(t),
            _ => None,
        })?;
        Ok(match self.nodes.get(&p) {
            Some(Node::File(k)) => Some(*k),
            _ => None,
        })
    }

    /// The small documents this store kept, for the cache.
    fn export_docs(&self) -> ExportDocs {
        let mut d = ExportDocs::default();
        for (path, node) in &self.nodes {
            match node {
                Node::File(k) => match self.docs.get(k) {
                    Some(b) => d.files.push((path.clone(), b.to_vec())),
                    None => d.others.push((path.clone(), self.pool.entries[*k].size)),
                },
                Node::Link(t) => d.links.push((path.clone(), t.clone())),
            }
        }
        d.files.sort();
        d.links.sort();
        d.others.sort();
        d
    }
}

/// `path` cleaned, with symlinks (`link_of`) followed, at most 8 hops.
fn follow_links<'a>(
    name: &str,
    path: &str,
    link_of: impl Fn(&str) -> Option<&'a String>,
) -> Result<String> {
    let mut p = clean_rel_path(path, name)?;
    for _ in 0..=8 {
        match link_of(&p) {
            None => return Ok(p),
            Some(t) => p = clean_rel_path(t, name)?,
        }
    }
    Err(Error::malformed(
        format!("{name}: {path}"),
        "symlink chain longer than 8 hops (cycle?)",
    ))
}

/// A daemon image whose export documents came from the cache: they are
/// served from memory, and the index pass (an export) runs only when
/// something else is opened — a layer that is not cached.
struct CachedStore {
    name: String,
    files: HashMap<String, Vec<u8>>,
    links: HashMap<String, String>,
    /// Files of the export that are not in `files` (layers, big documents),
    /// with their sizes.
    others: HashMap<String, u64>,
    exporter: Exporter,
    ins: Inspected,
    full: OnceLock<std::result::Result<DaemonStore, String>>,
}

impl CachedStore {
    fn new(name: &str, docs: ExportDocs, exporter: Exporter, ins: &Inspected) -> CachedStore {
        CachedStore {
            name: name.to_string(),
            files: docs.files.into_iter().collect(),
            links: docs.links.into_iter().collect(),
            others: docs.others.into_iter().collect(),
            exporter,
            ins: ins.clone(),
            full: OnceLock::new(),
        }
    }

    /// The store of a real index pass, made on first use.
    fn full(&self) -> Result<&DaemonStore> {
        self.full
            .get_or_init(|| {
                DaemonStore::index(self.name.clone(), self.exporter.clone(), &self.ins).map_err(
                    |e| match e {
                        Error::Daemon { reason, .. } => reason,
                        other => other.to_string(),
                    },
                )
            })
            .as_ref()
            .map_err(|reason| daemon_err(reason.clone()))
    }
}

impl Store for CachedStore {
    fn name(&self) -> &str {
        &self.name
    }
    fn stream_position(&self, path: &str) -> Option<u64> {
        self.full().ok()?.stream_position(path)
    }
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let p = follow_links(&self.name, path, |p| self.links.get(p))?;
        if let Some(d) = self.files.get(&p) {
            let n = d.len() as u64;
            return Ok(Some((Box::new(Cursor::new(d.clone())), n)));
        }
        if !self.others.contains_key(&p) {
            return Ok(None); // not in the export at all
        }
        self.full()?.open(path)
    }
    /// From the cached index of the export, with no export: the member's
    /// size when the last index pass of this image ID saw it.
    fn stat(&self, path: &str) -> Result<Option<u64>> {
        let p = follow_links(&self.name, path, |p| self.links.get(p))?;
        if let Some(d) = self.files.get(&p) {
            return Ok(Some(d.len() as u64));
        }
        Ok(self.others.get(&p).copied())
    }
}

impl Store for DaemonStore {
    fn name(&self) -> &str {
        &self.name
    }
    fn stream_position(&self, path: &str) -> Option<u64> {
        self.lookup(path).ok().flatten().map(|k| k as u64)
    }
    /// The member's size as the index pass saw it.
    fn stat(&self, path: &str) -> Result<Option<u64>> {
        Ok(self.lookup(path)?.map(|k| self.pool.entries[k].size))
    }
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let Some(k) = self.lookup(path)? else {
            return Ok(None);
        };
        if let Some(d) = self.docs.get(&k) {
            let b = d.to_vec();
            let n = b.len() as u64;
            return Ok(Some((Box::new(Cursor::new(b)), n)));
        }
        let r = MemberReader {
            pool: self.pool.clone(),
            k,
            session: None,
            done: false,
        };
        Ok(Some((Box::new(r), self.pool.entries[k].size)))
    }
}

/// Resolve `docker-daemon:NAME`: ask the daemon, error when it is absent or
/// lacks the image.
pub fn open(name: &str, opts: &ResolveOptions) -> Result<Image> {
    if name.is_empty() {
        return Err(Error::BadReference {
            reference: "docker-daemon:".into(),
            reason: "no image name after docker-daemon:".into(),
        });
    }
    match lookup(name)? {
        Lookup::Found(ins) => open_found(name, &ins, opts),
        Lookup::Missing => Err(daemon_err(format!("no image {name:?} in the daemon"))),
        Lookup::Unreachable(why) => Err(daemon_err(format!(
            "cannot read docker-daemon:{name}: {why}"
        ))),
    }
}

/// Build the image from an inspected daemon image.
pub fn open_found(name: &str, ins: &Inspected, opts: &ResolveOptions) -> Result<Image> {
    let display = format!("docker-daemon:{name}");
    let mut image = open_export(&display, daemon_exporter(&ins.id), ins, opts)?;
    match registry_sizes(ins, opts) {
        Ok(Some((manifest, sizes))) if sizes.len() == image.layers.len() => {
            for (l, s) in image.layers.iter_mut().zip(sizes) {
                l.compressed_size = s;
            }
            image.manifest_digest = manifest;
        }
        Ok(_) => image.warnings.push(
            "compressed sizes unknown: the daemon exports uncompressed layers and no RepoDigest of the image leads to a registry manifest for it".into(),
        ),
        Err(e) => image.warnings.push(format!(
            "compressed sizes unknown: the daemon exports uncompressed layers and the registry could not tell ({e})"
        )),
    }
    Ok(image)
}

/// Resolve an image from a re-readable export stream (the index pass, then
/// layers streamed from the pool). `ins` is what the daemon said about it.
/// With `opts.doc_cache`, documents cached for this image ID are used
/// instead of an index pass (a cached entry that does not resolve to this
/// image is ignored), and the documents of a new index pass are cached.
pub fn open_export(
    display: &str,
    exporter: Exporter,
    ins: &Inspected,
    opts: &ResolveOptions,
) -> Result<Image> {
    let cache = opts.doc_cache.as_deref();
    let key = doc_cache::key(ins.id.as_str());
    if let Some(docs) = cache.and_then(|c| doc_cache::load(c, &key)) {
        let store = CachedStore::new(display, docs, exporter.clone(), ins);
        if let Ok(image) = resolve_export(Arc::new(store), display, ins, opts) {
            return Ok(image);
        }
    }
    let store = DaemonStore::index(display.to_string(), exporter, ins)?;
    let docs = cache.as_ref().map(|_| store.export_docs());
    let mut image = resolve_export(Arc::new(store), display, ins, opts)?;
    if let (Some(c), Some(docs)) = (cache, docs) {
        if let Err(e) = doc_cache::store(c, &key, &docs) {
            image.warnings.push(format!("layer cache not written: {e}"));
        }
    }
    Ok(image)
}

/// Resolve the export's documents and check they are of image `ins.id`.
fn resolve_export(
    store: Arc<dyn Store>,
    display: &str,
    ins: &Inspected,
    opts: &ResolveOptions,
) -> Result<Image> {
    let mut image = resolve::resolve(store, SourceKind::DockerArchive, None, opts, display)?;
    image.source = SourceKind::DockerDaemon;
    if image.config_digest != ins.id {
        return Err(daemon_err(format!(
            "the export of {display} holds config {} but the daemon says the image is {}",
            image.config_digest, ins.id
        )));
    }
    Ok(image)
}

/// Compressed layer sizes from the first RepoDigest whose registry has a
/// manifest for this very config (same platform).
type Sizes = (Option<Digest>, Vec<Option<u64>>);

fn registry_sizes(ins: &Inspected, opts: &ResolveOptions) -> Result<Option<Sizes>> {
    let mut last_err = None;
    for rd in &ins.repo_digests {
        let mut o = opts.clone();
        o.platform = Some(ins.platform.clone());
        match registry::open_quick(rd, &o) {
            Ok(img) if img.config_digest == ins.id => {
                let sizes = img.layers.iter().map(|l| l.compressed_size).collect();
                return Ok(Some((img.manifest_digest.clone(), sizes)));
            }
            Ok(_) => {}
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => Err(e),
        None => Ok(None),
    }
}
