//! Stage 4a: what the bytes are. Category rules are data — TOML files embedded
//! at build time (`src/classify/rules/*.toml`), with user files layered on top
//! — matched against each file's path, file name and owning package.
//!
//! Every file gets exactly one category: the matching rule with the highest
//! priority (ties: the rule defined first), else `other`. Debug bytes inside
//! ELF files are split off to `debug-symbols` by the analysis, so the
//! partition holds at byte level.

pub mod packages;

use crate::error::{Error, Result};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};

/// The built-in rule files, one per concern.
const BUILTIN: &[(&str, &str)] = &[
    ("build-tools.toml", include_str!("rules/build-tools.toml")),
    ("cuda.toml", include_str!("rules/cuda.toml")),
    (
        "ml-frameworks.toml",
        include_str!("rules/ml-frameworks.toml"),
    ),
    ("python.toml", include_str!("rules/python.toml")),
    ("caches.toml", include_str!("rules/caches.toml")),
    ("debug.toml", include_str!("rules/debug.toml")),
    ("docs.toml", include_str!("rules/docs.toml")),
    ("runtime.toml", include_str!("rules/runtime.toml")),
];

/// File name of the project rules file picked up from the working directory.
pub const PROJECT_RULES: &str = ".imgaudit-rules.toml";

/// Id of the catch-all category.
pub const OTHER: &str = "other";
/// Id of the category strippable ELF bytes go to.
pub const DEBUG: &str = "debug-symbols";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    category: Vec<RuleDef>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: String,
    name: Option<String>,
    group: Option<String>,
    removable: Option<bool>,
    fix: Option<String>,
    priority: Option<i32>,
    paths: Option<Vec<String>>,
    names: Option<Vec<String>>,
    packages: Option<Vec<String>>,
}

/// A category as reports show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub group: String,
    pub removable: bool,
    pub fix: String,
    pub priority: i32,
}

/// Compiled rules.
pub struct Rules {
    pub categories: Vec<Category>,
    paths: GlobSet,
    path_cat: Vec<usize>,
    names: GlobSet,
    name_cat: Vec<usize>,
    packages: GlobSet,
    package_cat: Vec<usize>,
    other: usize,
    debug: usize,
    /// sha256 over every rule file's text, for cache keys.
    pub hash: String,
}

fn glob(pattern: &str, what: &str) -> Result<Glob> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| Error::malformed(what, format!("bad pattern {pattern:?}: {e}")))
}

impl Rules {
    /// The built-in rules only.
    pub fn builtin() -> Result<Rules> {
        Rules::load(&[])
    }

    /// Built-ins, then each user file in order (a category with an existing
    /// id overrides the fields it sets; a new id adds a category).
    pub fn load(user_files: &[PathBuf]) -> Result<Rules> {
        let mut texts: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(n, t)| (format!("built-in {n}"), t.to_string()))
            .collect();
        for f in user_files {
            let t =
                std::fs::read_to_string(f).map_err(|e| Error::io(f.display().to_string(), e))?;
            texts.push((f.display().to_string(), t));
        }
        Rules::from_texts(&texts)
    }

    /// Rules from `(name, toml text)` pairs, in layering order.
    pub fn from_texts(texts: &[(String, String)]) -> Result<Rules> {
        let mut defs: Vec<RuleDef> = Vec::new();
        let mut hasher = Sha256::new();
        for (name, text) in texts {
            hasher.update(name.as_bytes());
            hasher.update(text.as_bytes());
            let file: RuleFile = toml::from_str(text)
                .map_err(|e| Error::malformed(format!("rules file {name}"), e.to_string()))?;
            for d in file.category {
                if d.id.is_empty()
                    || !d
                        .id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(Error::malformed(
                        format!("rules file {name}"),
                        format!(
                            "category id {:?} must be lowercase letters, digits and '-'",
                            d.id
                        ),
                    ));
                }
                match defs.iter_mut().find(|e| e.id == d.id) {
                    Some(e) => merge(e, d),
                    None => defs.push(d),
                }
            }
        }
        if !defs.iter().any(|d| d.id == OTHER) {
            defs.push(RuleDef {
                id: OTHER.into(),
                name: Some("Application and other files".into()),
                group: Some("Application".into()),
                removable: Some(false),
                fix: Some(String::new()),
                priority: Some(i32::MIN),
                ..Default::default()
            });
        }
        if defs.len() >= NO_TAG as usize {
            return Err(Error::malformed(
                "rules",
                format!(
                    "{} categories; at most {} are supported",
                    defs.len(),
                    NO_TAG - 1
                ),
            ));
        }
        let mut categories = Vec::new();
        let (mut pb, mut nb, mut kb) = (
            GlobSetBuilder::new(),
            GlobSetBuilder::new(),
            GlobSetBuilder::new(),
        );
        let (mut path_cat, mut name_cat, mut package_cat) = (Vec::new(), Vec::new(), Vec::new());
        for (i, d) in defs.iter().enumerate() {
            let what = format!("category {}", d.id);
            for p in d.paths.iter().flatten() {
                pb.add(glob(p, &what)?);
                path_cat.push(i);
            }
            for p in d.names.iter().flatten() {
                nb.add(glob(p, &what)?);
                name_cat.push(i);
            }
            for p in d.packages.iter().flatten() {
                kb.add(glob(p, &what)?);
                package_cat.push(i);
            }
            categories.push(Category {
                id: d.id.clone(),
                name: d.name.clone().unwrap_or_else(|| d.id.clone()),
                group: d.group.clone().unwrap_or_else(|| "Other".into()),
                removable: d.removable.unwrap_or(false),
                fix: d.fix.clone().unwrap_or_default(),
                priority: d.priority.unwrap_or(0),
            });
        }
        let build = |b: GlobSetBuilder| {
            b.build()
                .map_err(|e| Error::malformed("rules", e.to_string()))
        };
        let other = categories.iter().position(|c| c.id == OTHER).unwrap_or(0);
        let debug = categories
            .iter()
            .position(|c| c.id == DEBUG)
            .unwrap_or(other);
        Ok(Rules {
            categories,
            paths: build(pb)?,
            path_cat,
            names: build(nb)?,
            name_cat,
            packages: build(kb)?,
            package_cat,
            other,
            debug,
            hash: hex::encode(hasher.finalize()),
        })
    }

    pub fn other(&self) -> usize {
        self.other
    }
    pub fn debug(&self) -> usize {
        self.debug
    }
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.id == id)
    }

    /// The category of a file at absolute `path` owned by `package` (if known).
    /// The category for a file at `path` owned by `package` (if any): the
    /// highest-priority match over path globs, file-name globs and package
    /// globs, ties going to the category defined first; `other` when nothing
    /// matches.
    pub fn classify(&self, path: &str, package: Option<&str>) -> usize {
        let by_package = package.and_then(|p| self.classify_package(p));
        self.pick(self.classify_path(path), by_package)
            .unwrap_or(self.other)
    }

    /// The better of two candidate categories (higher priority, then the one
    /// defined first). `classify` = `pick(classify_path, classify_package)`,
    /// so the two halves can be computed at different times.
    pub fn pick(&self, a: Option<usize>, b: Option<usize>) -> Option<usize> {
        match (a, b) {
            (Some(a), Some(b)) => {
                let key = |c: usize| (self.categories[c].priority, std::cmp::Reverse(c));
                Some(if key(a) >= key(b) { a } else { b })
            }
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// Best match over the path and file-name globs only.
    pub fn classify_path(&self, path: &str) -> Option<usize> {
        let mut best = None;
        for m in self.paths.matches(path) {
            best = self.pick(best, Some(self.path_cat[m]));
        }
        let name = Path::new(path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(path);
        for m in self.names.matches(name) {
            best = self.pick(best, Some(self.name_cat[m]));
        }
        best
    }

    /// Best match over the package-name globs only.
    pub fn classify_package(&self, package: &str) -> Option<usize> {
        let mut best = None;
        for m in self.packages.matches(package) {
            best = self.pick(best, Some(self.package_cat[m]));
        }
        best
    }

    /// [`Rules::classify_path`] of a tar path (normalised, no leading `/`),
    /// packed into a [`PathTag`] the size tree can carry per entry.
    pub fn path_tag(&self, path: &[u8], buf: &mut String) -> PathTag {
        buf.clear();
        buf.push('/');
        buf.push_str(&String::from_utf8_lossy(path));
        match self.classify_path(buf) {
            Some(c) => c as PathTag,
            None => NO_TAG,
        }
    }

    /// The category a [`PathTag`] stands for (`None` for [`NO_TAG`]).
    pub fn tag_category(&self, tag: PathTag) -> Option<usize> {
        (tag != NO_TAG).then_some(tag as usize)
    }
}

pub use crate::layer::{PathTag, NO_TAG};

fn merge(into: &mut RuleDef, d: RuleDef) {
    macro_rules! take {
        ($($f:ident),*) => { $( if d.$f.is_some() { into.$f = d.$f; } )* };
    }
    take!(name, group, removable, fix, priority, paths, names, packages);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load_and_have_the_stable_ids() {
        let r = Rules::builtin().unwrap();
        for id in [
            "build-tools",
            "cuda",
            "ml-frameworks",
            "python-bytecode",
            "package-caches",
            "package-indexes",
            "debug-symbols",
            "docs",
            "tests",
            "vcs",
            "logs-temp",
            "other",
        ] {
            assert!(r.index_of(id).is_some(), "missing {id}");
        }
    }

    #[test]
    fn classification_by_path_name_package_and_priority() {
        let r = Rules::builtin().unwrap();
        let id = |p: &str, pkg: Option<&str>| r.categories[r.classify(p, pkg)].id.clone();
        assert_eq!(id("/usr/bin/gcc-12", None), "build-tools");
        assert_eq!(
            id("/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", None),
            "build-tools"
        );
        assert_eq!(id("/usr/include/stdio.h", None), "build-tools");
        assert_eq!(
            id("/opt/weird/place/bin/thing", Some("gcc-12")),
            "build-tools"
        );
        assert_eq!(
            id(
                "/usr/local/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9",
                None
            ),
            "cuda"
        );
        assert_eq!(
            id(
                "/usr/local/lib/python3.12/site-packages/torch/lib/libtorch_cpu.so",
                None
            ),
            "ml-frameworks"
        );
        assert_eq!(
            id(
                "/usr/local/lib/python3.12/site-packages/torch/__pycache__/x.cpython-312.pyc",
                None
            ),
            "python-bytecode"
        );
        assert_eq!(id("/root/.cache/pip/http/a/b", None), "package-caches");
        assert_eq!(
            id("/var/lib/apt/lists/deb_dists_bookworm_InRelease", None),
            "package-indexes"
        );
        assert_eq!(
            id("/usr/share/doc/gcc-12/changelog.gz", Some("gcc-12")),
            "docs"
        );
        assert_eq!(
            id("/usr/lib/debug/.build-id/ab/cdef.debug", None),
            "debug-symbols"
        );
        assert_eq!(id("/app/.git/objects/pack/x.pack", None), "vcs");
        assert_eq!(id("/var/log/dpkg.log", None), "logs-temp");
        assert_eq!(
            id(
                "/usr/local/lib/python3.12/site-packages/numpy/tests/test_x.py",
                None
            ),
            "tests"
        );
        assert_eq!(id("/app/main.py", None), "other");
        assert_eq!(
            id(
                "/usr/local/lib/python3.12/site-packages/requests/api.py",
                None
            ),
            "python-packages"
        );
        assert_eq!(
            id("/usr/lib/x86_64-linux-gnu/libc.so.6", Some("libc6")),
            "base-system"
        );
    }

    #[test]
    fn user_rules_add_and_override() {
        let user = r#"
[[category]]
id = "models"
name = "Model weights"
group = "Application"
priority = 100
names = ["*.safetensors"]

[[category]]
id = "docs"
removable = false
"#;
        let mut texts: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        texts.push(("user.toml".into(), user.into()));
        let r = Rules::from_texts(&texts).unwrap();
        assert_eq!(
            r.categories[r.classify("/models/a.safetensors", None)].id,
            "models"
        );
        let docs = &r.categories[r.index_of("docs").unwrap()];
        assert!(!docs.removable);
        assert!(
            docs.fix.contains("no-install-recommends"),
            "other fields kept"
        );
        assert_ne!(r.hash, Rules::builtin().unwrap().hash);
        let bad = vec![(
            "bad.toml".to_string(),
            "[[category]]\nid = \"Bad Id\"\n".to_string(),
        )];
        assert!(Rules::from_texts(&bad).is_err());
    }
}
