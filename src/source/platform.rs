//! Platform specifiers and platform matching, following the rules of
//! containerd's `platforms` package: how a `--platform` value is parsed
//! (`linux/arm64`, `linux/arm/v7`, the short forms `arm64` and `linux`),
//! how platforms are normalised before they are compared (`aarch64` →
//! `arm64`, `x86_64` → `amd64`, `arm64/v8` ≡ `arm64`, `arm` ≡ `arm/v7`,
//! `amd64/v1` ≡ `amd64`), and which manifest of an index is the best match.
//!
//! One deliberate difference: containerd's `Only` matcher also accepts
//! *another architecture* the wanted one can run (`amd64` takes `386`,
//! `arm64` takes `arm/v8`…`arm/v5`). An analysis of a 32-bit image is not
//! an analysis of the 64-bit one that was asked for, so those fallbacks are
//! left out; the fallbacks within one architecture (`amd64/v3` takes `v2`
//! then `v1`, `arm/v7` takes `v6` then `v5`, `arm64/v8.2` takes `v8.1` then
//! `v8`) are kept, in containerd's order, and reported as a warning. The
//! parts containerd takes from the host (the OS of `--platform arm64`, the
//! architecture of `--platform linux`) are imgaudit's default platform,
//! `linux/amd64`, so that a result never depends on the machine it ran on.

use super::docs::Platform;
use crate::error::{Error, Result};

/// The platform chosen when none is asked for and an image has several.
pub const DEFAULT_OS: &str = "linux";
pub const DEFAULT_ARCH: &str = "amd64";

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
];

const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

fn normalize_os(os: &str) -> String {
    let os = os.to_ascii_lowercase();
    match os.as_str() {
        // A config without an OS is taken as a Linux one.
        "" => DEFAULT_OS.to_string(),
        "macos" => "darwin".to_string(),
        _ => os,
    }
}

/// The canonical architecture and variant (`""` = no variant).
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let mut variant = variant.to_ascii_lowercase();
    let arch = match arch.as_str() {
        "i386" => {
            variant.clear();
            "386".to_string()
        }
        "x86_64" | "x86-64" | "amd64" => {
            if variant == "v1" {
                variant.clear();
            }
            "amd64".to_string()
        }
        "aarch64" | "arm64" => {
            match variant.as_str() {
                "8" | "v8" | "v8.0" => variant.clear(),
                "9" | "9.0" | "v9.0" => variant = "v9".into(),
                _ => {}
            }
            "arm64".to_string()
        }
        "armhf" => {
            variant = "v7".into();
            "arm".to_string()
        }
        "armel" => {
            variant = "v6".into();
            "arm".to_string()
        }
        "arm" => {
            match variant.as_str() {
                "" | "7" => variant = "v7".into(),
                "5" | "6" | "8" => variant = format!("v{variant}"),
                _ => {}
            }
            "arm".to_string()
        }
        _ => arch,
    };
    (arch, variant)
}

/// `p` in canonical form (the variant `None` when there is none).
pub fn normalize(p: &Platform) -> Platform {
    let (architecture, variant) =
        normalize_arch(&p.architecture, p.variant.as_deref().unwrap_or(""));
    Platform {
        os: normalize_os(&p.os),
        architecture,
        variant: (!variant.is_empty()).then_some(variant),
    }
}

fn same(a: &Platform, b: &Platform) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    a.os == b.os && a.architecture == b.architecture && a.variant == b.variant
}

fn bad(spec: &str, reason: impl Into<String>) -> Error {
    Error::BadReference {
        reference: spec.into(),
        reason: format!("--platform: {}", reason.into()),
    }
}

/// Parse a platform specifier: `OS`, `ARCH`, `OS/ARCH` or
/// `OS/ARCH/VARIANT`, as containerd's `platforms.Parse` reads them (with
/// imgaudit's default platform in place of the host's). The result is
/// normalised.
pub fn parse(spec: &str) -> Result<Platform> {
    if spec.contains('*') {
        return Err(bad(spec, "wildcards are not supported"));
    }
    let parts: Vec<&str> = spec.split('/').collect();
    if parts.len() > 3 {
        return Err(bad(spec, "expected OS, ARCH, OS/ARCH or OS/ARCH/VARIANT"));
    }
    for part in &parts {
        let ok = !part.is_empty()
            && part
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
        if !ok {
            return Err(bad(
                spec,
                format!("invalid component {part:?} (letters, digits, '_', '-', '.')"),
            ));
        }
    }
    let p = match parts[..] {
        [one] => {
            let os = normalize_os(one);
            if KNOWN_OS.contains(&os.as_str()) {
                Platform {
                    os,
                    architecture: DEFAULT_ARCH.into(),
                    variant: None,
                }
            } else {
                let (arch, variant) = normalize_arch(one, "");
                if !KNOWN_ARCH.contains(&arch.as_str()) {
                    return Err(bad(
                        spec,
                        format!(
                            "{one:?} is neither a known operating system nor a known architecture"
                        ),
                    ));
                }
                Platform {
                    os: DEFAULT_OS.into(),
                    architecture: arch,
                    variant: Some(variant),
                }
            }
        }
        [os, arch] => {
            let (architecture, variant) = normalize_arch(arch, "");
            Platform {
                os: normalize_os(os),
                architecture,
                variant: Some(variant),
            }
        }
        [os, arch, variant] => {
            let (architecture, variant) = normalize_arch(arch, variant);
            Platform {
                os: normalize_os(os),
                architecture,
                variant: Some(variant),
            }
        }
        _ => return Err(bad(spec, "expected OS, ARCH, OS/ARCH or OS/ARCH/VARIANT")),
    };
    Ok(normalize(&p))
}

/// The platforms `want` accepts, best first: itself, then the older
/// variants of the same architecture in containerd's order.
pub fn candidates(want: &Platform) -> Vec<Platform> {
    let want = normalize(want);
    let with = |v: String| Platform {
        os: want.os.clone(),
        architecture: want.architecture.clone(),
        variant: Some(v),
    };
    let variant = want.variant.clone().unwrap_or_default();
    let number = |v: &str| v.strip_prefix('v').and_then(|n| n.parse::<u32>().ok());
    let mut out = Vec::new();
    match want.architecture.as_str() {
        "amd64" => {
            out.push(want.clone());
            if let Some(n) = number(&variant).filter(|&n| n > 1) {
                out.extend((1..n).rev().map(|k| with(format!("v{k}"))));
            }
        }
        "arm" => {
            out.push(want.clone());
            if let Some(n) = number(&variant).filter(|&n| n > 5) {
                out.extend((5..n).rev().map(|k| with(format!("v{k}"))));
            }
        }
        "arm64" => {
            // vMAJOR.MINOR: every lower minor of the major, and v9.x also
            // takes v8.(x+5) and below (capped at v8.9).
            let v = if variant.is_empty() { "v8" } else { &variant };
            let parsed = v.strip_prefix('v').and_then(|s| {
                let (maj, min) = s.split_once('.').unwrap_or((s, "0"));
                Some((maj.parse::<u32>().ok()?, min.parse::<u32>().ok()?))
            });
            match parsed {
                Some((8, minor)) if minor <= 9 => {
                    out.extend((0..=minor).rev().map(|m| with(arm64_variant(8, m))));
                }
                Some((9, minor)) if minor <= 7 => {
                    out.extend((0..=minor).rev().map(|m| with(arm64_variant(9, m))));
                    let top = (minor + 5).min(9);
                    out.extend((0..=top).rev().map(|m| with(arm64_variant(8, m))));
                }
                // An unknown arm64 variant matches only itself.
                _ => out.push(want.clone()),
            }
        }
        _ => out.push(want.clone()),
    }
    out.iter().map(normalize).collect()
}

fn arm64_variant(major: u32, minor: u32) -> String {
    if minor == 0 {
        format!("v{major}")
    } else {
        format!("v{major}.{minor}")
    }
}

/// The outcome of [`choose`].
#[derive(Debug, PartialEq, Eq)]
pub struct Choice {
    /// Index into the list given to [`choose`].
    pub index: usize,
    /// Set when the chosen platform is a fallback, not the one asked for.
    pub note: Option<String>,
}

/// Choose among the platforms of an image's manifests (`None` = unknown).
///
/// `wanted` is the `--platform` value. Without one, a single manifest is
/// taken whatever its platform, and among several the default platform
/// (`linux/amd64`) is looked for. The best match in [`candidates`] order
/// wins; between equally good ones the first in the index (as containerd's
/// stable sort does). No match is an error listing what the image has.
pub fn choose(have: &[Option<Platform>], wanted: Option<&str>) -> Result<Choice> {
    let (want, label) = match wanted {
        None if have.len() == 1 => {
            return Ok(Choice {
                index: 0,
                note: None,
            })
        }
        None => (
            parse(&format!("{DEFAULT_OS}/{DEFAULT_ARCH}"))?,
            format!("{DEFAULT_OS}/{DEFAULT_ARCH} (the default; choose one with --platform)"),
        ),
        Some(s) => {
            let p = parse(s)?;
            let shown = p.display();
            let label = if shown == s {
                shown
            } else {
                format!("{s} (= {shown})")
            };
            (p, label)
        }
    };
    let order = candidates(&want);
    let best = have
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let h = h.as_ref()?;
            let rank = order.iter().position(|c| same(c, h))?;
            Some((rank, i))
        })
        .min();
    match best {
        Some((rank, index)) => Ok(Choice {
            index,
            note: (rank > 0).then(|| {
                format!(
                    "the image has no {}; analysing {}, the closest variant it has (as containerd orders them)",
                    want.display(),
                    have[index].as_ref().map(|p| p.display()).unwrap_or_default()
                )
            }),
        }),
        None => {
            let mut available: Vec<String> = Vec::new();
            for h in have {
                let s = h.as_ref().map_or_else(|| "unknown".to_string(), |p| p.display());
                if !available.contains(&s) {
                    available.push(s);
                }
            }
            Err(Error::PlatformNotFound {
                wanted: label,
                available: if available.is_empty() {
                    "none".into()
                } else {
                    available.join(", ")
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: variant.map(String::from),
        }
    }

    #[test]
    fn specifiers_parse_and_normalise() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/x86_64", "linux/amd64"),
            ("Linux/X86-64", "linux/amd64"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/arm64/v9.0", "linux/arm64/v9"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/7", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/i386", "linux/386"),
            ("macos/arm64", "darwin/arm64"),
            ("arm64", "linux/arm64"),
            ("aarch64", "linux/arm64"),
            ("arm", "linux/arm/v7"),
            ("s390x", "linux/s390x"),
            ("linux", "linux/amd64"),
            ("windows", "windows/amd64"),
        ];
        for (spec, want) in cases {
            assert_eq!(parse(spec).unwrap().display(), want, "{spec}");
        }
        for bad in [
            "",
            "linux/",
            "/amd64",
            "a/b/c/d",
            "linux/*",
            "nosuchthing",
            "linux/am d64",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn normalisation_makes_equivalent_forms_equal() {
        assert!(same(
            &p("linux", "aarch64", None),
            &p("linux", "arm64", Some("v8"))
        ));
        assert!(same(
            &p("linux", "x86_64", None),
            &p("linux", "amd64", Some("v1"))
        ));
        assert!(same(
            &p("linux", "arm", None),
            &p("linux", "arm", Some("v7"))
        ));
        assert!(same(&p("", "amd64", None), &p("linux", "amd64", None)));
        assert!(!same(
            &p("linux", "arm", None),
            &p("linux", "arm", Some("v6"))
        ));
        assert!(!same(
            &p("linux", "amd64", None),
            &p("linux", "amd64", Some("v2"))
        ));
    }

    #[test]
    fn candidate_order_follows_containerd_within_one_architecture() {
        let shown = |s: &str| -> Vec<String> {
            candidates(&parse(s).unwrap())
                .iter()
                .map(|p| p.display())
                .collect()
        };
        assert_eq!(shown("linux/amd64"), ["linux/amd64"]);
        assert_eq!(
            shown("linux/amd64/v3"),
            ["linux/amd64/v3", "linux/amd64/v2", "linux/amd64"]
        );
        assert_eq!(
            shown("linux/arm/v7"),
            ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]
        );
        assert_eq!(shown("linux/arm/v5"), ["linux/arm/v5"]);
        assert_eq!(shown("linux/arm64"), ["linux/arm64"]);
        assert_eq!(
            shown("linux/arm64/v8.2"),
            ["linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64"]
        );
        let v91 = shown("linux/arm64/v9.1");
        assert_eq!(
            v91[..3],
            ["linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.6"]
        );
        assert_eq!(v91.last().unwrap(), "linux/arm64");
        assert_eq!(v91.len(), 2 + 7);
        // No cross-architecture fallback (containerd's Only has one).
        assert!(!shown("linux/amd64").contains(&"linux/386".to_string()));
        assert!(!shown("linux/arm64")
            .iter()
            .any(|s| s.starts_with("linux/arm/")));
    }

    #[test]
    fn choose_prefers_exact_then_best_variant_and_lists_on_failure() {
        let have = vec![
            Some(p("linux", "arm", Some("v6"))),
            Some(p("linux", "aarch64", None)),
            Some(p("linux", "amd64", Some("v2"))),
            Some(p("linux", "x86_64", None)),
            None,
        ];
        let c = choose(&have, Some("arm64")).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 1,
                note: None
            }
        );
        assert_eq!(choose(&have, Some("linux/arm64/v8")).unwrap().index, 1);
        assert_eq!(choose(&have, None).unwrap().index, 3);
        let c = choose(&have, Some("linux/amd64/v3")).unwrap();
        assert_eq!(c.index, 2);
        assert!(c.note.unwrap().contains("linux/amd64/v2"));
        let c = choose(&have, Some("linux/arm")).unwrap();
        assert_eq!(c.index, 0);
        assert!(c.note.is_some());
        let e = choose(&have, Some("linux/386")).unwrap_err().to_string();
        assert!(e.contains("linux/386"), "{e}");
        assert!(
            e.contains("linux/arm/v6, linux/aarch64, linux/amd64/v2, linux/x86_64, unknown"),
            "{e}"
        );
        // A single manifest is taken without --platform, but not against it.
        let one = vec![Some(p("linux", "s390x", None))];
        assert_eq!(choose(&one, None).unwrap().index, 0);
        assert!(choose(&one, Some("linux/amd64")).is_err());
        // Ties go to the first in index order.
        let two = vec![
            Some(p("linux", "arm64", None)),
            Some(p("linux", "arm64", Some("v8"))),
        ];
        assert_eq!(choose(&two, Some("arm64")).unwrap().index, 0);
    }
}
