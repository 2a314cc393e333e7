//! Logging: the library's `tracing` events on standard error, at the level `-v` asks for, or as
//! `RUST_LOG` says. Only the binary installs a subscriber; a program embedding the library chooses
//! its own.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter for `-v` repeated `verbose` times: warnings only (the retries of an unreachable
/// server are warnings), then kapply's info, then every request (`kapply::http`) and kapply's debug,
/// then kapply's trace and kube's debug. Below that, kube's client's own error lines are off: kapply
/// reports each failure itself, naming the server or the object. Never hyper's or rustls' internals:
/// they add nothing a user can act on.
pub fn filter_for(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn,kube_client=off",
        1 => "warn,kube_client=off,kapply=info",
        2 => "warn,kube_client=off,kapply=debug",
        _ => "warn,kapply=trace,kube=debug,kube_client=debug,kube_runtime=debug",
    }
}

/// Installs the subscriber: `RUST_LOG` when set (and valid), else [`filter_for`]`(verbose)`.
pub fn init(verbose: u8) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .and_then(|value| match EnvFilter::try_new(&value) {
            Ok(filter) => Some(filter),
            Err(err) => {
                eprintln!("kapply: ignoring RUST_LOG={value:?}: {err}");
                None
            }
        })
        .unwrap_or_else(|| EnvFilter::new(filter_for(verbose)));
    let detailed = verbose >= 2 || std::env::var_os("RUST_LOG").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(detailed);
    // Plain lines for the warnings a user sees by default; timestamps when debugging.
    let _ = if detailed { builder.try_init() } else { builder.without_time().try_init() };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verbosity_is_a_valid_filter_and_more_v_shows_more() {
        for verbose in 0..5 {
            assert!(EnvFilter::try_new(filter_for(verbose)).is_ok(), "{verbose}");
        }
        assert!(!filter_for(1).contains("debug"));
        assert!(filter_for(2).contains("kapply=debug"), "the request lines are kapply::http debug events");
    }
}
