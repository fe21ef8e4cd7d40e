//! `analyze --format jsonl`: every entry of every layer, one JSON object per
//! line, for scripts and query engines (issue 20; fields in docs/REPORTS.md).
//!
//! The export is a [`StackObserver`]: it sees each layer on the stacker
//! thread just before and just after the tree applies it, and writes as it
//! goes, so nothing grows with the image's path count except one `u32` per
//! path node of the tree. A record's fate (`final` or `hidden_by`) is only
//! known once the later layers are stacked, so the records go to two
//! anonymous spill files (in the cache directory, else the temporary
//! directory), never to memory:
//!
//! - `text`: each record's JSON without its closing brace, one per line, in
//!   output order (layer order, then path bytes within a layer);
//! - `fates`: per record, 9 bytes saying how to finish it: nothing (the
//!   header, whiteouts, opaque markers), "hidden by layer N" (known at
//!   once), or "whatever became of path node N" (with the inode of a
//!   regular file).
//!
//! While stacking, the export notes which layer hid each node: before a
//! layer is applied it looks up the nodes at every path the layer can touch
//! (each entry's path and its parents, each whiteout's path, each opaque
//! directory's children); after, any of them no longer at its path left
//! the tree in this layer, with everything under it. At the end
//! [`JsonlExport::write`] reads both files once, in step, and writes each
//! record with its fate.

use crate::analysis::{ImageInfo, Tool, SCHEMA_VERSION};
use crate::classify::{PathTag, Rules, NO_TAG};
use crate::layer::{ChangeKind, LayerChanges};
use crate::run::StackObserver;
use crate::source::Image;
use crate::tree::query::NodeType;
use crate::tree::Tree;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

/// Version of the JSONL record schema; bumped on any incompatible change
/// (2: a `layer` record before each layer's entries, `download_bytes` and
/// `package` filled on entries).
pub const JSONL_SCHEMA_VERSION: u32 = 2;

/// No layer / no node / no inode.
const NONE: u32 = u32::MAX;

/// How a record is finished (first byte of its `fates` entry).
const FATE_NONE: u8 = 0;
const FATE_HIDDEN: u8 = 1;
const FATE_NODE: u8 = 2;
/// A whiteout or opaque marker: no fate (`null`s).
const FATE_MARKER: u8 = 3;

/// One entry of the layer being stacked, kept between the two hooks.
struct Pending {
    path: Box<[u8]>,
    /// `None` for whiteouts and opaque markers.
    kind: Option<NodeType>,
    regular: bool,
}

/// The JSONL export: attach it to the stacking with
/// [`crate::run::analyze_observed`], then [`JsonlExport::write`] it.
pub struct JsonlExport {
    text: BufWriter<File>,
    fates: BufWriter<File>,
    /// Per path node: the layer that hid it ([`NONE`]: still in the tree).
    hidden: Vec<u32>,
    /// Per inode, after the last layer: reachable in the final tree.
    reached: Vec<bool>,
    categories: Vec<String>,
    /// Whether the analysis classifies (then packages are looked up).
    classify: bool,
    /// After the last layer: which package owns each path of the final
    /// image (its package databases), for the entries' `package`.
    packages: Option<crate::classify::packages::PackageIndex>,
    pending: Vec<Pending>,
    /// Nodes seen before the layer at paths it may touch.
    watched: Vec<(Vec<u8>, u32)>,
    records: u64,
    finished: bool,
    error: Option<io::Error>,
}

impl JsonlExport {
    /// A new export spilling into `dir` (the cache directory) or, without
    /// one, the system's temporary directory.
    pub fn new(dir: Option<&Path>) -> io::Result<JsonlExport> {
        let spill = || match dir {
            Some(d) => {
                // Created `0700`, as the layer cache creates it.
                crate::entryfile::create_private_dir(d)?;
                tempfile::tempfile_in(d)
            }
            None => tempfile::tempfile(),
        };
        Ok(JsonlExport {
            text: BufWriter::new(spill()?),
            fates: BufWriter::new(spill()?),
            hidden: Vec::new(),
            reached: Vec::new(),
            categories: Vec::new(),
            classify: false,
            packages: None,
            pending: Vec::new(),
            watched: Vec::new(),
            records: 0,
            finished: false,
            error: None,
        })
    }

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    fn fate(&mut self, kind: u8, a: u32, b: u32) -> io::Result<()> {
        let mut buf = [0u8; 9];
        buf[0] = kind;
        buf[1..5].copy_from_slice(&a.to_le_bytes());
        buf[5..9].copy_from_slice(&b.to_le_bytes());
        self.records += 1;
        self.fates.write_all(&buf)
    }

    /// Mark node `id` and everything under it as hidden by `layer` (nodes
    /// already hidden keep the layer that hid them first).
    fn hide(&mut self, tree: &Tree, id: u32, layer: u32) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let slot = &mut self.hidden[n as usize];
            if *slot != NONE {
                continue;
            }
            *slot = layer;
            tree.for_each_child(n, |_, c| stack.push(c));
        }
    }

    /// Write the records, each with its fate, to `w`. Call once, after the
    /// analysis returned.
    pub fn write(mut self, w: &mut dyn Write) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.finished {
            return Err(io::Error::other(
                "the JSONL export was not given every layer of the image",
            ));
        }
        let text = self.text.into_inner().map_err(|e| e.into_error())?;
        let fates = self.fates.into_inner().map_err(|e| e.into_error())?;
        let mut text = BufReader::new(text);
        let mut fates = BufReader::new(fates);
        text.rewind()?;
        fates.rewind()?;
        let mut line = Vec::new();
        let mut f = [0u8; 9];
        let packages = self.packages.as_ref().filter(|p| !p.owner.is_empty());
        for _ in 0..self.records {
            line.clear();
            text.read_until(b'\n', &mut line)?;
            fates.read_exact(&mut f)?;
            if line.pop() != Some(b'\n') {
                return Err(io::Error::other("JSONL spill file cut short"));
            }
            if let Some(index) = packages {
                fill_package(&mut line, index);
            }
            w.write_all(&line)?;
            let a = u32::from_le_bytes([f[1], f[2], f[3], f[4]]);
            let b = u32::from_le_bytes([f[5], f[6], f[7], f[8]]);
            let hidden_by = match f[0] {
                FATE_HIDDEN => Some(a),
                FATE_NODE => Some(self.hidden[a as usize]).filter(|&h| h != NONE),
                FATE_MARKER => {
                    w.write_all(b",\"final\":null,\"hidden_by\":null,\"kept_by_link\":null}\n")?;
                    continue;
                }
                _ => {
                    w.write_all(b"}\n")?;
                    continue;
                }
            };
            match hidden_by {
                None => {
                    w.write_all(b",\"final\":true,\"hidden_by\":null,\"kept_by_link\":false}\n")?
                }
                Some(h) => {
                    let kept = b != NONE && self.reached.get(b as usize) == Some(&true);
                    writeln!(
                        w,
                        ",\"final\":false,\"hidden_by\":{h},\"kept_by_link\":{kept}}}"
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// The owner's name in place of `"package":null` on an entry record of a
/// file, hardlink or symlink that a package database of the final image
/// lists (keys in the record's text are never inside a string: a quote in
/// a path is escaped).
fn fill_package(line: &mut Vec<u8>, index: &crate::classify::packages::PackageIndex) {
    const MARK: &[u8] = b",\"package\":null";
    if !line.starts_with(b"{\"record\":\"entry\"") {
        return;
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        path: String,
        path_hex: Option<String>,
        #[serde(rename = "type")]
        ty: String,
        op: String,
    }
    let Some(at) = line.windows(MARK.len()).position(|w| w == MARK) else {
        return;
    };
    let mut whole = line.clone();
    whole.push(b'}');
    let Ok(e) = serde_json::from_slice::<Entry>(&whole) else {
        return;
    };
    if !matches!(e.ty.as_str(), "file" | "hardlink" | "symlink")
        || !matches!(e.op.as_str(), "added" | "modified")
    {
        return;
    }
    let path: Vec<u8> = match &e.path_hex {
        Some(h) => (0..h.len() / 2)
            .filter_map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok())
            .collect(),
        None => e.path.trim_start_matches('/').as_bytes().to_vec(),
    };
    let Some(owner) = index.owner_of(&path) else {
        return;
    };
    let name = serde_json::to_string(&index.packages[owner].name).unwrap_or_default();
    let mut with = Vec::with_capacity(line.len() + name.len());
    with.extend_from_slice(&line[..at]);
    with.extend_from_slice(b",\"package\":");
    with.extend_from_slice(name.as_bytes());
    with.extend_from_slice(&line[at + MARK.len()..]);
    *line = with;
}

/// The record opening a layer's entries: its stored bytes and the part of
/// them no entry is charged (end-of-archive, compressor trailer), so that
/// Σ the entries' `download_bytes` + `unattributed_bytes` = `download_bytes`.
fn layer_text(lc: &LayerChanges) -> Vec<u8> {
    format!(
        "{{\"record\":\"layer\",\"layer\":{},\"download_bytes\":{},\"unattributed_bytes\":{},\"tar_bytes\":{},\"entries\":{}\n",
        lc.index,
        lc.stored_bytes,
        lc.unattributed,
        lc.tar_bytes,
        lc.changes.len()
    )
    .into_bytes()
}

#[derive(Serialize)]
struct Header<'a> {
    record: &'static str,
    format: &'static str,
    schema_version: u32,
    analysis_schema_version: u32,
    tool: Tool,
    image: ImageInfo,
    layers: Vec<HeaderLayer<'a>>,
}

#[derive(Serialize)]
struct HeaderLayer<'a> {
    index: usize,
    digest: Option<&'a crate::digest::Digest>,
    diff_id: &'a crate::digest::Digest,
    media_type: Option<&'a str>,
    download_bytes: Option<u64>,
    created_by: Option<&'a str>,
}

/// The record's text without its closing brace.
fn header_text(image: &Image) -> serde_json::Result<Vec<u8>> {
    let h = Header {
        record: "header",
        format: "imgaudit-jsonl",
        schema_version: JSONL_SCHEMA_VERSION,
        analysis_schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "imgaudit",
            version: env!("CARGO_PKG_VERSION"),
        },
        image: ImageInfo {
            reference: image.reference.clone(),
            source: image.source,
            manifest_digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            platform: image.platform(),
            created: image.config.created.clone(),
        },
        layers: image
            .layers
            .iter()
            .map(|l| HeaderLayer {
                index: l.index,
                digest: l.digest.as_ref(),
                diff_id: &l.diff_id,
                media_type: l.media_type.as_deref(),
                download_bytes: l.compressed_size,
                created_by: l.created_by.as_deref(),
            })
            .collect(),
    };
    let mut v = serde_json::to_vec(&h)?;
    v.pop(); // the closing brace
    Ok(v)
}

/// `,"KEY":"text"` (lossy), plus `,"KEY_hex":"…"` with the exact bytes when
/// they are not UTF-8.
fn push_bytes(out: &mut Vec<u8>, key: &str, bytes: &[u8], slash: bool) {
    let text = String::from_utf8_lossy(bytes);
    let shown = if slash {
        format!("/{text}")
    } else {
        text.to_string()
    };
    out.extend_from_slice(format!(",\"{key}\":").as_bytes());
    out.extend_from_slice(serde_json::to_string(&shown).unwrap_or_default().as_bytes());
    if std::str::from_utf8(bytes).is_err() {
        out.extend_from_slice(format!(",\"{key}_hex\":\"").as_bytes());
        for b in bytes {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
        out.push(b'"');
    }
}

fn type_name(t: NodeType, hardlink: bool) -> &'static str {
    match t {
        NodeType::Dir => "dir",
        NodeType::File if hardlink => "hardlink",
        NodeType::File => "file",
        NodeType::Symlink => "symlink",
        NodeType::Other => "other",
    }
}

impl StackObserver for JsonlExport {
    fn start(&mut self, image: &Image, rules: Option<&Rules>) {
        self.categories = rules
            .map(|r| r.categories.iter().map(|c| c.id.clone()).collect())
            .unwrap_or_default();
        self.classify = rules.is_some();
        let r = header_text(image)
            .map_err(io::Error::other)
            .and_then(|mut t| {
                t.push(b'\n');
                self.text.write_all(&t)
            })
            .and_then(|_| self.fate(FATE_NONE, NONE, NONE));
        self.keep(r);
    }

    fn before_layer(&mut self, tree: &Tree, lc: &LayerChanges, tags: &[PathTag]) {
        let layer = lc.index as u32;
        // The layer record first; its fate (none) goes before the entries'.
        let r = self
            .text
            .write_all(&layer_text(lc))
            .and_then(|_| self.fate(FATE_NONE, NONE, NONE));
        self.keep(r);
        let mut order: Vec<usize> = (0..lc.changes.len()).collect();
        order.sort_by(|&a, &b| lc.changes.get(a).path.cmp(lc.changes.get(b).path));
        // Nodes this layer may take out of the tree (a path watched twice
        // costs a second look-up, nothing else).
        let watch = |path: &[u8], watched: &mut Vec<(Vec<u8>, u32)>| {
            if let Some(id) = tree.node_at(path) {
                watched.push((path.to_vec(), id));
            }
        };
        // The parents of `p` not shared with `prev` (entries come in path
        // order, so most parents were watched with the entry before).
        let parents = |p: &[u8], prev: &[u8], watched: &mut Vec<(Vec<u8>, u32)>| {
            for (j, _) in p.iter().enumerate().filter(|(_, &b)| b == b'/') {
                let shared =
                    prev.len() >= j && prev[..j] == p[..j] && (prev.len() == j || prev[j] == b'/');
                if !shared {
                    watch(&p[..j], watched);
                }
            }
        };
        let (mut prev, mut prev_resolved): (Vec<u8>, Vec<u8>) = Default::default();
        let mut watched = std::mem::take(&mut self.watched);
        let mut out = Vec::new();
        for &i in &order {
            let c = lc.changes.get(i);
            let tag = tags.get(i).copied().unwrap_or(NO_TAG);
            out.clear();
            let (op, ty, kind, regular) = match &c.kind {
                ChangeKind::Whiteout => {
                    let p = tree.resolve(c.path);
                    watch(&p, &mut watched);
                    let ty = tree
                        .node_at(&p)
                        .map_or("other", |n| type_name(tree.node_type(n), false));
                    ("removed", ty, None, false)
                }
                ChangeKind::Opaque => {
                    let p = tree.resolve_all(c.path);
                    if let Some(dir) = tree.node_at(&p) {
                        let mut kids = Vec::new();
                        tree.for_each_child(dir, |name, _| {
                            let mut k = p.clone();
                            if !k.is_empty() {
                                k.push(b'/');
                            }
                            k.extend_from_slice(name);
                            kids.push(k);
                        });
                        for k in kids {
                            watch(&k, &mut watched);
                        }
                    }
                    ("opaque", "dir", None, false)
                }
                k => {
                    let resolved = tree.resolve(c.path);
                    parents(c.path, &prev, &mut watched);
                    watch(c.path, &mut watched);
                    if resolved[..] != c.path[..] {
                        parents(&resolved, &prev_resolved, &mut watched);
                        watch(&resolved, &mut watched);
                    }
                    prev.clear();
                    prev.extend_from_slice(c.path);
                    prev_resolved.clear();
                    prev_resolved.extend_from_slice(&resolved);
                    let op = match tree.node_at(&resolved) {
                        Some(_) => "modified",
                        None => "added",
                    };
                    let (t, hardlink) = match k {
                        ChangeKind::Dir => (NodeType::Dir, false),
                        ChangeKind::File => (NodeType::File, false),
                        ChangeKind::Hardlink(_) => (NodeType::File, true),
                        ChangeKind::Symlink(_) => (NodeType::Symlink, false),
                        _ => (NodeType::Other, false),
                    };
                    (
                        op,
                        type_name(t, hardlink),
                        Some(t),
                        matches!(k, ChangeKind::File),
                    )
                }
            };
            out.extend_from_slice(format!("{{\"record\":\"entry\",\"layer\":{layer}").as_bytes());
            push_bytes(&mut out, "path", c.path, true);
            out.extend_from_slice(
                format!(
                    ",\"type\":\"{ty}\",\"op\":\"{op}\",\"bytes\":{},\"download_bytes\":{}",
                    if regular { c.size } else { 0 },
                    c.download
                )
                .as_bytes(),
            );
            out.extend_from_slice(b",\"category\":");
            match (tag != NO_TAG)
                .then(|| self.categories.get(tag as usize))
                .flatten()
            {
                Some(cat) => {
                    out.extend_from_slice(serde_json::to_string(cat).unwrap_or_default().as_bytes())
                }
                None => out.extend_from_slice(b"null"),
            }
            // Packages are known only once every layer is stacked: filled
            // in by `write` (`fill_package`).
            out.extend_from_slice(b",\"package\":null");
            match &c.kind {
                ChangeKind::Symlink(t) => push_bytes(&mut out, "link_target", t, false),
                ChangeKind::Hardlink(t) => push_bytes(&mut out, "link_target", t, true),
                _ => out.extend_from_slice(b",\"link_target\":null"),
            }
            out.push(b'\n');
            let r = self.text.write_all(&out);
            self.keep(r);
            self.pending.push(Pending {
                path: c.path.into(),
                kind,
                regular,
            });
        }
        self.watched = watched;
    }

    fn after_layer(&mut self, tree: &Tree, layer: usize) {
        let layer = layer as u32;
        self.hidden.resize(tree.node_count(), NONE);
        for (path, id) in std::mem::take(&mut self.watched) {
            if tree.node_at(&path) != Some(id) {
                self.hide(tree, id, layer);
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for (i, p) in pending.iter().enumerate() {
            let r = match p.kind {
                None => self.fate(FATE_MARKER, NONE, NONE),
                Some(kind) => {
                    // The same path again later in this layer replaces
                    // this entry (unless both are directories).
                    let replaced = pending.get(i + 1).is_some_and(|n| {
                        n.path == p.path
                            && !(kind == NodeType::Dir && n.kind == Some(NodeType::Dir))
                    });
                    let node = tree
                        .node_at(&tree.resolve(&p.path))
                        .filter(|&n| !replaced && tree.node_type(n) == kind);
                    match node {
                        Some(n) => {
                            let ino = match p.regular {
                                true => tree.node_inode(n).unwrap_or(NONE),
                                false => NONE,
                            };
                            self.fate(FATE_NODE, n, ino)
                        }
                        None => self.fate(FATE_HIDDEN, layer, NONE),
                    }
                }
            };
            self.keep(r);
        }
    }

    fn finish(&mut self, tree: &Tree) {
        self.reached = tree.walk_final(|_| {});
        if self.classify {
            self.packages = Some(crate::breakdown::package_index(tree));
        }
        self.finished = true;
        let r = self.text.flush().and_then(|_| self.fates.flush());
        self.keep(r);
    }
}
