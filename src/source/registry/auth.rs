//! Registry credentials and authentication challenges.
//!
//! Credentials come from `--username`/`--password-stdin`, else from docker's
//! `config.json` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`):
//! `credHelpers[host]`, then `credsStore`, each by running
//! `docker-credential-<helper> get` with the host on stdin, then
//! `auths[host].auth` (base64 `user:password`) or `username`/`password`.
//! Challenges are the `WWW-Authenticate` header of a 401: `Bearer
//! realm=…,service=…,scope=…` or `Basic realm=…`.

use crate::error::{Error, Result};
use base64::Engine as _;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A user name and password (or token); the secret never appears in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
    /// Where they came from, for error messages ("--username", "config.json auths", …).
    pub origin: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials({} from {}, secret hidden)",
            self.username, self.origin
        )
    }
}

impl Credentials {
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// Parse `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
pub fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let params = parse_params(rest);
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(Challenge::Bearer {
        realm: params.get("realm")?.clone(),
        service: params.get("service").cloned(),
        scope: params.get("scope").cloned(),
    })
}

/// `k="v", k2=v2` → map (keys lowercased; quoted values may hold commas).
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[ks..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch_len = s[i..].chars().next().map_or(1, |c| c.len_utf8());
                val.push_str(&s[i..i + ch_len]);
                i += ch_len;
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = s[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            out.insert(key, val);
        }
    }
    out
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

fn config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// The keys docker's config may use for `registry`.
fn config_keys(registry: &str) -> Vec<String> {
    if registry == super::reference::DEFAULT_REGISTRY {
        return vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
    ]
}

/// Credentials for `registry` from docker's config, if any. A config that
/// exists but cannot be read or parsed is an error (silently going anonymous
/// would hide the problem); a helper that has nothing for the host is not.
pub fn from_docker_config(registry: &str) -> Result<Option<Credentials>> {
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let name = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(name, e)),
    };
    if bytes.len() > 4 << 20 {
        return Err(Error::TooLarge {
            what: name,
            limit: 4 << 20,
        });
    }
    let cfg: DockerConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Error::malformed(&name, format!("not a docker config file: {e}")))?;
    let keys = config_keys(registry);
    for k in &keys {
        if let Some(helper) = cfg.cred_helpers.get(k) {
            return run_helper(helper, k);
        }
    }
    for k in &keys {
        if let Some(e) = cfg.auths.get(k) {
            if let Some(a) = e.auth.as_deref().filter(|a| !a.is_empty()) {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(a.trim())
                    .map_err(|_| {
                        Error::malformed(&name, format!("auths[{k:?}].auth is not base64"))
                    })?;
                let raw = String::from_utf8(raw).map_err(|_| {
                    Error::malformed(&name, format!("auths[{k:?}].auth is not UTF-8"))
                })?;
                let (u, p) = raw.split_once(':').ok_or_else(|| {
                    Error::malformed(&name, format!("auths[{k:?}].auth is not user:password"))
                })?;
                return Ok(Some(Credentials {
                    username: u.into(),
                    secret: p.into(),
                    origin: format!("{name} auths[{k:?}]"),
                }));
            }
            if let (Some(u), Some(p)) = (&e.username, &e.password) {
                return Ok(Some(Credentials {
                    username: u.clone(),
                    secret: p.clone(),
                    origin: format!("{name} auths[{k:?}]"),
                }));
            }
        }
    }
    if let Some(store) = &cfg.creds_store {
        for k in &keys {
            if let Some(c) = run_helper(store, k)? {
                return Ok(Some(c));
            }
        }
    }
    Ok(None)
}

/// Run `docker-credential-<helper> get` with `server` on stdin. "Not found"
/// answers (non-zero exit) give `None`; a missing helper is an error.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>> {
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(Error::malformed(
            "docker config",
            format!("invalid credential helper name {helper:?}"),
        ));
    }
    let prog = format!("docker-credential-{helper}");
    let mut child = Command::new(&prog)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::io(format!("credential helper {prog}"), e))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let mut out = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        stdout
            .take(1 << 20)
            .read_to_end(&mut out)
            .map_err(|e| Error::io(format!("credential helper {prog}"), e))?;
    }
    let status = child
        .wait()
        .map_err(|e| Error::io(format!("credential helper {prog}"), e))?;
    if !status.success() {
        return Ok(None);
    }
    let a: HelperAnswer = serde_json::from_slice(&out).map_err(|e| {
        Error::malformed(
            format!("credential helper {prog}"),
            format!("unreadable answer for {server}: {e}"),
        )
    })?;
    Ok(Some(Credentials {
        username: a.username,
        secret: a.secret,
        origin: format!("credential helper {prog}"),
    }))
}

/// Percent-encode a query parameter value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn encodes_queries() {
        assert_eq!(
            url_encode("repository:a/b:pull"),
            "repository%3Aa%2Fb%3Apull"
        );
    }
}
