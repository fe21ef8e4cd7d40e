//! `docker://` against a real registry (Debian's docker-registry) on loopback:
//! the same image gives the same analysis as its OCI layout; multi-arch
//! indexes; basic auth (flags, docker config, credential helper); the bearer
//! token flow and redirects (through the test proxy); retries on 429/503 and
//! resume after a cut connection; wrong digests refused; clear 401/404 errors.

use crate::common::{accounting_fixtures, analyze_err, analyze_json, imgaudit};
use crate::layout::{put_blob, sha, tar, write_index, Img, E};
use crate::services::{accounting_oci, upload_blob, upload_image, Fault, Plan, Proxy, Registry};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Everything but the source fields (image.reference/source) must match.
pub fn normalised(a: &Value) -> Value {
    let mut n = a.clone();
    n["image"]["reference"] = Value::Null;
    n["image"]["source"] = Value::Null;
    n
}

fn setup(test: &str, auth: Option<(&str, &str)>) -> Option<(Registry, std::path::PathBuf)> {
    let dir = accounting_fixtures()?.clone();
    let reg = Registry::start(test, auth)?;
    Some((reg, dir))
}

/// The common prologue: a fresh registry with the accounting fixture's OCI
/// image pushed as `tag` (None, with a printed SKIP, when the tools are
/// missing outside CI).
fn pushed(
    test: &str,
    auth: Option<(&str, &str)>,
    tag: &str,
) -> Option<(Registry, crate::services::Fixture)> {
    let (reg, dir) = setup(test, auth)?;
    let fx = accounting_oci(&dir);
    reg.push(&fx.oci, tag);
    Some((reg, fx))
}

#[test]
fn registry_pull_matches_the_oci_layout() {
    let Some((reg, fx)) = pushed("registry_pull_matches_the_oci_layout", None, "team/acc:v1")
    else {
        return;
    };
    let local = analyze_json(&fx.oci, &[]);
    let pulled = analyze_json(&format!("docker://{}/team/acc:v1", reg.host()), &[]);
    assert_eq!(pulled["image"]["source"], "registry");
    assert_eq!(pulled["image"]["manifest_digest"], fx.manifest.as_str());
    assert_eq!(normalised(&pulled), normalised(&local));
    // Pinned by digest: same image.
    let pinned = analyze_json(
        &format!("docker://{}/team/acc@{}", reg.host(), fx.manifest),
        &["--verify", "full"],
    );
    assert_eq!(normalised(&pinned), normalised(&local));
    // Unknown tag and repository: one line naming them.
    let err = analyze_err(&format!("docker://{}/team/acc:nope", reg.host()), &[]);
    assert!(
        err.contains("404") && err.contains("team/acc") && err.contains("nope"),
        "{err}"
    );
    let err = analyze_err(&format!("docker://{}/other/repo", reg.host()), &[]);
    assert!(err.contains("other/repo") && err.contains("404"), "{err}");
}

/// An OCI layout with an index of two platforms: the fixture (linux/amd64)
/// and a copy whose config says linux/arm64/v8 (same layers).
fn multi_arch_layout(src: &Path, out: &Path) -> (String, String) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(src.join("index.json")).unwrap()).unwrap();
    let m_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let blobs = src.join("blobs/sha256");
    for e in std::fs::read_dir(&blobs).unwrap() {
        let e = e.unwrap();
        std::fs::create_dir_all(out.join("blobs/sha256")).unwrap();
        std::fs::copy(e.path(), out.join("blobs/sha256").join(e.file_name())).unwrap();
    }
    let manifest_bytes = std::fs::read(blobs.join(&m_digest[7..])).unwrap();
    let mut m: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    let c_digest = m["config"]["digest"].as_str().unwrap().to_string();
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&c_digest[7..])).unwrap()).unwrap();
    cfg["architecture"] = json!("arm64");
    cfg["variant"] = json!("v8");
    let cfg_bytes = serde_json::to_vec(&cfg).unwrap();
    m["config"]["digest"] = json!(put_blob(out, &cfg_bytes));
    m["config"]["size"] = json!(cfg_bytes.len());
    let arm_bytes = serde_json::to_vec(&m).unwrap();
    let arm = put_blob(out, &arm_bytes);
    let inner = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m_digest,
                   "size": manifest_bytes.len(), "platform": {"os": "linux", "architecture": "amd64"}}),
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm,
                   "size": arm_bytes.len(),
                   "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}),
    ]});
    let inner = serde_json::to_vec(&inner).unwrap();
    write_index(
        out,
        &[
            json!({"mediaType": "application/vnd.oci.image.index.v1+json",
                 "digest": put_blob(out, &inner), "size": inner.len(),
                 "annotations": {"org.opencontainers.image.ref.name": "multi"}}),
        ],
    );
    (m_digest.to_string(), arm)
}

#[test]
fn registry_multi_arch_index() {
    let Some((reg, dir)) = setup("registry_multi_arch_index", None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let (amd, arm) = multi_arch_layout(&dir.join("oci"), t.path());
    let out = std::process::Command::new("skopeo")
        .args(["copy", "-q", "--all", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:multi", t.path().display()))
        .arg(format!("docker://{}/multi:1", reg.host()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = format!("docker://{}/multi:1", reg.host());
    let a = analyze_json(&r, &[]);
    assert_eq!(a["image"]["manifest_digest"], amd.as_str());
    assert_eq!(a["image"]["platform"], "linux/amd64");
    let b = analyze_json(&r, &["--platform", "linux/arm64"]);
    assert_eq!(b["image"]["manifest_digest"], arm.as_str());
    assert_eq!(b["image"]["platform"], "linux/arm64/v8");
    assert_eq!(a["totals"], b["totals"]);
    let err = analyze_err(&r, &["--platform", "linux/s390x"]);
    assert!(
        err.contains("linux/s390x")
            && err.contains("linux/arm64/v8")
            && err.contains("linux/amd64"),
        "{err}"
    );
    // One row per platform.
    let all = analyze_json(&r, &["--all-platforms"]);
    let rows = all["platforms"].as_array().unwrap();
    let platforms: Vec<&str> = rows
        .iter()
        .map(|r| r["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    assert_eq!(rows[1]["manifest_digest"], arm.as_str());
    assert_eq!(rows[0]["final_bytes"], a["totals"]["final_bytes"]);
    assert_eq!(rows[1]["wasted_bytes"], b["totals"]["wasted_bytes"]);
    let table = imgaudit()
        .args(["analyze", &r, "--all-platforms", "-q"])
        .output()
        .unwrap();
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("linux/amd64") && text.contains("linux/arm64/v8"),
        "{text}"
    );
}

#[test]
fn registry_retries_and_resumes_through_faults() {
    let Some((reg, fx)) = pushed(
        "registry_retries_and_resumes_through_faults",
        None,
        "acc:latest",
    ) else {
        return;
    };
    let big = fx.layers[0].clone();
    let plan = Plan::default();
    {
        let mut f = plan.faults.lock().unwrap();
        f.push_back(("/manifests/latest".into(), Fault::Status(429, Some(1))));
        f.push_back(("/manifests/latest".into(), Fault::CutHalf));
        f.push_back((big.clone(), Fault::Status(503, None)));
        f.push_back((big.clone(), Fault::CutHalf));
    }
    let proxy = Proxy::start(reg.port, plan);
    let local = analyze_json(&fx.oci, &[]);
    let started = Instant::now();
    let a = analyze_json(&format!("docker://{}/acc:latest", proxy.host()), &[]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert_eq!(normalised(&a), normalised(&local));
    let seen = proxy.seen();
    let manifest_hits: Vec<u16> = seen
        .iter()
        .filter(|s| s.path.ends_with("/manifests/latest"))
        .map(|s| s.status)
        .collect();
    // 429, then a cut answer (read again from the start), then the document.
    assert_eq!(manifest_hits, [429, 200, 200], "{seen:#?}");
    let blob_hits: Vec<&crate::services::Seen> =
        seen.iter().filter(|s| s.path.contains(&big)).collect();
    assert_eq!(blob_hits.len(), 3, "{blob_hits:#?}");
    assert_eq!(blob_hits[0].status, 503);
    assert_eq!(blob_hits[1].range, None);
    let blobs = accounting_fixtures().unwrap().join("oci/blobs/sha256");
    let size = std::fs::metadata(blobs.join(&big[7..])).unwrap().len();
    // The resume asks for exactly the bytes after the cut, and gets a 206.
    assert_eq!(
        blob_hits[2].range.as_deref(),
        Some(format!("bytes={}-", size / 2).as_str())
    );
    assert_eq!(blob_hits[2].status, 206);
}

#[test]
fn registry_refuses_wrong_digests() {
    let Some((reg, fx)) = pushed("registry_refuses_wrong_digests", None, "acc:latest") else {
        return;
    };
    // An uncompressed layer, so a flipped byte in a file's data still decodes
    // and only the digest check can catch it.
    let img = Img::new().plain(tar(&[E::File("data/blob.bin", 300_000)]));
    upload_image(reg.port, "plain", "latest", &img);
    let big = sha(&img.layers[0].0);
    // Served faithfully, it is fine.
    let ok = analyze_json(&format!("docker://{}/plain:latest", reg.host()), &[]);
    assert_eq!(ok["totals"]["final_bytes"], 300_000);
    // A layer blob with one byte changed.
    let plan = Plan::default();
    plan.faults
        .lock()
        .unwrap()
        .push_back((big.clone(), Fault::Corrupt));
    let proxy = Proxy::start(reg.port, plan);
    let err = analyze_err(&format!("docker://{}/plain:latest", proxy.host()), &[]);
    assert!(
        err.contains(&big) && err.contains("digest mismatch"),
        "{err}"
    );
    // A manifest whose bytes do not match the digest the registry names.
    for reference in ["acc:latest".to_string(), format!("acc@{}", fx.manifest)] {
        let plan = Plan::default();
        plan.faults
            .lock()
            .unwrap()
            .push_back(("/manifests/".into(), Fault::Append));
        let proxy = Proxy::start(reg.port, plan);
        let err = analyze_err(&format!("docker://{}/{reference}", proxy.host()), &[]);
        assert!(
            err.contains("digest mismatch") && err.contains(&fx.manifest),
            "{err}"
        );
    }
}

#[test]
fn registry_basic_auth_from_flags_config_and_helper() {
    let Some((reg, dir)) = setup(
        "registry_basic_auth_from_flags_config_and_helper",
        Some(("alice", "s3cret-pw")),
    ) else {
        return;
    };
    let fx = accounting_oci(&dir);
    reg.push(&fx.oci, "private/acc:latest");
    let r = format!("docker://{}/private/acc:latest", reg.host());
    let empty = tempfile::tempdir().unwrap();
    // Anonymous: refused, naming the repository and what was tried.
    let out = imgaudit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["analyze", &r, "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("401") && err.contains("private/acc") && err.contains("no credentials"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Wrong password: refused too, and says which user was tried.
    let out = imgaudit()
        .env("DOCKER_CONFIG", empty.path())
        .args([
            "analyze",
            &r,
            "-q",
            "--username",
            "alice",
            "--password-stdin",
        ])
        .write_stdin("wrong\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && err.contains("alice"), "{err}");
    // --username + --password-stdin.
    let local = analyze_json(&fx.oci, &[]);
    let out = imgaudit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["analyze", &r, "-q", "--format", "json"])
        .args(["--username", "alice", "--password-stdin"])
        .write_stdin("s3cret-pw\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(normalised(&a), normalised(&local));
    // config.json auths.
    let cfg = tempfile::tempdir().unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pw");
    std::fs::write(
        cfg.path().join("config.json"),
        json!({"auths": {reg.host(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let out = imgaudit()
        .env("DOCKER_CONFIG", cfg.path())
        .args(["analyze", &r, "-q", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // credHelpers: a docker-credential-* program on PATH that answers for this host only.
    let helper_dir = tempfile::tempdir().unwrap();
    let helper = helper_dir.path().join("docker-credential-imgaudittest");
    let mut f = std::fs::File::create(&helper).unwrap();
    writeln!(
        f,
        "#!/bin/sh\nread host\nif [ \"$1\" = get ] && [ \"$host\" = \"{}\" ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret-pw\"}}' \"$host\"\nelse\n  echo 'credentials not found' ; exit 1\nfi",
        reg.host()
    )
    .unwrap();
    drop(f);
    std::process::Command::new("chmod")
        .args(["+x", helper.to_str().unwrap()])
        .status()
        .unwrap();
    let cfg2 = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg2.path().join("config.json"),
        json!({"credHelpers": {reg.host(): "imgaudittest"}}).to_string(),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        helper_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = imgaudit()
        .env("DOCKER_CONFIG", cfg2.path())
        .env("PATH", &path)
        .args(["analyze", &r, "-q", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(normalised(&a), normalised(&local));
    // The same helper as credsStore.
    std::fs::write(
        cfg2.path().join("config.json"),
        json!({"credsStore": "imgaudittest"}).to_string(),
    )
    .unwrap();
    let out = imgaudit()
        .env("DOCKER_CONFIG", cfg2.path())
        .env("PATH", &path)
        .args(["analyze", &r, "-q", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn registry_bearer_token_and_redirects_keep_credentials_home() {
    let Some((reg, dir)) = setup(
        "registry_bearer_token_and_redirects_keep_credentials_home",
        None,
    ) else {
        return;
    };
    let fx = accounting_oci(&dir);
    reg.push(&fx.oci, "acc:latest");
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("bob:tok-pw")
    );
    let proxy = Proxy::start(
        reg.port,
        Plan {
            bearer: Some("tok-123".into()),
            expect_basic: Some(basic.clone()),
            redirect_blobs: true,
            ..Plan::default()
        },
    );
    let r = format!("docker://{}/acc:latest", proxy.host());
    let empty = tempfile::tempdir().unwrap();
    // No credentials: the token server refuses; the message says what was tried.
    let out = imgaudit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["analyze", &r, "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("token") && err.contains("401") && err.contains("repository:acc:pull"),
        "{err}"
    );
    let out = imgaudit()
        .env("DOCKER_CONFIG", empty.path())
        .args(["analyze", &r, "-q", "--format", "json"])
        .args(["--username", "bob", "--password-stdin"])
        .write_stdin("tok-pw")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(normalised(&a), normalised(&analyze_json(&fx.oci, &[])));
    let seen = proxy.seen();
    let tokens: Vec<_> = seen.iter().filter(|s| s.listener == "token").collect();
    assert!(
        tokens.iter().any(|s| s.status == 200
            && s.authorization.as_deref() == Some(basic.as_str())
            && s.path.contains("scope=repository%3Aacc%3Apull")
            && s.path.contains("service=imgaudit-test")),
        "{tokens:#?}"
    );
    // The registry saw the bearer token; the redirect target (another port) never
    // saw any Authorization header, yet served every layer.
    assert!(seen
        .iter()
        .any(|s| s.listener == "registry" && s.authorization.as_deref() == Some("Bearer tok-123")));
    let cdn: Vec<_> = seen.iter().filter(|s| s.listener == "cdn").collect();
    assert!(cdn.len() >= fx.layers.len(), "{cdn:#?}");
    assert!(cdn.iter().all(|s| s.authorization.is_none()), "{cdn:#?}");
}

#[test]
fn registry_refuses_bad_resumes_and_oversized_manifests() {
    let Some((reg, fx)) = pushed(
        "registry_refuses_bad_resumes_and_oversized_manifests",
        None,
        "acc:latest",
    ) else {
        return;
    };
    let big = fx.layers[0].clone();
    // The connection drops halfway and the registry then ignores Range: the
    // 200 from byte 0 must not be spliced onto the first half.
    let plan = Plan::default();
    {
        let mut f = plan.faults.lock().unwrap();
        f.push_back((big.clone(), Fault::CutHalf));
        f.push_back((big.clone(), Fault::DropRange));
    }
    let proxy = Proxy::start(reg.port, plan);
    let err = analyze_err(&format!("docker://{}/acc:latest", proxy.host()), &[]);
    assert!(
        err.contains(&big) && err.contains("cannot resume") && err.contains("206"),
        "{err}"
    );
    // A manifest over the 4 MiB cap is refused before it is parsed.
    let plan = Plan::default();
    plan.faults
        .lock()
        .unwrap()
        .push_back(("/manifests/latest".into(), Fault::Huge(5 << 20)));
    let proxy = Proxy::start(reg.port, plan);
    let err = analyze_err(&format!("docker://{}/acc:latest", proxy.host()), &[]);
    assert!(err.contains("larger than the 4.2 MB limit (4194304 bytes)"), "{err}");
}

#[test]
fn registry_foreign_layers_come_from_their_urls_without_credentials() {
    let Some((reg, dir)) = setup(
        "registry_foreign_layers_come_from_their_urls_without_credentials",
        None,
    ) else {
        return;
    };
    let fx = accounting_oci(&dir);
    reg.push(&fx.oci, "acc:latest");
    let blobs = dir.join("oci/blobs/sha256");
    let read = |d: &str| std::fs::read(blobs.join(&d[7..])).unwrap();
    let mut m: Value = serde_json::from_slice(&read(&fx.manifest)).unwrap();
    // "lean" has the config and every layer but the first, which is foreign:
    // only its URL (on the registry's own host and port) serves it.
    upload_blob(
        reg.port,
        "lean",
        &read(m["config"]["digest"].as_str().unwrap()),
    );
    for d in &fx.layers[1..] {
        upload_blob(reg.port, "lean", &read(d));
    }
    let proxy = Proxy::start(
        reg.port,
        Plan {
            bearer: Some("tok-lean".into()),
            ..Plan::default()
        },
    );
    let foreign_path = format!("/foreign/v2/acc/blobs/{}", fx.layers[0]);
    m["layers"][0]["mediaType"] =
        json!("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
    m["layers"][0]["urls"] = json!([format!("http://{}{foreign_path}", proxy.host())]);
    proxy.plan.faults.lock().unwrap().push_back((
        "/v2/lean/manifests/latest".into(),
        Fault::Serve(serde_json::to_vec(&m).unwrap()),
    ));
    let a = analyze_json(
        &format!("docker://{}/lean:latest", proxy.host()),
        &["--allow-foreign-layers"],
    );
    let local = analyze_json(&fx.oci, &[]);
    assert_eq!(a["totals"], local["totals"]);
    let seen = proxy.seen();
    let registry_try = seen
        .iter()
        .find(|s| s.path == format!("/v2/lean/blobs/{}", fx.layers[0]) && s.status == 404)
        .unwrap_or_else(|| panic!("registry not asked first: {seen:#?}"));
    assert_eq!(
        registry_try.authorization.as_deref(),
        Some("Bearer tok-lean")
    );
    let foreign = seen
        .iter()
        .find(|s| s.path == foreign_path)
        .unwrap_or_else(|| panic!("foreign URL not used: {seen:#?}"));
    assert_eq!(foreign.status, 200);
    assert_eq!(
        foreign.authorization, None,
        "credentials sent to a foreign-layer URL"
    );
}

#[test]
fn registry_forbidden_and_oversized_token_answers_are_clear_errors() {
    let Some((reg, dir)) = setup(
        "registry_forbidden_and_oversized_token_answers_are_clear_errors",
        None,
    ) else {
        return;
    };
    let fx = accounting_oci(&dir);
    reg.push(&fx.oci, "team/acc:latest");
    let plan = Plan::default();
    plan.faults
        .lock()
        .unwrap()
        .push_back(("/manifests/latest".into(), Fault::Status(403, None)));
    let proxy = Proxy::start(reg.port, plan);
    let err = analyze_err(&format!("docker://{}/team/acc:latest", proxy.host()), &[]);
    assert!(
        err.contains("403 forbidden")
            && err.contains("repository team/acc")
            && err.contains("tried anonymous"),
        "{err}"
    );
    // A token answer over the 1 MiB cap is refused.
    let proxy = Proxy::start(
        reg.port,
        Plan {
            bearer: Some("tok".into()),
            token_padding: 2 << 20,
            ..Plan::default()
        },
    );
    let err = analyze_err(&format!("docker://{}/team/acc:latest", proxy.host()), &[]);
    assert!(
        err.contains("token answer") && err.contains("larger than the 1.0 MB limit (1048576 bytes)"),
        "{err}"
    );
}

/// With the layer cache, a second pull of the same image asks the registry
/// for its manifest and config only: no layer blob is downloaded again.
#[test]
fn registry_cached_layers_are_not_downloaded() {
    let Some((reg, fx)) = pushed(
        "registry_cached_layers_are_not_downloaded",
        None,
        "cached:latest",
    ) else {
        return;
    };
    let proxy = Proxy::start(reg.port, Plan::default());
    let cache = tempfile::tempdir().unwrap();
    let image = format!("docker://{}/cached:latest", proxy.host());
    let run = || {
        let out = imgaudit()
            .env_remove("IMGAUDIT_NO_CACHE")
            .args(["analyze", &image, "--format", "json", "-q", "--cache-dir"])
            .arg(cache.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let layer_gets = |seen: &[crate::services::Seen]| {
        seen.iter()
            .filter(|s| fx.layers.iter().any(|l| s.path.ends_with(l.as_str())))
            .count()
    };
    let cold = run();
    let after_cold = proxy.seen();
    assert_eq!(layer_gets(&after_cold), fx.layers.len(), "{after_cold:#?}");
    let warm = run();
    assert_eq!(warm, cold);
    let all = proxy.seen();
    let second = &all[after_cold.len()..];
    assert!(!second.is_empty(), "the manifest is still fetched");
    assert_eq!(
        layer_gets(second),
        0,
        "layers downloaded again: {second:#?}"
    );
}
