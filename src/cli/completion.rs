//! `kapply completion SHELL` and `kapply man`: shell completions and manual pages, generated from
//! the same clap definitions that parse the command line, so they never drift from it.

use std::io;

use clap::CommandFactory;

use super::args::{Cli, CompletionArgs, ManArgs};
use super::exit::Outcome;

/// Prints the completion script of `args.shell` on standard output.
pub fn completion(args: &CompletionArgs) -> Outcome {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "kapply", &mut io::stdout());
    Outcome::Success
}

/// Prints kapply.1 on standard output, or writes every page into `--dir`.
pub fn man(args: &ManArgs) -> Outcome {
    let command = Cli::command();
    let result = match &args.dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(command, dir))
            .map(|()| eprintln!("kapply man: wrote the manual pages into {}", dir.display())),
        None => clap_mangen::Man::new(command).render(&mut io::stdout()),
    };
    match result {
        Ok(()) => Outcome::Success,
        Err(err) => {
            let place = args.dir.as_ref().map(|d| format!(" into {}", d.display())).unwrap_or_default();
            eprintln!("kapply man: cannot write the manual pages{place}: {err}");
            Outcome::Failed
        }
    }
}
