//! The distribution-API client: one blocking HTTP agent (ureq) per image,
//! shared by the resolver and every layer reader thread.
//!
//! Why hand-written on ureq rather than an OCI client crate: the pipeline is
//! synchronous (`Read` + rayon threads), and what it needs from the network is
//! a blob as a plain `Read` that resumes itself with a `Range` request after a
//! dropped connection, with retries that honour `Retry-After`, redirects that
//! never carry `Authorization` to another host, and size caps on every
//! document and token. The async OCI clients (oci-client on reqwest/tokio)
//! hand out blob streams without resume, have no retry policy, and read whole
//! token and manifest answers without our caps; wrapping them would mean a
//! runtime plus a channel bridge and re-implementing those parts anyway. The
//! protocol surface we use is small — `GET /v2/<repo>/manifests/<ref>`,
//! `GET /v2/<repo>/blobs/<digest>` and the token endpoint — so it lives here,
//! on a well-kept blocking HTTP client.
//!
//! Every request goes through [`Client::send`]: it attaches credentials only
//! when the URL's host is the registry's own, answers one 401 challenge
//! (bearer token or basic), follows redirects by hand (so the auth decision
//! is made again for each hop), and retries 429 (honouring `Retry-After`),
//! 5xx and transport errors with exponential backoff.

use super::auth::{parse_challenge, url_encode, Challenge, Credentials};
use crate::error::{Error, Result};
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;
use ureq::http::{self, Response};
use ureq::Body;

/// Largest token-endpoint answer accepted.
pub const MAX_TOKEN: u64 = 1 << 20;
/// Attempts for one request (first try included).
const MAX_ATTEMPTS: u32 = 6;
/// Redirect hops followed for one request.
const MAX_REDIRECTS: u32 = 5;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Backoff before attempt `n` (1-based retry count): 250 ms, 500 ms, 1 s, … capped at 8 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis((250u64 << n.saturating_sub(1).min(5)).min(8000))
}

/// What the client has learnt about authenticating with this registry.
#[derive(Clone, Debug)]
enum AuthState {
    /// No challenge seen yet: send nothing.
    None,
    /// `Authorization` header value to send to the registry host.
    Header(String),
}

/// One registry + repository, with its auth state.
pub struct Client {
    agent: ureq::Agent,
    /// `http://host:port` or `https://host`.
    pub base: String,
    /// `host[:port]` as in URLs of the registry (credentials only go here).
    authority: String,
    pub repository: String,
    /// Human name for messages, e.g. `docker://127.0.0.1:5000/app:1`.
    pub display: String,
    creds: Option<Credentials>,
    /// Attempts per request (1 = no retries, for optional look-ups).
    attempts: u32,
    /// Told of each retry (see [`crate::source::RetryHook`]).
    on_retry: Option<crate::source::RetryHook>,
    auth: Mutex<AuthState>,
    /// What was tried, for 401/403 messages.
    tried: Mutex<Vec<String>>,
    /// Accept token realms on link-local/private addresses (see [`realm_refusal`]).
    allow_private_realm: bool,
}

/// How far from the public internet an address is, for the token-realm policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AddrClass {
    Public,
    /// Loopback, RFC 1918, CGNAT (100.64/10), IPv6 unique-local.
    Private,
    /// 169.254/16 and fe80::/10 (where cloud metadata services live), or unspecified.
    LinkLocal,
}

/// Classify one IP address.
pub fn classify_ip(ip: std::net::IpAddr) -> AddrClass {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() {
                AddrClass::LinkLocal
            } else if v4.is_loopback() || v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
                AddrClass::Private
            } else {
                AddrClass::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_ip(IpAddr::V4(v4));
            }
            let seg = v6.segments()[0];
            if v6.is_unspecified() || (seg & 0xffc0) == 0xfe80 {
                AddrClass::LinkLocal
            } else if v6.is_loopback() || (seg & 0xfe00) == 0xfc00 {
                AddrClass::Private
            } else {
                AddrClass::Public
            }
        }
    }
}

/// Classify the host of a URL: IP literals directly, `localhost` as
/// loopback, other names by what they resolve to (the most inward address
/// wins; names that do not resolve count as public — connecting fails then).
/// No connection is made.
pub fn classify_url_host(url: &str) -> AddrClass {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return AddrClass::Public;
    };
    let Some(host) = uri.host() else {
        return AddrClass::Public;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return classify_ip(ip);
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return AddrClass::Private;
    }
    use std::net::ToSocketAddrs;
    (host, uri.port_u16().unwrap_or(443))
        .to_socket_addrs()
        .map(|addrs| {
            addrs
                .map(|a| classify_ip(a.ip()))
                .max()
                .unwrap_or(AddrClass::Public)
        })
        .unwrap_or(AddrClass::Public)
}

/// Why a bearer-token realm must not be contacted, or `None` when it may.
/// The realm comes from the registry's `WWW-Authenticate` header, so a
/// hostile registry chooses where we send a request (with basic credentials
/// when we have them): a link-local realm (cloud metadata services) is
/// refused, a private or loopback realm is refused unless the registry
/// itself is on a private or loopback address, and a plain-http realm is
/// refused for an https registry. `allow_private` lifts the address rules.
pub fn realm_refusal(registry_base: &str, realm: &str, allow_private: bool) -> Option<String> {
    if registry_base.starts_with("https://") && realm.starts_with("http://") {
        return Some(format!(
            "token realm {realm:?} is plain http while the registry uses https; refused (credentials would travel unencrypted)"
        ));
    }
    if allow_private {
        return None;
    }
    match classify_url_host(realm) {
        AddrClass::Public => None,
        AddrClass::LinkLocal => Some(format!(
            "token realm {realm:?} is on a link-local or unspecified address (where cloud metadata services live); refused before connecting (--allow-private-realm allows it)"
        )),
        AddrClass::Private if classify_url_host(registry_base) != AddrClass::Public => None,
        AddrClass::Private => Some(format!(
            "token realm {realm:?} is on a private or loopback address but the registry is public; refused before connecting (--allow-private-realm allows it)"
        )),
    }
}

fn authority_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let a = uri.authority()?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let host = a.host().to_ascii_lowercase();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    Some(format!("{host}:{}", a.port_u16().unwrap_or(default_port)))
}

/// Resolve a `Location` header against the URL it answered.
fn join_location(base: &str, loc: &str) -> Option<String> {
    if loc.starts_with("http://") || loc.starts_with("https://") {
        return Some(loc.to_string());
    }
    let uri: http::Uri = base.parse().ok()?;
    let origin = format!("{}://{}", uri.scheme_str()?, uri.authority()?);
    if let Some(rest) = loc.strip_prefix("//") {
        return Some(format!("{}://{rest}", uri.scheme_str()?));
    }
    if loc.starts_with('/') {
        return Some(format!("{origin}{loc}"));
    }
    let path = uri.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Some(format!("{origin}{dir}{loc}"))
}

fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?.trim();
    let secs: u64 = v.parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Read a whole body, refusing more than `cap` bytes.
pub fn read_capped(resp: Response<Body>, cap: u64, what: &str) -> Result<Vec<u8>> {
    if let Some(len) = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > cap {
            return Err(Error::TooLarge {
                what: what.into(),
                limit: cap,
            });
        }
    }
    let mut buf = Vec::new();
    resp.into_body()
        .into_reader()
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(what, e))?;
    if buf.len() as u64 > cap {
        return Err(Error::TooLarge {
            what: what.into(),
            limit: cap,
        });
    }
    Ok(buf)
}

impl Client {
    /// Tell `hook` of every retry this client makes.
    pub fn with_retry_hook(mut self, hook: Option<crate::source::RetryHook>) -> Client {
        self.on_retry = hook;
        self
    }

    /// Report a retry to the hook (if any), then wait `wait`.
    pub(super) fn retry_wait(
        &self,
        what: &str,
        reason: String,
        attempt: u32,
        attempts: u32,
        wait: Duration,
    ) {
        if let Some(hook) = &self.on_retry {
            (hook.0)(&crate::source::RetryNotice {
                what: what.to_string(),
                reason,
                attempt,
                attempts,
                wait,
            });
        }
        std::thread::sleep(wait);
    }

    pub fn new(
        base: String,
        repository: String,
        display: String,
        creds: Option<Credentials>,
        quick: bool,
        allow_private_realm: bool,
    ) -> Result<Client> {
        let authority = authority_of(&base).ok_or_else(|| Error::BadReference {
            reference: display.clone(),
            reason: format!("cannot build a URL from {base:?}"),
        })?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("imgaudit/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(if quick { 5 } else { 30 })))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_recv_body(None)
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            base,
            authority,
            repository,
            display,
            creds,
            attempts: if quick { 1 } else { MAX_ATTEMPTS },
            on_retry: None,
            auth: Mutex::new(AuthState::None),
            tried: Mutex::new(vec!["anonymous".into()]),
            allow_private_realm,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.repository)
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Registry {
            reference: self.display.clone(),
            reason: reason.into(),
        }
    }

    /// What authentication was tried so far, for error messages.
    pub fn tried(&self) -> String {
        self.tried
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join(", then ")
    }

    fn auth_header(&self) -> Option<String> {
        match &*self.auth.lock().unwrap_or_else(|e| e.into_inner()) {
            AuthState::None => None,
            AuthState::Header(h) => Some(h.clone()),
        }
    }

    /// One GET, with redirects, auth, and retries. Returns the final answer,
    /// whatever its status (callers map 4xx to their own messages).
    pub fn send(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response<Body>> {
        self.send_with(url, headers, true)
    }

    /// [`Client::send`] with `credentials: false` for URLs that must never
    /// see them (foreign-layer URLs), whatever host they are on.
    pub fn send_with(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        credentials: bool,
    ) -> Result<Response<Body>> {
        let mut challenged = false;
        let mut attempt = 0u32;
        let mut url = url.to_string();
        let mut hops = 0u32;
        loop {
            let same_host = credentials && authority_of(&url).is_some_and(|a| a == self.authority);
            let mut req = self.agent.get(&url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let sent_auth = same_host.then(|| self.auth_header()).flatten();
            if let Some(h) = &sent_auth {
                req = req.header("Authorization", h);
            }
            let result = req.call();
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    attempt += 1;
                    if attempt >= self.attempts {
                        return Err(
                            self.err(format!("cannot reach {url} after {attempt} attempts: {e}"))
                        );
                    }
                    self.retry_wait(
                        &url,
                        e.to_string(),
                        attempt,
                        self.attempts,
                        backoff(attempt),
                    );
                    continue;
                }
            };
            let status = resp.status().as_u16();
            match status {
                301 | 302 | 303 | 307 | 308 => {
                    hops += 1;
                    let loc = header(&resp, "location").ok_or_else(|| {
                        self.err(format!("{status} redirect without Location from {url}"))
                    })?;
                    if hops > MAX_REDIRECTS {
                        return Err(
                            self.err(format!("more than {MAX_REDIRECTS} redirects from {url}"))
                        );
                    }
                    url = join_location(&url, &loc).ok_or_else(|| {
                        self.err(format!("bad redirect Location {loc:?} from {url}"))
                    })?;
                    continue;
                }
                401 if same_host && !challenged => {
                    challenged = true;
                    let Some(ch) =
                        header(&resp, "www-authenticate").and_then(|h| parse_challenge(&h))
                    else {
                        return Ok(resp);
                    };
                    self.authenticate(ch)?;
                    continue;
                }
                429 | 500 | 502 | 503 | 504 => {
                    attempt += 1;
                    if attempt >= self.attempts {
                        return Err(
                            self.err(format!("{url}: HTTP {status} after {attempt} attempts"))
                        );
                    }
                    let wait = if status == 429 {
                        retry_after(&resp).unwrap_or_else(|| backoff(attempt))
                    } else {
                        backoff(attempt)
                    };
                    drop(resp);
                    self.retry_wait(&url, format!("HTTP {status}"), attempt, self.attempts, wait);
                    continue;
                }
                _ => return Ok(resp),
            }
        }
    }

    /// Answer a challenge: fetch a bearer token, or switch to basic auth.
    fn authenticate(&self, ch: Challenge) -> Result<()> {
        let header = match ch {
            Challenge::Basic => {
                let Some(c) = &self.creds else {
                    self.note("basic auth requested, but no credentials (docker login, or --username with --password-stdin)");
                    return Ok(());
                };
                self.note(&format!("basic auth as {:?} from {}", c.username, c.origin));
                c.basic_header()
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let scope = scope.unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                let mut url = realm.clone();
                url.push(if realm.contains('?') { '&' } else { '?' });
                if let Some(s) = &service {
                    url.push_str(&format!("service={}&", url_encode(s)));
                }
                url.push_str(&format!("scope={}", url_encode(&scope)));
                let who = match &self.creds {
                    Some(c) => format!("as {:?} from {}", c.username, c.origin),
                    None => "anonymously".into(),
                };
                self.note(&format!("bearer token for {scope} from {realm} {who}"));
                format!("Bearer {}", self.fetch_token(&url)?)
            }
        };
        *self.auth.lock().unwrap_or_else(|e| e.into_inner()) = AuthState::Header(header);
        Ok(())
    }

    fn note(&self, s: &str) {
        self.tried
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(s.to_string());
    }

    /// GET the token endpoint (with basic credentials when we have them),
    /// retrying like any request, and read `token` or `access_token`.
    fn fetch_token(&self, url: &str) -> Result<String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(self.err(format!("token realm {url:?} is not an http(s) URL")));
        }
        if let Some(why) = realm_refusal(&self.base, url, self.allow_private_realm) {
            return Err(Error::Auth {
                reference: self.display.clone(),
                reason: why,
            });
        }
        let basic = self.creds.as_ref().map(|c| c.basic_header());
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(b) = &basic {
            headers.push(("Authorization", b));
        }
        let mut attempt = 0u32;
        let resp = loop {
            let mut req = self.agent.get(url);
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            match req.call() {
                Ok(r) if matches!(r.status().as_u16(), 429 | 500 | 502 | 503 | 504) => {
                    attempt += 1;
                    if attempt >= self.attempts {
                        return Err(self.err(format!(
                            "token server {url}: HTTP {} after {attempt} attempts",
                            r.status().as_u16()
                        )));
                    }
                    let wait = retry_after(&r).unwrap_or_else(|| backoff(attempt));
                    let reason = format!("HTTP {}", r.status().as_u16());
                    let what = format!("token server {url}");
                    self.retry_wait(&what, reason, attempt, self.attempts, wait);
                }
                Ok(r) => break r,
                Err(e) => {
                    attempt += 1;
                    if attempt >= self.attempts {
                        return Err(self.err(format!("cannot reach token server {url}: {e}")));
                    }
                    let what = format!("token server {url}");
                    self.retry_wait(
                        &what,
                        e.to_string(),
                        attempt,
                        self.attempts,
                        backoff(attempt),
                    );
                }
            }
        };
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(Error::Auth {
                reference: self.display.clone(),
                reason: format!(
                    "token server {url} answered HTTP {status} for repository {} (tried {})",
                    self.repository,
                    self.tried()
                ),
            });
        }
        let body = read_capped(resp, MAX_TOKEN, &format!("token answer from {url}"))?;
        #[derive(serde::Deserialize)]
        struct Tok {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let t: Tok = serde_json::from_slice(&body)
            .map_err(|e| self.err(format!("unreadable token answer from {url}: {e}")))?;
        t.token
            .or(t.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.err(format!("token answer from {url} has no token")))
    }

    /// Turn a 401/403/404/other answer into an error naming the repository
    /// and what was tried.
    pub fn status_error(&self, status: u16, what: &str) -> Error {
        match status {
            401 | 403 => Error::Auth {
                reference: self.display.clone(),
                reason: format!(
                    "{} for {what} in repository {} on {} (tried {})",
                    if status == 401 {
                        "401 unauthorized"
                    } else {
                        "403 forbidden"
                    },
                    self.repository,
                    self.authority,
                    self.tried()
                ),
            },
            404 => self.err(format!(
                "404 not found: {what} in repository {} on {}",
                self.repository, self.authority
            )),
            s => self.err(format!("HTTP {s} for {what}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_compare_with_default_ports() {
        assert_eq!(
            authority_of("https://Reg.example/v2/").as_deref(),
            Some("reg.example:443")
        );
        assert_eq!(
            authority_of("http://127.0.0.1:5000/v2/x").as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_ne!(
            authority_of("http://127.0.0.1:5000/"),
            authority_of("http://127.0.0.1:5001/")
        );
    }

    #[test]
    fn locations_resolve() {
        let b = "http://127.0.0.1:5000/v2/a/blobs/sha256:x";
        assert_eq!(
            join_location(b, "/other/y").unwrap(),
            "http://127.0.0.1:5000/other/y"
        );
        assert_eq!(
            join_location(b, "https://cdn.example/z").unwrap(),
            "https://cdn.example/z"
        );
        assert_eq!(
            join_location(b, "rel").unwrap(),
            "http://127.0.0.1:5000/v2/a/blobs/rel"
        );
    }

    #[test]
    fn token_realm_policy() {
        let public = "https://203.0.113.5"; // an IP literal: no DNS lookup in tests
        let local = "http://127.0.0.1:5000";
        // Link-local: refused whatever the registry, unless allowed.
        for realm in [
            "http://169.254.169.254/token",
            "http://[fe80::1]/token",
            "http://0.0.0.0/t",
        ] {
            assert!(realm_refusal(local, realm, false).is_some(), "{realm}");
            assert!(realm_refusal(local, realm, true).is_none(), "{realm}");
        }
        // Private/loopback: fine for a local registry, refused for a public one.
        for realm in [
            "https://10.1.2.3/token",
            "https://192.168.0.1/t",
            "https://172.20.0.1/t",
            "https://[fd00::1]/t",
            "https://100.64.0.1/t",
            "https://127.0.0.1:8080/t",
            "https://localhost/t",
        ] {
            assert!(realm_refusal(local, realm, false).is_none(), "{realm}");
            assert!(realm_refusal(public, realm, false).is_some(), "{realm}");
            assert!(realm_refusal(public, realm, true).is_none(), "{realm}");
        }
        assert!(realm_refusal(public, "https://8.8.8.8/token", false).is_none());
        // Downgrade to plain http from an https registry: always refused.
        assert!(realm_refusal(public, "http://8.8.8.8/token", true).is_some());
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(20), Duration::from_millis(8000));
    }
}
