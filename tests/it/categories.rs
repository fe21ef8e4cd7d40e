//! Categories, packages and savings on images whose contents are known by
//! construction: category totals, the partition invariant, package bytes from
//! the package's own file list, and the findings linked to history.

use crate::common::{accounting_fixtures, analyze_json, repo_root};
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
    let codes: Vec<&str> = s["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
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
    let mut images = vec![repo_root().join("testdata/demo/demo-oci.tar")];
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
