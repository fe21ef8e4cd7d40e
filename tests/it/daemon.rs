//! `docker-daemon:` and bare names against a real dockerd: the same image
//! read from a docker-archive, an OCI layout, the registry and the daemon
//! gives the same analysis (apart from source fields, and compressed sizes
//! when the daemon cannot know them); errors name the daemon and the image.

use crate::common::{accounting_fixtures, analyze_err, analyze_json, have_daemon};
use crate::registry::normalised;
use crate::services::{accounting_oci, Registry};
use serde_json::Value;

fn docker(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a source without compressed sizes or stored digests cannot match.
fn without_compressed(a: &Value) -> Value {
    let mut n = normalised(a);
    n["image"]["manifest_digest"] = Value::Null;
    n["totals"]["compressed_bytes"] = Value::Null;
    n["savings"]["minimum_compressed_bytes"] = Value::Null;
    n["warnings"] = Value::Null;
    crate::common::without_download(&mut n);
    for l in n["layers"].as_array_mut().unwrap() {
        for k in ["digest", "media_type", "compressed_bytes", "compression"] {
            l[k] = Value::Null;
        }
    }
    n
}

/// What the daemon would say about the image that `analysis` (of an
/// archive fixture) describes.
fn inspected(analysis: &Value) -> imgaudit::source::daemon::Inspected {
    use imgaudit::digest::Digest;
    imgaudit::source::daemon::Inspected {
        id: Digest::parse(analysis["image"]["config_digest"].as_str().unwrap(), "t").unwrap(),
        diff_ids: analysis["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| Digest::parse(l["diff_id"].as_str().unwrap(), "t").unwrap())
            .collect(),
        repo_digests: Vec::new(),
        platform: "linux/amd64".into(),
    }
}

/// An exporter that streams `archive` (a `docker save` file) as the daemon
/// would, and the count of exports it has started.
fn counting_exporter(
    archive: &std::path::Path,
) -> (
    imgaudit::source::daemon::Exporter,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let opens = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (p, o) = (archive.to_path_buf(), opens.clone());
    let exporter: imgaudit::source::daemon::Exporter = std::sync::Arc::new(move || {
        o.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Box::new(std::fs::File::open(&p)?) as Box<dyn std::io::Read + Send>)
    });
    (exporter, opens)
}

#[test]
fn same_image_from_archive_layout_registry_and_daemon() {
    let test = "same_image_from_archive_layout_registry_and_daemon";
    let Some(dir) = accounting_fixtures() else {
        return;
    };
    if !have_daemon(test) {
        return;
    }
    let Some(reg) = Registry::start(test, None) else {
        return;
    };
    let fx = accounting_oci(dir);
    reg.push(&fx.oci, "acc:latest");
    let name = format!("{}/acc:latest", reg.host());
    // dockerd treats 127.0.0.0/8 registries as insecure (plain http) by default.
    docker(&["pull", "-q", &name]);

    let layout = analyze_json(&fx.oci, &[]);
    let archive = analyze_json(dir.join("docker-archive.tar").to_str().unwrap(), &[]);
    let registry = analyze_json(&format!("docker://{name}"), &[]);
    let daemon = analyze_json(&format!("docker-daemon:{name}"), &["--jobs", "1"]);
    let daemon_par = analyze_json(&format!("docker-daemon:{name}"), &["--jobs", "3"]);
    let bare = analyze_json(&name, &[]);

    assert_eq!(registry["image"]["source"], "registry");
    assert_eq!(daemon["image"]["source"], "docker-daemon");
    assert_eq!(bare["image"]["source"], "docker-daemon");
    assert_eq!(normalised(&registry), normalised(&layout));
    // The daemon reached the image's RepoDigest, so it knows the compressed
    // sizes and the manifest: everything matches the registry's answer except
    // how the layers were stored (uncompressed in the export).
    // Download bytes describe the bytes as this source stores them: the
    // export's tars (docs/ACCOUNTING.md).
    assert_eq!(
        daemon["totals"]["download_bytes"],
        daemon["totals"]["tar_bytes"]
    );
    let (mut dt, mut rt) = (daemon["totals"].clone(), registry["totals"].clone());
    crate::common::without_download(&mut dt);
    crate::common::without_download(&mut rt);
    assert_eq!(dt, rt);
    assert_eq!(daemon["image"]["manifest_digest"], fx.manifest.as_str());
    for (d, r) in daemon["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(registry["layers"].as_array().unwrap())
    {
        assert_eq!(d["compressed_bytes"], r["compressed_bytes"]);
        assert_eq!(d["compression"], "none");
    }
    let reference = without_compressed(&layout);
    for (what, a) in [
        ("docker-archive", &archive),
        ("registry", &registry),
        ("daemon", &daemon),
        ("daemon --jobs 3", &daemon_par),
        ("bare name", &bare),
    ] {
        assert_eq!(
            without_compressed(a),
            reference,
            "{what} differs from the OCI layout"
        );
    }

    // Without the image in the daemon, the bare name goes to the registry.
    docker(&["rmi", "-f", &name]);
    let bare = analyze_json(&name, &[]);
    assert_eq!(bare["image"]["source"], "registry");
    assert_eq!(normalised(&bare), normalised(&layout));
}

#[test]
fn daemon_without_repo_digest_has_unknown_compressed_sizes() {
    let test = "daemon_without_repo_digest_has_unknown_compressed_sizes";
    let Some(dir) = accounting_fixtures() else {
        return;
    };
    if !have_daemon(test) {
        return;
    }
    // Its own image ID (a labelled copy of the config, same layers), so no
    // other test's pull can attach a RepoDigest to it.
    let tag = format!("imgaudit-test/no-digest:{}", std::process::id());
    let t = tempfile::tempdir().unwrap();
    labelled_layout(&dir.join("oci"), t.path());
    let archive = t.path().join("img.tar");
    let out = std::process::Command::new("skopeo")
        .args(["copy", "-q"])
        .arg(format!("oci:{}", t.path().display()))
        .arg(format!("docker-archive:{}:{tag}", archive.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    docker(&["load", "-q", "-i", archive.to_str().unwrap()]);
    let a = analyze_json(&format!("docker-daemon:{tag}"), &[]);
    // With the layer cache: the first run fills it (layers and the export's
    // documents), the second reads the image from it alone (no export; the
    // count of exports is asserted in `no_export_when_every_layer_is_cached`)
    // and reports the same analysis.
    let cache = tempfile::tempdir().unwrap();
    let cached_run = || {
        let image = format!("docker-daemon:{tag}");
        crate::cache::ok_json(&crate::cache::analyze_cached(&image, cache.path(), &[]))
    };
    let cold = cached_run();
    let warm = cached_run();
    assert_eq!(normalised(&cold), normalised(&a));
    assert_eq!(warm, cold);
    let info = crate::common::imgaudit()
        .args(["cache", "info", "--cache-dir"])
        .arg(cache.path())
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("daemon image documents: 1"), "{info}");
    let layout = analyze_json(&accounting_oci(dir).oci, &[]);
    docker(&["rmi", &tag]);
    let mut a_norm = without_compressed(&a);
    a_norm["image"]["config_digest"] = Value::Null;
    let mut l_norm = without_compressed(&layout);
    l_norm["image"]["config_digest"] = Value::Null;
    assert_eq!(a_norm, l_norm);
    assert_eq!(a["image"]["source"], "docker-daemon");
    assert!(a["totals"]["compressed_bytes"].is_null(), "{}", a["totals"]);
    assert!(a["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["compressed_bytes"].is_null()));
    assert!(
        a["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("compressed sizes unknown")),
        "{}",
        a["warnings"]
    );
}

/// A copy of the fixture layout whose config carries one more label.
fn labelled_layout(src: &std::path::Path, out: &std::path::Path) {
    use crate::layout::{put_blob, write_index};
    use serde_json::json;
    let index: Value =
        serde_json::from_slice(&std::fs::read(src.join("index.json")).unwrap()).unwrap();
    let m_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let blobs = src.join("blobs/sha256");
    std::fs::create_dir_all(out.join("blobs/sha256")).unwrap();
    for e in std::fs::read_dir(&blobs).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), out.join("blobs/sha256").join(e.file_name())).unwrap();
    }
    let mut m: Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&m_digest[7..])).unwrap()).unwrap();
    let c_digest = m["config"]["digest"].as_str().unwrap().to_string();
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&c_digest[7..])).unwrap()).unwrap();
    cfg["config"]["Labels"] = json!({"imgaudit.test": std::process::id().to_string()});
    let cfg_bytes = serde_json::to_vec(&cfg).unwrap();
    m["config"]["digest"] = json!(put_blob(out, &cfg_bytes));
    m["config"]["size"] = json!(cfg_bytes.len());
    let mb = serde_json::to_vec(&m).unwrap();
    let md = put_blob(out, &mb);
    write_index(
        out,
        &[
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mb.len()}),
        ],
    );
}

#[test]
fn daemon_errors_name_the_daemon_and_the_image() {
    if !have_daemon("daemon_errors_name_the_daemon_and_the_image") {
        return;
    }
    let err = analyze_err("docker-daemon:imgaudit-test/absent:nope", &[]);
    assert!(
        err.contains("docker daemon") && err.contains("imgaudit-test/absent:nope"),
        "{err}"
    );
    let t = tempfile::tempdir().unwrap();
    let sock = t.path().join("none.sock");
    let out = crate::common::imgaudit()
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .args(["analyze", "docker-daemon:busybox", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(sock.to_str().unwrap()) && err.contains("docker-daemon:busybox"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    // A daemon address that accepts connections but never answers: the
    // look-up gives up instead of hanging.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("tcp://{}", silent.local_addr().unwrap());
    let started = std::time::Instant::now();
    let out = crate::common::imgaudit()
        .env("DOCKER_HOST", &host)
        .args(["analyze", "docker-daemon:busybox", "-q"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&host) && err.contains("no answer within"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(40));
    drop(silent);
}

/// The daemon store's streaming machinery (index pass, then layers streamed
/// from re-opened exports, in any decoding order) on every `docker save`
/// shape, fed from the fixture files instead of a daemon: Docker 25+'s OCI
/// layout in a tar cannot come from Debian's 20.10 daemon, so this is where
/// that shape is read as a stream.
#[test]
fn export_streams_of_every_docker_save_shape() {
    use imgaudit::source::daemon::open_export;
    use std::sync::atomic::Ordering;
    let Some(dir) = accounting_fixtures() else {
        return;
    };
    let layout = analyze_json(&accounting_oci(dir).oci, &[]);
    let mut shapes = vec!["docker-legacy.tar", "docker25.tar", "docker-archive.tar"];
    if dir.join("docker-save.tar").exists() {
        shapes.push("docker-save.tar");
    }
    for shape in shapes {
        let path = dir.join(shape);
        let a = analyze_json(path.to_str().unwrap(), &[]);
        let layers = a["layers"].as_array().unwrap();
        let ins = inspected(&a);
        for jobs in [1, 3] {
            let (exporter, opens) = counting_exporter(&path);
            let image = open_export(
                &format!("test:{shape}"),
                exporter,
                &ins,
                &Default::default(),
            )
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
            let opts = imgaudit::AnalyzeOptions {
                jobs: Some(jobs),
                ..Default::default()
            };
            let rules = imgaudit::classify::Rules::load(&[]).unwrap();
            let analysis =
                imgaudit::run::analyze_image(&image, &rules, &opts, &imgaudit::run::NoProgress)
                    .unwrap_or_else(|e| panic!("{shape} --jobs {jobs}: {e}"));
            let v = serde_json::to_value(&analysis).unwrap();
            assert_eq!(v["image"]["source"], "docker-daemon");
            assert_eq!(
                without_compressed(&v),
                without_compressed(&layout),
                "{shape} --jobs {jobs}"
            );
            // One index pass, then layers read in stream order: one export
            // per worker at most (exactly one with a single worker).
            let n = opens.load(Ordering::SeqCst);
            assert!(
                (2..=1 + jobs.min(layers.len())).contains(&n),
                "{shape} --jobs {jobs}: {n} exports"
            );
        }
    }
}

/// With the layer cache, a daemon image whose layers are all cached is
/// analysed without exporting it: the export documents are cached by image
/// ID. One missing layer entry costs an index pass and that layer's read,
/// nothing more, and every run gives the same analysis.
#[test]
fn no_export_when_every_layer_is_cached() {
    use crate::common::files_under;
    use imgaudit::source::daemon::open_export;
    use imgaudit::source::ResolveOptions;
    use std::sync::atomic::Ordering;
    let Some(dir) = accounting_fixtures() else {
        return;
    };
    for shape in ["docker-legacy.tar", "docker25.tar"] {
        let path = dir.join(shape);
        let ins = inspected(&analyze_json(path.to_str().unwrap(), &[]));
        let cache = tempfile::tempdir().unwrap();
        let run = || {
            let (exporter, exports) = counting_exporter(&path);
            let resolve = ResolveOptions {
                doc_cache: Some(cache.path().to_path_buf()),
                ..Default::default()
            };
            let image = open_export(&format!("test:{shape}"), exporter, &ins, &resolve)
                .unwrap_or_else(|e| panic!("{shape}: {e}"));
            let opts = imgaudit::AnalyzeOptions {
                resolve,
                layer_cache: Some(cache.path().to_path_buf()),
                jobs: Some(2),
                ..Default::default()
            };
            let rules = imgaudit::classify::Rules::load(&[]).unwrap();
            let analysis =
                imgaudit::run::analyze_image(&image, &rules, &opts, &imgaudit::run::NoProgress)
                    .unwrap_or_else(|e| panic!("{shape}: {e}"));
            let v = serde_json::to_value(&analysis).unwrap();
            (v, exports.load(Ordering::SeqCst))
        };
        let (cold, n) = run();
        assert!(n >= 2, "{shape}: cold run made {n} exports");
        let (warm, n) = run();
        assert_eq!(n, 0, "{shape}: warm run exported the image");
        assert_eq!(warm, cold, "{shape}: warm analysis differs");
        // Drop one layer's entry: one index pass plus that layer's read.
        let layer_entry = files_under(cache.path())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "layer"))
            .expect("a cached layer");
        std::fs::remove_file(layer_entry).unwrap();
        let (again, n) = run();
        assert!((1..=2).contains(&n), "{shape}: {n} exports for one layer");
        assert_eq!(
            again, cold,
            "{shape}: analysis after a partial cache differs"
        );
        // A damaged documents entry is ignored: the image is exported again.
        for p in files_under(cache.path()) {
            if p.extension().is_some_and(|e| e == "docs") {
                let mut b = std::fs::read(&p).unwrap();
                b[30] ^= 0xff;
                std::fs::write(&p, b).unwrap();
            }
        }
        let (rebuilt, n) = run();
        assert_eq!(
            n, 1,
            "{shape}: damaged docs entry should cost one index pass"
        );
        assert_eq!(rebuilt, cold);
        assert_eq!(run().1, 0, "{shape}: the docs entry was not rewritten");
    }
}
