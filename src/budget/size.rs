//! Human byte sizes as budget files and command-line options spell them:
//! `"1.5 GB"`, `"700MB"`, `"20 MiB"`, `0`.

/// Parse a size: an integer byte count or a number with a unit
/// (`B`, `kB`/`KB`/`k`, `MB`, `GB`, `TB` decimal; `KiB`, `MiB`, `GiB`, `TiB`
/// binary), case-insensitive, space optional: `"1.5 GB"`, `"700MB"`, `0`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "ti" | "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = n * mult;
    // Beyond u64 (about 18 EB) is not a size anyone means.
    (bytes < u64::MAX as f64).then(|| bytes.round() as u64)
}

/// A size as dive reads `highestWastedBytes` (go-humanize's `ParseBytes`):
/// digits with optional `.` and thousands commas, then an optional unit
/// (`k`/`kb` … `e`/`eb` decimal, `ki`/`kib` … `ei`/`eib` binary,
/// case-insensitive, space allowed); the product is truncated, not rounded.
pub(crate) fn parse_size_as_dive(s: &str) -> Option<u64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(s.len());
    let n: f64 = s[..end].replace(',', "").parse().ok()?;
    let unit = s[end..].trim().to_ascii_lowercase();
    let power = |p: i32, base: f64| base.powi(p);
    let mult = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => power(1, 1e3),
        "m" | "mb" => power(2, 1e3),
        "g" | "gb" => power(3, 1e3),
        "t" | "tb" => power(4, 1e3),
        "p" | "pb" => power(5, 1e3),
        "e" | "eb" => power(6, 1e3),
        "ki" | "kib" => power(1, 1024.0),
        "mi" | "mib" => power(2, 1024.0),
        "gi" | "gib" => power(3, 1024.0),
        "ti" | "tib" => power(4, 1024.0),
        "pi" | "pib" => power(5, 1024.0),
        "ei" | "eib" => power(6, 1024.0),
        _ => return None,
    };
    let bytes = n * mult;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// [`parse_size`] for a command-line option (clap's `value_parser`): the
/// error says what is accepted.
pub fn parse_size_arg(s: &str) -> Result<u64, String> {
    parse_size(s).ok_or_else(|| {
        format!("{s:?} is not a size (bytes, or a number with a unit: \"2 GB\", \"500MiB\")")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
        assert_eq!(parse_size("700MB"), Some(700_000_000));
        assert_eq!(parse_size("20MiB"), Some(20 * 1024 * 1024));
        assert_eq!(parse_size("2 gb"), Some(2_000_000_000));
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("99999999999 TB"), None);
        assert_eq!(parse_size_arg("2 GB"), Ok(2_000_000_000));
        // dive's reading: commas, truncation, no sign.
        assert_eq!(parse_size_as_dive("34,087"), Some(34_087));
        assert_eq!(parse_size_as_dive("1.5999kB"), Some(1599));
        assert_eq!(parse_size_as_dive("1.6KiB"), Some(1638));
        assert_eq!(parse_size_as_dive("20Mb"), Some(20_000_000));
        assert_eq!(parse_size_as_dive("2 KB"), Some(2000));
        assert_eq!(parse_size_as_dive("-1"), None);
        assert_eq!(parse_size_as_dive("false"), None);
        assert!(parse_size_arg("lots").unwrap_err().contains("\"lots\""));
    }
}
