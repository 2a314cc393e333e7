//! The command-line shell: clap definitions, one file per subcommand, exit codes decided in one place.
//!
//! Everything here is thin: parse, call the library, print through a printer, return an [`Outcome`].

mod apply;
mod args;
mod completion;
mod destroy;
mod diff;
mod exit;
mod fleet;
mod hints;
mod init;
mod inputs;
mod logging;
mod report;
mod session;
mod status;
mod status_live;
mod version;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command};
use exit::Outcome;

/// Entry point of the binary: never panics on user error, always returns a documented exit code.
pub fn main() -> ExitCode {
    let command = Cli::command().bin_name(bin_name(std::env::args_os().next()));
    let parsed = command.try_get_matches().and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr.
            let _ = err.print();
            return if err.use_stderr() { Outcome::Usage.into() } else { Outcome::Success.into() };
        }
    };
    logging::init(cli.verbose);
    run(cli).into()
}

/// The name usage lines show: `kubectl kapply` when run as the kubectl plugin `kubectl-kapply`
/// (kubectl runs a plugin by its file name), else `kapply`.
fn bin_name(argv0: Option<std::ffi::OsString>) -> &'static str {
    let file = argv0.as_deref().map(std::path::Path::new).and_then(|p| p.file_stem()).map(|s| s.to_owned());
    match file.as_ref().and_then(|s| s.to_str()) {
        Some(name) if name.starts_with("kubectl-") => "kubectl kapply",
        _ => "kapply",
    }
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
        Command::Version(args) => version::run(args),
        Command::Completion(args) => completion::completion(args),
        Command::Man(args) => completion::man(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_as_a_kubectl_plugin_the_usage_reads_kubectl_kapply() {
        assert_eq!(bin_name(Some("/usr/local/bin/kubectl-kapply".into())), "kubectl kapply");
        assert_eq!(bin_name(Some("kubectl-kapply.exe".into())), "kubectl kapply");
        assert_eq!(bin_name(Some("/usr/bin/kapply".into())), "kapply");
        assert_eq!(bin_name(None), "kapply");
    }

    #[test]
    fn the_clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
