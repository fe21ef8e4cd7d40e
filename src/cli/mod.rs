//! The binary's command line (not part of the library): `args.rs` holds the
//! clap derive structs, `settings.rs` validates them once into settings,
//! `commands.rs` runs each command, `progress.rs` draws the progress bar.
//! `main.rs` only parses, dispatches, prints the error chain once and maps
//! the result to an exit code.

pub mod args;
pub mod commands;
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
        Command::Check(args) => args.into_settings().and_then(commands::check),
        Command::Cache(args) => commands::cache(args),
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
    use clap::CommandFactory;
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
}
