//! GitHub Actions workflow commands (`::error::` / `::warning::` lines) for
//! the failed and warned findings of a budget check.

use crate::budget::{CheckReport, Status};
use std::io::{self, Write};

/// Escape a workflow-command message (`%`, CR, LF) or property (also `:` and `,`).
fn escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

pub fn render(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    for f in &r.findings {
        let kind = match f.status {
            Status::Pass => continue,
            Status::Warn => "warning",
            Status::Fail => "error",
        };
        let mut msg = format!("{} ({}): {}", f.message, r.image, f.rule);
        if !f.contributors.is_empty() {
            let names: Vec<&str> = f
                .contributors
                .iter()
                .take(5)
                .map(|c| c.name.as_str())
                .collect();
            msg.push_str(&format!("\nlargest contributors: {}", names.join(", ")));
        }
        writeln!(
            w,
            "::{kind} title={}::{}",
            escape(&format!("imgaudit {} {}", f.code, f.rule), true),
            escape(&msg, false)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_workflow_command_text() {
        assert_eq!(escape("50% of\na", false), "50%25 of%0Aa");
        assert_eq!(escape("B001 a:b,c", true), "B001 a%3Ab%2Cc");
    }
}
