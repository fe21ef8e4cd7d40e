//! The size history as JSON (`imgaudit history --format json`): the same
//! model as every JSON report, laid out for its size. Over thousands of
//! records with hundreds of packages each the document holds millions of
//! figures, so the nesting is indented down to the lists of figures, and
//! each figure (a package, group, category, layer or step change) is one
//! compact line: about half the bytes of fully indented JSON, and far fewer
//! writes. It is written while it is serialized, through a large buffer.

use serde::Serialize;
use std::io::{self, Write};

/// Containers nested deeper than this are written on one line.
const INDENTED_LEVELS: usize = 4;

/// A newline and enough indentation for [`INDENTED_LEVELS`].
const NEWLINE_INDENT: &[u8] = b"\n                ";

/// serde_json's pretty layout down to [`INDENTED_LEVELS`], compact below.
struct Layout {
    level: usize,
    has_value: bool,
}

impl Layout {
    fn indented(&self) -> bool {
        self.level <= INDENTED_LEVELS
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W, level: usize) -> io::Result<()> {
        w.write_all(&NEWLINE_INDENT[..1 + 2 * level])
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, open: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(open)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, close: &[u8]) -> io::Result<()> {
        let indented = self.indented();
        self.level -= 1;
        if indented && self.has_value {
            self.newline(w, self.level)?;
        }
        w.write_all(close)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.indented() {
            self.newline(w, self.level)?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Layout {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.indented() { b": " } else { b":" })
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Write `h` as JSON to `w`, followed by a newline.
pub fn render<T: Serialize + ?Sized>(h: &T, w: &mut dyn Write) -> io::Result<()> {
    // Large writes: standard output would otherwise be flushed every line.
    let mut b = io::BufWriter::with_capacity(1 << 16, w);
    let mut ser = serde_json::Serializer::with_formatter(
        &mut b,
        Layout {
            level: 0,
            has_value: false,
        },
    );
    h.serialize(&mut ser)?;
    b.write_all(b"\n")?;
    b.flush()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn indented_down_to_the_figures_which_take_one_line_each() {
        let v = json!({
            "records": [{
                "id": 1,
                "labels": {},
                "totals": {"final_bytes": 5},
                "packages": [{"name": "dpkg:a", "bytes": 2}, {"name": "dpkg:\"b\"", "bytes": 1}],
                "groups": []
            }],
            "steps": []
        });
        let mut out = Vec::new();
        super::render(&v, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let want = r#"{
  "records": [
    {
      "groups": [],
      "id": 1,
      "labels": {},
      "packages": [
        {"bytes":2,"name":"dpkg:a"},
        {"bytes":1,"name":"dpkg:\"b\""}
      ],
      "totals": {
        "final_bytes": 5
      }
    }
  ],
  "steps": []
}
"#;
        assert_eq!(text, want);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
