//! The TOML budget file (docs/BUDGETS.md). Every top-level key must be a
//! rule of the table in `rules.rs` (or `category`, `forbidden_paths`,
//! `exclude_paths`); the rule's unit says how its value is read.

use super::model::{bad, globs, Budget, Limit};
use super::rules::{self, Rule, Syntax};
use super::size::parse_size;
use crate::error::Result;
use crate::finding::{Amount, Code, Level, Unit};
use toml::{Table, Value};

impl Budget {
    /// Parse a TOML budget file's text (`origin` names it in errors).
    pub fn from_toml(text: &str, origin: &str) -> Result<Budget> {
        let table: Table =
            toml::from_str(text).map_err(|e| bad(origin, e.message().to_string()))?;
        let mut b = Budget {
            origin: origin.to_string(),
            ..Budget::default()
        };
        for (key, value) in &table {
            match key.as_str() {
                "category" => categories(&mut b, origin, value)?,
                "forbidden_paths" => {
                    let (v, level) = leveled(origin, key, value)?;
                    b.forbidden_paths = strings(origin, key, v)?;
                    let rule = rules::by_code(Code::B010);
                    b.set(
                        rule,
                        Limit {
                            value: Amount::Int(0),
                            level,
                        },
                        None,
                    );
                }
                "exclude_paths" => b.exclude_paths = strings(origin, key, value)?,
                "growth_window" => growth_window(&mut b, origin, value)?,
                _ => {
                    let rule = rules::find(Syntax::Toml, key)
                        .filter(|r| !r.key.contains('*') && r.code != Code::B010 && r.code != Code::B013)
                        .ok_or_else(|| {
                            bad(
                                origin,
                                format!(
                                    "unknown rule {key:?} (known: {}, forbidden_paths, exclude_paths, [category.ID])",
                                    rules::keys(Syntax::Toml).join(", ")
                                ),
                            )
                        })?;
                    let (v, level) = leveled(origin, key, value)?;
                    let value = amount(origin, rule, key, v)?;
                    b.set(rule, Limit { value, level }, None);
                }
            }
        }
        if b.limit("min_efficiency")
            .is_some_and(|l| l.value.as_f64() > 1.0)
        {
            return Err(bad(origin, "min_efficiency: a ratio between 0 and 1"));
        }
        globs(origin, &b.forbidden_paths)?;
        globs(origin, &b.exclude_paths)?;
        Ok(b)
    }
}

/// `[growth_window]`: `builds` (at least 2) and `max_percent`, optionally
/// `level`.
fn growth_window(b: &mut Budget, origin: &str, v: &Value) -> Result<()> {
    let key = "growth_window";
    let Value::Table(t) = v else {
        return Err(bad(
            origin,
            format!("{key}: expected a table with `builds` and `max_percent`"),
        ));
    };
    if let Some(other) = t
        .keys()
        .find(|k| !["builds", "max_percent", "level"].contains(&k.as_str()))
    {
        return Err(bad(
            origin,
            format!("{key}: unknown key {other:?} (known: builds, max_percent, level)"),
        ));
    }
    let builds = match t.get("builds") {
        Some(Value::Integer(n)) if *n >= 2 => *n as usize,
        _ => {
            return Err(bad(
                origin,
                format!("{key}.builds: expected an integer of at least 2"),
            ))
        }
    };
    let max = t
        .get("max_percent")
        .ok_or_else(|| bad(origin, format!("{key}: the table needs `max_percent`")))?;
    let max = number(origin, "growth_window.max_percent", max)?;
    let level = level(origin, key, t.get("level"))?;
    b.growth_window_builds = Some(builds);
    b.set(
        rules::by_code(Code::B013),
        Limit {
            value: Amount::Real(max),
            level,
        },
        None,
    );
    Ok(())
}

/// A rule's value: plain, or a table `{ value = …, level = "warn" }`.
fn leveled<'v>(origin: &str, key: &str, v: &'v Value) -> Result<(&'v Value, Level)> {
    let Value::Table(t) = v else {
        return Ok((v, Level::Fail));
    };
    if let Some(other) = t.keys().find(|k| *k != "value" && *k != "level") {
        return Err(bad(
            origin,
            format!("{key}: unknown key {other:?} (a rule table has `value` and `level`)"),
        ));
    }
    let value = t
        .get("value")
        .ok_or_else(|| bad(origin, format!("{key}: the table needs a `value`")))?;
    Ok((value, level(origin, key, t.get("level"))?))
}

fn level(origin: &str, key: &str, v: Option<&Value>) -> Result<Level> {
    match v {
        None => Ok(Level::Fail),
        Some(Value::String(s)) if s == "fail" => Ok(Level::Fail),
        Some(Value::String(s)) if s == "warn" => Ok(Level::Warn),
        Some(other) => Err(bad(
            origin,
            format!("{key}: level {other} is not \"fail\" or \"warn\""),
        )),
    }
}

/// Read a rule's value in its unit.
fn amount(origin: &str, rule: &Rule, key: &str, v: &Value) -> Result<Amount> {
    match rule.unit {
        Unit::Bytes => size(origin, key, v).map(Amount::Int),
        Unit::Count => match v {
            Value::Integer(i) if *i >= 0 => Ok(Amount::Int(*i as u64)),
            _ => Err(bad(
                origin,
                format!("{key}: expected a non-negative integer"),
            )),
        },
        Unit::Percent | Unit::Ratio => number(origin, key, v).map(Amount::Real),
    }
}

fn size(origin: &str, key: &str, v: &Value) -> Result<u64> {
    match v {
        Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        Value::String(s) => parse_size(s).ok_or_else(|| {
            bad(
                origin,
                format!("{key}: {s:?} is not a size (e.g. \"1.5 GB\")"),
            )
        }),
        _ => Err(bad(
            origin,
            format!("{key}: expected a size (a non-negative integer or e.g. \"700 MB\")"),
        )),
    }
}

fn number(origin: &str, key: &str, v: &Value) -> Result<f64> {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        Value::String(s) => s
            .trim()
            .trim_end_matches('%')
            .trim()
            .parse()
            .map_err(|_| bad(origin, format!("{key}: {s:?} is not a number")))?,
        _ => return Err(bad(origin, format!("{key}: expected a number"))),
    };
    if !n.is_finite() || n < 0.0 {
        return Err(bad(origin, format!("{key}: must be a non-negative number")));
    }
    Ok(n)
}

fn strings(origin: &str, key: &str, v: &Value) -> Result<Vec<String>> {
    let err = || bad(origin, format!("{key}: expected a list of path patterns"));
    let Value::Array(a) = v else {
        return Err(err());
    };
    a.iter()
        .map(|x| x.as_str().map(str::to_string).ok_or_else(err))
        .collect()
}

/// `[category.ID]` tables: `max_bytes` and/or `max_download_bytes`, and
/// an optional `level` for both.
fn categories(b: &mut Budget, origin: &str, v: &Value) -> Result<()> {
    let Value::Table(t) = v else {
        return Err(bad(origin, "category: expected [category.ID] tables"));
    };
    // The keys a category table may set, each a row of the rule table.
    let limits = [
        ("max_bytes", rules::by_code(Code::B009)),
        ("max_download_bytes", rules::by_code(Code::B015)),
    ];
    for (id, c) in t {
        let key = format!("category.{id}");
        let Value::Table(c) = c else {
            return Err(bad(
                origin,
                format!("{key}: expected a table with max_bytes or max_download_bytes"),
            ));
        };
        if let Some(other) = c
            .keys()
            .find(|k| *k != "level" && !limits.iter().any(|(l, _)| k == l))
        {
            return Err(bad(
                origin,
                format!(
                    "{key}: unknown key {other:?} (expected max_bytes, max_download_bytes, level)"
                ),
            ));
        }
        let level = level(origin, &key, c.get("level"))?;
        let mut any = false;
        for (name, rule) in limits {
            if let Some(max) = c.get(name) {
                let value = Amount::Int(size(origin, &format!("{key}.{name}"), max)?);
                b.set(rule, Limit { value, level }, Some(id.clone()));
                any = true;
            }
        }
        if !any {
            return Err(bad(
                origin,
                format!("{key}: missing max_bytes (or max_download_bytes)"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_spellings() {
        let b = Budget::from_toml(
            r#"
max_final_bytes = "1.5 GB"
max_compressed_bytes = "700 MB"
max_wasted_bytes = "50 MB"
min_efficiency = { value = 0.95, level = "warn" }
max_wasted_percent = "5%"
forbidden_paths = ["/usr/bin/gcc*", "/usr/bin/make"]
[category.build-tools]
max_bytes = 0
[category.debug-symbols]
max_bytes = "20 MB"
level = "warn"
"#,
            "b.toml",
        )
        .unwrap();
        let l = |k| b.limit(k).unwrap();
        assert_eq!(l("max_final_bytes").value, Amount::Int(1_500_000_000));
        assert_eq!(l("min_efficiency").level, Level::Warn);
        assert_eq!(l("min_efficiency").value, Amount::Real(0.95));
        assert_eq!(l("max_wasted_percent").value, Amount::Real(5.0));
        assert_eq!(l("category.build-tools.max_bytes").value, Amount::Int(0));
        assert_eq!(l("category.debug-symbols.max_bytes").level, Level::Warn);
        assert_eq!(b.forbidden_paths.len(), 2);
        assert_eq!(l("forbidden_paths").level, Level::Fail);
        // Report order: the table's, categories by id.
        let codes: Vec<String> = b.limits.iter().map(|l| l.key()).collect();
        assert_eq!(
            codes,
            [
                "max_final_bytes",
                "max_compressed_bytes",
                "max_wasted_bytes",
                "max_wasted_percent",
                "min_efficiency",
                "category.build-tools.max_bytes",
                "category.debug-symbols.max_bytes",
                "forbidden_paths"
            ]
        );
        assert!(b.needs_paths() && !b.needs_baseline());
    }

    #[test]
    fn download_rules_are_spelt_like_their_byte_twins() {
        let b = Budget::from_toml(
            r#"
max_download_bytes = "300 MB"
max_download_growth_bytes = { value = "10 MB", level = "warn" }
[category.package-caches]
max_bytes = "1 MB"
max_download_bytes = "500 kB"
level = "warn"
"#,
            "b.toml",
        )
        .unwrap();
        let l = |k| b.limit(k).unwrap();
        assert_eq!(l("max_download_bytes").value, Amount::Int(300_000_000));
        assert_eq!(l("max_download_growth_bytes").level, Level::Warn);
        assert_eq!(
            l("category.package-caches.max_download_bytes").value,
            Amount::Int(500_000)
        );
        // The table's level applies to both of its rules.
        assert_eq!(l("category.package-caches.max_bytes").level, Level::Warn);
        assert_eq!(
            l("category.package-caches.max_download_bytes").level,
            Level::Warn
        );
        let codes: Vec<Code> = b.limits.iter().map(|l| l.rule.code).collect();
        assert_eq!(codes, [Code::B009, Code::B014, Code::B015, Code::B016]);
        assert!(b.needs_paths() && b.needs_baseline());
    }

    #[test]
    fn toml_errors_name_the_rule() {
        for (text, needle) in [
            ("max_final_bites = 1", "max_final_bites"),
            ("max_final_bytes = \"lots\"", "lots"),
            ("max_final_bytes = -1", "max_final_bytes"),
            ("max_layers = 1.5", "max_layers"),
            ("min_efficiency = 2", "min_efficiency"),
            ("max_final_bytes = { value = 1, level = \"loud\" }", "loud"),
            ("max_final_bytes = { value = 1, lvl = \"warn\" }", "lvl"),
            ("[category.x]\nmax_byte = 1", "max_byte"),
            ("[category.x]\nlevel = \"warn\"", "missing max_bytes"),
            (
                "[category.x]\nmax_download_bytes = \"lots\"",
                "max_download_bytes",
            ),
            ("lowestEfficiency = 0.9", "lowestEfficiency"),
            ("forbidden_paths = [\"[\"]", "pattern"),
            ("exclude_paths = \"/x\"", "exclude_paths"),
        ] {
            let e = Budget::from_toml(text, "b.toml").unwrap_err().to_string();
            assert!(
                e.starts_with("b.toml: ") && e.contains(needle),
                "{text}: {e}"
            );
        }
    }
}
