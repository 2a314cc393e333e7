//! `kapply version` and `--version`: the crate's version, the git commit and the build date (from
//! `build.rs`), and the server's version when a cluster is reachable — an unreachable cluster is
//! reported, not an error.

use std::time::Duration;

use super::args::{VersionArgs, VersionOutput};
use super::exit::Outcome;
use super::session;

/// The crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit kapply was built from (`unknown` outside a git checkout).
pub const COMMIT: &str = env!("KAPPLY_GIT_COMMIT");
/// The day kapply was built (UTC), `YYYY-MM-DD`.
pub const BUILD_DATE: &str = env!("KAPPLY_BUILD_DATE");
/// What `--version` prints after the name.
pub const SHORT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KAPPLY_GIT_COMMIT"),
    ", built ",
    env!("KAPPLY_BUILD_DATE"),
    ")"
);

/// How long `version` waits for the server when no --request-timeout is given: a version query
/// must not hang on an unreachable cluster.
const SERVER_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `kapply version`.
pub fn run(args: &VersionArgs) -> Outcome {
    let server = if args.client {
        None
    } else {
        let mut options = args.connection.connect_options();
        if args.connection.request_timeout.is_none() {
            options = options.request_timeout(SERVER_TIMEOUT);
        }
        Some(session::block_on_value(async { options.server_version().await.map_err(|e| e.to_string()) }))
    };
    match args.output {
        VersionOutput::Text => {
            println!("kapply {SHORT}");
            match &server {
                Some(Ok(version)) => println!("server: {version}"),
                Some(Err(err)) => println!("server: unknown ({err})"),
                None => {}
            }
        }
        VersionOutput::Json => {
            let mut json = serde_json::json!({
                "clientVersion": {"version": VERSION, "gitCommit": COMMIT, "buildDate": BUILD_DATE},
            });
            match &server {
                Some(Ok(version)) => json["serverVersion"] = serde_json::json!({"gitVersion": version}),
                Some(Err(err)) => json["serverError"] = serde_json::Value::String(err.clone()),
                None => {}
            }
            println!("{json}");
        }
    }
    Outcome::Success
}
