//! The one place where text taken from an image (paths, package names and
//! versions, `created_by` commands, finding messages that quote them) becomes
//! display text for each kind of output. Image file names are
//! attacker-controlled: a name can hold ESC/OSC sequences, CR, LF followed by
//! `::error::`, U+202E, `|`, backticks or markup. Each function here makes
//! such text inert for its output and keeps ordinary names unchanged.
//!
//! JSON is not here: it keeps the exact name (serde escapes it).

/// Characters that are never printed raw: C0 controls, DEL, C1 controls,
/// and the Unicode bidirectional and line-breaking format characters that
/// reorder or split what a reader sees.
fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
        )
}

/// Push the visible escape of a hazardous character: `\n`, `\r`, `\t`,
/// `\x1b` for ASCII controls, `\u{202e}` for the others.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Terminal and plain text (tables, finding lines, CI logs): control
/// characters and bidi overrides shown escaped (`\x1b`, `\u{202e}`), so a
/// name never moves the cursor, sets a title, recolours the output, starts
/// a new line or reorders what is shown.
pub fn terminal(s: &str) -> String {
    if !s.chars().any(is_hazard) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hazard(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Markdown inline text (table cells, list items): control characters as
/// in [`terminal`], then Markdown and HTML metacharacters escaped.
pub fn markdown(s: &str) -> String {
    let s = terminal(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span: control characters as in [`terminal`]; the fence
/// is one backtick longer than the longest run of backticks inside (padded
/// with spaces when the text starts or ends with one); inside a table,
/// `|` becomes `\|` (GitHub splits cells before it parses code spans).
pub fn markdown_code(s: &str, in_table: bool) -> String {
    let mut s = terminal(s);
    if in_table {
        s = table_pipes(&s);
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `|` as `\|` for a GFM table cell. GitHub's cell splitter pairs a
/// backslash with the character after it, so a pipe that follows an odd
/// run of backslashes gets one more backslash to stay escaped.
fn table_pipes(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut run = 0;
    for c in s.chars() {
        if c == '|' {
            if run % 2 == 1 {
                out.push('\\');
            }
            out.push_str("\\|");
            run = 0;
            continue;
        }
        run = if c == '\\' { run + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// A GitHub workflow-command message: the documented encoding (`%`, CR,
/// LF). Image-derived parts of the message must already have gone through
/// [`terminal`], so the only line breaks left are imgaudit's own and the
/// command stays on its one line.
pub fn workflow_message(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow-command property value: as [`workflow_message`], plus `:` and `,`.
pub fn workflow_property(s: &str) -> String {
    workflow_message(s).replace(':', "%3A").replace(',', "%2C")
}

/// HTML content and attribute values (trusted text).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Image-derived text in HTML: control characters made visible as in
/// [`terminal`], then escaped as [`html`].
pub fn html_name(s: &str) -> String {
    html(&terminal(s))
}

/// XML content and attribute values: escaped, control characters made
/// visible as in [`terminal`] (XML 1.0 cannot carry most of them at all).
pub fn xml(s: &str) -> String {
    let s = terminal(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// XML text that keeps imgaudit's own line breaks: each line as [`xml`].
pub fn xml_lines(s: &str) -> String {
    s.split('\n').map(xml).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_shows_controls_and_bidi_escaped() {
        assert_eq!(terminal("/usr/bin/ls"), "/usr/bin/ls");
        assert_eq!(
            terminal("a\x1b]0;pwned\x07b\r\n::error::x"),
            "a\\x1b]0;pwned\\x07b\\r\\n::error::x"
        );
        assert_eq!(terminal("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        assert_eq!(terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal("naïve ☃"), "naïve ☃");
        assert!(!terminal("x\u{7f}\u{2066}").chars().any(is_hazard));
    }

    #[test]
    fn markdown_escapes_cells_and_code_spans() {
        assert_eq!(markdown("a|b<c>*"), "a\\|b&lt;c&gt;\\*");
        assert_eq!(markdown("a\nb"), "a\\\\nb");
        assert_eq!(markdown_code("/a|b", true), "`/a\\|b`");
        assert_eq!(markdown_code("/a|b", false), "`/a|b`");
        assert_eq!(markdown_code("a\\|b", true), "`a\\\\\\|b`");
        assert_eq!(markdown_code("x``y", true), "```x``y```");
        assert_eq!(markdown_code("`x", true), "`` `x ``");
        assert_eq!(markdown_code("a\r\nb", true), "`a\\r\\nb`");
    }

    #[test]
    fn workflow_commands_use_the_documented_encoding() {
        assert_eq!(workflow_message("50% of\na"), "50%25 of%0Aa");
        assert_eq!(workflow_property("B001 a:b,c"), "B001 a%3Ab%2Cc");
        let hostile = terminal("/x\n::error::owned");
        assert!(!workflow_message(&hostile).contains('\n'));
    }

    #[test]
    fn html_and_xml_escape_markup() {
        assert_eq!(html("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        assert_eq!(html_name("<b>\x1b"), "&lt;b&gt;\\x1b");
        assert_eq!(xml("<a>&\x01"), "&lt;a&gt;&amp;\\x01");
        assert_eq!(xml_lines("a\n<b>"), "a\n&lt;b&gt;");
    }
}
