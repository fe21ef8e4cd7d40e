//! Layers applied as containerd applies them: an entry whose parent
//! directory is a symlink (from a lower layer, or earlier in the same layer)
//! lands where the link points, resolved inside the root; a whiteout through
//! such a parent removes the target; `..` in a name never climbs above the
//! root. Each shape (our own, after the kinds of case containerd's archive
//! tests cover) is written as an OCI layout, unpacked by `umoci unpack
//! --rootless`, and the unpacked tree — every non-directory path, its type,
//! and each regular file's size — must equal imgaudit's final path list.

use crate::common::have_tools;
use crate::layout::Img;
use std::collections::BTreeMap;
use std::path::Path;

/// A raw tar entry (names are written byte-exact, `..` included).
enum R {
    F(&'static str, usize),
    D(&'static str),
    S(&'static str, &'static str),
    H(&'static str, &'static str),
}

fn raw_tar(entries: &[R]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let (name, kind, size, link) = match e {
            R::F(n, s) => (*n, b'0', *s, ""),
            R::D(n) => (*n, b'5', 0, ""),
            R::S(n, t) => (*n, b'2', 0, *t),
            R::H(n, t) => (*n, b'1', 0, *t),
        };
        let mut h = tar::Header::new_ustar();
        // set_path refuses `..`; write the name field directly.
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(if kind == b'5' { 0o755 } else { 0o644 });
        h.set_mtime(0);
        h.set_size(size as u64);
        h.set_entry_type(tar::EntryType::new(kind));
        if !link.is_empty() {
            h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.resize(out.len() + size, b'x');
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

type Shape = (&'static str, Vec<Vec<R>>);

fn shapes() -> Vec<Shape> {
    use R::*;
    vec![
        (
            "relative symlinked parent from a lower layer",
            vec![vec![D("d/"), S("s", "d")], vec![F("s/f", 10)]],
        ),
        (
            "absolute symlinked parent",
            vec![vec![D("d/"), S("s", "/d")], vec![F("s/f", 10)]],
        ),
        (
            "symlink climbing above the root",
            vec![vec![D("d/"), S("s", "../../../d")], vec![F("s/f", 10)]],
        ),
        (
            "symlink to the root",
            vec![
                vec![D("etc/"), F("etc/x", 3), S("s", "/")],
                vec![F("s/etc/x", 12)],
            ],
        ),
        (
            "symlinked parent earlier in the same layer",
            vec![vec![D("d/"), S("s", "d"), F("s/f", 10)]],
        ),
        (
            "whiteout through a symlinked parent",
            vec![
                vec![D("d/"), F("d/f", 10), F("d/g", 4), S("s", "d")],
                vec![F("s/.wh.f", 0)],
            ],
        ),
        (
            "chain of symlinks",
            vec![vec![D("c/"), S("a", "b"), S("b", "c")], vec![F("a/f", 10)]],
        ),
        (
            "nested relative link inside a linked directory",
            vec![
                vec![D("b/"), D("e/"), S("a", "b"), S("b/c", "../e")],
                vec![F("a/c/f", 10)],
            ],
        ),
        (
            "relative link in a subdirectory",
            vec![
                vec![D("x/"), D("x/y/"), D("x/z/"), S("x/y/s", "../z")],
                vec![F("x/y/s/f", 7)],
            ],
        ),
        (
            "dotdot in entry names",
            vec![vec![
                D("a/"),
                F("a/../../b", 5),
                F("../c", 6),
                F("a/./d/../e", 2),
            ]],
        ),
        (
            "dotdot in a whiteout name",
            vec![
                vec![D("a/"), F("k", 9), F("v", 1)],
                vec![F("a/../.wh.k", 0)],
            ],
        ),
        (
            "link replaced by a directory in a later layer",
            vec![vec![D("d/"), S("s", "d")], vec![D("s/"), F("s/f", 3)]],
        ),
        (
            "entry written before the link that shadows its parent",
            vec![vec![D("d/"), F("s/f", 10), S("s", "d")]],
        ),
        (
            "file over a link to a file",
            vec![vec![F("t", 10), S("s", "t")], vec![F("s", 4)]],
        ),
        (
            "symlinked grandparent",
            vec![
                vec![D("d/"), D("d/sub/"), S("s", "d")],
                vec![F("s/sub/f", 8)],
            ],
        ),
        (
            "whiteout of a directory through a link",
            vec![
                vec![
                    D("d/"),
                    D("d/sub/"),
                    F("d/sub/f", 8),
                    F("d/k", 1),
                    S("s", "d"),
                ],
                vec![F("s/.wh.sub", 0)],
            ],
        ),
        (
            "opaque directory through a link",
            vec![
                vec![D("d/"), F("d/a", 3), F("d/b", 5), S("s", "d")],
                vec![F("s/.wh..wh..opq", 0), F("s/n", 2)],
            ],
        ),
        (
            "dangling link as a parent",
            vec![vec![S("s", "nowhere/deep")], vec![F("s/f", 9)]],
        ),
        (
            "link to a link's parent directory",
            vec![
                vec![D("a/"), D("a/b/"), S("a/b/up", ".."), S("top", "a/b/up/b")],
                vec![F("top/f", 4)],
            ],
        ),
        (
            "hardlink target through a symlinked parent",
            vec![
                vec![D("d/"), F("d/f", 30), S("s", "d")],
                vec![H("h", "s/f")],
            ],
        ),
        (
            "hardlink named through a symlinked parent",
            vec![
                vec![D("d/"), F("d/f", 30), S("s", "d")],
                vec![H("s/h", "d/f")],
            ],
        ),
    ]
}

/// Every non-directory path under `root` (relative, '/'-separated):
/// 'f' + size for regular files, 'l' for symlinks, 'o' for anything else.
fn unpacked(root: &Path) -> BTreeMap<String, (char, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if m.is_dir() {
                stack.push(p);
            } else if m.file_type().is_symlink() {
                out.insert(rel, ('l', 0));
            } else if m.is_file() {
                out.insert(rel, ('f', m.len()));
            } else {
                out.insert(rel, ('o', 0));
            }
        }
    }
    out
}

/// imgaudit's final paths in the same form (a regular file's size is its
/// inode's size, whichever link was charged).
fn ours(layout: &Path) -> BTreeMap<String, (char, u64)> {
    let mut opts = imgaudit::AnalyzeOptions::default();
    opts.detail.paths = true;
    let r = imgaudit::source::ImageRef::parse(&format!("oci:{}", layout.display())).unwrap();
    let a = imgaudit::analyze(&r, &opts, &imgaudit::run::NoProgress).unwrap();
    let entries = a.paths.unwrap().entries;
    // Regular files carry a category; symlinks and the rest do not. Sizes of
    // second links (0 in the list) come from the first link to the content.
    let mut out = BTreeMap::new();
    for e in &entries {
        let kind = if e.category.is_some() { 'f' } else { 'l' };
        out.insert(e.path.trim_start_matches('/').to_string(), (kind, e.bytes));
    }
    out
}

fn unpack(layout: &Path, bundle: &Path) -> Result<(), String> {
    let out = std::process::Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:t", layout.display()))
        .arg(bundle)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn write_layout(dir: &Path, layers: &[Vec<R>]) {
    let mut img = Img::new();
    for l in layers {
        img = img.plain(raw_tar(l));
    }
    img.write(dir, |_, _| {});
    // umoci names the image by its ref annotation.
    let p = dir.join("index.json");
    let mut idx: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    idx["manifests"][0]["annotations"] =
        serde_json::json!({"org.opencontainers.image.ref.name": "t"});
    std::fs::write(&p, serde_json::to_vec(&idx).unwrap()).unwrap();
}

#[test]
fn final_tree_equals_umoci_unpack() {
    if !have_tools("containerd application", &["umoci"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let shapes = shapes();
    for (i, (name, layers)) in shapes.iter().enumerate() {
        let layout = t.path().join(format!("l{i}"));
        let bundle = t.path().join(format!("b{i}"));
        write_layout(&layout, layers);
        if let Err(e) = unpack(&layout, &bundle) {
            failures.push(format!("{i:02} {name}: umoci failed: {e}"));
            continue;
        }
        let theirs = unpacked(&bundle.join("rootfs"));
        let mine = ours(&layout);
        // Sizes: a regular file's size must match; our list charges a
        // hardlinked inode to one path only, so compare totals for those.
        let kinds = |m: &BTreeMap<String, (char, u64)>| -> Vec<(String, char)> {
            m.iter().map(|(p, (k, _))| (p.clone(), *k)).collect()
        };
        let total = |m: &BTreeMap<String, (char, u64)>| -> u64 { m.values().map(|v| v.1).sum() };
        let theirs_total: u64 = {
            use std::os::unix::fs::MetadataExt;
            let mut seen = std::collections::HashSet::new();
            theirs
                .iter()
                .filter(|(_, (k, _))| *k == 'f')
                .filter(|(p, _)| {
                    let m = std::fs::metadata(bundle.join("rootfs").join(p)).unwrap();
                    seen.insert(m.ino())
                })
                .map(|(_, (_, s))| *s)
                .sum()
        };
        // Files with one link: the exact size at the exact path.
        let sizes_differ = theirs.iter().any(|(p, (k, size))| {
            use std::os::unix::fs::MetadataExt;
            *k == 'f'
                && std::fs::metadata(bundle.join("rootfs").join(p))
                    .unwrap()
                    .nlink()
                    == 1
                && mine.get(p).map(|m| m.1) != Some(*size)
        });
        if kinds(&theirs) != kinds(&mine) || theirs_total != total(&mine) || sizes_differ {
            failures.push(format!(
                "{i:02} {name}:\n   umoci    {theirs:?}\n   imgaudit {mine:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} shapes differ from umoci:\n{}",
        failures.len(),
        shapes.len(),
        failures.join("\n")
    );
}
