//! [`ResolveOptions`]: what the command line says about how a reference is
//! resolved (platform, credentials, what may be fetched from where, where
//! temporary and cached documents go).

use super::registry::auth::Credentials;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A request to a registry that failed and is about to be tried again.
#[derive(Debug, Clone)]
pub struct RetryNotice {
    /// What was asked for (a URL, "token server …", "blob … in …").
    pub what: String,
    /// Why it failed (`HTTP 503`, the connection error).
    pub reason: String,
    /// The attempt that failed (1-based) and how many will be made.
    pub attempt: u32,
    pub attempts: u32,
    /// How long until the next attempt.
    pub wait: Duration,
}

/// Called before each retry of a registry request, so a terminal can show
/// that a registry is being waited for (the library itself never prints).
#[derive(Clone)]
pub struct RetryHook(pub Arc<dyn Fn(&RetryNotice) + Send + Sync>);

impl std::fmt::Debug for RetryHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryHook")
    }
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
    pub credentials: Option<Credentials>,
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
    /// layer cache; `None` under `--no-cache`). See `daemon/doc_cache.rs`.
    pub doc_cache: Option<PathBuf>,
    /// Told of every registry retry (the CLI prints a line per retry on a
    /// terminal); `None` = retry silently.
    pub on_retry: Option<RetryHook>,
}
