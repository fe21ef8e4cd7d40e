//! Stage 5: renderers. Each takes a finished model ([`Analysis`], [`Diff`],
//! [`CheckReport`], [`Summary`]) and a writer and only formats; nothing here
//! computes figures (the HTML explorer's tree comes from
//! [`crate::explore`]).
//!
//! [`sections`] builds every report's tables and notes once, as neutral
//! data ([`model`]); `table`, `markdown` and `html` only style them.
//! [`escape`] is the one place image-derived text becomes display text for
//! each output; [`words`] holds the wording every renderer shares.

pub mod annotations;
pub mod escape;
pub mod history_html;
pub mod history_json;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod sections;
pub mod table;
pub mod words;

use crate::analysis::Analysis;
use crate::budget::CheckReport;
use crate::diff::Diff;
use crate::explore::Explorer;
use crate::summary::Summary;
use std::io::{self, Write};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// GitHub-flavoured Markdown for a PR comment (under 65,000 characters).
    Markdown,
    /// One self-contained HTML file.
    Html,
    /// Every entry of every layer, one JSON object per line, written while
    /// the layers are stacked ([`jsonl::JsonlExport`]); `analyze` of one
    /// image only.
    Jsonl,
}

/// The error of rendering a finished model as JSONL.
fn jsonl_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "--format jsonl is written while the layers are stacked, by `analyze` of one image",
    )
}

/// How to lay a report out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Terminal width in columns for the table format: tables that do not
    /// fit drop their optional columns and cut long one-line text to fit.
    /// `None` (a file, a pipe, `--wide`): every column at full width.
    /// Other formats ignore it.
    pub width: Option<usize>,
}

impl RenderOptions {
    /// The options for a report written to standard output: the terminal's
    /// width when standard output is a terminal, else none. `wide` (the
    /// `--wide` flag) asks for every column whatever the terminal.
    pub fn for_stdout(wide: bool) -> RenderOptions {
        RenderOptions {
            width: if wide { None } else { terminal_width() },
        }
    }
}

/// The width of the terminal standard output is, if it is one.
pub fn terminal_width() -> Option<usize> {
    comfy_table::Table::new()
        .width()
        .map(usize::from)
        .filter(|&w| w > 0)
}

/// Render `a` in `format` to `w` (the HTML report has no treemap).
pub fn render(a: &Analysis, format: Format, w: &mut dyn Write) -> io::Result<()> {
    render_analysis(a, None, format, w)
}

/// Render an analysis; `tree` feeds the HTML treemap.
pub fn render_analysis(
    a: &Analysis,
    tree: Option<&Explorer>,
    format: Format,
    w: &mut dyn Write,
) -> io::Result<()> {
    render_analysis_with(a, tree, format, &RenderOptions::default(), w)
}

/// [`render_analysis`] with layout options.
pub fn render_analysis_with(
    a: &Analysis,
    tree: Option<&Explorer>,
    format: Format,
    o: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::render(a, o, w),
        Format::Json => json::render(a, w),
        Format::Markdown => markdown::render(a, w),
        Format::Html => html::render(a, tree, w),
        Format::Jsonl => Err(jsonl_only()),
    }
}

/// Render a diff; `trees` (before, after) feed the HTML treemaps.
pub fn render_diff(
    d: &Diff,
    sides: Option<(&Analysis, &Analysis)>,
    trees: (Option<&Explorer>, Option<&Explorer>),
    format: Format,
    w: &mut dyn Write,
) -> io::Result<()> {
    render_diff_with(d, sides, trees, format, &RenderOptions::default(), w)
}

/// [`render_diff`] with layout options.
pub fn render_diff_with(
    d: &Diff,
    sides: Option<(&Analysis, &Analysis)>,
    trees: (Option<&Explorer>, Option<&Explorer>),
    format: Format,
    o: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::render_diff(d, o, w),
        Format::Json => json::render(d, w),
        Format::Markdown => markdown::render_diff(d, w),
        Format::Html => html::render_diff(d, sides, trees, w),
        Format::Jsonl => Err(jsonl_only()),
    }
}

/// Render a budget check.
pub fn render_check(r: &CheckReport, format: Format, w: &mut dyn Write) -> io::Result<()> {
    render_check_with(r, format, &RenderOptions::default(), w)
}

/// [`render_check`] with layout options.
pub fn render_check_with(
    r: &CheckReport,
    format: Format,
    o: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::render_check(r, o, w),
        Format::Json => json::render(r, w),
        Format::Markdown => markdown::render_check(r, w),
        Format::Html => html::render_check(r, w),
        Format::Jsonl => Err(jsonl_only()),
    }
}

/// Render the many-image summary.
pub fn render_summary(s: &Summary, format: Format, w: &mut dyn Write) -> io::Result<()> {
    render_summary_with(s, format, &RenderOptions::default(), w)
}

/// [`render_summary`] with layout options.
pub fn render_summary_with(
    s: &Summary,
    format: Format,
    o: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::render_summary(s, o, w),
        Format::Json => json::render(s, w),
        Format::Markdown => markdown::render_summary(s, w),
        Format::Html => html::render_summary(s, w),
        Format::Jsonl => Err(jsonl_only()),
    }
}

/// Render the size history (`imgaudit history`).
pub fn render_history(
    h: &crate::history::History,
    format: Format,
    o: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::render_history(h, o, w),
        Format::Json => history_json::render(h, w),
        Format::Markdown => markdown::render_history(h, w),
        Format::Html => history_html::render(h, w),
        Format::Jsonl => Err(jsonl_only()),
    }
}
