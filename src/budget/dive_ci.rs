//! dive's CI file, `.dive-ci`, read with a YAML library (yaml-rust2) the
//! way dive 0.13 reads it: the first YAML document must be a map (or empty);
//! only its `rules:` map counts, every other key (`plugins:` …) is ignored;
//! keys are case-insensitive; rules dive does not know (`plugin1/rule1`) are
//! ignored with a note. A rule's value is its scalar text (quoted or not);
//! `disabled` turns it off, a null value keeps dive's default. What dive
//! reports as a misconfigured rule is an error here (exit code 2).

use super::model::{bad, Budget, Limit};
use super::rules::{self, Syntax};
use super::size::parse_size_as_dive;
use crate::error::Result;
use crate::finding::{Amount, Level, Unit};
use yaml_rust2::{Yaml, YamlLoader};

/// dive's defaults: `lowestEfficiency` 0.9, `highestWastedBytes` disabled,
/// `highestUserWastedPercent` 0.1.
const DEFAULTS: [(&str, Option<f64>); 3] = [
    ("lowestEfficiency", Some(0.9)),
    ("highestWastedBytes", None),
    ("highestUserWastedPercent", Some(0.1)),
];

impl Budget {
    /// Parse a dive `.dive-ci` file (`origin` names it in errors).
    pub fn from_dive_ci(text: &str, origin: &str) -> Result<Budget> {
        let docs = YamlLoader::load_from_str(text)
            .map_err(|e| bad(origin, format!("not valid YAML: {e}")))?;
        let mut set: Vec<(&str, Option<Amount>)> = DEFAULTS
            .iter()
            .map(|(k, v)| (*k, v.map(Amount::Real)))
            .collect();
        let mut notes = Vec::new();
        if docs.len() > 1 {
            notes.push(format!(
                "{origin}: only the first of its {} YAML documents is read, as dive does",
                docs.len()
            ));
        }
        let top = match docs.first() {
            None | Some(Yaml::Null) => None,
            Some(Yaml::Hash(h)) => Some(h),
            Some(_) => return Err(bad(origin, "expected a map with a `rules:` map")),
        };
        let rules_value = top
            .into_iter()
            .flatten()
            .find(|(k, _)| scalar(k).is_some_and(|k| k.eq_ignore_ascii_case("rules")))
            .map(|(_, v)| v);
        match rules_value {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(map)) => {
                for (k, v) in map {
                    let key = scalar(k).unwrap_or_default();
                    let Some(slot) = set.iter_mut().find(|(d, _)| d.eq_ignore_ascii_case(&key))
                    else {
                        notes.push(format!(
                            "{origin}: rule {key:?} ignored (imgaudit, like dive, evaluates only {})",
                            rules::keys(Syntax::DiveCi).join(", ")
                        ));
                        continue;
                    };
                    if let Some(v) = value(origin, slot.0, v)? {
                        slot.1 = v;
                    }
                }
            }
            Some(_) => return Err(bad(origin, "`rules:` must be a map of rule: value")),
        }
        let mut b = Budget {
            origin: origin.to_string(),
            notes,
            ..Budget::default()
        };
        for (key, v) in set {
            if let Some(value) = v {
                let rule = rules::find(Syntax::DiveCi, key).expect("a dive rule");
                let level = Level::Fail;
                b.set(rule, Limit { value, level }, None);
            }
        }
        Ok(b)
    }
}

/// A scalar's text as dive sees it (numbers and booleans as written).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::Real(s) | Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One rule's value: `None` = null (dive's default stays), `Some(None)` =
/// `disabled`, else the limit.
fn value(origin: &str, key: &str, y: &Yaml) -> Result<Option<Option<Amount>>> {
    if matches!(y, Yaml::Null) {
        return Ok(None);
    }
    let Some(text) = scalar(y) else {
        return Err(bad(
            origin,
            format!("{key}: expected a value, not a list or map"),
        ));
    };
    if text == "disabled" {
        return Ok(Some(None));
    }
    let rule = rules::find(Syntax::DiveCi, key).expect("a dive rule");
    if rule.unit == Unit::Bytes {
        return parse_size_as_dive(&text)
            .map(|b| Some(Some(Amount::Int(b))))
            .ok_or_else(|| {
                bad(
                    origin,
                    format!("{key}: {text:?} is not a size (e.g. 20MB) or `disabled`"),
                )
            });
    }
    let v: f64 = text.parse().map_err(|_| {
        bad(
            origin,
            format!("{key}: {text:?} is not a number or `disabled`"),
        )
    })?;
    // dive's range check; NaN passes it, as in dive, and never fails a rule.
    #[allow(clippy::manual_range_contains)]
    if v < 0.0 || v > 1.0 {
        return Err(bad(
            origin,
            format!("{key}: {text} is outside dive's allowed range (a ratio between 0 and 1)"),
        ));
    }
    Ok(Some(Some(Amount::Real(v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(b: &Budget, k: &str) -> Option<Amount> {
        b.limit(k).map(|l| l.value)
    }

    #[test]
    fn dive_ci_defaults_and_disabled() {
        let b = Budget::from_dive_ci(
            "rules:\n  highestWastedBytes: 20MB # c\n  lowestEfficiency: disabled\n",
            "d",
        )
        .unwrap();
        assert_eq!(limit(&b, "lowestEfficiency"), None);
        assert_eq!(
            limit(&b, "highestWastedBytes"),
            Some(Amount::Int(20_000_000))
        );
        assert_eq!(
            limit(&b, "highestUserWastedPercent"),
            Some(Amount::Real(0.1))
        );
        for empty in ["", "---\n", "rules:\n", "# nothing\n", "rules: ~\n"] {
            let b = Budget::from_dive_ci(empty, "d").unwrap();
            assert_eq!(limit(&b, "lowestEfficiency"), Some(Amount::Real(0.9)));
            assert_eq!(limit(&b, "highestWastedBytes"), None);
            assert_eq!(b.limits.len(), 2, "{empty:?}");
        }
    }

    #[test]
    fn every_shape_dive_accepts() {
        let shapes = [
            // dive's own example: document marker, plugins, comments, a plugin rule.
            "---\nplugins:\n  - p1\n\nrules:\n  # c\n  lowestEfficiency: 0.5\n\n  highestWastedBytes: 20Mb\n  highestUserWastedPercent: 0.10\n  p1/r1: error\n",
            "rules: {lowestEfficiency: 0.5, highestWastedBytes: \"20Mb\", highestUserWastedPercent: '0.10'}\n",
            "RULES:\n  LowestEfficiency: \"0.5\"\n  HIGHESTWASTEDBYTES: 20,000,000\n  highestUserWastedPercent: 1e-1\n",
            "x: &w 20MB\nrules:\n  lowestEfficiency: .5\n  highestWastedBytes: *w\n  highestUserWastedPercent: 0.1\n...\n---\nrules: {lowestEfficiency: 0.99}\n",
        ];
        for text in shapes {
            let b = Budget::from_dive_ci(text, "d").unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                limit(&b, "lowestEfficiency"),
                Some(Amount::Real(0.5)),
                "{text}"
            );
            assert_eq!(
                limit(&b, "highestWastedBytes"),
                Some(Amount::Int(20_000_000)),
                "{text}"
            );
            assert_eq!(
                limit(&b, "highestUserWastedPercent"),
                Some(Amount::Real(0.1)),
                "{text}"
            );
        }
        let b = Budget::from_dive_ci(shapes[0], "d").unwrap();
        assert_eq!(b.notes.len(), 1);
        assert!(b.notes[0].contains("\"p1/r1\" ignored"), "{:?}", b.notes);
        let b = Budget::from_dive_ci(shapes[3], "d").unwrap();
        assert!(b.notes[0].contains("first of its 2"), "{:?}", b.notes);
        // A null value keeps dive's default.
        let b = Budget::from_dive_ci("rules:\n  lowestEfficiency:\n", "d").unwrap();
        assert_eq!(limit(&b, "lowestEfficiency"), Some(Amount::Real(0.9)));
    }

    #[test]
    fn what_dive_calls_misconfigured_is_an_error() {
        for (text, needle) in [
            ("rules:\n  lowestEfficiency: abc\n", "\"abc\""),
            ("rules:\n  lowestEfficiency: 1.5\n", "range"),
            ("rules:\n  highestUserWastedPercent: -0.1\n", "range"),
            ("rules:\n  lowestEfficiency: Disabled\n", "Disabled"),
            ("rules:\n  lowestEfficiency: true\n", "true"),
            ("rules:\n  highestWastedBytes: -1\n", "-1"),
            ("rules:\n  highestWastedBytes: [1]\n", "list"),
            ("rules: [1]\n", "rules"),
            ("rules: 5\n", "rules"),
            ("- a\n", "map"),
            ("hello\n", "map"),
            ("rules:\n  a: 1\n  a: 2\n", "YAML"),
            ("rules: {\n", "YAML"),
        ] {
            let e = Budget::from_dive_ci(text, "d").unwrap_err().to_string();
            assert!(e.starts_with("d: ") && e.contains(needle), "{text}: {e}");
        }
    }
}
