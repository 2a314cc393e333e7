//! Logging: the library's `tracing` events on standard error, at the level `-v` asks for, or as
//! `RUST_LOG` says. Only the binary installs a subscriber; a program embedding the library chooses
//! its own.
//!
//! While a live table is drawn, a line written to the terminal beside it would be drawn over and
//! would shift the frame (a fleet's members connect, and announce their retries, while the table is
//! up): [`hold`] keeps the log lines back, the table prints them above its frame ([`take_held`]), and
//! [`release`] writes what is left to stderr again.

use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, MutexGuard};

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
        .with_writer(|| Stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(detailed);
    // Plain lines for the warnings a user sees by default; timestamps when debugging.
    let _ = if detailed { builder.try_init() } else { builder.without_time().try_init() };
}

/// Log output held back while a live table is drawn; None: written to stderr at once.
static HELD: Mutex<Option<Vec<u8>>> = Mutex::new(None);

fn held() -> MutexGuard<'static, Option<Vec<u8>>> {
    HELD.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Standard error, or the held lines while [`hold`] is in force.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match held().as_mut() {
            Some(lines) => {
                lines.extend_from_slice(buf);
                Ok(buf.len())
            }
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// From now on log lines are held back, for a live table to print above its frame.
pub fn hold() {
    held().get_or_insert_with(Vec::new);
}

/// The complete log lines held back since the last call (without their newlines).
pub fn take_held() -> Vec<String> {
    let mut guard = held();
    let Some(bytes) = guard.as_mut() else { return Vec::new() };
    let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else { return Vec::new() };
    let complete: Vec<u8> = bytes.drain(..=end).collect();
    String::from_utf8_lossy(&complete).lines().map(str::to_owned).collect()
}

/// Log lines go to stderr again; what was still held is written there first.
pub fn release() {
    if let Some(rest) = held().take() {
        let _ = io::stderr().write_all(&rest);
    }
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

    #[test]
    fn held_lines_come_back_whole_and_release_lets_them_through_again() {
        hold();
        Stderr.write_all(b"one\ntw").unwrap();
        assert_eq!(take_held(), ["one"]);
        Stderr.write_all(b"o\n").unwrap();
        assert_eq!(take_held(), ["two"]);
        assert!(take_held().is_empty());
        release();
        assert!(held().is_none(), "released: written to stderr again");
        assert!(take_held().is_empty());
    }
}
