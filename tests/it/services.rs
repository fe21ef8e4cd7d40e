//! Real services for the registry and daemon tests, all on loopback: a
//! `docker-registry` process (Debian's distribution build) on a free port with
//! its storage in a temp dir, optionally behind htpasswd; and a small HTTP/1.1
//! proxy in front of it that can inject faults (429 with Retry-After, 503,
//! a connection cut halfway through a blob, a corrupted byte, a tampered
//! manifest), demand a bearer token from its own token endpoint, or redirect
//! blob downloads to a second listener — recording every request it sees.

use crate::common::have_tools;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 20 s");
}

/// A running `docker-registry serve`, stopped on drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub creds: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Start a registry; `htpasswd` = Some((user, password)) turns on basic auth.
    /// `None` (with a printed reason) when the tools are missing outside CI.
    pub fn start(test: &str, htpasswd: Option<(&str, &str)>) -> Option<Registry> {
        let mut tools = vec!["docker-registry", "skopeo", "umoci", "python3"];
        if htpasswd.is_some() {
            tools.push("htpasswd");
        }
        if !have_tools(test, &tools) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut auth = String::new();
        if let Some((u, p)) = htpasswd {
            let out = Command::new("htpasswd")
                .args(["-Bbn", u, p])
                .output()
                .unwrap();
            assert!(out.status.success(), "htpasswd failed");
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
            auth = format!(
                "auth:\n  htpasswd:\n    realm: imgaudit-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            );
        }
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
            dir.path().join("data").display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        wait_port(port, &mut child, "docker-registry");
        Some(Registry {
            child,
            port,
            creds: htpasswd.map(|(u, p)| (u.to_string(), p.to_string())),
            _dir: dir,
        })
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `skopeo copy SRC docker://127.0.0.1:PORT/DEST` (plain http).
    pub fn push(&self, src: &str, dest: &str) {
        self.push_with(src, dest, &[]);
    }

    pub fn push_with(&self, src: &str, dest: &str, extra: &[&str]) {
        let mut c = Command::new("skopeo");
        c.args(["copy", "-q", "--dest-tls-verify=false"])
            .args(extra);
        if let Some((u, p)) = &self.creds {
            c.arg(format!("--dest-creds={u}:{p}"));
        }
        let out = c
            .arg(src)
            .arg(format!("docker://{}/{dest}", self.host()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy {src} -> {dest}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fault the proxy injects once, on the first request whose path contains `path_has`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this status (with `Retry-After: secs` when given) instead of forwarding.
    Status(u16, Option<u64>),
    /// Forward, but close the connection after half the body.
    CutHalf,
    /// Forward with one body byte flipped (same length).
    Corrupt,
    /// Forward with a byte appended to the body (Content-Length fixed up).
    Append,
    /// Forward without the request's Range header (the registry answers 200 from byte 0).
    DropRange,
    /// Answer 200 with this many bytes of `{` padding instead of forwarding.
    Huge(usize),
    /// Answer 200 with this document (an OCI manifest) instead of forwarding.
    Serve(Vec<u8>),
}

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Which listener: "registry", "token" or "cdn".
    pub listener: &'static str,
    pub path: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Default)]
pub struct Plan {
    pub faults: Mutex<VecDeque<(String, Fault)>>,
    /// Demand `Authorization: Bearer TOKEN` on /v2/ paths; the token endpoint
    /// gives it out, to basic credentials `expect_basic` when set.
    pub bearer: Option<String>,
    pub expect_basic: Option<String>,
    /// Redirect blob GETs to the "cdn" listener (another port).
    pub redirect_blobs: bool,
    /// The token endpoint answers with this many bytes of padding around the token.
    pub token_padding: usize,
}

pub struct Proxy {
    pub plan: Arc<Plan>,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    pub fn start(upstream: u16, plan: Plan) -> Proxy {
        let plan = Arc::new(plan);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let listeners: Vec<TcpListener> = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        let registry_port = ports[0];
        let ports = Ports {
            token: ports[1],
            cdn: ports[2],
            upstream,
        };
        for (name, l) in ["registry", "token", "cdn"].into_iter().zip(listeners) {
            let (plan, seen) = (plan.clone(), seen.clone());
            std::thread::spawn(move || {
                // Bounded: the proxy lives as long as the test binary; each
                // connection is one request.
                for conn in l.incoming().take(10_000) {
                    let Ok(conn) = conn else { continue };
                    let (plan, seen) = (plan.clone(), seen.clone());
                    std::thread::spawn(move || {
                        let _ = handle(name, conn, ports, &plan, &seen);
                    });
                }
            });
        }
        Proxy {
            plan,
            port: registry_port,
            seen,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// The proxy's own ports and the real registry's, for every handler.
#[derive(Clone, Copy)]
struct Ports {
    token: u16,
    cdn: u16,
    upstream: u16,
}

fn respond(mut conn: &TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn handle(
    listener: &'static str,
    conn: TcpStream,
    ports: Ports,
    plan: &Plan,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let record = Seen {
        listener,
        path: path.clone(),
        range: get("range"),
        authorization: get("authorization"),
        status: 0,
    };
    let Ports {
        token: token_port,
        cdn: cdn_port,
        upstream,
    } = ports;
    let log = |mut r: Seen, status: u16| {
        r.status = status;
        seen.lock().unwrap().push(r);
    };

    if listener == "token" {
        let ok = match &plan.expect_basic {
            Some(b) => record.authorization.as_deref() == Some(b.as_str()),
            None => true,
        };
        let tok = plan.bearer.clone().unwrap_or_default();
        if ok {
            respond(
                &conn,
                200,
                &[("Content-Type", "application/json".into())],
                format!("{{\"token\":\"{tok}\"{}}}", " ".repeat(plan.token_padding)).as_bytes(),
            );
            log(record, 200);
        } else {
            respond(&conn, 401, &[], b"{}");
            log(record, 401);
        }
        return Ok(());
    }

    if listener == "registry" && path.starts_with("/v2/") {
        if let Some(tok) = &plan.bearer {
            if record.authorization.as_deref() != Some(&format!("Bearer {tok}")) {
                let repo_scope = path
                    .strip_prefix("/v2/")
                    .and_then(|p| {
                        p.split_once("/manifests/")
                            .or_else(|| p.split_once("/blobs/"))
                    })
                    .map(|(r, _)| format!(",scope=\"repository:{r}:pull\""))
                    .unwrap_or_default();
                respond(
                    &conn,
                    401,
                    &[(
                        "WWW-Authenticate",
                        format!("Bearer realm=\"http://127.0.0.1:{token_port}/token\",service=\"imgaudit-test\"{repo_scope}"),
                    )],
                    b"{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
                );
                log(record, 401);
                return Ok(());
            }
        }
        if plan.redirect_blobs && path.contains("/blobs/sha256:") {
            respond(
                &conn,
                307,
                &[("Location", format!("http://127.0.0.1:{cdn_port}{path}"))],
                b"",
            );
            log(record, 307);
            return Ok(());
        }
    }

    let fault = {
        let mut f = plan.faults.lock().unwrap();
        let pos = f.iter().position(|(p, _)| path.contains(p.as_str()));
        pos.and_then(|i| f.remove(i)).map(|(_, f)| f)
    };
    if let Some(Fault::Serve(doc)) = &fault {
        respond(
            &conn,
            200,
            &[(
                "Content-Type",
                "application/vnd.oci.image.manifest.v1+json".into(),
            )],
            doc,
        );
        log(record, 200);
        return Ok(());
    }
    if let Some(Fault::Huge(n)) = &fault {
        respond(
            &conn,
            200,
            &[(
                "Content-Type",
                "application/vnd.oci.image.manifest.v1+json".into(),
            )],
            &vec![b' '; *n],
        );
        log(record, 200);
        return Ok(());
    }
    if let Some(Fault::Status(code, retry)) = &fault {
        let mut h = Vec::new();
        if let Some(s) = retry {
            h.push(("Retry-After", s.to_string()));
        }
        respond(&conn, *code, &h, b"{\"errors\":[]}");
        log(record, *code);
        return Ok(());
    }

    // Forward to the real registry (Authorization stripped: it has no auth,
    // or the test's basic credentials pass through unchanged).
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    // `/foreign/v2/...` stands for a foreign-layer URL on the registry's own host.
    let request_line = request_line.replacen(" /foreign/", " /", 1);
    let mut req = format!(
        "{}\r\nHost: 127.0.0.1:{upstream}\r\nConnection: close\r\n",
        request_line.trim_end()
    );
    for (k, v) in &headers {
        let drop_range = k == "range" && matches!(fault, Some(Fault::DropRange));
        if k == "host"
            || k == "connection"
            || drop_range
            || (k == "authorization" && plan.bearer.is_some())
        {
            continue;
        }
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    up.write_all(req.as_bytes())?;
    let mut upr = BufReader::new(up);
    let mut status_line = String::new();
    upr.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut resp_headers = Vec::new();
    loop {
        let mut line = String::new();
        if upr.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        resp_headers.push(line.trim_end().to_string());
    }
    let mut body = Vec::new();
    upr.read_to_end(&mut body)?;
    let mut out = &conn;
    let mut head = format!("{}\r\n", status_line.trim_end());
    let mut write_body = body.clone();
    let mut cut = None;
    match fault {
        Some(Fault::CutHalf) => cut = Some(body.len() / 2),
        Some(Fault::Corrupt) if !body.is_empty() => {
            let i = body.len() / 2;
            write_body[i] ^= 0x55;
        }
        Some(Fault::Append) => write_body.push(b' '),
        _ => {}
    }
    for h in &resp_headers {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("content-length:") {
            head.push_str(&format!("Content-Length: {}\r\n", write_body.len()));
        } else if !lower.starts_with("connection:") {
            head.push_str(h);
            head.push_str("\r\n");
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    out.write_all(head.as_bytes())?;
    match cut {
        Some(n) => {
            out.write_all(&write_body[..n])?;
            out.flush()?;
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
        None => out.write_all(&write_body)?,
    }
    log(record, status);
    Ok(())
}

/// The accounting fixture's OCI layout, and the digests of its manifest and layers.
pub struct Fixture {
    pub oci: String,
    pub manifest: String,
    pub layers: Vec<String>,
}

pub fn accounting_oci(dir: &Path) -> Fixture {
    let layout = dir.join("oci");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&manifest[7..])).unwrap(),
    )
    .unwrap();
    let layers = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    Fixture {
        oci: format!("oci:{}:latest", layout.display()),
        manifest,
        layers,
    }
}

/// One plain HTTP/1.1 request to 127.0.0.1:port; returns status, headers, body.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut hs = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap() == 0 || l == "\r\n" {
            break;
        }
        if let Some((k, v)) = l.trim_end().split_once(':') {
            hs.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut b = Vec::new();
    r.read_to_end(&mut b).unwrap();
    (status, hs, b)
}

/// Upload a blob exactly as given (no recompression, unlike skopeo), by the
/// distribution API's monolithic upload; returns its digest.
pub fn upload_blob(port: u16, repo: &str, bytes: &[u8]) -> String {
    let digest = crate::layout::sha(bytes);
    let (st, hs, _) = http(
        port,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(st, 202, "start upload");
    let loc = hs.iter().find(|(k, _)| k == "location").unwrap().1.clone();
    let path = match loc.find("/v2/") {
        Some(i) => loc[i..].to_string(),
        None => loc,
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let (st, _, b) = http(
        port,
        "PUT",
        &format!("{path}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(st, 201, "finish upload: {}", String::from_utf8_lossy(&b));
    digest
}

/// Push an [`crate::layout::Img`] byte for byte (layers stay as built).
pub fn upload_image(port: u16, repo: &str, tag: &str, img: &crate::layout::Img) -> String {
    let cfg = serde_json::to_vec(&img.config()).unwrap();
    upload_blob(port, repo, &cfg);
    let t = tempfile::tempdir().unwrap();
    let manifest = img.write_blobs(t.path(), &img.config());
    for (stored, _, _) in &img.layers {
        upload_blob(port, repo, stored);
    }
    let m = serde_json::to_vec(&manifest).unwrap();
    let (st, _, b) = http(
        port,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        &m,
    );
    assert_eq!(st, 201, "put manifest: {}", String::from_utf8_lossy(&b));
    crate::layout::sha(&m)
}
