//! The binary's command line (not part of the library): `args.rs` holds the
//! clap derive structs, `settings.rs` validates them once into settings,
//! `commands.rs` runs each command, `progress.rs` draws the progress bar.
//! `main.rs` only parses, dispatches, prints the error chain once and maps
//! the result to an exit code.

pub mod args;
pub mod commands;
pub mod history;
pub mod progress;
pub mod settings;

use args::{Cli, Command};
use clap::CommandFactory;
use std::ffi::OsString;
use std::process::ExitCode;

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => args.into_settings().and_then(commands::analyze),
        Command::Diff(args) => args.into_settings().and_then(commands::diff),
        Command::Explore(args) => args.into_settings().and_then(commands::explore),
        Command::Check(args) => args.into_settings().and_then(commands::check),
        Command::Cache(args) => commands::cache(args),
        Command::History(args) => history::run(args),
        Command::Completions { shell } => commands::completions(shell),
        Command::Man => commands::man(),
    }
}

/// When the first argument is not a command but looks like what `analyze`
/// takes (`imgaudit app:1`, as dive users type it), the line to suggest.
pub fn missing_command_hint(args: &[OsString]) -> Option<String> {
    let first = args.get(1)?.to_str()?;
    if first.starts_with('-') {
        return None;
    }
    let cmd = Cli::command();
    let known = cmd
        .get_subcommands()
        .flat_map(|s| std::iter::once(s.get_name()).chain(s.get_all_aliases()))
        .any(|n| n == first)
        || first == "help";
    if known {
        return None;
    }
    let rest: Vec<String> = args[1..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    Some(format!(
        "'{first}' is not an imgaudit command; to analyse an image, run:\n\n    imgaudit analyze {}\n\nCommands: {} (imgaudit --help)",
        rest.join(" "),
        cmd.get_subcommands()
            .map(|s| s.get_name())
            .filter(|n| *n != "help")
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::{args::Cli, missing_command_hint};
    use clap::{CommandFactory, Parser};
    use std::ffi::OsString;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn argv(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn an_image_without_a_command_gets_the_analyze_line() {
        let hint = missing_command_hint(&argv(&["imgaudit", "app:1", "-q"])).unwrap();
        assert!(hint.contains("imgaudit analyze app:1 -q"), "{hint}");
        assert!(missing_command_hint(&argv(&["imgaudit", "analyze", "x"])).is_none());
        assert!(missing_command_hint(&argv(&["imgaudit", "--help"])).is_none());
        assert!(missing_command_hint(&argv(&["imgaudit", "help"])).is_none());
    }

    /// Split a shell line into words (single and double quotes; no
    /// expansion), stopping at a redirection, a pipe, `&&`, `;` or a comment.
    fn words(line: &str) -> Vec<String> {
        let (mut out, mut cur, mut quote, mut has) = (Vec::new(), String::new(), None, false);
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => cur.push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    has = true;
                }
                (None, c) if c.is_whitespace() => {
                    if has || !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    has = false;
                }
                (None, '>' | '|' | ';' | '#') if cur.is_empty() && !has => break,
                (None, '&') if cur.is_empty() => break,
                (None, c) => cur.push(c),
            }
        }
        if has || !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    /// Every `imgaudit COMMAND ...` line in a fenced block of README.md and
    /// docs/*.md parses with the real command line: no example names a flag,
    /// a value or a combination that does not exist. (Synopsis lines with
    /// `[...]` placeholders are left out; the images they name are not read.)
    #[test]
    fn documented_commands_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("README.md")];
        for e in std::fs::read_dir(root.join("docs")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
        let cli = Cli::command();
        let commands: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        let mut checked = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            // In a fenced block, a line that is a command; in the prose (a
            // code span may wrap across lines), a code span that is one.
            let (mut fenced, mut prose, mut candidates) = (false, String::new(), Vec::new());
            for line in text.lines() {
                if line.trim_start().starts_with("```") {
                    fenced = !fenced;
                } else if !fenced {
                    prose.push(' ');
                    prose.push_str(line);
                } else if let Some(at) = line.find("imgaudit ") {
                    let before = line[..at].trim();
                    if ["", "$", "run:", "- run:", "script:", "- "].contains(&before) {
                        candidates.push(line[at..].to_string());
                    }
                }
            }
            candidates.extend(
                prose
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .filter(|span| span.starts_with("imgaudit "))
                    .map(|span| span.split_whitespace().collect::<Vec<_>>().join(" ")),
            );
            {
                for candidate in &candidates {
                    if candidate.contains('[') || candidate.contains('…') {
                        continue;
                    }
                    // A CI expression (`${{ github.sha }}`) is one word once expanded.
                    let mut text = candidate.to_string();
                    while let (Some(a), Some(b)) = (text.find("${{"), text.find("}}")) {
                        if b < a {
                            break;
                        }
                        text.replace_range(a..b + 2, "EXPR");
                    }
                    let argv = words(&text);
                    // `bash|zsh|…` inside a word: a synopsis line, not an example.
                    let synopsis = argv.iter().any(|w| w.contains('|'));
                    if synopsis || argv.len() < 2 || !commands.contains(&argv[1].as_str()) {
                        continue;
                    }
                    match Cli::try_parse_from(&argv) {
                        // Prose naming a command (`imgaudit analyze`), not an example.
                        Err(e)
                            if argv.len() == 2
                                && e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {}
                        Err(e) => {
                            panic!("{}: `{candidate}` does not parse:\n{e}", file.display())
                        }
                        Ok(_) => checked += 1,
                    }
                }
            }
        }
        assert!(checked >= 40, "only {checked} documented commands found");
    }

    #[test]
    fn shell_words_stop_at_redirections() {
        assert_eq!(
            words(r#"imgaudit analyze "a b" x > out.json # note"#),
            ["imgaudit", "analyze", "a b", "x"]
        );
        assert_eq!(words("imgaudit man | man -l -"), ["imgaudit", "man"]);
    }
}
