//! The terminal explorer (`imgaudit explore IMAGE`), for dive's users: a
//! layer list with sizes and commands, and the final file tree with
//! expand/collapse, sizes and category colours; filters for what the
//! selected layer added, modified, removed, left unmodified, and wasted;
//! sort by size or name; search; `q` quits. It draws the [`Explorer`] model
//! and nothing else; [`App::draw`] is tested against ratatui's test backend.
//! Colours are dropped when `NO_COLOR` is set. Fits 80×24.

use super::model::{Explorer, Kind, Node};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use ratatui::Frame;
use std::collections::HashSet;

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Layers,
    Files,
}

/// What the file pane shows, relative to the selected layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Added,
    Modified,
    Unmodified,
    /// Lower-layer files the layer removed (not in the final tree: a list).
    Removed,
    /// Files the layer wrote that later layers hid (a list).
    Wasted,
}

/// The explorer's state.
pub struct App<'a> {
    pub x: &'a Explorer,
    pub pane: Pane,
    pub layer: usize,
    pub filter: Filter,
    pub by_size: bool,
    pub search: String,
    pub typing: bool,
    pub color: bool,
    pub cursor: usize,
    expanded: HashSet<String>,
    pub quit: bool,
}

/// One row of the file pane.
struct Row {
    depth: usize,
    path: String,
    name: String,
    bytes: u64,
    dir: bool,
    open: bool,
    category: Option<u16>,
    note: String,
}

fn human(b: u64) -> String {
    crate::units::human(b)
}

/// A terminal colour per category id.
fn cat_color(id: &str) -> Color {
    match id {
        "build-tools" => Color::Red,
        "cuda" => Color::Magenta,
        "ml-frameworks" => Color::LightMagenta,
        "python-bytecode" => Color::LightRed,
        "package-caches" | "package-indexes" => Color::Yellow,
        "debug-symbols" => Color::LightYellow,
        "docs" | "tests" => Color::Cyan,
        "python-packages" => Color::Blue,
        "language-runtime" => Color::Green,
        "base-system" => Color::LightGreen,
        _ => Color::Gray,
    }
}

impl<'a> App<'a> {
    pub fn new(x: &'a Explorer, color: bool) -> App<'a> {
        App {
            x,
            pane: Pane::Files,
            layer: x.layers.len().saturating_sub(1),
            filter: Filter::All,
            by_size: true,
            search: String::new(),
            typing: false,
            color,
            cursor: 0,
            expanded: HashSet::new(),
            quit: false,
        }
    }

    fn style(&self, s: Style) -> Style {
        if self.color {
            s
        } else {
            Style::default().add_modifier(s.add_modifier)
        }
    }

    /// Does file `n` pass the filter and the search?
    fn keep_file(&self, n: &Node, path: &str) -> bool {
        let l = self.layer as u32;
        let ok = match (&n.kind, self.filter) {
            (_, Filter::All) => true,
            (
                Kind::File {
                    layer, modified, ..
                },
                Filter::Added,
            ) => *layer == l && !modified,
            (
                Kind::File {
                    layer, modified, ..
                },
                Filter::Modified,
            ) => *layer == l && *modified,
            (Kind::File { layer, .. }, Filter::Unmodified) => *layer != l,
            _ => false,
        };
        ok && (self.search.is_empty() || path.contains(&self.search))
    }

    fn keep(&self, n: &Node, path: &str) -> bool {
        if n.is_dir() {
            n.children
                .iter()
                .any(|c| self.keep(c, &format!("{path}/{}", c.name)))
        } else {
            self.keep_file(n, path)
        }
    }

    fn rows(&self) -> Vec<Row> {
        let mut out = Vec::new();
        match self.filter {
            Filter::Removed | Filter::Wasted => {
                let Some(p) = self.x.layers.get(self.layer).and_then(|l| l.paths.as_ref()) else {
                    return out;
                };
                let (set, what) = if self.filter == Filter::Removed {
                    (&p.removed, "written by layer")
                } else {
                    (&p.hidden, "hidden by layer")
                };
                let mut list: Vec<_> = set
                    .paths
                    .iter()
                    .filter(|c| self.search.is_empty() || c.path.contains(&self.search))
                    .collect();
                if !self.by_size {
                    list.sort_by(|a, b| a.path.cmp(&b.path));
                }
                for c in list {
                    out.push(Row {
                        depth: 0,
                        path: c.path.clone(),
                        name: c.path.clone(),
                        bytes: c.bytes,
                        dir: false,
                        open: false,
                        category: None,
                        note: c.other.map(|o| format!("{what} {o}")).unwrap_or_default(),
                    });
                }
            }
            _ => self.walk(&self.x.root, "", 0, &mut out),
        }
        out
    }

    fn walk(&self, n: &Node, path: &str, depth: usize, out: &mut Vec<Row>) {
        let mut kids: Vec<&Node> = n.children.iter().collect();
        if !self.by_size {
            kids.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let filtering = self.filter != Filter::All || !self.search.is_empty();
        for c in kids {
            let p = format!("{path}/{}", c.name);
            if matches!(c.kind, Kind::Small { .. }) && filtering {
                continue;
            }
            if filtering && !self.keep(c, &p) {
                continue;
            }
            let open = c.is_dir()
                && (self.expanded.contains(&p) || (filtering && !self.search.is_empty()));
            out.push(Row {
                depth,
                path: p.clone(),
                name: c.name.clone(),
                bytes: c.bytes,
                dir: c.is_dir(),
                open,
                category: match c.kind {
                    Kind::File { category, .. } => category,
                    _ => None,
                },
                note: match c.kind {
                    Kind::File {
                        layer, modified, ..
                    } => {
                        format!("L{layer}{}", if modified { " mod" } else { "" })
                    }
                    _ => String::new(),
                },
            });
            if open {
                self.walk(c, &p, depth + 1, out);
            }
        }
    }

    /// Handle one key.
    pub fn key(&mut self, code: KeyCode) {
        if self.typing {
            match code {
                KeyCode::Enter => self.typing = false,
                KeyCode::Esc => {
                    self.typing = false;
                    self.search.clear();
                }
                KeyCode::Backspace => {
                    self.search.pop();
                }
                KeyCode::Char(c) => self.search.push(c),
                _ => {}
            }
            self.cursor = 0;
            return;
        }
        let rows = self.rows().len();
        match code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Tab => {
                self.pane = match self.pane {
                    Pane::Layers => Pane::Files,
                    Pane::Files => Pane::Layers,
                }
            }
            KeyCode::Char('/') => {
                self.typing = true;
                self.search.clear();
            }
            KeyCode::Char('s') => self.by_size = !self.by_size,
            KeyCode::Char(c @ '0'..='5') => {
                let f = match c {
                    '1' => Filter::Added,
                    '2' => Filter::Modified,
                    '3' => Filter::Removed,
                    '4' => Filter::Unmodified,
                    '5' => Filter::Wasted,
                    _ => Filter::All,
                };
                self.filter = if self.filter == f { Filter::All } else { f };
                self.cursor = 0;
            }
            KeyCode::Up | KeyCode::Char('k') => match self.pane {
                Pane::Layers => self.layer = self.layer.saturating_sub(1),
                Pane::Files => self.cursor = self.cursor.saturating_sub(1),
            },
            KeyCode::Down | KeyCode::Char('j') => match self.pane {
                Pane::Layers => {
                    self.layer = (self.layer + 1).min(self.x.layers.len().saturating_sub(1))
                }
                Pane::Files => self.cursor = (self.cursor + 1).min(rows.saturating_sub(1)),
            },
            KeyCode::Enter | KeyCode::Char(' ') | KeyCode::Right | KeyCode::Left
                if self.pane == Pane::Files =>
            {
                // Right opens, Left closes, Enter and Space toggle.
                if let Some(r) = self.rows().get(self.cursor).filter(|r| r.dir) {
                    let open = match code {
                        KeyCode::Left => false,
                        KeyCode::Right => true,
                        _ => !r.open,
                    };
                    if open {
                        self.expanded.insert(r.path.clone());
                    } else {
                        self.expanded.remove(&r.path);
                    }
                }
            }
            _ => {}
        }
    }

    /// Draw the whole screen.
    pub fn draw(&self, f: &mut Frame) {
        let area = f.area();
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Min(3),
                Constraint::Length(1),
            ])
            .split(area);
        let head = format!(
            " {} · final {} (download {}) · wasted {}",
            crate::report::escape::terminal(&self.x.image),
            human(self.x.final_bytes),
            human(self.x.final_download_bytes),
            human(self.x.wasted_bytes)
        );
        f.render_widget(
            Paragraph::new(head).style(self.style(Style::default().add_modifier(Modifier::BOLD))),
            rows[0],
        );
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(38), Constraint::Percentage(62)])
            .split(rows[1]);
        self.draw_layers(f, cols[0]);
        self.draw_files(f, cols[1]);
        let status = if self.typing {
            format!(" search: {}▏ (Enter keeps, Esc clears)", self.search)
        } else {
            let on = |x: Filter, k: &str, w: &str| {
                if self.filter == x {
                    format!("[{k} {w}]")
                } else {
                    format!("{k} {w}")
                }
            };
            format!(
                " q quit · Tab · ␣ open · / find · s:{} · {} {} {} {} {}",
                if self.by_size { "size" } else { "name" },
                on(Filter::Added, "1", "add"),
                on(Filter::Modified, "2", "mod"),
                on(Filter::Removed, "3", "rm"),
                on(Filter::Unmodified, "4", "unmod"),
                on(Filter::Wasted, "5", "waste"),
            )
        };
        f.render_widget(
            Paragraph::new(status)
                .style(self.style(Style::default().add_modifier(Modifier::REVERSED))),
            rows[2],
        );
    }

    fn block(&self, title: String, pane: Pane) -> Block<'static> {
        let b = Block::default().borders(Borders::ALL).title(title);
        if self.pane == pane {
            b.border_style(
                self.style(
                    Style::default()
                        .fg(Color::Cyan)
                        .add_modifier(Modifier::BOLD),
                ),
            )
        } else {
            b
        }
    }

    fn draw_layers(&self, f: &mut Frame, area: Rect) {
        let items: Vec<ListItem> = self
            .x
            .layers
            .iter()
            .map(|l| {
                let cmd = crate::report::escape::terminal(l.created_by.as_deref().unwrap_or(""));
                let mut spans = vec![Span::raw(format!(
                    "{:>2} {:>8} ",
                    l.index,
                    human(l.file_bytes)
                ))];
                if l.wasted_bytes > 0 {
                    spans.push(Span::styled(
                        format!("-{} ", human(l.wasted_bytes)),
                        self.style(Style::default().fg(Color::Red)),
                    ));
                }
                spans.push(Span::raw(cmd));
                ListItem::new(Line::from(spans))
            })
            .collect();
        let mut state = ListState::default();
        state.select(Some(self.layer));
        let list = List::new(items)
            .block(self.block(" Layers ".into(), Pane::Layers))
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED));
        f.render_stateful_widget(list, area, &mut state);
    }

    fn draw_files(&self, f: &mut Frame, area: Rect) {
        let rows = self.rows();
        let w = area.width.saturating_sub(2) as usize;
        let items: Vec<ListItem> = rows
            .iter()
            .map(|r| {
                let mark = if r.dir {
                    if r.open {
                        "▾ "
                    } else {
                        "▸ "
                    }
                } else {
                    "  "
                };
                let size = format!("{:>8} ", human(r.bytes));
                let note = if r.note.is_empty() {
                    String::new()
                } else {
                    format!(" {}", r.note)
                };
                let name = crate::report::escape::terminal(&r.name);
                let room = w.saturating_sub(size.len() + 2 * r.depth + 2 + note.len());
                let name = crate::units::shorten(&name, room.max(4));
                let style = match r.category {
                    Some(c) => self.style(Style::default().fg(cat_color(
                        self.x.categories.get(c as usize).map_or("", String::as_str),
                    ))),
                    None if r.dir => self.style(Style::default().add_modifier(Modifier::BOLD)),
                    None => Style::default(),
                };
                ListItem::new(Line::from(vec![
                    Span::raw(size),
                    Span::raw("  ".repeat(r.depth)),
                    Span::raw(mark),
                    Span::styled(name, style),
                    Span::styled(note, self.style(Style::default().fg(Color::DarkGray))),
                ]))
            })
            .collect();
        let what = match self.filter {
            Filter::All => "final filesystem".to_string(),
            Filter::Added => format!("added by layer {}", self.layer),
            Filter::Modified => format!("modified by layer {}", self.layer),
            Filter::Unmodified => format!("not touched by layer {}", self.layer),
            Filter::Removed => format!("removed by layer {}", self.layer),
            Filter::Wasted => format!("wasted: written by layer {}, hidden later", self.layer),
        };
        let mut state = ListState::default();
        if !rows.is_empty() {
            state.select(Some(self.cursor.min(rows.len() - 1)));
        }
        let list = List::new(items)
            .block(self.block(format!(" {what} ({} rows) ", rows.len()), Pane::Files))
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED));
        f.render_stateful_widget(list, area, &mut state);
    }
}

/// Run the explorer full screen until `q` (or Ctrl-C).
pub fn run(x: &Explorer) -> std::io::Result<()> {
    let color = std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty());
    let mut terminal = ratatui::init();
    let mut app = App::new(x, color);
    let result = (|| -> std::io::Result<()> {
        while !app.quit {
            terminal.draw(|f| app.draw(f))?;
            if let Event::Key(k) = event::read()? {
                if k.kind != KeyEventKind::Press {
                    continue;
                }
                if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
                    break;
                }
                app.key(k.code);
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}
