//! Human-readable text for reports: byte sizes (decimal units, as `docker
//! images` prints them) and shortened one-line commands.

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
    use super::{human, shorten};

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
    }
}
