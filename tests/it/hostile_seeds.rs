//! Writes the fuzzers' seed corpora (fuzz/seeds/TARGET/*) from the same
//! fixture builders the hostile tests use. Ignored by default; regenerate
//! with `cargo test --test it write_fuzz_seeds -- --ignored`. The check that
//! runs by default only verifies the committed seeds exist and are small.

use crate::common::repo_root;
use crate::hostile_fixtures::{docker_save, header, pax, raw_tar, write_owned, Raw};
use crate::layout::{gzip, pack, tar, Img, E};
use std::io::Write;
use std::path::Path;

const TARGETS: [&str; 6] = [
    "archive",
    "documents",
    "layer",
    "elf",
    "packages",
    "inflate",
];

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = repo_root().join("fuzz/seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn layer_tar() -> Vec<u8> {
    let mut l = pax(&[("path", b"long/".repeat(40).as_slice()), ("size", b"3")]);
    l.extend_from_slice(&header(b"short", b'0', 1, b""));
    l.extend_from_slice(b"abc");
    l.resize(l.len().div_ceil(512) * 512, 0);
    l.extend_from_slice(&raw_tar(&[
        Raw::file(b"etc/os-release", b"ID=debian\n"),
        Raw::file(b"a/.wh..wh..opq", b""),
        Raw::file(b"a/.wh.gone", b""),
        Raw::link(b"a/hard", b'1', b"etc/os-release"),
        Raw::link(b"a/soft", b'2', b"../etc/os-release"),
        Raw::file(
            b"var/lib/dpkg/status",
            b"Package: p\nStatus: install ok installed\nVersion: 1\n\n",
        ),
        Raw::file(b"var/lib/dpkg/info/p.list", b"/etc/os-release\n"),
        Raw::file(b"usr/bin/x", &elf_seed()),
    ]));
    l
}

fn elf_seed() -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2;
    h[5] = 1;
    h[6] = 1;
    h[16] = 3;
    h[18] = 62;
    h[40..48].copy_from_slice(&256u64.to_le_bytes());
    h[52] = 64;
    h[58] = 64;
    h[60] = 3;
    h[62] = 1;
    let names = b"\0.shstrtab\0.debug_info\0";
    h.resize(128, 0);
    h.extend_from_slice(names);
    h.resize(256, 0);
    let sec = |name: u32, kind: u32, off: u64, size: u64| {
        let mut s = vec![0u8; 64];
        s[..4].copy_from_slice(&name.to_le_bytes());
        s[4..8].copy_from_slice(&kind.to_le_bytes());
        s[24..32].copy_from_slice(&off.to_le_bytes());
        s[32..40].copy_from_slice(&size.to_le_bytes());
        s
    };
    h.extend_from_slice(&sec(0, 0, 0, 0));
    h.extend_from_slice(&sec(1, 3, 128, names.len() as u64));
    h.extend_from_slice(&sec(11, 1, 64, 64));
    h
}

#[test]
#[ignore = "writes fuzz/seeds; run by hand when the fixtures change"]
fn write_fuzz_seeds() {
    let t = tempfile::tempdir().unwrap();
    // documents: an OCI layout's index, manifest and config, a docker manifest.json.
    let dir = t.path().join("layout");
    std::fs::create_dir(&dir).unwrap();
    let img = Img::new()
        .gz(tar(&[E::File("a", 10), E::Dir("d/"), E::Sym("s", "a")]))
        .plain(tar(&[E::File(".wh.a", 0)]));
    img.write(&dir, |_, _| {});
    put(
        "documents",
        "index.json",
        &std::fs::read(dir.join("index.json")).unwrap(),
    );
    let cfg = serde_json::to_vec(&img.config()).unwrap();
    put("documents", "config.json", &cfg);
    let m = img.write_blobs(t.path(), &img.config());
    put(
        "documents",
        "manifest.json",
        &serde_json::to_vec(&m).unwrap(),
    );
    put(
        "documents",
        "docker-manifest.json",
        br#"[{"Config":"config.json","RepoTags":["x:1"],"Layers":["0/layer.tar","./blobs/sha256/ab"]}]"#,
    );
    // archive: an OCI archive, a docker-save archive, the latter gzip-compressed.
    let oci = t.path().join("oci.tar");
    pack(&dir, &oci);
    put("archive", "oci-archive.tar", &std::fs::read(&oci).unwrap());
    let ds = t.path().join("ds.tar");
    write_owned(&ds, docker_save(&[layer_tar()], |_, _| {}));
    let ds = std::fs::read(&ds).unwrap();
    put("archive", "docker-save.tar", &ds);
    put("archive", "docker-save.tar.gz", &gzip(&ds));
    // layer: plain, gzip, zstd.
    let l = layer_tar();
    put("layer", "layer.tar", &l);
    put("layer", "layer.tar.gz", &gzip(&l));
    put(
        "layer",
        "layer.tar.zst",
        &zstd::encode_all(&l[..], 3).unwrap(),
    );
    // elf
    put("elf", "sections.elf", &elf_seed());
    // packages
    put(
        "packages",
        "dpkg-status",
        b"usr/lib\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36\n\nPackage: gone\nStatus: deinstall ok config-files\n\n",
    );
    put(
        "packages",
        "record",
        b"usr/lib/python3/site-packages\ndemo/__init__.py,sha256=x,9\n\"quoted,\"\"name\",,\n../../../bin/demo,,\n",
    );
    put(
        "packages",
        "apk-installed",
        b"P:musl\nV:1.2.4\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox\nF:bin\nR:busybox\n",
    );
    put("packages", "dpkg-list", b"/.\n/usr\n/usr/bin/demo\n");
    // inflate: gzip members of every shape the decoders must agree on
    // (regression-overcount.gz next to them is the fuzz target's own find).
    let text = [
        b"usr/lib/python3/site-packages/".repeat(40),
        (0..=255).collect(),
    ]
    .concat();
    let gz_level = |data: &[u8], level: u32| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    put("inflate", "plain.gz", &gz_level(&text, 6));
    put("inflate", "stored.gz", &gz_level(&text[..300], 0));
    put(
        "inflate",
        "two-members.gz",
        &[gz_level(&[b'a'; 100], 9), gz_level(&text[..150], 1)].concat(),
    );
    let mut named = flate2::GzBuilder::new()
        .filename("layer.tar")
        .comment("note")
        .extra(vec![b'a', b'b', 1, 2])
        .write(Vec::new(), flate2::Compression::best());
    named.write_all(&text).unwrap();
    put("inflate", "name-comment-extra.gz", &named.finish().unwrap());
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    raw.write_all(&text).unwrap();
    put("inflate", "raw-deflate.bin", &raw.finish().unwrap());
}

#[test]
fn committed_seeds_exist_and_are_small() {
    let root = repo_root().join("fuzz/seeds");
    for t in TARGETS {
        let dir = root.join(t);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!files.is_empty(), "no seeds for {t}");
        for f in files {
            let n = std::fs::metadata(&f).unwrap().len();
            assert!(n < 64 << 10, "{} is {n} bytes", f.display());
            assert!(Path::new(&f).is_file());
        }
    }
}
