//! Resolution: from a store's top-level documents (`index.json` and/or
//! docker-save `manifest.json`) to one verified manifest, config and list of
//! layer specs, choosing an image by name (`REF` of `oci:DIR:REF`,
//! `docker-archive:PATH:REF`, `@N`) and a platform (`platform.rs`) where
//! the store holds several. Every document reached through a descriptor is
//! checked against the descriptor's digest and size.

use super::docs::{
    is_index_type, layer_compression, parse_json, Config, Descriptor, DockerSaveEntry, Document,
    Platform, MAX_DOC,
};
use super::platform;
use super::registry::reference::RegistryRef;
use super::store::{clean_rel_path, read_capped, Store};
use super::{Image, ResolveOptions, SourceKind};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layer::LayerSpec;
use std::sync::Arc;

/// Index nesting deeper than this is refused.
const MAX_INDEX_DEPTH: usize = 8;
/// Manifests considered across all nested indexes.
const MAX_CANDIDATES: usize = 1024;

pub(super) fn resolve(
    store: Arc<dyn Store>,
    kind: SourceKind,
    reference: Option<&str>,
    opts: &ResolveOptions,
    display: &str,
) -> Result<Image> {
    let name = store.name().to_string();
    let docker_manifest = read_capped(&*store, "manifest.json", MAX_DOC, "manifest.json")?;
    let index = read_capped(&*store, "index.json", MAX_DOC, "index.json")?;
    let image_ref = match reference {
        Some(r) => format!("{display}:{r}"),
        None => display.to_string(),
    };

    if let Some(bytes) =
        docker_manifest.filter(|_| kind == SourceKind::DockerArchive || index.is_none())
    {
        return resolve_docker(store, &bytes, index.as_deref(), reference, opts, image_ref);
    }
    if let Some(bytes) = index {
        let wanted = opts.platform.as_deref();
        // A registry's index is one image by definition; files may hold several.
        let one = kind != SourceKind::Registry;
        let (manifest, desc, note) =
            select_from_index(&*store, &bytes, reference, one, None, wanted)?;
        let mut image = build_image(store, kind, manifest, desc, image_ref)?;
        image.warnings.extend(note);
        return Ok(image);
    }
    Err(Error::NotAnImage {
        path: name,
        reason: "neither manifest.json (docker save) nor index.json (OCI layout) found".into(),
    })
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Read a blob named by digest, capped and verified against the digest and,
/// when a descriptor gave one, the size (the spec says it must match).
fn read_blob(store: &dyn Store, d: &Digest, size: Option<u64>, what: &str) -> Result<Vec<u8>> {
    let bytes =
        read_capped(store, &blob_path(d), MAX_DOC, what)?.ok_or_else(|| Error::MissingBlob {
            what: format!("{what} in {}", store.name()),
            digest: d.to_string(),
        })?;
    let actual = Digest::of_bytes(&bytes);
    if &actual != d {
        return Err(Error::DigestMismatch {
            what: format!("{what} in {}", store.name()),
            expected: d.to_string(),
            actual: actual.to_string(),
        });
    }
    if let Some(size) = size.filter(|&s| s != bytes.len() as u64) {
        return Err(Error::malformed(
            format!("{what} {d} in {}", store.name()),
            format!(
                "the descriptor says {size} bytes but the blob has {}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

struct Candidate {
    digest: Digest,
    size: u64,
    platform: Option<Platform>,
}

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// `NAME[:TAG]` as docker normalises it (`alpha` → `docker.io/library/alpha:latest`);
/// `None` for what is not a name, or holds a digest.
fn normalised_name(s: &str) -> Option<String> {
    let r = RegistryRef::parse(s).ok().filter(|r| r.digest.is_none())?;
    Some(format!(
        "{}/{}:{}",
        r.registry,
        r.repository,
        r.tag.as_deref().unwrap_or("latest")
    ))
}

/// `@N`: the N-th image of an archive or layout.
fn source_index(r: &str) -> Result<Option<usize>> {
    let Some(n) = r.strip_prefix('@') else {
        return Ok(None);
    };
    n.parse::<usize>()
        .map(Some)
        .map_err(|_| Error::BadReference {
            reference: r.into(),
            reason: "@N must be a non-negative image number".into(),
        })
}

/// Whether index entry `d` is the image named `r` (`REF` of `oci:DIR:REF`):
/// its ref.name annotation equals `r` (as skopeo matches it), or its
/// containerd name (Docker 25+ saves) is `r` once both are normalised.
fn index_entry_named(d: &Descriptor, r: &str, normalised: Option<&str>) -> bool {
    d.annotation(REF_NAME) == Some(r)
        || normalised.is_some_and(|n| {
            d.annotation(CONTAINERD_NAME)
                .and_then(normalised_name)
                .is_some_and(|c| c == n)
        })
}

fn entry_label(i: usize, d: &Descriptor) -> String {
    let name = d
        .annotation(REF_NAME)
        .or_else(|| d.annotation(CONTAINERD_NAME))
        .unwrap_or("(unnamed)");
    let platform = d
        .platform
        .as_ref()
        .map(|p| format!(", {}", p.display()))
        .unwrap_or_default();
    format!("@{i} {name} ({}{platform})", d.digest)
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotation("vnd.docker.reference.type") == Some("attestation-manifest")
        || d.platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

fn collect(
    store: &dyn Store,
    descs: &[Descriptor],
    depth: usize,
    inherited: Option<&Platform>,
    out: &mut Vec<Candidate>,
) -> Result<()> {
    if depth > MAX_INDEX_DEPTH {
        return Err(Error::malformed(
            format!("index in {}", store.name()),
            format!("indexes nested more than {MAX_INDEX_DEPTH} deep"),
        ));
    }
    for d in descs {
        if out.len() >= MAX_CANDIDATES {
            return Err(Error::malformed(
                format!("index in {}", store.name()),
                format!("more than {MAX_CANDIDATES} manifests"),
            ));
        }
        if is_attestation(d) {
            continue;
        }
        let digest = d.digest("index entry")?;
        let size = d.checked_size("index entry")?;
        let platform = d.platform.clone().or_else(|| inherited.cloned());
        if is_index_type(&d.media_type) {
            // Entries whose blobs are absent are skipped (seen in Docker 25+ saves).
            let bytes = match read_blob(store, &digest, Some(size), "nested index") {
                Ok(b) => b,
                Err(Error::MissingBlob { .. }) => continue,
                Err(e) => return Err(e),
            };
            let doc = Document::parse(&bytes, &format!("index {digest}"))?;
            collect(
                store,
                doc.manifests.as_deref().unwrap_or(&[]),
                depth + 1,
                platform.as_ref(),
                out,
            )?;
        } else {
            out.push(Candidate {
                digest,
                size,
                platform,
            });
        }
    }
    Ok(())
}

/// Pick one manifest from an index document; returns its bytes, its
/// descriptor and, when the platform is a fallback, a warning.
///
/// The top-level entries are first narrowed to one image: by `reference`
/// (a name, or `@N`), or — with no reference, when `must_be_one` (files,
/// not a registry's index) — they must all be one image (one name, or
/// none), else it is an error listing them, as skopeo refuses to guess. Then the platform is chosen among that image's manifests.
fn select_from_index(
    store: &dyn Store,
    index_bytes: &[u8],
    reference: Option<&str>,
    must_be_one: bool,
    config_digest: Option<&Digest>,
    wanted: Option<&str>,
) -> Result<(Vec<u8>, Candidate, Option<String>)> {
    let top = one_image(store, index_bytes, reference, must_be_one)?;
    let mut cands = Vec::new();
    collect(store, &top, 0, None, &mut cands)?;
    select_candidate(store, cands, config_digest, wanted)
}

/// The top-level entries of an index document that are the one image
/// `reference` names (a name or `@N`). Without a reference and when
/// `must_be_one`, the entries must all be one image (one name, or none).
fn one_image(
    store: &dyn Store,
    index_bytes: &[u8],
    reference: Option<&str>,
    must_be_one: bool,
) -> Result<Vec<Descriptor>> {
    let what = format!("index.json in {}", store.name());
    let doc = Document::parse(index_bytes, &what)?;
    let mut top = doc.manifests.unwrap_or_default();
    let listing = |top: &[Descriptor], keep: &dyn Fn(&Descriptor) -> bool| -> String {
        let v: Vec<String> = top
            .iter()
            .enumerate()
            .filter(|(_, d)| keep(d))
            .map(|(i, d)| entry_label(i, d))
            .collect();
        list_or_none(&v)
    };
    match reference.map(|r| (r, source_index(r))) {
        Some((_, Err(e))) => return Err(e),
        Some((_, Ok(Some(n)))) => {
            if n >= top.len() {
                return Err(Error::Ambiguous {
                    what,
                    reason: format!(
                        "no image @{n}: the index lists {} (numbered from @0)",
                        top.len()
                    ),
                });
            }
            top = vec![top.swap_remove(n)];
        }
        Some((r, Ok(None))) => {
            let normalised = normalised_name(r);
            let all = top.clone();
            top.retain(|d| index_entry_named(d, r, normalised.as_deref()));
            if top.is_empty() {
                let names: Vec<String> = all
                    .iter()
                    .filter_map(|d| d.annotation(REF_NAME).map(String::from))
                    .collect();
                return Err(Error::Ambiguous {
                    what,
                    reason: format!(
                        "no image named {r:?} (names present: {})",
                        list_or_none(&names)
                    ),
                });
            }
            // Several entries of one name are one image only when each is
            // a distinct platform's manifest; otherwise refuse to guess.
            let mut seen: Vec<String> = Vec::new();
            let distinct_platforms = top.iter().all(|d| {
                d.platform.as_ref().is_some_and(|p| {
                    let p = platform::normalize(p).display();
                    let new = !seen.contains(&p);
                    seen.push(p);
                    new
                })
            });
            let digests: std::collections::BTreeSet<&str> =
                top.iter().map(|d| d.digest.as_str()).collect();
            if digests.len() > 1 && !distinct_platforms {
                return Err(Error::Ambiguous {
                    what,
                    reason: format!(
                        "{} entries are named {r:?}: {}; pick one with @N",
                        top.len(),
                        listing(&all, &|d| index_entry_named(d, r, normalised.as_deref()))
                    ),
                });
            }
        }
        None if must_be_one => {
            let mut names: Vec<Option<&str>> = Vec::new();
            for d in top.iter().filter(|d| !is_attestation(d)) {
                let n = d
                    .annotation(REF_NAME)
                    .or_else(|| d.annotation(CONTAINERD_NAME));
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            if names.len() > 1 {
                return Err(Error::Ambiguous {
                    what,
                    reason: format!(
                        "it holds {} images: {}; pick one with :NAME or :@N",
                        names.len(),
                        listing(&top, &|d| !is_attestation(d))
                    ),
                });
            }
        }
        None => {}
    }
    Ok(top)
}

/// Among an image's manifests, the one for the wanted platform (and, for a
/// Docker 25+ archive, the one pointing at `config_digest`).
fn select_candidate(
    store: &dyn Store,
    cands: Vec<Candidate>,
    config_digest: Option<&Digest>,
    wanted: Option<&str>,
) -> Result<(Vec<u8>, Candidate, Option<String>)> {
    // Drop candidates whose blob is missing, and fill platforms from configs.
    let mut loaded: Vec<(Vec<u8>, Candidate)> = Vec::new();
    let mut missing = Vec::new();
    for mut c in cands {
        let bytes = match read_blob(store, &c.digest, Some(c.size), "manifest") {
            Ok(b) => b,
            Err(Error::MissingBlob { .. }) => {
                missing.push(c.digest.to_string());
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(want) = config_digest {
            let doc = Document::parse(&bytes, &format!("manifest {}", c.digest))?;
            let matches = doc
                .config
                .as_ref()
                .and_then(|d| d.digest("manifest config").ok())
                .is_some_and(|d| &d == want);
            if !matches {
                continue;
            }
        }
        if c.platform.is_none() {
            let doc = Document::parse(&bytes, &format!("manifest {}", c.digest))?;
            if let Some(cd) = doc.config.as_ref().and_then(|d| d.digest("config").ok()) {
                let size = doc
                    .config
                    .as_ref()
                    .and_then(|d| d.checked_size("config").ok());
                if let Ok(cb) = read_blob(store, &cd, size, "config") {
                    if let Ok(cfg) = parse_json::<Config>(&cb, "config") {
                        c.platform = Some(cfg.platform());
                    }
                }
            }
        }
        loaded.push((bytes, c));
    }
    if loaded.is_empty() {
        let reason = if missing.is_empty() {
            "lists no image manifests".to_string()
        } else {
            format!(
                "every manifest it lists is missing ({})",
                missing.join(", ")
            )
        };
        return Err(Error::NotAnImage {
            path: store.name().into(),
            reason: format!("index.json {reason}"),
        });
    }
    let have: Vec<Option<Platform>> = loaded.iter().map(|(_, c)| c.platform.clone()).collect();
    let choice = platform::choose(&have, wanted)?;
    let (bytes, cand) = loaded.swap_remove(choice.index);
    Ok((bytes, cand, choice.note))
}

/// Every platform an index offers (attestations skipped), in index order;
/// entries without a platform get it from their config.
pub(super) fn list_platforms(store: &dyn Store, index_bytes: &[u8]) -> Result<Vec<String>> {
    platforms_of(store, index_bytes, None, false)
}

/// [`list_platforms`] of the one image `reference` names (`oci:DIR:REF`),
/// or of the only image when there is no reference.
pub(super) fn list_image_platforms(
    store: &dyn Store,
    index_bytes: &[u8],
    reference: Option<&str>,
) -> Result<Vec<String>> {
    platforms_of(store, index_bytes, reference, true)
}

fn platforms_of(
    store: &dyn Store,
    index_bytes: &[u8],
    reference: Option<&str>,
    must_be_one: bool,
) -> Result<Vec<String>> {
    let top = one_image(store, index_bytes, reference, must_be_one)?;
    let mut cands = Vec::new();
    collect(store, &top, 0, None, &mut cands)?;
    let mut out = Vec::new();
    for c in cands {
        let p = match c.platform {
            Some(p) => p,
            None => {
                let bytes = read_blob(store, &c.digest, Some(c.size), "manifest")?;
                let m = Document::parse(&bytes, &format!("manifest {}", c.digest))?;
                let Some(cd) = m.config.as_ref() else {
                    continue;
                };
                let size = cd.checked_size("manifest config")?;
                let cd = cd.digest("manifest config")?;
                let cfg: Config =
                    parse_json(&read_blob(store, &cd, Some(size), "config")?, "config")?;
                cfg.platform()
            }
        };
        let name = p.display();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn load_config(store: &dyn Store, d: &Digest, size: u64) -> Result<Config> {
    let bytes = read_blob(store, d, Some(size), "config")?;
    let cfg: Config = parse_json(&bytes, &format!("config {d} in {}", store.name()))?;
    check_config(&cfg, &format!("config {d} in {}", store.name()))?;
    Ok(cfg)
}

fn check_config(cfg: &Config, what: &str) -> Result<()> {
    if cfg.rootfs.kind != "layers" {
        return Err(Error::malformed(
            what,
            format!("rootfs.type is {:?}, expected \"layers\"", cfg.rootfs.kind),
        ));
    }
    Ok(())
}

fn diff_ids(cfg: &Config, layers: usize, what: &str) -> Result<Vec<Digest>> {
    if cfg.rootfs.diff_ids.len() != layers {
        return Err(Error::malformed(
            what,
            format!(
                "config lists {} diff_ids but the manifest has {} layers",
                cfg.rootfs.diff_ids.len(),
                layers
            ),
        ));
    }
    cfg.rootfs
        .diff_ids
        .iter()
        .map(|d| Digest::parse(d, &format!("{what} rootfs.diff_ids")))
        .collect()
}

/// Build the image from an OCI manifest.
fn build_image(
    store: Arc<dyn Store>,
    source: SourceKind,
    manifest_bytes: Vec<u8>,
    cand: Candidate,
    reference: String,
) -> Result<Image> {
    let what = format!("manifest {} in {}", cand.digest, store.name());
    let doc = Document::parse(&manifest_bytes, &what)?;
    let (Some(cfg_desc), Some(layer_descs)) = (doc.config, doc.layers) else {
        return Err(Error::malformed(&what, "manifest has no config or layers"));
    };
    let config_digest = cfg_desc.digest(&format!("{what} config"))?;
    let config_size = cfg_desc.checked_size(&format!("{what} config"))?;
    let config = load_config(&*store, &config_digest, config_size)?;
    let ids = diff_ids(&config, layer_descs.len(), &what)?;
    let history = config.layer_history(layer_descs.len());
    let mut layers = Vec::with_capacity(layer_descs.len());
    for (i, (d, diff_id)) in layer_descs.iter().zip(ids).enumerate() {
        let lw = format!("layer {i} of {what}");
        let digest = d.digest(&lw)?;
        let size = d.checked_size(&lw)?;
        let compression = layer_compression(&d.media_type, &lw)?;
        layers.push(LayerSpec {
            index: i,
            path: blob_path(&digest),
            digest: Some(digest),
            diff_id,
            media_type: Some(d.media_type.clone()),
            compression: Some(compression),
            compressed_size: Some(size),
            created_by: history[i].clone(),
        });
    }
    Ok(Image {
        reference,
        source,
        manifest_digest: Some(cand.digest),
        config_digest,
        config,
        layers,
        warnings: Vec::new(),
        store,
    })
}

/// Resolve a docker-save archive from its `manifest.json`. When the archive is
/// also an OCI layout (Docker 25+), the matching OCI manifest supplies media
/// types, stored digests and compressed sizes.
fn resolve_docker(
    store: Arc<dyn Store>,
    manifest_json: &[u8],
    index: Option<&[u8]>,
    reference: Option<&str>,
    opts: &ResolveOptions,
    image_ref: String,
) -> Result<Image> {
    let what = format!("manifest.json in {}", store.name());
    let entries: Option<Vec<DockerSaveEntry>> = parse_json(manifest_json, &what)?;
    let entries = entries.unwrap_or_default();
    let entry = docker_entry(&entries, reference, &what, store.name())?;
    let reference = match entry.repo_tags.as_ref().and_then(|t| t.first()) {
        Some(tag) => format!("{image_ref} ({tag})"),
        None => image_ref,
    };
    let config_path = clean_rel_path(&entry.config, &what)?;
    let config_bytes = read_capped(&*store, &config_path, MAX_DOC, "config")?.ok_or_else(|| {
        Error::MissingBlob {
            what: what.clone(),
            digest: config_path.clone(),
        }
    })?;
    let config_digest = Digest::of_bytes(&config_bytes);
    let cw = format!("config {config_path} in {}", store.name());
    let config: Config = parse_json(&config_bytes, &cw)?;
    check_config(&config, &cw)?;
    // The image's platform is its config's: --platform must name it (or a
    // variant of it containerd's ordering accepts).
    let note = platform::choose(&[Some(config.platform())], opts.platform.as_deref())?.note;

    // Docker 25+: prefer the OCI manifest that points at this config.
    if let Some(index) = index {
        if let Ok((mbytes, cand, _)) =
            select_from_index(&*store, index, None, false, Some(&config_digest), None)
        {
            let mut image = build_image(store, SourceKind::DockerArchive, mbytes, cand, reference)?;
            image.warnings.extend(note);
            return Ok(image);
        }
    }

    let ids = diff_ids(&config, entry.layers.len(), &what)?;
    let history = config.layer_history(entry.layers.len());
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (i, (p, diff_id)) in entry.layers.iter().zip(ids).enumerate() {
        let path = clean_rel_path(p, &what)?;
        // `blobs/sha256/<hex>` names the stored bytes' digest.
        let digest = path
            .strip_prefix("blobs/sha256/")
            .map(|hex| Digest::parse(&format!("sha256:{hex}"), &what))
            .transpose()?;
        layers.push(LayerSpec {
            index: i,
            path,
            digest,
            diff_id,
            media_type: None,
            compression: None,
            compressed_size: None,
            created_by: history[i].clone(),
        });
    }
    Ok(Image {
        reference,
        source: SourceKind::DockerArchive,
        manifest_digest: None,
        config_digest,
        config,
        layers,
        warnings: note.into_iter().collect(),
        store,
    })
}

/// The entry of a docker-save `manifest.json` that `reference` selects, as
/// skopeo's `docker-archive:PATH[:REF]` does: `@N` is the N-th entry; a
/// name is normalised (`alpha` = `alpha:latest` =
/// `docker.io/library/alpha:latest`) and compared with each normalised
/// RepoTag; digests are refused; no reference needs exactly one entry.
/// Unlike skopeo, a name that two entries carry is an error, not the first.
fn docker_entry<'e>(
    entries: &'e [DockerSaveEntry],
    reference: Option<&str>,
    what: &str,
    store: &str,
) -> Result<&'e DockerSaveEntry> {
    let label = |i: usize, e: &DockerSaveEntry| {
        let t: Vec<&str> = e.repo_tags.iter().flatten().map(String::as_str).collect();
        format!(
            "@{i} ({})",
            if t.is_empty() {
                "untagged".to_string()
            } else {
                t.join(" ")
            }
        )
    };
    let all = || {
        let v: Vec<String> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| label(i, e))
            .collect();
        list_or_none(&v)
    };
    let Some(r) = reference else {
        return match entries {
            [] => Err(Error::NotAnImage {
                path: store.into(),
                reason: "manifest.json lists no images".into(),
            }),
            [one] => Ok(one),
            _ => Err(Error::Ambiguous {
                what: what.into(),
                reason: format!(
                    "the archive holds {} images: {}; pick one with docker-archive:PATH:NAME[:TAG] or docker-archive:PATH:@N",
                    entries.len(),
                    all()
                ),
            }),
        };
    };
    if let Some(n) = source_index(r)? {
        return entries.get(n).ok_or_else(|| Error::Ambiguous {
            what: what.into(),
            reason: format!(
                "no image @{n}: the archive holds {} (numbered from @0)",
                entries.len()
            ),
        });
    }
    let parsed = RegistryRef::parse(r).map_err(|e| Error::BadReference {
        reference: r.into(),
        reason: format!("not an image name: {e}"),
    })?;
    if parsed.digest.is_some() {
        return Err(Error::BadReference {
            reference: r.into(),
            reason: "a docker-archive reference cannot hold a digest (use NAME[:TAG] or @N)".into(),
        });
    }
    let want = normalised_name(r);
    let hits: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.repo_tags
                .iter()
                .flatten()
                .any(|t| normalised_name(t).is_some() && normalised_name(t) == want)
        })
        .map(|(i, _)| i)
        .collect();
    match hits[..] {
        [i] => Ok(&entries[i]),
        [] => Err(Error::Ambiguous {
            what: what.into(),
            reason: format!(
                "no image tagged {r:?} = {} (images: {})",
                want.unwrap_or_default(),
                all()
            ),
        }),
        _ => Err(Error::Ambiguous {
            what: what.into(),
            reason: format!(
                "{} images are tagged {r:?}: {}; pick one with @N",
                hits.len(),
                hits.iter()
                    .map(|&i| label(i, &entries[i]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
