//! JUnit XML for CI systems other than GitHub: one test suite per check,
//! one test case per rule; failed fail-level rules are `<failure>`s, warned
//! rules pass with the warning in `<system-out>`.

use super::escape;
use crate::budget::{CheckReport, Status};
use std::io::{self, Write};

/// Escape text for XML content and attributes (see [`escape::xml`]).
pub fn xml(s: &str) -> String {
    escape::xml(s)
}

pub fn render(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<testsuites name="imgaudit check" tests="{}" failures="{}">"#,
        r.findings.len(),
        r.counts.fail
    )?;
    writeln!(
        w,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0">"#,
        xml(&r.image),
        r.findings.len(),
        r.counts.fail
    )?;
    for f in &r.findings {
        write!(
            w,
            r#"    <testcase classname="imgaudit.budget" name="{} {}""#,
            f.code,
            xml(&f.rule)
        )?;
        let mut detail = xml(&f.message);
        for c in &f.contributors {
            detail.push_str(&format!(
                "\n  {}{}",
                xml(&c.name),
                c.bytes
                    .map(|b| format!("  {}", crate::units::human(b)))
                    .unwrap_or_default()
            ));
        }
        match f.status {
            Status::Pass => writeln!(w, "/>")?,
            Status::Fail => {
                writeln!(w, ">")?;
                writeln!(
                    w,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    xml(&f.message),
                    f.code,
                    detail
                )?;
                writeln!(w, "    </testcase>")?;
            }
            Status::Warn => {
                writeln!(w, ">")?;
                writeln!(w, "      <system-out>warning: {}</system-out>", detail)?;
                writeln!(w, "    </testcase>")?;
            }
        }
    }
    writeln!(w, "  </testsuite>")?;
    writeln!(w, "</testsuites>")
}
