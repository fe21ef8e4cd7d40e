//! The neutral form of a report section, built once by [`super::sections`]
//! and styled by each renderer: a table is a title, columns (with their
//! alignment and whether they may be dropped or shortened to fit), and rows
//! of cells; a note list is lines of spans. Text that came from the image
//! (paths, names, versions, commands, messages quoting them) is a distinct
//! cell and span kind from imgaudit's own text, and each renderer escapes it
//! its own way (see [`super::escape`]).

use crate::budget::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// How a column behaves on a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Always shown at its width (it wraps only as a last resort).
    Keep,
    /// Dropped first when the table does not fit.
    Optional,
    /// Cut with `…` to the room that is left (long one-line text).
    Shorten,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub title: &'static str,
    pub align: Align,
    pub fit: Fit,
}

impl Column {
    pub fn left(title: &'static str) -> Column {
        Column {
            title,
            align: Align::Left,
            fit: Fit::Keep,
        }
    }
    pub fn right(title: &'static str) -> Column {
        Column {
            title,
            align: Align::Right,
            fit: Fit::Keep,
        }
    }
    pub fn optional(mut self) -> Column {
        self.fit = Fit::Optional;
        self
    }
    pub fn shorten(mut self) -> Column {
        self.fit = Fit::Shorten;
        self
    }
}

/// One cell. Renderers escape every kind for their output; the kinds say
/// what the text is, so each can style it (code spans, colours).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// imgaudit's own text: figures, words, rule and category ids.
    Text(String),
    /// Text from the image shown as a name (package, version).
    Name(String),
    /// A path from the image (code style).
    Path(String),
    /// A `created_by` command from the image: one line, code style, cut to
    /// fit by the renderer.
    Command(String),
    /// A signed change; the sign colours it in HTML.
    Delta(String, i8),
    /// A category id (a colour swatch in HTML).
    Category(String),
    /// A rule's status.
    Status(Status),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    /// The cell's text before any escaping or styling.
    pub fn raw(&self) -> &str {
        match self {
            Cell::Text(s)
            | Cell::Name(s)
            | Cell::Path(s)
            | Cell::Command(s)
            | Cell::Delta(s, _)
            | Cell::Category(s) => s,
            Cell::Status(s) => super::words::status_word(*s),
            Cell::Empty => "",
        }
    }
    /// Whether the text came from the image.
    pub fn untrusted(&self) -> bool {
        matches!(self, Cell::Name(_) | Cell::Path(_) | Cell::Command(_))
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// A total or other summary row (bold where the format has bold).
    pub strong: bool,
}

impl From<Vec<Cell>> for Row {
    fn from(cells: Vec<Cell>) -> Row {
        Row {
            cells,
            strong: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Stable id (HTML anchors, tests).
    pub id: &'static str,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn new(id: &'static str, title: impl Into<String>, columns: Vec<Column>) -> Table {
        Table {
            id,
            title: title.into(),
            columns,
            rows: Vec::new(),
        }
    }
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells.into());
    }
    pub fn strong_row(&mut self, cells: Vec<Cell>) {
        self.rows.push(Row {
            cells,
            strong: true,
        });
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A piece of a note line.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// imgaudit's own text.
    Text(String),
    /// imgaudit's own text, emphasised.
    Strong(String),
    /// Text from the image (a message quoting paths, a warning).
    Name(String),
    /// A path or command from the image (code style).
    Code(String),
}

impl Span {
    pub fn text(s: impl Into<String>) -> Span {
        Span::Text(s.into())
    }
}

/// A line of spans.
pub type Line = Vec<Span>;

/// A titled list: findings, warnings, a finding's contributors.
#[derive(Debug, Clone)]
pub struct Notes {
    pub id: &'static str,
    pub title: String,
    pub lines: Vec<Line>,
}

impl Notes {
    pub fn new(id: &'static str, title: impl Into<String>) -> Notes {
        Notes {
            id,
            title: title.into(),
            lines: Vec::new(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// A section of a report, in the order the renderer was given it.
#[derive(Debug, Clone)]
pub enum Block {
    Table(Table),
    Notes(Notes),
    /// One paragraph.
    Para(Line),
}
