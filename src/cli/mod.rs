//! The command-line shell: clap definitions, one file per subcommand, exit codes decided in one place.
//!
//! Everything here is thin: parse, call the library, print through a printer, return an [`Outcome`].

mod apply;
mod args;
mod destroy;
mod diff;
mod exit;
mod fleet;
mod hints;
mod init;
mod inputs;
mod report;
mod session;
mod status;
mod status_live;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use exit::Outcome;

/// Entry point of the binary: never panics on user error, always returns a documented exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr.
            let _ = err.print();
            return if err.use_stderr() { Outcome::Usage.into() } else { Outcome::Success.into() };
        }
    };
    run(cli).into()
}

fn run(cli: Cli) -> Outcome {
    match &cli.command {
        Command::Init(args) => {
            fleet::refuse_several("init", &args.connection).unwrap_or_else(|| init::run(args))
        }
        Command::Apply(args) => apply::run(args),
        Command::Preview(args) => apply::preview(args),
        Command::Destroy(args) => destroy::run(args),
        Command::Diff(args) if args.fleet.is_fleet(&args.connection) => fleet::diff(args),
        Command::Diff(args) => diff::run(args),
        Command::Status(args) if args.fleet.is_fleet(&args.connection) => fleet::status(args),
        Command::Status(args) => status::run(args),
    }
}
