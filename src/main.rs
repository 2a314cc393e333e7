//! The `kapply` binary: parse arguments, run the library, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    kapply::cli::main()
}
