//! Categories, packages and savings on images whose contents are known by
//! construction: category totals, the partition invariant, package bytes from
//! the package's own file list, and the findings linked to history.

use crate::common::{accounting_fixtures, analyze_json, imgaudit, repo_root};
use crate::layout::{oci, tar, Img, E};
use serde_json::Value;

fn cat<'a>(a: &'a Value, id: &str) -> &'a Value {
    a["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no category {id}"))
}

/// The stable codes of the findings in a `savings` object.
fn finding_codes(savings: &Value) -> Vec<&str> {
    savings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// Every final byte in exactly one category; wasted bytes too.
pub fn assert_partition(a: &Value) {
    let cats = a["categories"].as_array().unwrap();
    let fin: u64 = cats
        .iter()
        .map(|c| c["final_bytes"].as_u64().unwrap())
        .sum();
    let wasted: u64 = cats
        .iter()
        .map(|c| c["wasted_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(
        fin,
        a["totals"]["final_bytes"].as_u64().unwrap(),
        "final partition"
    );
    assert_eq!(
        wasted,
        a["totals"]["wasted_bytes"].as_u64().unwrap(),
        "wasted partition"
    );
    let s = &a["savings"];
    assert_eq!(
        s["minimum_bytes"].as_u64().unwrap() + s["removable_bytes"].as_u64().unwrap(),
        a["totals"]["final_bytes"].as_u64().unwrap()
    );
}

#[test]
fn builtin_categories_by_construction() {
    let l0 = tar(&[
        E::File("usr/bin/gcc-12", 5000),
        E::File("usr/include/stdio.h", 700),
        E::File("usr/lib/x86_64-linux-gnu/libfoo.a", 300),
        E::File(
            "usr/local/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12",
            9000,
        ),
        E::File(
            "usr/local/lib/python3.12/site-packages/torch/lib/libtorch_cpu.so",
            8000,
        ),
        E::File(
            "usr/local/lib/python3.12/site-packages/torch/__pycache__/a.cpython-312.pyc",
            60,
        ),
        E::File("root/.cache/pip/http/x", 4000),
        E::File("var/lib/apt/lists/deb_InRelease", 1500),
        E::File("usr/share/doc/x/changelog.gz", 222),
        E::File("app/.git/HEAD", 41),
        E::File("var/log/apt.log", 33),
        E::File("app/main.py", 10),
    ]);
    // Layer 1 deletes the pip cache: its bytes stay shipped (wasted) as package-caches.
    let l1 = tar(&[E::File("root/.cache/.wh.pip", 0)]);
    let t = tempfile::tempdir().unwrap();
    let mut img = Img::new().gz(l0).gz(l1);
    img.layers.truncate(2);
    img.write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_partition(&a);
    for (id, fin, wasted) in [
        ("build-tools", 5000 + 700 + 300, 0),
        ("cuda", 9000, 0),
        ("ml-frameworks", 8000, 0),
        ("python-bytecode", 60, 0),
        ("package-caches", 0, 4000),
        ("package-indexes", 1500, 0),
        ("docs", 222, 0),
        ("vcs", 41, 0),
        ("logs-temp", 33, 0),
        ("other", 10, 0),
    ] {
        assert_eq!(cat(&a, id)["final_bytes"], fin, "{id} final");
        assert_eq!(cat(&a, id)["wasted_bytes"], wasted, "{id} wasted");
    }
    let s = &a["savings"];
    // build tools + bytecode + indexes + docs + vcs + logs
    assert_eq!(s["removable_bytes"], 6000 + 60 + 1500 + 222 + 41 + 33);
    assert_eq!(s["hidden_bytes"], 4000);
    let groups: Vec<&str> = s["removable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert!(
        groups.contains(&"Build tools") && groups.contains(&"Hidden by later layers"),
        "{groups:?}"
    );
    let codes = finding_codes(s);
    assert!(codes.contains(&"IA001"), "{codes:?}");
}

#[test]
fn dpkg_and_pip_packages_attributed_from_their_own_lists() {
    let status = "Package: gcc-12\nStatus: install ok installed\nVersion: 12.2.0-14\n\nPackage: tool\nStatus: install ok installed\nVersion: 1.0\n\n";
    let list = "/.\n/opt\n/opt/odd\n/opt/odd/compiler\n/usr/share/doc/gcc-12/README\n";
    let record = "requests/__init__.py,sha256=x,100\nrequests/api.py,,\nrequests-2.32.3.dist-info/RECORD,,\n";
    let l0 = {
        let mut b = tar::Builder::new(Vec::new());
        for (p, data) in [
            ("var/lib/dpkg/status", status.as_bytes().to_vec()),
            (
                "var/lib/dpkg/info/gcc-12:amd64.list",
                list.as_bytes().to_vec(),
            ),
            ("opt/odd/compiler", vec![7u8; 3000]),
            ("usr/share/doc/gcc-12/README", vec![1u8; 200]),
            (
                "usr/lib/python3/dist-packages/requests/__init__.py",
                vec![2u8; 100],
            ),
            (
                "usr/lib/python3/dist-packages/requests/api.py",
                vec![3u8; 50],
            ),
            (
                "usr/lib/python3/dist-packages/requests-2.32.3.dist-info/RECORD",
                record.as_bytes().to_vec(),
            ),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, p, &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    };
    let t = tempfile::tempdir().unwrap();
    Img::new().gz(l0).write(t.path(), |_, _| {});
    let a = analyze_json(&oci(t.path()), &[]);
    assert_partition(&a);
    let pkgs = a["packages"].as_array().unwrap();
    let gcc = pkgs
        .iter()
        .find(|p| p["name"] == "gcc-12")
        .expect("gcc-12 attributed");
    // Bytes of the files its .list names (directories add nothing).
    assert_eq!(gcc["bytes"], 3000 + 200);
    assert_eq!(gcc["files"], 2);
    assert_eq!(gcc["version"], "12.2.0-14");
    assert_eq!(gcc["manager"], "dpkg");
    // The package name puts an unusual path in build tools.
    assert_eq!(cat(&a, "build-tools")["final_bytes"], 3000);
    let req = pkgs
        .iter()
        .find(|p| p["name"] == "requests")
        .expect("requests attributed");
    assert_eq!(req["bytes"], 100 + 50 + record.len());
    assert_eq!(req["manager"], "pip");
    assert_eq!(req["version"], "2.32.3");
    // "tool" has no .list: not attributed.
    assert!(pkgs.iter().all(|p| p["name"] != "tool"));
}

#[test]
fn partition_holds_on_every_fixture() {
    let mut images = vec![
        repo_root().join("testdata/demo/demo-oci.tar"),
        repo_root().join("testdata/categories/categories-oci.tar"),
    ];
    if let Some(dir) = accounting_fixtures() {
        images.push(dir.join("oci-archive.tar"));
        images.push(dir.join("docker-legacy.tar"));
    }
    for img in images {
        let a = analyze_json(img.to_str().unwrap(), &[]);
        assert_partition(&a);
    }
}

#[test]
fn debug_symbols_measured_against_real_strip() {
    if !crate::common::have_tools("debug symbols", &["gcc", "strip"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("p.c");
    let mut c = String::from("#include <stdio.h>\n");
    for i in 0..300 {
        c.push_str(&format!("static int table{i}[64] = {{{i}}};\nint f{i}(int x) {{ int s = 0; for (int k = 0; k < 64; k++) s += table{i}[k] * x; return s; }}\n"));
    }
    c.push_str("int main(void) { int s = 0;\n");
    for i in 0..300 {
        c.push_str(&format!("s += f{i}(s);\n"));
    }
    c.push_str("printf(\"%d\\n\", s); return 0; }\n");
    std::fs::write(&src, c).unwrap();
    let bin = t.path().join("prog");
    let ok = std::process::Command::new("gcc")
        .args(["-g", "-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(ok.success());
    let stripped = t.path().join("prog.stripped");
    std::fs::copy(&bin, &stripped).unwrap();
    assert!(std::process::Command::new("strip")
        .arg("--strip-unneeded")
        .arg(&stripped)
        .status()
        .unwrap()
        .success());
    let full = std::fs::metadata(&bin).unwrap().len();
    let saved = full - std::fs::metadata(&stripped).unwrap().len();
    assert!(
        saved > 50_000,
        "test binary should carry real debug info ({saved})"
    );

    let data = std::fs::read(&bin).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o755);
    b.append_data(&mut h, "usr/local/bin/prog", &data[..])
        .unwrap();
    let layout = t.path().join("img");
    std::fs::create_dir(&layout).unwrap();
    Img::new()
        .gz(b.into_inner().unwrap())
        .write(&layout, |_, _| {});
    let a = analyze_json(&oci(&layout), &[]);
    assert_partition(&a);
    let dbg = cat(&a, "debug-symbols")["final_bytes"].as_u64().unwrap();
    let diff = (dbg as f64 - saved as f64).abs() / saved as f64;
    assert!(diff <= 0.02, "reported {dbg}, strip saves {saved}");
    // The rest of the file stays in its own category.
    assert_eq!(cat(&a, "base-system")["final_bytes"].as_u64().unwrap(), 0);
    assert_eq!(
        cat(&a, "other")["final_bytes"].as_u64().unwrap() + dbg,
        full
    );
}

fn categories_fixture() -> String {
    repo_root()
        .join("testdata/categories/categories-oci.tar")
        .display()
        .to_string()
}

/// The committed image built by testdata/recipes/categories.sh from real
/// Debian packages (make, libffi-dev) and real wheels (six, jsonschema,
/// safetensors, nvidia-cuda-runtime-cu12): every built-in category holds
/// what the recipe put there, as the recipe measured it from the rootfs
/// (and, for ELF files, from what a real `strip --strip-unneeded` removed).
#[test]
fn real_packages_land_in_every_builtin_category() {
    let expected: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("testdata/categories/categories-expected.json")).unwrap(),
    )
    .unwrap();
    let a = analyze_json(&categories_fixture(), &[]);
    assert_partition(&a);
    let exp = expected["categories"].as_object().unwrap();
    let mut total_strip = 0u64;
    for (id, e) in exp {
        let bytes = e["bytes"].as_u64().unwrap();
        let strip = e["strip_bytes"].as_u64().unwrap();
        total_strip += strip;
        let got = cat(&a, id)["final_bytes"].as_u64().unwrap();
        // A file's strippable bytes count under debug-symbols; our estimate
        // of them may differ from strip's by 2%, and only there.
        let want = bytes - strip;
        let slack = strip / 50;
        assert!(
            got.abs_diff(want) <= slack,
            "{id}: reported {got}, recipe measured {want} (± {slack})"
        );
        assert_eq!(
            cat(&a, id)["files"].as_u64().unwrap(),
            e["files"].as_u64().unwrap(),
            "{id} files"
        );
    }
    for id in [
        "build-tools",
        "cuda",
        "ml-frameworks",
        "python-bytecode",
        "package-caches",
        "package-indexes",
        "docs",
        "tests",
        "vcs",
        "logs-temp",
        "other",
    ] {
        assert!(
            exp.get(id)
                .is_some_and(|e| e["bytes"].as_u64().unwrap() > 0),
            "the fixture does not exercise {id}"
        );
    }
    let dbg = cat(&a, "debug-symbols")["final_bytes"].as_u64().unwrap();
    assert!(total_strip > 100_000, "fixture has real debug info");
    assert!(
        dbg.abs_diff(total_strip) * 50 <= total_strip,
        "debug-symbols {dbg}, strip removes {total_strip}"
    );
    // Nothing the recipe did not put there.
    for c in a["categories"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if id != "debug-symbols" && !exp.contains_key(id) {
            assert_eq!(c["final_bytes"], 0, "{id} should be empty");
        }
    }
    // The pip cache deleted in a later layer: 0 B final, shipped all the same.
    assert_eq!(
        cat(&a, "package-caches")["wasted_bytes"],
        expected["wasted"]["package-caches"]
    );
    // Packages: bytes and files of what each one's own list names.
    let pkgs = a["packages"].as_array().unwrap();
    for (manager, list) in [("dpkg", &expected["dpkg"]), ("pip", &expected["pip"])] {
        for (name, e) in list.as_object().unwrap() {
            let p = pkgs
                .iter()
                .find(|p| p["name"] == name.as_str() && p["manager"] == manager)
                .unwrap_or_else(|| panic!("{manager} package {name} not attributed"));
            assert_eq!(p["bytes"], e["bytes"], "{name} bytes");
            assert_eq!(p["files"], e["files"], "{name} files");
        }
    }
    let category_of = |name: &str| {
        pkgs.iter().find(|p| p["name"] == name).unwrap()["category"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(category_of("libffi-dev"), "build-tools");
    assert_eq!(category_of("nvidia-cuda-runtime-cu12"), "cuda");
    assert_eq!(category_of("safetensors"), "ml-frameworks");
    // Findings: the cache deleted one RUN too late, pip without --no-cache-dir.
    let codes = finding_codes(&a["savings"]);
    assert!(codes.contains(&"IA001"), "{codes:?}");
}

/// The savings breakdown of the real-packages fixture, as the terminal shows it.
#[test]
fn breakdown_tree_snapshot() {
    let out = imgaudit()
        .args(["analyze", &categories_fixture()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text
        .find("Savings breakdown")
        .expect("the table has a savings breakdown");
    insta::assert_snapshot!("categories_breakdown", &text[start..]);
}
