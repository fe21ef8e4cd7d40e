//! Hostile registries (issue 7, "registry" group), played by a tiny scripted
//! HTTP server on 127.0.0.1 written here (no `docker-registry` needed): token
//! realms on link-local addresses (refused before any connection), a 100 MB
//! token body (peak memory measured), 429 with Retry-After, a resume answered
//! 200 instead of 206, Content-Length different from the descriptor, a
//! cross-host redirect (no Authorization follows it), and foreign-layer URLs
//! (not fetched unless `--allow-foreign-layers`).

use crate::common::{analyze_err, imgaudit};
use crate::hostile_fixtures::{failed_cleanly, run_measured};
use crate::layout::{sha, tar, Img, E};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Req {
    pub path: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
}

type Handler = dyn Fn(&Req, &mut TcpStream) + Send + Sync;

/// A scripted HTTP/1.1 server on loopback; one request per connection.
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    fn start(handler: Arc<Handler>) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming().take(1000) {
                let Ok(mut conn) = conn else { continue };
                let (h, seen) = (handler.clone(), s2.clone());
                std::thread::spawn(move || {
                    let Some(req) = read_request(&conn) else {
                        return;
                    };
                    seen.lock().unwrap().push(req.clone());
                    h(&req, &mut conn);
                });
            }
        });
        Server { port, seen }
    }
    fn seen(&self) -> Vec<Req> {
        self.seen.lock().unwrap().clone()
    }
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn read_request(conn: &TcpStream) -> Option<Req> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut range, mut authorization) = (None, None);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim().to_string();
            match k.to_ascii_lowercase().as_str() {
                "range" => range = Some(v),
                "authorization" => authorization = Some(v),
                _ => {}
            }
        }
    }
    Some(Req {
        path,
        range,
        authorization,
    })
}

fn reply(conn: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
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

/// A one-layer image as the registry serves it.
struct Served {
    manifest: Vec<u8>,
    config: Vec<u8>,
    layer: Vec<u8>,
}

impl Served {
    fn new(tweak: impl FnOnce(&mut Value)) -> Served {
        let t = tempfile::tempdir().unwrap();
        let img = Img::new().gz(tar(&[E::File("data", 200_000)]));
        let config = serde_json::to_vec(&img.config()).unwrap();
        let mut m = img.write_blobs(t.path(), &img.config());
        tweak(&mut m);
        Served {
            manifest: serde_json::to_vec(&m).unwrap(),
            config,
            layer: img.layers[0].0.clone(),
        }
    }
    fn layer_digest(&self) -> String {
        sha(&self.layer)
    }
    /// Answer manifest/config/layer requests faithfully; `false` when the
    /// path is none of them.
    fn serve(&self, req: &Req, conn: &mut TcpStream) -> bool {
        if req.path.ends_with("/manifests/latest") {
            reply(
                conn,
                200,
                &[
                    (
                        "Content-Type",
                        "application/vnd.oci.image.manifest.v1+json".into(),
                    ),
                    ("Docker-Content-Digest", sha(&self.manifest)),
                ],
                &self.manifest,
            );
        } else if req.path.ends_with(&sha(&self.config)) {
            reply(conn, 200, &[], &self.config);
        } else if req.path.ends_with(&self.layer_digest()) {
            reply(conn, 200, &[], &self.layer);
        } else {
            return false;
        }
        true
    }
}

#[test]
fn link_local_token_realm_is_refused_before_any_connection() {
    for realm in [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]:80/token",
    ] {
        let realm = realm.to_string();
        let srv = Server::start(Arc::new(move |_req, conn| {
            reply(
                conn,
                401,
                &[(
                    "WWW-Authenticate",
                    format!(r#"Bearer realm="{realm}",service="x""#),
                )],
                b"",
            )
        }));
        let started = Instant::now();
        let err = analyze_err(&format!("docker://{}/hostile:latest", srv.host()), &[]);
        assert!(
            err.contains("token realm")
                && err.contains("link-local")
                && err.contains("refused before connecting")
                && err.contains("--allow-private-realm"),
            "{err}"
        );
        // Refused, not timed out: a connection attempt would have taken the
        // 30 s connect timeout (or failed with another message).
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(srv.seen().len(), 1, "{:?}", srv.seen());
    }
}

#[test]
fn hundred_megabyte_token_body_is_refused_with_bounded_memory() {
    let served = Arc::new(Served::new(|_| {}));
    let (s2, port) = (served.clone(), Arc::new(Mutex::new(0u16)));
    let p2 = port.clone();
    let srv = Server::start(Arc::new(move |req, conn| {
        if req.path.starts_with("/token") {
            // 100 MB, no Content-Length: only the cap can stop the reader.
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"token\":\"");
            let chunk = vec![b'a'; 1 << 20];
            for _ in 0..100 {
                if conn.write_all(&chunk).is_err() {
                    return;
                }
            }
            let _ = conn.write_all(b"\"}");
            return;
        }
        if req.authorization.is_none() {
            let realm = format!("http://127.0.0.1:{}/token", p2.lock().unwrap());
            reply(
                conn,
                401,
                &[(
                    "WWW-Authenticate",
                    format!(r#"Bearer realm="{realm}",service="x""#),
                )],
                b"",
            );
            return;
        }
        s2.serve(req, conn);
    }));
    *port.lock().unwrap() = srv.port;
    let r = format!("docker://{}/hostile:latest", srv.host());
    let Some((out, kib)) = run_measured(
        "hundred_megabyte_token_body_is_refused_with_bounded_memory",
        &[&r],
    ) else {
        return;
    };
    let err = failed_cleanly(&out);
    assert!(
        err.contains("token answer")
            && err.contains("larger than the 1.0 MB limit (1048576 bytes)"),
        "{err}"
    );
    assert!(kib < 60 * 1024, "peak {kib} KiB");
}

#[test]
fn too_many_requests_honours_retry_after_then_gives_up() {
    let served = Arc::new(Served::new(|_| {}));
    let count = Arc::new(Mutex::new(0u32));
    let (s2, c2) = (served.clone(), count.clone());
    let srv = Server::start(Arc::new(move |req, conn| {
        if req.path.ends_with("/manifests/latest") {
            let mut n = c2.lock().unwrap();
            *n += 1;
            if *n == 1 {
                reply(conn, 429, &[("Retry-After", "1".into())], b"slow down");
                return;
            }
        }
        s2.serve(req, conn);
    }));
    let started = Instant::now();
    let out = imgaudit()
        .args([
            "analyze",
            &format!("docker://{}/hostile:latest", srv.host()),
        ])
        .args(["-q", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(*count.lock().unwrap(), 2);
    // Always 429 (Retry-After: 0): bounded attempts, one clear line.
    let srv = Server::start(Arc::new(|_req, conn| {
        reply(conn, 429, &[("Retry-After", "0".into())], b"")
    }));
    let err = analyze_err(&format!("docker://{}/hostile:latest", srv.host()), &[]);
    assert!(err.contains("HTTP 429 after 6 attempts"), "{err}");
    assert_eq!(srv.seen().len(), 6);
    // On a terminal each retry is a line with its wait (`script` gives the
    // run a pseudo-terminal); the final message stays the same one line.
    if !crate::common::have_tools("retries shown on a terminal", &["script"]) {
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("imgaudit");
    let cmd = format!(
        "{} analyze docker://{}/hostile:latest --no-cache",
        bin.display(),
        srv.host()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    let retries: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("retrying in"))
        .collect();
    assert_eq!(retries.len(), 5, "{screen}");
    assert!(
        retries[0].contains("HTTP 429 (attempt 1 of 6); retrying in 0.0 s"),
        "{screen}"
    );
    assert!(screen.contains("HTTP 429 after 6 attempts"), "{screen}");
}

#[test]
fn dropped_blob_resumed_with_200_is_not_spliced() {
    let served = Arc::new(Served::new(|_| {}));
    let digest = served.layer_digest();
    let s2 = served.clone();
    let srv = Server::start(Arc::new(move |req, conn| {
        if req.path.ends_with(&s2.layer_digest()) {
            if req.range.is_none() {
                // Promise everything, send half, hang up.
                let half = &s2.layer[..s2.layer.len() / 2];
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        s2.layer.len()
                    )
                    .as_bytes(),
                );
                let _ = conn.write_all(half);
                return;
            }
            // The resume ignores Range and starts again from byte 0.
            reply(conn, 200, &[], &s2.layer);
            return;
        }
        s2.serve(req, conn);
    }));
    let err = analyze_err(&format!("docker://{}/hostile:latest", srv.host()), &[]);
    assert!(
        err.contains(&digest) && err.contains("cannot resume") && err.contains("HTTP 200"),
        "{err}"
    );
    let ranges: Vec<_> = srv.seen().into_iter().filter_map(|r| r.range).collect();
    assert_eq!(ranges, [format!("bytes={}-", served.layer.len() / 2)]);
}

#[test]
fn content_length_different_from_the_descriptor() {
    let served = Arc::new(Served::new(|_| {}));
    let digest = served.layer_digest();
    let s2 = served.clone();
    let srv = Server::start(Arc::new(move |req, conn| {
        if req.path.ends_with(&s2.layer_digest()) {
            let mut more = s2.layer.clone();
            more.extend_from_slice(b"extra");
            reply(conn, 200, &[], &more);
            return;
        }
        s2.serve(req, conn);
    }));
    let err = analyze_err(&format!("docker://{}/hostile:latest", srv.host()), &[]);
    assert!(
        err.contains(&digest)
            && err.contains(&format!(
                "registry sends {} bytes, the manifest says {}",
                served.layer.len() + 5,
                served.layer.len()
            )),
        "{err}"
    );
}

/// Basic auth on every /v2/ path; `redirect` sends the layer elsewhere.
fn basic_registry(served: Arc<Served>, redirect: Option<String>) -> Server {
    Server::start(Arc::new(move |req, conn| {
        if req.path.starts_with("/v2/") && req.authorization.is_none() {
            reply(
                conn,
                401,
                &[("WWW-Authenticate", r#"Basic realm="hostile""#.into())],
                b"",
            );
            return;
        }
        if req.path.ends_with(&served.layer_digest()) {
            if let Some(to) = &redirect {
                reply(conn, 307, &[("Location", to.clone())], b"");
                return;
            }
        }
        if !served.serve(req, conn) {
            reply(conn, 404, &[], b"{}");
        }
    }))
}

fn analyze_with_password(image: &str, extra: &[&str]) -> std::process::Output {
    let empty = tempfile::tempdir().unwrap();
    imgaudit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["analyze", image, "-q", "--format", "json"])
        .args(["--username", "carol", "--password-stdin"])
        .args(extra)
        .write_stdin("hunter2")
        .output()
        .unwrap()
}

#[test]
fn cross_host_redirect_carries_no_authorization() {
    let served = Arc::new(Served::new(|_| {}));
    let s2 = served.clone();
    let cdn = Server::start(Arc::new(move |req, conn| {
        if !s2.serve(req, conn) {
            reply(conn, 404, &[], b"");
        }
    }));
    let to = format!("http://{}/cdn/{}", cdn.host(), served.layer_digest());
    let srv = basic_registry(served.clone(), Some(to));
    let out = analyze_with_password(&format!("docker://{}/hostile:latest", srv.host()), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["totals"]["final_bytes"], 200_000);
    assert!(srv.seen().iter().any(|r| r
        .authorization
        .as_deref()
        .is_some_and(|h| h.starts_with("Basic "))));
    let cdn_seen = cdn.seen();
    assert_eq!(cdn_seen.len(), 1, "{cdn_seen:?}");
    assert_eq!(
        cdn_seen[0].authorization, None,
        "credentials followed the redirect"
    );
}

#[test]
fn foreign_layer_urls_are_fetched_only_when_asked_and_without_credentials() {
    let (cdn_served, cdn) = {
        let served = Arc::new(Served::new(|_| {}));
        let s2 = served.clone();
        let cdn = Server::start(Arc::new(move |req, conn| {
            if req.path.starts_with("/foreign/") {
                reply(conn, 200, &[], &s2.layer);
            } else {
                reply(conn, 404, &[], b"");
            }
        }));
        (served, cdn)
    };
    let url = format!(
        "http://{}/foreign/{}",
        cdn.host(),
        cdn_served.layer_digest()
    );
    let u2 = url.clone();
    let served = Arc::new(Served::new(move |m| {
        m["layers"][0]["mediaType"] =
            json!("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
        m["layers"][0]["urls"] = json!([u2]);
    }));
    // The registry does not have the foreign layer: basic_registry answers 404.
    let reg_served = Arc::new(Served {
        manifest: served.manifest.clone(),
        config: served.config.clone(),
        layer: b"not served".to_vec(),
    });
    let srv = basic_registry(reg_served, None);
    let image = format!("docker://{}/hostile:latest", srv.host());
    // Not asked: a clear error naming the layer and its URL; the URL untouched.
    let out = analyze_with_password(&image, &[]);
    let err = failed_cleanly(&out);
    assert!(
        err.contains("layer 0")
            && err.contains("foreign layer")
            && err.contains(&url)
            && err.contains("--allow-foreign-layers"),
        "{err}"
    );
    assert!(cdn.seen().is_empty(), "{:?}", cdn.seen());
    // Asked: fetched from the URL, with no credentials.
    let out = analyze_with_password(&image, &["--allow-foreign-layers"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["totals"]["final_bytes"], 200_000);
    let seen = cdn.seen();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|r| r.authorization.is_none()), "{seen:?}");
}

#[test]
fn bad_digests_in_a_served_manifest_never_become_urls() {
    for bad in ["sha256:../../../v2/other/blobs/x", "sha256:ABC", "md5:00"] {
        let served = Arc::new(Served::new(|m| m["layers"][0]["digest"] = json!(bad)));
        let s2 = served.clone();
        let srv = Server::start(Arc::new(move |req, conn| {
            if !s2.serve(req, conn) {
                reply(conn, 404, &[], b"");
            }
        }));
        let err = analyze_err(&format!("docker://{}/hostile:latest", srv.host()), &[]);
        assert!(
            err.contains("invalid digest") && err.contains("layer 0"),
            "{err}"
        );
        let seen = srv.seen();
        assert!(
            seen.iter()
                .all(|r| !r.path.contains("..") && !r.path.contains("ABC")),
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .all(|r| !r.path.contains("/blobs/") || r.path.contains(&sha(&served.config))),
            "{seen:?}"
        );
    }
}
