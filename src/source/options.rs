//! [`ResolveOptions`]: what the command line says about how a reference is
//! resolved (platform, credentials, what may be fetched from where, where
//! temporary and cached documents go).

use super::registry::auth::Credentials;
use std::path::PathBuf;

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
}
