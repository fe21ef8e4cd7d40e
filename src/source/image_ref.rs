//! The image reference as the user wrote it: the transports of the
//! containers ecosystem (`docker-archive:PATH[:REF]`, `oci:DIR[:REF]`,
//! `oci-archive:PATH[:REF]`), a bare path (its kind detected from its
//! contents), `docker://` (a registry), `docker-daemon:` (the local daemon)
//! or a bare image name (the daemon's image if it has it, else the
//! registry's).

use super::registry::reference::RegistryRef;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

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

/// Split `PATH[:REF]` as the containers transports do: at the first `:`
/// (so REF may hold `:` and `/`, as in `registry:5000/org/name:tag`). Two
/// leniencies skopeo does not have: a whole string that names an existing
/// path is a path, and a path holding `:` is split at the first `:` whose
/// left side exists. An empty REF (`PATH:`) is no REF.
fn split_path_ref(s: &str) -> (PathBuf, Option<String>) {
    if Path::new(s).exists() {
        return (PathBuf::from(s), None);
    }
    let at = s
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| i > 0 && Path::new(&s[..i]).exists())
        .or_else(|| s.find(':').filter(|&i| i > 0));
    match at {
        Some(i) => {
            let r = &s[i + 1..];
            (
                PathBuf::from(&s[..i]),
                (!r.is_empty()).then(|| r.to_string()),
            )
        }
        None => (PathBuf::from(s), None),
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
        match RegistryRef::parse(s) {
            Ok(_) => Ok(ImageRef::Name(s.to_string())),
            Err(e) => Err(Error::BadReference {
                reference: s.into(),
                reason: format!("no such file or directory, and not an image name either ({e})"),
            }),
        }
    }
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
        assert_eq!(
            ImageRef::parse("docker-archive:/no/such.tar:registry.example:5000/org/team/app:v1")
                .unwrap(),
            ImageRef::DockerArchive {
                path: "/no/such.tar".into(),
                reference: Some("registry.example:5000/org/team/app:v1".into())
            }
        );
        assert_eq!(
            ImageRef::parse("oci-archive:/no/such.tar:@2").unwrap(),
            ImageRef::OciArchive {
                path: "/no/such.tar".into(),
                reference: Some("@2".into())
            }
        );
        assert_eq!(
            ImageRef::parse("oci:/no/dir:").unwrap(),
            ImageRef::Oci {
                dir: "/no/dir".into(),
                reference: None
            }
        );
        assert!(matches!(
            ImageRef::parse("Not An Image"),
            Err(Error::BadReference { .. })
        ));
    }
}
