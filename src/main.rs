//! The `kapply` binary: parse arguments, run the library, map the outcome to an exit code.
//!
//! The command-line shell lives here, outside the library: [`cli`] uses only kapply's public API.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
