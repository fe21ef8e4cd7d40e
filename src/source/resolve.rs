//! Resolution: from a store's top-level documents (`index.json` and/or
//! docker-save `manifest.json`) to one verified manifest, config and list of
//! layer specs, choosing a platform where the image has several.

use super::docs::{
    is_index_type, layer_compression, parse_json, Config, Descriptor, DockerSaveEntry, Document,
    Platform, MAX_DOC,
};
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
        let (manifest, desc) = select_from_index(&*store, &bytes, reference, None, opts)?;
        return build_image(store, kind, manifest, desc, image_ref);
    }
    Err(Error::NotAnImage {
        path: name,
        reason: "neither manifest.json (docker save) nor index.json (OCI layout) found".into(),
    })
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Read a blob named by digest, capped and verified.
fn read_blob(store: &dyn Store, d: &Digest, what: &str) -> Result<Vec<u8>> {
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
    Ok(bytes)
}

struct Candidate {
    digest: Digest,
    platform: Option<Platform>,
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
        let platform = d.platform.clone().or_else(|| inherited.cloned());
        if is_index_type(&d.media_type) {
            // Entries whose blobs are absent are skipped (seen in Docker 25+ saves).
            let Ok(bytes) = read_blob(store, &digest, "nested index") else {
                continue;
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
            out.push(Candidate { digest, platform });
        }
    }
    Ok(())
}

fn parse_platform(s: &str) -> Result<Platform> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(Error::BadReference {
            reference: s.into(),
            reason: "--platform must be os/arch or os/arch/variant".into(),
        });
    }
    Ok(Platform {
        os: parts[0].into(),
        architecture: parts[1].into(),
        variant: parts.get(2).map(|v| v.to_string()),
    })
}

fn platform_matches(have: &Platform, want: &Platform) -> bool {
    have.os == want.os
        && have.architecture == want.architecture
        && match &want.variant {
            None => true,
            Some(v) => have.variant.as_deref() == Some(v),
        }
}

/// Pick one manifest from an index document; returns its bytes and descriptor.
fn select_from_index(
    store: &dyn Store,
    index_bytes: &[u8],
    reference: Option<&str>,
    config_digest: Option<&Digest>,
    opts: &ResolveOptions,
) -> Result<(Vec<u8>, Candidate)> {
    let what = format!("index.json in {}", store.name());
    let doc = Document::parse(index_bytes, &what)?;
    let mut top = doc.manifests.unwrap_or_default();
    if let Some(r) = reference {
        let names: Vec<String> = top
            .iter()
            .filter_map(|d| {
                d.annotation("org.opencontainers.image.ref.name")
                    .map(String::from)
            })
            .collect();
        top.retain(|d| {
            d.annotation("org.opencontainers.image.ref.name") == Some(r)
                || d.annotation("io.containerd.image.name")
                    .is_some_and(|n| n == r || n.ends_with(&format!(":{r}")))
        });
        if top.is_empty() {
            return Err(Error::Ambiguous {
                what,
                reason: format!(
                    "no image named {r:?} (names present: {})",
                    list_or_none(&names)
                ),
            });
        }
    }
    let mut cands = Vec::new();
    collect(store, &top, 0, None, &mut cands)?;
    // Drop candidates whose blob is missing, and fill platforms from configs.
    let mut loaded: Vec<(Vec<u8>, Candidate)> = Vec::new();
    let mut missing = Vec::new();
    for mut c in cands {
        let bytes = match read_blob(store, &c.digest, "manifest") {
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
                if let Ok(cb) = read_blob(store, &cd, "config") {
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
    let available: Vec<String> = loaded
        .iter()
        .map(|(_, c)| {
            c.platform
                .as_ref()
                .map(|p| p.display())
                .unwrap_or_else(|| "unknown".into())
        })
        .collect();
    let pick = match &opts.platform {
        Some(p) => {
            let want = parse_platform(p)?;
            loaded
                .iter()
                .position(|(_, c)| {
                    c.platform
                        .as_ref()
                        .is_some_and(|h| platform_matches(h, &want))
                })
                .ok_or_else(|| Error::PlatformNotFound {
                    wanted: p.clone(),
                    available: available.join(", "),
                })?
        }
        None if loaded.len() == 1 => 0,
        None => {
            let want = parse_platform("linux/amd64")?;
            loaded
                .iter()
                .position(|(_, c)| {
                    c.platform
                        .as_ref()
                        .is_some_and(|h| platform_matches(h, &want))
                })
                .ok_or_else(|| Error::PlatformNotFound {
                    wanted: "linux/amd64 (the default; choose one with --platform)".into(),
                    available: available.join(", "),
                })?
        }
    };
    Ok(loaded.swap_remove(pick))
}

/// Every platform an index offers (attestations skipped), in index order;
/// entries without a platform get it from their config.
pub(super) fn list_platforms(store: &dyn Store, index_bytes: &[u8]) -> Result<Vec<String>> {
    let what = format!("index.json in {}", store.name());
    let doc = Document::parse(index_bytes, &what)?;
    let mut cands = Vec::new();
    collect(
        store,
        doc.manifests.as_deref().unwrap_or(&[]),
        0,
        None,
        &mut cands,
    )?;
    let mut out = Vec::new();
    for c in cands {
        let p = match c.platform {
            Some(p) => p,
            None => {
                let bytes = read_blob(store, &c.digest, "manifest")?;
                let m = Document::parse(&bytes, &format!("manifest {}", c.digest))?;
                let Some(cd) = m.config.as_ref() else {
                    continue;
                };
                let cd = cd.digest("manifest config")?;
                let cfg: Config = parse_json(&read_blob(store, &cd, "config")?, "config")?;
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

fn load_config(store: &dyn Store, d: &Digest) -> Result<Config> {
    let bytes = read_blob(store, d, "config")?;
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
    let config = load_config(&*store, &config_digest)?;
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
    let entry = match reference {
        Some(r) => entries
            .iter()
            .find(|e| {
                e.repo_tags
                    .iter()
                    .flatten()
                    .any(|t| t == r || t.rsplit_once(':').is_some_and(|(_, tag)| tag == r))
            })
            .ok_or_else(|| Error::Ambiguous {
                what: what.clone(),
                reason: format!("no image tagged {r:?} (tags: {})", tags(&entries)),
            })?,
        None => match entries.len() {
            0 => {
                return Err(Error::NotAnImage {
                    path: store.name().into(),
                    reason: "manifest.json lists no images".into(),
                })
            }
            1 => &entries[0],
            _ => {
                return Err(Error::Ambiguous {
                    what,
                    reason: format!(
                    "the archive holds {} images; pick one with docker-archive:PATH:TAG (tags: {})",
                    entries.len(),
                    tags(&entries)
                ),
                })
            }
        },
    };
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

    // Docker 25+: prefer the OCI manifest that points at this config.
    if let Some(index) = index {
        if let Ok((mbytes, cand)) =
            select_from_index(&*store, index, None, Some(&config_digest), opts)
        {
            return build_image(store, SourceKind::DockerArchive, mbytes, cand, reference);
        }
    }

    let cw = format!("config {config_path} in {}", store.name());
    let config: Config = parse_json(&config_bytes, &cw)?;
    check_config(&config, &cw)?;
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
        warnings: Vec::new(),
        store,
    })
}

fn tags(entries: &[DockerSaveEntry]) -> String {
    let t: Vec<String> = entries
        .iter()
        .flat_map(|e| e.repo_tags.iter().flatten().cloned())
        .collect();
    list_or_none(&t)
}
