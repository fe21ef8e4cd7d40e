//! JSON renderer: the analysis model as is, with integer byte counts and a
//! `schema_version` (see docs/ACCOUNTING.md for every field).

use crate::analysis::Analysis;
use std::io::{self, Write};

pub fn render(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, a)?;
    writeln!(w)
}
