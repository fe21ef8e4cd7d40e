//! JSON renderer: a model as is, with integer byte counts and a
//! `schema_version` (see docs/ACCOUNTING.md and docs/REPORTS.md for the fields).

use serde::Serialize;
use std::io::{self, Write};

pub fn render<T: Serialize + ?Sized>(model: &T, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, model)?;
    writeln!(w)
}
