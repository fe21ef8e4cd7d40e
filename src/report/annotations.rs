//! GitHub Actions workflow commands (`::error::` / `::warning::` lines) for
//! the failed and warned findings of a budget check.
//!
//! Each annotation is one line: every image-derived part of the message
//! (paths, the finding's message that quotes them, the image reference) is
//! made inert with [`escape::terminal`] first, then the whole message gets
//! the documented workflow-command encoding, so no name can end the line
//! and start a command of its own.

use super::escape;
use crate::budget::{CheckReport, Status};
use std::io::{self, Write};

pub fn render(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    for f in &r.findings {
        let kind = match f.status {
            Status::Pass => continue,
            Status::Warn => "warning",
            Status::Fail => "error",
        };
        let mut msg = format!(
            "{} ({}): {}",
            escape::terminal(&f.message),
            escape::terminal(&r.image),
            escape::terminal(&f.rule)
        );
        if !f.contributors.is_empty() {
            let names: Vec<String> = f
                .contributors
                .iter()
                .take(5)
                .map(|c| escape::terminal(&c.name))
                .collect();
            msg.push_str(&format!("\nlargest contributors: {}", names.join(", ")));
        }
        writeln!(
            w,
            "::{kind} title={}::{}",
            escape::workflow_property(&format!(
                "imgaudit {} {}",
                f.code,
                escape::terminal(&f.rule)
            )),
            escape::workflow_message(&msg)
        )?;
    }
    Ok(())
}
