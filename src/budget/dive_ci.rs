//! dive's CI file, `.dive-ci`: a `rules:` map of `lowestEfficiency`,
//! `highestWastedBytes` and `highestUserWastedPercent`, each a value or
//! `disabled`. Missing rules take dive's defaults.

use super::model::{bad, Budget, Limit};
use super::rules::{self, Syntax};
use super::size::parse_size;
use crate::error::Result;
use crate::finding::{Amount, Level, Unit};

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
        let mut set: Vec<(&str, Option<Amount>)> = DEFAULTS
            .iter()
            .map(|(k, v)| (*k, v.map(Amount::Real)))
            .collect();
        let mut in_rules = false;
        for (n, raw) in text.lines().enumerate() {
            let line = strip_comment(raw);
            if line.trim().is_empty() || line.trim() == "---" {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            let Some((key, value)) = line.trim().split_once(':') else {
                return Err(bad(
                    origin,
                    format!("line {}: expected `key: value`", n + 1),
                ));
            };
            let key = key.trim();
            let value = value.trim().trim_matches(['"', '\'']);
            if !indented {
                in_rules = key == "rules";
                if in_rules && !value.is_empty() {
                    return Err(bad(origin, format!("line {}: `rules:` is a map", n + 1)));
                }
                continue;
            }
            if !in_rules {
                continue;
            }
            let Some(slot) = set.iter_mut().find(|(k, _)| *k == key) else {
                return Err(bad(
                    origin,
                    format!(
                        "unknown rule {key:?} (dive knows {})",
                        rules::keys(Syntax::DiveCi).join(", ")
                    ),
                ));
            };
            slot.1 = dive_value(origin, key, value)?;
        }
        let mut b = Budget {
            origin: origin.to_string(),
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

/// One rule's value as dive reads it; `None` = `disabled`.
fn dive_value(origin: &str, key: &str, value: &str) -> Result<Option<Amount>> {
    if value.eq_ignore_ascii_case("disabled") {
        return Ok(None);
    }
    let rule = rules::find(Syntax::DiveCi, key).expect("a dive rule");
    if rule.unit == Unit::Bytes {
        return parse_size(value)
            .map(|b| Some(Amount::Int(b)))
            .ok_or_else(|| bad(origin, format!("{key}: {value:?} is not a size")));
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| Some(Amount::Real(v)))
        .ok_or_else(|| bad(origin, format!("{key}: {value:?} is not a number")))
}

fn strip_comment(line: &str) -> &str {
    match line
        .find(" #")
        .or_else(|| line.starts_with('#').then_some(0))
    {
        Some(i) => &line[..i],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dive_ci_defaults_and_disabled() {
        let b = Budget::from_dive_ci(
            "rules:\n  highestWastedBytes: 20MB # c\n  lowestEfficiency: disabled\n",
            "d",
        )
        .unwrap();
        assert_eq!(b.limit("lowestEfficiency"), None);
        assert_eq!(
            b.limit("highestWastedBytes").unwrap().value,
            Amount::Int(20_000_000)
        );
        assert_eq!(
            b.limit("highestUserWastedPercent").unwrap().value,
            Amount::Real(0.1)
        );
        let b = Budget::from_dive_ci("", "d").unwrap();
        assert_eq!(
            b.limit("lowestEfficiency").unwrap().value,
            Amount::Real(0.9)
        );
        assert_eq!(b.limit("highestWastedBytes"), None);
        assert!(Budget::from_dive_ci("rules:\n  lowestEfficency: 1\n", "d").is_err());
    }
}
