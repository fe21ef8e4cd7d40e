//! Stage 5: renderers. Each takes the finished [`Analysis`] and a writer and
//! only formats; nothing here computes figures.

pub mod json;
pub mod table;

use crate::analysis::Analysis;
use std::io::{self, Write};

/// Output formats of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// Render `a` in `format` to `w`.
pub fn render(a: &Analysis, format: Format, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::render(a, w),
        Format::Json => json::render(a, w),
    }
}
