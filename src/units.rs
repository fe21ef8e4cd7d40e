//! Human-readable text for reports: byte sizes (decimal units, as `docker
//! images` prints them) and shortened one-line commands. The progress bar
//! uses the same units ([`human`], [`human_rate`]).

/// `1234567` → `"1.2 MB"`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A throughput in the units of [`human`]: `"612 MB/s"`.
pub fn human_rate(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() || bytes_per_sec < 0.0 {
        return "-".into();
    }
    format!("{}/s", human(bytes_per_sec as u64))
}

/// Collapse whitespace to single spaces and cut to `max` characters with `…`.
pub fn shorten(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{human, human_rate, shorten};

    #[test]
    fn shortens_one_line() {
        assert_eq!(shorten("RUN  apt-get\n install", 80), "RUN apt-get install");
        assert_eq!(shorten("a b c d e", 5), "a b …");
    }

    #[test]
    fn formats() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(1_500), "1.5 kB");
        assert_eq!(human(217_000_000), "217 MB");
        assert_eq!(human(1_550_000_000), "1.6 GB");
        assert_eq!(human_rate(612_345_678.9), "612 MB/s");
        assert_eq!(human_rate(f64::NAN), "-");
    }
}
