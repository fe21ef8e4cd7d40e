//! The `imgaudit` binary: parse arguments (`src/cli/args.rs`), turn them into
//! validated settings once (`src/cli/settings.rs`), run the command
//! (`src/cli/commands.rs`), print the error chain once, map to exit codes
//! (0 ok, 1 budget failed, 2 error).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = match cli::args::Cli::try_parse_from(&argv) {
        Ok(parsed) => parsed,
        Err(e) => {
            if e.kind() == clap::error::ErrorKind::InvalidSubcommand {
                if let Some(hint) = cli::missing_command_hint(&argv) {
                    eprintln!("imgaudit: error: {hint}");
                    return ExitCode::from(2);
                }
            }
            e.exit()
        }
    };
    match cli::run(parsed) {
        Ok(code) => code,
        Err(e) => {
            let mut msg = format!("imgaudit: error: {e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}
