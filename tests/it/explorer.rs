//! The explorer in real headless Chromium, driven through the DevTools
//! protocol (a minimal client below: Chromium's `DevToolsActivePort` file,
//! `/json/list` over plain HTTP, then one websocket to the page): load, zoom
//! by a real mouse click, search by typing, switch layers, follow deep
//! links, each asserting what the page then shows; screenshots are kept in
//! target/test-artifacts/explorer/. Figures are checked against the fixture
//! this test writes and against `imgaudit analyze --format json`.

use crate::common::{analyze_json, have_tools, imgaudit, repo_root};
use crate::layout::{oci, tar, Img, E};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One headless Chromium with one page, spoken to over CDP.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<TcpStream>,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a plain HTTP GET (empty while the endpoint is not ready).
fn http_get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    // Read until the body is as long as Content-Length says (or EOF).
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        let text = String::from_utf8_lossy(&buf);
        if let Some(i) = text.find("\r\n\r\n") {
            let len = text[..i].lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            });
            if len.is_some_and(|n| buf.len() >= i + 4 + n) {
                break;
            }
        }
    }
    let out = String::from_utf8_lossy(&buf).into_owned();
    out.find("\r\n\r\n")
        .map(|i| out[i + 4..].to_string())
        .unwrap_or_default()
}

impl Browser {
    fn start() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let port_file = profile.path().join("DevToolsActivePort");
        let start = Instant::now();
        let port: u16 = loop {
            if let Ok(s) = std::fs::read_to_string(&port_file) {
                if let Some(p) = s.lines().next().and_then(|l| l.trim().parse().ok()) {
                    break p;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no DevToolsActivePort"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let ws_url = loop {
            let list: Value =
                serde_json::from_str(&http_get(port, "/json/list")).unwrap_or(json!([]));
            let page = list
                .as_array()
                .and_then(|l| l.iter().find(|t| t["type"] == "page"))
                .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from));
            if let Some(u) = page {
                break u;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no page target");
            std::thread::sleep(Duration::from_millis(50));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client(ws_url.as_str(), stream).expect("websocket");
        let mut b = Browser {
            child,
            ws,
            next: 0,
            _profile: profile,
        };
        b.call("Page.enable", json!({}));
        b.call("Runtime.enable", json!({}));
        b
    }

    /// Send a command and wait for its answer (events are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(tungstenite::Message::text(msg)).unwrap();
        loop {
            let m = self.ws.read().expect("devtools message");
            let tungstenite::Message::Text(t) = m else {
                continue;
            };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["method"] == "Runtime.exceptionThrown" {
                panic!("page exception: {}", v["params"]["exceptionDetails"]);
            }
            if v["method"] == "Runtime.consoleAPICalled" && v["params"]["type"] == "error" {
                panic!("console error: {}", v["params"]["args"]);
            }
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
        }
    }

    /// Evaluate `expr` in the page and return its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expr}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Wait until `expr` is truthy.
    fn wait(&mut self, expr: &str) {
        let start = Instant::now();
        while !self.eval(&format!("!!({expr})")).as_bool().unwrap_or(false) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out: {expr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Load `url` afresh (through about:blank, so a hash-only change of
    /// the same page reloads it too).
    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": "about:blank" }));
        self.wait("location.href === 'about:blank' && document.readyState === 'complete'");
        self.call("Page.navigate", json!({ "url": url }));
        self.wait("document.readyState === 'complete' && document.body && document.body.getAttribute('data-treemap-ready') === '1'");
        assert_eq!(
            self.eval("document.body.getAttribute('data-js-error')"),
            Value::Null
        );
    }

    /// A real mouse click at the centre of the first element matching `css`.
    fn click(&mut self, css: &str) {
        let r = self.eval(&format!(
            "(function(){{var e=document.querySelector({css:?}); if(!e) return null; e.scrollIntoView({{block:'center'}}); var r=e.getBoundingClientRect(); return [r.left+Math.min(r.width/2, 20), r.top+Math.min(r.height/2, 8)];}})()"
        ));
        let (x, y) = (
            r[0].as_f64().unwrap_or_else(|| panic!("no {css}")),
            r[1].as_f64().unwrap(),
        );
        for t in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": t, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    fn key(&mut self, key: &str, code: u32) {
        for t in ["rawKeyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": t, "key": key, "code": key, "windowsVirtualKeyCode": code}),
            );
        }
    }

    fn screenshot(&mut self, name: &str) {
        use base64::Engine as _;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000);
        std::fs::write(artifacts().join(name), png).unwrap();
    }
}

fn artifacts() -> PathBuf {
    let d = repo_root().join("target/test-artifacts/explorer");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Three layers: a CUDA-ish base, an app layer with a cache, and a layer
/// that modifies the app and deletes the cache (so layer 1 wastes bytes).
const BASE: &[(&str, usize)] = &[
    ("usr/local/cuda/lib64/libcublas.so.12", 600_000),
    ("usr/local/cuda/lib64/libcudart.so.12", 90_000),
    ("usr/share/doc/base/README", 3_000),
    ("etc/os-release", 300),
];
const APP: &[(&str, usize)] = &[("app/server", 150_000), ("app/cache/blob", 200_000)];
const FIX: &[(&str, usize)] = &[("app/server", 160_000)];

fn fixture(dir: &Path) -> String {
    let files = |l: &[(&'static str, usize)]| -> Vec<E<'static>> {
        l.iter().map(|&(p, n)| E::File(p, n)).collect()
    };
    let mut fix = files(FIX);
    fix.push(E::File("app/.wh.cache", 0));
    Img::new()
        .gz(tar(&files(BASE)))
        .gz(tar(&files(APP)))
        .gz(tar(&fix))
        .write(&dir.join("img"), |_, _| {});
    oci(&dir.join("img"))
}

/// `1234567` as the page's `toLocaleString("en")` writes it: `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn page(dir: &Path, img: &str) -> PathBuf {
    let out = dir.join("explorer.html");
    let o = imgaudit()
        .args(["analyze", img, "--format", "html", "-q", "--output"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn html_explorer_in_chromium_over_devtools() {
    if !have_tools("html_explorer_in_chromium_over_devtools", &["chromium"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let img = fixture(t.path());
    let file = page(t.path(), &img);
    let url = format!("file://{}", file.display());
    let a = analyze_json(&img, &[]);
    let mut b = Browser::start();

    // Load: the root is drawn, with a tile per top-level directory.
    b.open(&url);
    assert_eq!(
        b.eval("document.querySelector('.treemap').dataset.path"),
        "/"
    );
    for d in ["/usr", "/app", "/etc"] {
        assert_eq!(
            b.eval(&format!(
                "!!document.querySelector('.treemap > .tm[data-path=\"{d}\"]')"
            )),
            true,
            "{d} not drawn"
        );
    }
    b.screenshot("load.png");

    // Zoom by clicking a directory, and back out by the breadcrumb.
    b.click(".treemap > .tm[data-path=\"/usr\"]");
    b.wait("document.querySelector('.treemap').dataset.path === '/usr'");
    assert!(b
        .eval("document.querySelector('.crumbs').textContent")
        .as_str()
        .unwrap()
        .contains("usr/"));
    b.click(".treemap > .tm[data-path=\"/usr/local\"]");
    b.wait("document.querySelector('.treemap').dataset.path === '/usr/local'");
    assert_eq!(b.eval("location.hash"), "#path=%2Fusr%2Flocal");
    b.click(".crumbs a");
    b.wait("document.querySelector('.treemap').dataset.path === '/'");
    // Keyboard: Enter on a focused tile zooms, Backspace zooms out.
    b.eval("document.querySelector('.treemap > .tm[data-path=\"/app\"]').focus()");
    b.key("Enter", 13);
    b.wait("document.querySelector('.treemap').dataset.path === '/app'");
    b.key("Backspace", 8);
    b.wait("document.querySelector('.treemap').dataset.path === '/'");

    // Hover shows the file's details: path, bytes, layer, category.
    b.click(".treemap > .tm[data-path=\"/usr\"]");
    b.wait("document.querySelector('.treemap').dataset.path === '/usr'");
    b.click(".tm[data-path=\"/usr/local\"]");
    b.wait("document.querySelector('.treemap').dataset.path === '/usr/local'");
    b.click(".tm[data-path=\"/usr/local/cuda\"]");
    b.click(".tm[data-path=\"/usr/local/cuda/lib64\"]");
    b.wait("document.querySelector('.treemap').dataset.path === '/usr/local/cuda/lib64'");
    b.click(".tm[data-path=\"/usr/local/cuda/lib64/libcublas.so.12\"]");
    let details = b.eval("document.querySelector('.details').textContent");
    let details = details.as_str().unwrap();
    assert!(
        details.contains("/usr/local/cuda/lib64/libcublas.so.12"),
        "{details}"
    );
    assert!(
        details.contains("600,000 B") && details.contains("layer0"),
        "{details}"
    );
    assert!(details.contains("category"), "{details}");
    // ... and its download: the stored bytes the analysis attributes to it.
    let download = a["largest_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/usr/local/cuda/lib64/libcublas.so.12")
        .and_then(|f| f["download_bytes"].as_u64())
        .expect("libcublas among the largest files");
    assert!(download > 0);
    assert!(
        details.contains(&format!("download{}", imgaudit::units::human(download)))
            && details.contains(&format!("{} B stored", thousands(download))),
        "{download}: {details}"
    );
    // A directory's download is the sum of its files'.
    b.eval("document.querySelector('.crumbs a:nth-last-child(2)').click()");
    b.wait("document.querySelector('.treemap').dataset.path === '/usr/local/cuda'");
    b.eval("document.querySelector('.tm[data-path=\"/usr/local/cuda/lib64\"]').dispatchEvent(new MouseEvent('mouseenter'))");
    let dir = b.eval("document.querySelector('.details').textContent");
    // Both of its files are among the largest files.
    let dir_download: u64 = a["largest_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .starts_with("/usr/local/cuda/lib64/")
        })
        .map(|f| f["download_bytes"].as_u64().unwrap())
        .sum();
    assert!(dir_download > download);
    assert!(
        dir.as_str()
            .unwrap()
            .contains(&format!("{} B stored", thousands(dir_download))),
        "{dir_download}: {dir}"
    );
    b.screenshot("zoomed.png");

    // Search by typing: a substring, then a glob; matches and their total.
    b.open(&url);
    b.click(".q");
    b.call("Input.insertText", json!({"text": "libcu"}));
    b.key("Enter", 13);
    b.wait("document.querySelector('.total').dataset.count !== undefined");
    let want: Vec<&(&str, usize)> = BASE.iter().filter(|f| f.0.contains("libcu")).collect();
    assert_eq!(
        b.eval("+document.querySelector('.total').dataset.count"),
        want.len()
    );
    assert_eq!(
        b.eval("+document.querySelector('.total').dataset.bytes"),
        want.iter().map(|f| f.1).sum::<usize>()
    );
    assert_eq!(
        b.eval("document.querySelector('.tm[data-path=\"/usr\"]').classList.contains('hit')"),
        true
    );
    assert_eq!(
        b.eval("document.querySelector('.tm[data-path=\"/app\"]').classList.contains('dim')"),
        true
    );
    b.screenshot("search.png");
    b.eval("var q=document.querySelector('.q'); q.value='';");
    b.click(".q");
    b.call("Input.insertText", json!({"text": "/app/*"}));
    b.key("Enter", 13);
    b.wait("document.querySelector('.total').dataset.count === '1'");
    assert_eq!(
        b.eval("+document.querySelector('.total').dataset.bytes"),
        FIX[0].1
    );

    // Switch layer: layer 1's waste (its cache, removed by layer 2, and
    // its server, replaced by layer 2) is listed and marked on /app.
    b.open(&format!("{url}#"));
    b.eval("var s=document.querySelector('.layer'); s.focus(); s.value='1'; s.dispatchEvent(new Event('change'))");
    b.wait("document.querySelector('.lp.hidden')");
    let wasted = a["layers"][1]["wasted_bytes"].as_u64().unwrap();
    assert_eq!(wasted, (APP[0].1 + APP[1].1) as u64);
    assert_eq!(
        b.eval("+document.querySelector('.lp.hidden').dataset.bytes"),
        wasted
    );
    assert_eq!(
        b.eval("+document.querySelector('.lp.added').dataset.count"),
        APP.len()
    );
    assert_eq!(
        b.eval("document.querySelector('.tm[data-path=\"/app\"]').classList.contains('waste')"),
        true
    );
    assert_eq!(
        b.eval("document.querySelector('.tm[data-path=\"/usr\"]').classList.contains('dim')"),
        true
    );
    assert_eq!(b.eval("location.hash"), "#layer=1");
    b.screenshot("layer1.png");
    b.eval(
        "var s=document.querySelector('.layer'); s.value='2'; s.dispatchEvent(new Event('change'))",
    );
    b.wait("document.querySelector('.lp.removed')");
    assert_eq!(
        b.eval("+document.querySelector('.lp.removed').dataset.bytes"),
        APP[1].1
    );
    assert_eq!(
        b.eval("+document.querySelector('.lp.modified').dataset.count"),
        1
    );
    assert_eq!(
        b.eval("document.querySelector('.tm[data-path=\"/app/server\"]') ? 'nested' : 'none'"),
        "nested"
    );
    assert_eq!(b.eval("document.querySelector('.tm[data-path=\"/app/server\"]').classList.contains('modified')"), true);

    // Deep links: a path opens zoomed in, a query opens searched, and a
    // hash change in an open page follows.
    b.open(&format!("{url}#path=/usr/local/cuda"));
    assert_eq!(
        b.eval("document.querySelector('.treemap').dataset.path"),
        "/usr/local/cuda"
    );
    b.open(&format!("{url}#q=libcublas"));
    assert_eq!(b.eval("document.querySelector('.q').value"), "libcublas");
    assert_eq!(
        b.eval("document.querySelector('.total').dataset.count"),
        "1"
    );
    assert_eq!(
        b.eval("document.querySelector('.total').dataset.bytes"),
        BASE[0].1.to_string()
    );
    b.eval("location.hash = '#path=' + encodeURIComponent('/app')");
    b.wait("document.querySelector('.treemap').dataset.path === '/app'");
    b.screenshot("deeplink.png");
}

/// The explorer model of the fixture, through the library.
fn model(img: &str) -> imgaudit::explore::Explorer {
    let mut o = imgaudit::AnalyzeOptions::default();
    o.detail.paths = true;
    let r = imgaudit::source::ImageRef::parse(img).unwrap();
    let a = imgaudit::analyze(&r, &o, &imgaudit::run::NoProgress).unwrap();
    imgaudit::explore::model::build(&a, Default::default()).unwrap()
}

/// The screen as text, one line per row.
fn screen(app: &imgaudit::explore::tui::App, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn terminal_explorer_screens() {
    use imgaudit::explore::tui::{App, Pane};
    use ratatui::crossterm::event::KeyCode as K;
    let t = tempfile::tempdir().unwrap();
    let img = fixture(t.path());
    let x = model(&img);
    let mut app = App::new(&x, true);
    // The image name is the temp dir's: keep only what the fixture defines.
    let dir = t.path().display().to_string();
    let scrub = |s: String| s.replace(&dir, "TMP");
    let first = scrub(screen(&app, 80, 24));
    // The headline has the final files' download bytes.
    assert!(x.final_download_bytes > 0);
    assert!(
        first.lines().next().unwrap().contains(&format!(
            "(download {})",
            imgaudit::units::human(x.final_download_bytes)
        )),
        "{first}"
    );
    // The layer list has every layer with its bytes; the tree its top dirs.
    for l in &x.layers {
        assert!(
            first.contains(&imgaudit::units::human(l.file_bytes)),
            "{first}"
        );
    }
    assert!(
        first.contains("▸ usr") && first.contains("▸ app"),
        "{first}"
    );
    insta::assert_snapshot!("tui_start", first);
    // Expand /usr with Enter: its child appears, indented.
    app.key(K::Enter);
    let s = screen(&app, 80, 24);
    assert!(s.contains("▾ usr") && s.contains("  ▸ local"), "{s}");
    // Filter: files layer 2 modified (the last layer is selected).
    app.key(K::Char('2'));
    let s = scrub(screen(&app, 80, 24));
    assert!(
        s.contains("modified by layer 2") && s.contains("▸ app"),
        "{s}"
    );
    assert!(!s.contains("usr"), "{s}");
    // Layer 1 (Tab, Up), wasted filter: the cache and the old server.
    app.key(K::Tab);
    assert_eq!(app.pane, Pane::Layers);
    app.key(K::Up);
    app.key(K::Char('5'));
    let s = scrub(screen(&app, 80, 24));
    assert!(
        s.contains("/app/cache/blob") && s.contains("/app/server"),
        "{s}"
    );
    assert!(s.contains("hidden by layer 2"), "{s}");
    insta::assert_snapshot!("tui_wasted", s);
    // Removed by layer 2.
    app.key(K::Down);
    app.key(K::Char('3'));
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("/app/cache/blob") && !s.contains("/app/server"),
        "{s}"
    );
    // Search: back to all files, "/libcu" shows both CUDA libraries, expanded.
    app.key(K::Char('3'));
    app.key(K::Char('/'));
    for c in "libcu".chars() {
        app.key(K::Char(c));
    }
    app.key(K::Enter);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("libcublas.so.12") && s.contains("libcudart.so.12"),
        "{s}"
    );
    assert!(!s.contains("app"), "{s}");
    app.key(K::Char('q'));
    assert!(app.quit);
}

#[test]
fn terminal_explorer_honours_no_color() {
    let t = tempfile::tempdir().unwrap();
    let img = fixture(t.path());
    let x = model(&img);
    let styled = |color: bool| {
        let app = imgaudit::explore::tui::App::new(&x, color);
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        term.draw(|f| app.draw(f)).unwrap();
        let buf = term.backend().buffer().clone();
        buf.content()
            .iter()
            .filter(|c| {
                c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset
            })
            .count()
    };
    assert!(styled(true) > 0, "colours expected");
    assert_eq!(styled(false), 0, "NO_COLOR: no colour at all");
}

#[test]
fn terminal_explorer_under_tmux() {
    if !have_tools("terminal_explorer_under_tmux", &["tmux"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let img = fixture(t.path());
    let bin = assert_cmd::cargo::cargo_bin("imgaudit");
    let sock = t.path().join("tmux.sock");
    let tmux = |args: &[&str]| {
        let o = Command::new("tmux")
            .arg("-S")
            .arg(&sock)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let cmd = format!(
        "NO_COLOR=1 {} explore -q {img}; echo EXITED $?; sleep 30",
        bin.display()
    );
    tmux(&["new-session", "-d", "-x", "80", "-y", "24", &cmd]);
    let wait_for = |what: &str| -> String {
        let start = Instant::now();
        loop {
            let s = tmux(&["capture-pane", "-p"]);
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {what:?} on screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let s = wait_for("Layers");
    assert!(s.contains("▸ usr"), "{s}");
    assert!(s.lines().count() <= 24 && s.lines().all(|l| l.chars().count() <= 80));
    tmux(&["send-keys", "Enter"]);
    wait_for("▾ usr");
    tmux(&["send-keys", "/", "l", "i", "b", "c", "u", "b", "Enter"]);
    wait_for("libcublas.so.12");
    tmux(&["send-keys", "q"]);
    wait_for("EXITED 0");
    let _ = tmux(&["kill-server"]);
}

#[test]
fn model_files_carry_the_packages_and_layers_of_the_analysis() {
    // Unfolded, the model's files must add up to the analysis' figures:
    // final bytes and files, each package's bytes and file count, and each
    // layer's wasted bytes as its hidden files.
    let demo = repo_root().join("testdata/demo/demo-oci.tar");
    let demo = demo.display().to_string();
    let a = analyze_json(&demo, &[]);
    let mut o = imgaudit::AnalyzeOptions::default();
    o.detail.paths = true;
    let r = imgaudit::source::ImageRef::parse(&demo).unwrap();
    let an = imgaudit::analyze(&r, &o, &imgaudit::run::NoProgress).unwrap();
    let all = imgaudit::explore::Limits {
        min_share: 0.0,
        max_children: usize::MAX,
    };
    let x = imgaudit::explore::model::build(&an, all).unwrap();
    let mut per_pkg: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    let mut pkg_download: std::collections::BTreeMap<String, u64> = Default::default();
    let mut total = 0u64;
    let mut download = 0u64;
    fn walk(n: &imgaudit::explore::Node, f: &mut dyn FnMut(&imgaudit::explore::Node)) {
        f(n);
        for c in &n.children {
            walk(c, f);
        }
    }
    walk(&x.root, &mut |n| {
        use imgaudit::explore::Kind;
        // Only empty entries (symlinks, empty files) fold at share 0.
        if matches!(n.kind, Kind::Small { .. }) {
            assert_eq!(n.bytes, 0, "{} folded", n.name);
        }
        // A directory's download is its children's.
        if n.is_dir() {
            assert_eq!(
                n.download,
                n.children.iter().map(|c| c.download).sum::<u64>(),
                "{}",
                n.name
            );
        }
        if let Kind::File {
            package, category, ..
        } = n.kind
        {
            total += n.bytes;
            download += n.download;
            if let (Some(p), Some(_)) = (package, category) {
                let e = per_pkg.entry(x.packages[p as usize].clone()).or_default();
                e.0 += n.bytes;
                e.1 += 1;
                *pkg_download
                    .entry(x.packages[p as usize].clone())
                    .or_default() += n.download;
            }
        }
    });
    assert_eq!(total, a["totals"]["final_bytes"].as_u64().unwrap());
    // The files' download bytes are the report's final download bytes,
    // and each package's add up to its own.
    let final_download = a["totals"]["final_download_bytes"].as_u64().unwrap();
    assert!(final_download > 0);
    assert_eq!(download, final_download);
    assert_eq!(x.root.download, final_download);
    assert_eq!(x.final_download_bytes, final_download);
    let pkgs = a["packages"].as_array().unwrap();
    assert!(!pkgs.is_empty());
    for p in pkgs {
        let name = p["name"].as_str().unwrap();
        assert_eq!(
            pkg_download.get(name).copied().unwrap_or_default(),
            p["download_bytes"].as_u64().unwrap(),
            "package {name} download"
        );
        assert_eq!(
            per_pkg.get(name).copied().unwrap_or_default(),
            (p["bytes"].as_u64().unwrap(), p["files"].as_u64().unwrap()),
            "package {name}"
        );
    }
    for (l, j) in x.layers.iter().zip(a["layers"].as_array().unwrap()) {
        assert_eq!(l.download_bytes, j["download_bytes"].as_u64().unwrap());
        assert_eq!(
            l.wasted_download_bytes,
            j["wasted_download_bytes"].as_u64().unwrap()
        );
        let paths = l.paths.as_ref().unwrap();
        assert_eq!(paths.hidden.bytes, j["wasted_bytes"].as_u64().unwrap());
        // Every regular file the layer wrote is added or modified.
        assert_eq!(
            paths.added.bytes + paths.modified.bytes,
            j["file_bytes"].as_u64().unwrap(),
            "layer {}",
            l.index
        );
        assert!(
            paths.added.count + paths.modified.count
                <= j["added"].as_u64().unwrap() + j["modified"].as_u64().unwrap()
        );
    }
}
