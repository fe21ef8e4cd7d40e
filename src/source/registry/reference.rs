//! Registry image names, normalised the way docker does: `ubuntu` is
//! `docker.io/library/ubuntu:latest`, a first component with a `.` or `:` or
//! equal to `localhost` is a registry host, a `@sha256:…` suffix pins a digest.
//! Everything is validated here, before any URL is built from it.

use crate::digest::Digest;
use crate::error::{Error, Result};
use std::fmt;

/// docker's default registry name, and the host its API really lives on.
pub const DEFAULT_REGISTRY: &str = "docker.io";
const DEFAULT_API_HOST: &str = "registry-1.docker.io";

/// A normalised `REGISTRY/REPO[:TAG][@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// Registry as the user names it (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

fn bad(reference: &str, reason: impl Into<String>) -> Error {
    Error::BadReference {
        reference: reference.into(),
        reason: reason.into(),
    }
}

fn valid_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || h.starts_with('[') => (host, Some(port)),
        _ => (h, None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    host_ok && port.map_or(true, |p| !p.is_empty() && p.parse::<u16>().is_ok())
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ separated by '.', '_', '__' or '-'+ (the distribution grammar).
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut prev_sep = false;
    let mut underscores = 0;
    for &ch in b {
        match ch {
            b'a'..=b'z' | b'0'..=b'9' => {
                prev_sep = false;
                underscores = 0;
            }
            b'.' if !prev_sep => prev_sep = true,
            b'_' if underscores < 2 && (underscores == 1 || !prev_sep) => {
                underscores += 1;
                prev_sep = true;
            }
            b'-' => prev_sep = true,
            _ => return false,
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}

impl RegistryRef {
    /// Parse and normalise a docker-style name (without the `docker://`).
    pub fn parse(s: &str) -> Result<RegistryRef> {
        if s.is_empty() {
            return Err(bad(s, "empty image name"));
        }
        if s.len() > 1024 {
            return Err(bad(
                &s[..64.min(s.len())],
                "image name longer than 1024 bytes",
            ));
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(Digest::parse(d, &format!("image reference {s}"))?)),
            None => (s, None),
        };
        let (registry, rest) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest)
            }
            _ => (DEFAULT_REGISTRY.to_string(), name),
        };
        let registry = if registry == "index.docker.io" {
            DEFAULT_REGISTRY.to_string()
        } else {
            registry
        };
        if !valid_host(&registry) {
            return Err(bad(s, format!("invalid registry host {registry:?}")));
        }
        let (repo, tag) = match rest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (rest, None),
        };
        if let Some(t) = &tag {
            if !valid_tag(t) {
                return Err(bad(
                    s,
                    format!("invalid tag {t:?} (allowed: [A-Za-z0-9_.-], at most 128, not starting with '.' or '-')"),
                ));
            }
        }
        let mut repository = repo.to_string();
        if repository.is_empty() || !repository.split('/').all(valid_component) {
            return Err(bad(
                s,
                format!(
                    "invalid repository name {repo:?} (lowercase letters, digits and . _ - separators, '/' between components)"
                ),
            ));
        }
        if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            repository = format!("library/{repository}");
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(RegistryRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `host[:port]` the distribution API is served on.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            DEFAULT_API_HOST
        } else {
            &self.registry
        }
    }

    /// Loopback registries are spoken to over plain http, like docker does.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => &self.registry,
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The manifest reference: the digest when pinned, else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_docker() {
        let r = RegistryRef::parse("ubuntu").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/ubuntu:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = RegistryRef::parse("python:3.12-slim").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/python:3.12-slim");
        let r = RegistryRef::parse("bitnami/redis").unwrap();
        assert_eq!(r.repository, "bitnami/redis");
        let r = RegistryRef::parse("127.0.0.1:5000/a/b:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("127.0.0.1:5000", "a/b")
        );
        assert!(r.is_loopback());
        let r = RegistryRef::parse("localhost/x").unwrap();
        assert!(r.is_loopback() && r.tag.as_deref() == Some("latest"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = RegistryRef::parse(&format!("registry.example.com/x/y@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), d);
        assert!(!r.is_loopback());
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "",
            "UPPER",
            "a//b",
            "x:bad tag",
            "../etc",
            "a@sha256:zz",
            "host:99999/x",
            "x:-t",
        ] {
            assert!(RegistryRef::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
